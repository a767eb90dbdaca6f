//! Business metrics as CloudWatch Embedded Metric Format: one JSON line per invocation on
//! stdout, which CloudWatch turns into metrics (namespace `Journey/<env>` from
//! `METRICS_NAMESPACE`, dimension `Function`) with no API call and no extra latency. Written
//! only inside Lambda, so local runs stay readable. The environment is in the namespace so
//! that two stacks in one account never read each other's counts.
//!
//! Only the counts in [`PUBLISHED`] become metrics: each series is billed ($0.30 a month), so
//! a count is one when an alarm or the operator's dashboard reads it. The others ride in the
//! same line as plain fields, which the dashboard's Logs Insights widget sums when it is
//! looked at.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;

use serde_json::{Value, json};

/// The namespace without an environment (`METRICS_NAMESPACE` unset: tests, local runs).
pub const NAMESPACE: &str = "Journey";

/// Where the template puts each environment's namespace (`Journey/<EnvName>`).
pub const NAMESPACE_VARIABLE: &str = "METRICS_NAMESPACE";

/// The EMF timestamp: now, in milliseconds since the epoch.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// This environment's namespace.
fn namespace() -> String {
    std::env::var(NAMESPACE_VARIABLE)
        .ok()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| NAMESPACE.to_string())
}

/// The (function, count) pairs published as CloudWatch metrics: what the alarms and the
/// dashboard's metric widgets read (a template test holds the two lists equal).
pub const PUBLISHED: &[(&str, &str)] = &[
    ("ingest", "EventsIngested"),
    ("ingest", "WebhooksRejected"),
    ("ingest", "ProviderLookupsFailed"),
    ("transition", "EventsApplied"),
    ("transition", "EventsDropped"),
    ("transition", "StageChanges"),
    ("transition", "RiskChanges"),
    ("transition", "Recoveries"),
    ("transition", "Erasures"),
    ("transition", "RulesVersionRejected"),
    ("transition", "TextsDelivered"),
    ("transition", "TextsUndelivered"),
    ("sweep", "CustomersDue"),
    ("sweep", "SweepIncomplete"),
    ("email-sender", "InterventionsSent"),
    ("email-sender", "InterventionsFailed"),
    ("email-sender", "InterventionsUnknown"),
    ("slack-sender", "InterventionsSent"),
    ("slack-sender", "InterventionsFailed"),
    ("slack-sender", "InterventionsUnknown"),
    ("text-sender", "InterventionsSent"),
    ("text-sender", "InterventionsFailed"),
    ("text-sender", "InterventionsUnknown"),
    ("text-sender", "TextsExpired"),
    ("text-sender", "TextPollsFailed"),
    ("ses-feedback", "FeedbackMalformed"),
];

fn published(function: &str, name: &str) -> bool {
    PUBLISHED.contains(&(function, name))
}

/// Counts gathered during one invocation.
#[derive(Debug)]
pub struct Metrics {
    function: &'static str,
    namespace: String,
    counts: Mutex<BTreeMap<&'static str, f64>>,
}

impl Metrics {
    /// In this environment's namespace (`METRICS_NAMESPACE`).
    pub fn new(function: &'static str) -> Self {
        Self::in_namespace(function, namespace())
    }

    pub fn in_namespace(function: &'static str, namespace: impl Into<String>) -> Self {
        Metrics {
            function,
            namespace: namespace.into(),
            counts: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn add(&self, name: &'static str, value: f64) {
        if value != 0.0 {
            *self
                .counts
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(name)
                .or_default() += value;
        }
    }

    /// The EMF document for what was counted (a plain JSON line when no count is published),
    /// and resets the counts.
    pub fn take(&self, timestamp_ms: i64) -> Option<Value> {
        let counts = std::mem::take(&mut *self.counts.lock().unwrap_or_else(|e| e.into_inner()));
        if counts.is_empty() {
            return None;
        }
        let definitions: Vec<Value> = counts
            .keys()
            .filter(|name| published(self.function, name))
            .map(|name| json!({"Name": name, "Unit": "Count"}))
            .collect();
        let mut doc = json!({ "Function": self.function });
        if !definitions.is_empty() {
            doc["_aws"] = json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": self.namespace,
                    "Dimensions": [["Function"]],
                    "Metrics": definitions,
                }]
            });
        }
        for (name, value) in counts {
            doc[name] = json!(value);
        }
        Some(doc)
    }

    /// Writes the counts as one EMF line (inside Lambda only) and resets them.
    pub fn flush(&self) {
        let Some(doc) = self.take(now_ms()) else {
            return;
        };
        if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some() {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{doc}");
        }
    }
}

/// Messages a version failed for good (poison messages of an SQS batch) or 500 answers it gave:
/// what the canary alarms read beside Lambda's `Errors`, which counts only crashes, so that a
/// version failing every message is rolled back too. Retryable refusals (a provider's
/// throttling, another sender's claim) and 502/503 (a dependency down, a secret unset) are not
/// the version's fault and are not counted. Its dimensions are Lambda's own function name and
/// version, so an alarm reads exactly the version being deployed.
pub const VERSION_FAILURES: &str = "VersionFailures";

/// Writes `count` [`VERSION_FAILURES`] of this function version at once (inside Lambda only,
/// and only when something failed: each version is a series of its own, billed while it
/// publishes).
pub fn version_failures(count: usize) {
    let var = |name| std::env::var(name).ok();
    let (Some(function), Some(version)) = (
        var("AWS_LAMBDA_FUNCTION_NAME"),
        var("AWS_LAMBDA_FUNCTION_VERSION"),
    ) else {
        return;
    };
    if count == 0 {
        return;
    }
    let doc = version_failures_doc(&namespace(), &function, &version, count, now_ms());
    let _ = writeln!(std::io::stdout().lock(), "{doc}");
}

/// The EMF line [`version_failures`] writes.
pub fn version_failures_doc(
    namespace: &str,
    function: &str,
    version: &str,
    count: usize,
    timestamp_ms: i64,
) -> Value {
    json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [["FunctionName", "Version"]],
                "Metrics": [{"Name": VERSION_FAILURES, "Unit": "Count"}],
            }]
        },
        "FunctionName": function,
        "Version": version,
        VERSION_FAILURES: count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_become_one_emf_document() {
        let m = Metrics::new("transition");
        m.add("EventsApplied", 2.0);
        m.add("EventsApplied", 1.0);
        m.add("Recoveries", 0.0);
        m.add("EventsDuplicate", 4.0);
        let doc = m.take(1_793_610_000_000).unwrap();
        assert_eq!(doc["EventsApplied"], 3.0);
        // an unpublished count is a field of the line, not a metric
        assert_eq!(doc["EventsDuplicate"], 4.0);
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                .as_array()
                .map(Vec::len),
            Some(1)
        );
        assert_eq!(doc["Function"], "transition");
        assert!(doc.get("Recoveries").is_none(), "zeros are not sent");
        let metrics = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(metrics["Namespace"], "Journey");
        assert_eq!(metrics["Metrics"][0]["Name"], "EventsApplied");
        assert!(m.take(0).is_none(), "reset after taking");
        m.add("EventsDuplicate", 1.0);
        let plain = m.take(0).unwrap();
        assert!(plain.get("_aws").is_none(), "{plain}");
    }

    #[test]
    fn a_versions_failures_name_the_version() {
        let doc = version_failures_doc("Journey/prod", "journey-prod-ingest", "12", 3, 0);
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "Journey/prod");
        assert_eq!(
            directive["Dimensions"][0],
            json!(["FunctionName", "Version"])
        );
        assert_eq!(
            (
                &doc["FunctionName"],
                &doc["Version"],
                &doc[VERSION_FAILURES]
            ),
            (&json!("journey-prod-ingest"), &json!("12"), &json!(3))
        );
    }

    #[test]
    fn each_environment_publishes_in_its_own_namespace() {
        let m = Metrics::in_namespace("transition", "Journey/prod");
        m.add("EventsApplied", 1.0);
        let doc = m.take(0).unwrap();
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "Journey/prod"
        );
    }
}

//! Business metrics as CloudWatch Embedded Metric Format: one JSON line per invocation on
//! stdout, which CloudWatch turns into metrics (namespace `Journey`, dimension `Function`) with
//! no API call and no extra latency. Written only inside Lambda, so local runs stay readable.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;

use serde_json::{Value, json};

pub const NAMESPACE: &str = "Journey";

/// Counts gathered during one invocation.
#[derive(Debug)]
pub struct Metrics {
    function: &'static str,
    counts: Mutex<BTreeMap<&'static str, f64>>,
}

impl Metrics {
    pub fn new(function: &'static str) -> Self {
        Metrics {
            function,
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

    /// The EMF document for what was counted, and resets the counts.
    pub fn take(&self, timestamp_ms: i64) -> Option<Value> {
        let counts = std::mem::take(&mut *self.counts.lock().unwrap_or_else(|e| e.into_inner()));
        if counts.is_empty() {
            return None;
        }
        let definitions: Vec<Value> = counts
            .keys()
            .map(|name| json!({"Name": name, "Unit": "Count"}))
            .collect();
        let mut doc = json!({
            "_aws": {
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [["Function"]],
                    "Metrics": definitions,
                }]
            },
            "Function": self.function,
        });
        for (name, value) in counts {
            doc[name] = json!(value);
        }
        Some(doc)
    }

    /// Writes the counts as one EMF line (inside Lambda only) and resets them.
    pub fn flush(&self) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let Some(doc) = self.take(now) else { return };
        if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some() {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{doc}");
        }
    }
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
        let doc = m.take(1_793_610_000_000).unwrap();
        assert_eq!(doc["EventsApplied"], 3.0);
        assert_eq!(doc["Function"], "transition");
        assert!(doc.get("Recoveries").is_none(), "zeros are not sent");
        let metrics = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(metrics["Namespace"], "Journey");
        assert_eq!(metrics["Metrics"][0]["Name"], "EventsApplied");
        assert!(m.take(0).is_none(), "reset after taking");
    }
}

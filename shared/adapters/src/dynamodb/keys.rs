//! Key formats of the single table (see docs/data-model.md). Every key is built here.

use chrono::{DateTime, SecondsFormat, Utc};

use journey::domain::ids::stable_bucket;
use journey::domain::{CustomerId, EventId, RiskLevel, Stage};

pub const PK: &str = "PK";
pub const SK: &str = "SK";
/// The sparse due index and its keys: present only on customers with a check pending.
pub const DUE_INDEX: &str = "due";
pub const DUE_SHARD: &str = "due_shard";
pub const DUE_AT: &str = "due_at";
/// Epoch seconds; DynamoDB's TTL deletes the item some time after.
pub const EXPIRES_AT: &str = "expires_at";
pub const VERSION: &str = "version";
/// The last activity, as a top-level attribute the at-risk indexes project.
pub const LAST_ACTIVITY_AT: &str = "last_activity_at";

/// Shards of the due index: writes spread over them, the sweep reads them in parallel.
/// Changing it strands customers in shards no longer read: it is fixed for a table's life.
pub const DUE_SHARDS: u32 = 16;
/// Shards of the stage × risk counters, so concurrent transactions rarely touch the same item.
pub const COUNTER_SHARDS: u32 = 16;

pub const STATE_SK: &str = "STATE";
pub const COUNTS_SK: &str = "STAGE_RISK";

pub fn customer_pk(id: &CustomerId) -> String {
    format!("CUST#{id}")
}

/// History sorts by version, so newest-first is a reverse query on the customer's partition.
pub fn history_sk(version: u64, n: usize) -> String {
    format!("HIST#{version:012}#{n:02}")
}

pub const HISTORY_PREFIX: &str = "HIST#";

pub fn marker_sk(event: &EventId) -> String {
    format!("EVENT#{event}")
}

pub fn due_shard(id: &CustomerId) -> String {
    format!("DUE#{:02}", stable_bucket(id.as_str(), DUE_SHARDS))
}

pub fn due_shard_key(shard: u32) -> String {
    format!("DUE#{shard:02}")
}

/// Fixed-width UTC text, so string order is time order in the index.
pub fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn counts_pk(shard: u32) -> String {
    format!("COUNTS#{shard:02}")
}

/// The counter shard a write lands on: spread by event and attempt, so a retry after a
/// transaction conflict most likely picks another item.
pub fn counter_shard(event: &EventId, attempt: u32) -> u32 {
    stable_bucket(&format!("{event}/{attempt}"), COUNTER_SHARDS)
}

pub fn counter_attribute(stage: Stage, risk: RiskLevel) -> String {
    format!("{stage}.{risk}")
}

/// Counter attributes beside the stage × risk cells (`<stage>.<risk>`); their prefixes are
/// not stage names, so the two never mix.
pub const CHURNED_PREFIX: &str = "month_churned.";
pub const RECOVERED_PREFIX: &str = "month_recovered.";
pub const REASON_PREFIX: &str = "churn_reason.";

/// The at-risk list: two sparse indexes over customers at risk, partitioned by level.
pub const AT_RISK_BY_SCORE: &str = "at_risk_by_score";
pub const AT_RISK_BY_VALUE: &str = "at_risk_by_value";
pub const RISK_LIST: &str = "risk_list";
pub const SCORE_KEY: &str = "score_key";
pub const VALUE_KEY: &str = "value_key";

/// The at-risk list's partition: the level, and whether staff reached the customer since
/// their risk last changed (today's list reads the others only).
pub fn risk_list(level: RiskLevel, contacted: bool) -> String {
    if contacted {
        format!("{level}{CONTACTED_SUFFIX}")
    } else {
        level.to_string()
    }
}

const CONTACTED_SUFFIX: &str = ".contacted";

/// Search by e-mail prefix: a sparse index over customers with an address, partitioned by its
/// first character so any prefix names one partition, sorted by the address (lower-cased).
pub const SEARCH_INDEX: &str = "search";
pub const SEARCH_KEY: &str = "search_key";
pub const SEARCH_SORT: &str = "search_sort";

/// The search partition of a lower-cased prefix or address (`None` for an empty one).
pub fn search_key(lowered: &str) -> Option<String> {
    lowered.chars().next().map(|c| format!("EMAIL#{c}"))
}

/// The customer's (partition, sort key) in the search index: unique, since the id ends it.
pub fn search_entry(email: &str, id: &CustomerId) -> Option<(String, String)> {
    let lowered = email.trim().to_lowercase();
    Some((search_key(&lowered)?, format!("{lowered}#{id}")))
}

/// Score 0–100 as fixed-width text, so text order is score order.
pub fn score_key(score: f64, id: &CustomerId) -> String {
    format!("{:06.2}#{id}", score.clamp(0.0, 100.0))
}

/// Value at risk (score × revenue to date, in minor units) as fixed-width text.
pub fn value_key(value: i64, id: &CustomerId) -> String {
    format!("{:020}#{id}", value.max(0))
}

pub fn tally_pk(shard: u32) -> String {
    format!("TALLY#{shard:02}")
}

pub fn tally_sk(template: &str, variant: Option<&str>) -> String {
    format!("{template}#{}", variant.unwrap_or("-"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use journey::testing::t;

    #[test]
    fn history_keys_sort_by_version() {
        assert!(history_sk(9, 1) < history_sk(10, 0));
        assert!(history_sk(10, 0) < history_sk(10, 1));
    }

    #[test]
    fn list_keys_sort_by_score_and_value() {
        let id = CustomerId::new("c").unwrap();
        assert!(score_key(9.5, &id) < score_key(10.0, &id));
        assert!(score_key(99.99, &id) < score_key(100.0, &id));
        assert!(value_key(999, &id) < value_key(1_000, &id));
    }

    #[test]
    fn instants_sort_as_text() {
        let a = instant(t("2026-11-01T09:00:00Z"));
        let b = instant(t("2026-11-01T10:00:00.5Z"));
        assert_eq!(a, "2026-11-01T09:00:00Z");
        assert!(a < b);
    }
}

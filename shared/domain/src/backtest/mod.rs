//! The backtest: replays a log of canonical events through the same [`crate::apply`]
//! the transition worker runs, with the sweep's due checks simulated, and measures how early
//! and how precisely the rules flag the customers who churned. Pure and deterministic: the same
//! log, rules and settings always give the same report.
//!
//! - [`log`]: the event log (JSON Lines of [`crate::Event`]) and the optional labels;
//! - [`replay`]: each customer's risk timeline (and signal samples, for calibration);
//! - [`metrics`]: recall at a lead time, precision of flag episodes, false alarms, lead times;
//! - [`report`]: the table people read;
//! - [`guard`]: whether a calibration's proposal may replace the rules in force.

pub mod guard;
pub mod log;
pub mod metrics;
pub mod replay;
pub mod report;
pub mod sample;

pub use guard::judge;
pub use log::{
    Erasure, Label, LogError, LogRecord, read_events, read_labels, read_record, records, whose,
    write_records,
};
pub use metrics::{LeadTimes, LevelRecall, Metrics, MetricsConfig, measure};
pub use replay::{Journey, Replay, ReplayConfig, RiskPoint, Sample, replay};

use crate::Rules;

/// Replays `events` under `rules` and measures the result against `labels` (or, without
/// labels, against the churns the replay itself decided).
pub fn backtest(
    events: &[crate::Event],
    labels: Option<&[Label]>,
    rules: &Rules,
    replay_config: &ReplayConfig,
    metrics_config: &MetricsConfig,
) -> (Replay, Metrics) {
    let replayed = replay(events, rules, replay_config);
    let derived;
    let labels = match labels {
        Some(l) => l,
        None => {
            derived = replayed.churn_labels();
            &derived
        }
    };
    let metrics = measure(&replayed, labels, metrics_config);
    (replayed, metrics)
}

#[cfg(test)]
mod tests;

//! The backtest at scale: a synthetic population (the generator the calibration tests use,
//! `tests/src/population/`) of about a million events, replayed under the default rules with
//! the sweep simulated every 15 minutes, and measured. Goal: under 60 s on two cores.

use std::time::Instant;

use journey::backtest::{MetricsConfig, ReplayConfig, backtest, read_events};
use journey::domain::Rules;
use serde::Serialize;

use crate::population;

#[derive(Debug, Serialize)]
pub struct BacktestRun {
    pub customers: usize,
    pub events: usize,
    pub checks: usize,
    pub generate_seconds: f64,
    /// Reading the log as JSON Lines (what `journey-rules backtest` does before replaying).
    pub parse_seconds: f64,
    pub log_bytes: usize,
    /// Replay and metrics.
    pub backtest_seconds: f64,
    pub events_per_second: f64,
    pub threads: usize,
}

/// Replays `customers` synthetic customers over 120 days (about 140 events each).
pub fn run(customers: usize) -> Result<BacktestRun, String> {
    let rules = Rules::embedded().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let p = population::generate(customers, 120, 11);
    let generate_seconds = started.elapsed().as_secs_f64();
    let mut log = Vec::new();
    for e in &p.events {
        serde_json::to_writer(&mut log, e).map_err(|e| e.to_string())?;
        log.push(b'\n');
    }
    let started = Instant::now();
    let events = read_events(log.as_slice()).map_err(|e| e.to_string())?;
    let parse_seconds = started.elapsed().as_secs_f64();
    if events != p.events {
        return Err("the log did not read back as written".into());
    }
    let started = Instant::now();
    let (replay, metrics) = backtest(
        &p.events,
        Some(&p.labels),
        &rules,
        &ReplayConfig::default(),
        &MetricsConfig::default(),
    );
    let backtest_seconds = started.elapsed().as_secs_f64();
    std::hint::black_box(metrics);
    Ok(BacktestRun {
        customers,
        events: replay.events,
        checks: replay.checks,
        generate_seconds,
        parse_seconds,
        log_bytes: log.len(),
        backtest_seconds,
        events_per_second: replay.events as f64 / backtest_seconds.max(1e-9),
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
    })
}

//! The performance and cost harness behind `make bench` (see `docs/performance.md`).

pub mod backtest;
pub mod calibration_scale;
pub mod cold_start;
pub mod cost;
pub mod counter;
pub mod cpu;
pub mod criterion;
pub mod logs;
pub mod mix;
/// The synthetic populations of the calibration tests, for the backtest and calibration runs.
#[path = "../../tests/src/population/mod.rs"]
#[allow(dead_code)] // the harness generates the course world only
pub mod population;
pub mod report;
pub mod sizing;
pub mod sweep_scale;
pub mod write_cost;

//! The performance and cost harness behind `make bench` (see `docs/performance.md`).

pub mod backtest;
pub mod cold_start;
pub mod cost;
pub mod counter;
pub mod cpu;
pub mod criterion;
pub mod logs;
pub mod mix;
pub mod report;
pub mod sizing;
pub mod sweep_scale;
pub mod write_cost;

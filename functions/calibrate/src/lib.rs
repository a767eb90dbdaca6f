//! Calibration: fits the risk score's weights and thresholds to what actually happened, and
//! keeps the result only if it beats the rules in force on history it was not fitted on.
//!
//! - [`fit`]: signal samples → a logistic regression (`linfa-logistic`) → weights;
//! - [`allocate`]: the variants' shares from their outcomes (Thompson sampling), as a rules
//!   version;
//! - [`job`]: the whole proposal (split, fit, threshold search, holdout judgement) and the
//!   weekly job that stores it as a rules version.

pub mod allocate;
pub mod build;
pub mod fit;
pub mod job;

pub use build::{AwsJob, Config, Job, SAMPLE_SECRET, assemble, build};
pub use job::{Calibration, CalibrationError, Proposal, Report, Settings, calibrate, propose};

//! Journey's application crate: the ports the functions need (`ports`), the use cases — apply
//! an event exactly once (`service`), send once (`sending`), rules versions — and the Lambda
//! plumbing (`http`, `sqs_batch`). No AWS SDK: the adapters that implement the ports are the
//! crate `journey-adapters` (`shared/adapters`). The product's rules are the crate
//! `journey-domain` (`shared/domain`), pure; they are re-exported here as `domain` (and its
//! replay as `backtest`).

pub use journey_domain as domain;
pub use journey_domain::backtest;

pub mod alerts;

/// This release (`[workspace.package] version`; `CHANGELOG.md`): logged by every function as
/// it starts, answered by `GET /health`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub mod backoff;
pub mod config;
pub mod event_log;
pub mod http;
pub mod logging;
pub mod mail_tags;
pub mod messages;
pub mod metrics;
pub mod ports;
pub mod rules_versions;
pub mod secrets;
pub mod sending;
pub mod service;
pub mod sqs_batch;
pub mod templates;
pub mod text_templates;
pub mod unsubscribe;

#[cfg(any(test, feature = "test-util"))]
pub mod testing;

/// Strategies for the parsers' fuzz tests (`make fuzz`).
#[cfg(feature = "test-util")]
pub mod fuzz;

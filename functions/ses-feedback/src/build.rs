//! The feedback function as deployed, built in one place: `main.rs` (Lambda), the local stack
//! and the tests call the same [`build`] with a [`Config`].

use journey::config::{self, ConfigError};
use journey_adapters::aws::Clients;
use journey_adapters::sqs::SqsEventQueue;

use crate::Feedback;

/// Everything the feedback function is configured with, read once at the cold start.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `EVENTS_QUEUE_URL`: where the customer events go (the single writer's queue).
    pub events_queue_url: String,
}

impl Config {
    /// From the Lambda's environment; a missing variable is named.
    pub fn from_env() -> Result<Config, ConfigError> {
        Ok(Config::new(config::required("EVENTS_QUEUE_URL")?))
    }

    /// The local stack's and the tests' settings.
    pub fn new(events_queue_url: impl Into<String>) -> Config {
        Config {
            events_queue_url: events_queue_url.into(),
        }
    }
}

/// The feedback function on AWS's adapters.
pub type AwsFeedback = Feedback<SqsEventQueue>;

/// Builds the feedback function on `clients`.
pub fn build(config: &Config, clients: &Clients) -> AwsFeedback {
    Feedback::new(SqsEventQueue::new(
        clients.sqs.clone(),
        &config.events_queue_url,
    ))
}

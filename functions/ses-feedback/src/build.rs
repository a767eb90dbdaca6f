//! The feedback function as deployed, built in one place: `main.rs` (Lambda), the local stack
//! and the tests call the same [`build`] with a [`Config`].

use journey::config::{self, ConfigError};
use journey_adapters::aws::Clients;
use journey_adapters::dynamodb::DynamoStore;
use journey_adapters::sqs::SqsEventQueue;

use crate::Feedback;

/// Everything the feedback function is configured with, read once at the cold start.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `TABLE_NAME`: the table whose send records get the feedback noted.
    pub table: String,
    /// `EVENTS_QUEUE_URL`: where the customer events go (the single writer's queue).
    pub events_queue_url: String,
}

impl Config {
    /// From the Lambda's environment; a missing variable is named.
    pub fn from_env() -> Result<Config, ConfigError> {
        Ok(Config::new(
            config::required("TABLE_NAME")?,
            config::required("EVENTS_QUEUE_URL")?,
        ))
    }

    /// The local stack's and the tests' settings.
    pub fn new(table: impl Into<String>, events_queue_url: impl Into<String>) -> Config {
        Config {
            table: table.into(),
            events_queue_url: events_queue_url.into(),
        }
    }
}

/// The feedback function on AWS's adapters.
pub type AwsFeedback = Feedback<SqsEventQueue, DynamoStore>;

/// Builds the feedback function on `clients`.
pub fn build(config: &Config, clients: &Clients) -> AwsFeedback {
    Feedback::new(
        SqsEventQueue::new(clients.sqs.clone(), &config.events_queue_url),
        DynamoStore::new(clients.dynamodb.clone(), &config.table),
    )
}

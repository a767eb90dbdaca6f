//! Ingestion as deployed, built in one place: `main.rs` (Lambda) and the local stack call the
//! same [`build`] with a [`Config`], so a setting cannot exist in one wiring only.

use journey::config::{self, ConfigError};
use journey::domain::Rules;
use journey::domain::rules::DEFAULT_MAX_EVENT_AGE_DAYS;
use journey_adapters::aws::Clients;
use journey_adapters::dynamodb::DynamoStore;
use journey_adapters::sqs::SqsEventQueue;

use crate::{Ingest, ProviderUrls, WebhookKeys};

/// Everything ingestion is configured with, read once at the cold start.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `TABLE_NAME`: where a text awaiting its report says whose it is.
    pub table: String,
    /// `EVENTS_QUEUE_URL`: where accepted events go.
    pub events_queue_url: String,
    /// `TOSS_API_URL`, `PORTONE_API_URL`: where the providers' APIs are.
    pub providers: ProviderUrls,
    /// App events older than this many days when received are refused: the rules'
    /// `inactivity.max_event_age_days` (`RULES_FILE`), as the transition drops them.
    pub max_event_age_days: u32,
}

impl Config {
    /// From the Lambda's environment; a missing or bad variable is named.
    pub fn from_env() -> Result<Config, ConfigError> {
        Ok(Config::new(
            config::required("TABLE_NAME")?,
            config::required("EVENTS_QUEUE_URL")?,
            ProviderUrls::from_env(),
        )
        .with_rules(&config::rules()?))
    }

    /// The local stack's and the tests' settings, with the built-in rules' event age.
    pub fn new(
        table: impl Into<String>,
        events_queue_url: impl Into<String>,
        providers: ProviderUrls,
    ) -> Config {
        Config {
            table: table.into(),
            events_queue_url: events_queue_url.into(),
            providers,
            max_event_age_days: DEFAULT_MAX_EVENT_AGE_DAYS,
        }
    }

    /// The oldest app event `rules` (their default policy) let through.
    pub fn with_rules(self, rules: &Rules) -> Config {
        Config {
            max_event_age_days: rules.policy(None).inactivity.max_event_age_days,
            ..self
        }
    }
}

/// Ingestion on AWS's adapters.
pub type AwsIngest = Ingest<SqsEventQueue, DynamoStore>;

/// Builds ingestion on `clients`, verifying with `keys` (read from the secrets; see
/// [`WebhookKeys::load`], which takes [`Config::providers`]).
pub fn build(config: &Config, clients: &Clients, keys: WebhookKeys) -> AwsIngest {
    Ingest::new(
        SqsEventQueue::new(clients.sqs.clone(), &config.events_queue_url),
        keys,
    )
    .with_text_owners(DynamoStore::new(clients.dynamodb.clone(), &config.table))
    .with_max_event_age_days(config.max_event_age_days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_age_comes_from_the_rules_file() {
        let urls = ProviderUrls::from_env_or("http://toss", "http://portone");
        let config = Config::new("table", "queue", urls.clone());
        assert_eq!(config.max_event_age_days, DEFAULT_MAX_EVENT_AGE_DAYS);
        let rules = Rules::from_toml_with_overlay(
            journey::domain::rules::DEFAULT_RULES_TOML,
            "[inactivity]\nmax_event_age_days = 3\n",
        )
        .unwrap();
        assert_eq!(config.with_rules(&rules).max_event_age_days, 3);
    }
}

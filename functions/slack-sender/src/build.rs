//! The Slack sender as deployed, built in one place: `main.rs` (Lambda), the local stack and
//! the tests call [`build`] or [`assemble`] with the same [`Config`], so a setting cannot
//! exist in one wiring only.

use std::time::Duration;

use journey::config::{self, ConfigError};
use journey::domain::rules::DEFAULT_RULES_TOML;
use journey::ports::SystemClock;
use journey::templates::{Lang, TemplateError, Templates};
use journey_adapters::aws::Clients;
use journey_adapters::dynamodb::DynamoStore;
use journey_adapters::slack::SlackWebhook;
use journey_adapters::sqs::{SqsEventQueue, SqsRedelivery};
use thiserror::Error;

use crate::SlackSender;

/// How long a post to the webhook may take: below the function's own timeout.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(5);

/// Everything the Slack sender is configured with, read once at the cold start.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `TABLE_NAME`: the single table (customers and the send ledger).
    pub table: String,
    /// `EVENTS_QUEUE_URL`: where outcomes are reported.
    pub events_queue_url: String,
    /// `SLACK_QUEUE_URL`: the queue this sender reads, for deferred redeliveries.
    pub slack_queue_url: String,
    /// `DASHBOARD_URL`: where an alert's button opens the customer.
    pub dashboard_url: String,
    /// `DEFAULT_LOCALE` (`ko`/`en`): the alerts' language.
    pub lang: Lang,
    /// The deployed rules file (`RULES_FILE`, else the built-in one).
    pub rules_text: String,
}

impl Config {
    /// From the Lambda's environment; a missing or bad variable is named.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::new(
            config::required("TABLE_NAME")?,
            config::required("EVENTS_QUEUE_URL")?,
            config::required("SLACK_QUEUE_URL")?,
            config::required("DASHBOARD_URL")?,
        )
        .with_env()
    }

    /// Every optional setting the environment sets (`DEFAULT_LOCALE`, `RULES_FILE`), over
    /// these: what the Lambda and the local stack both read.
    pub fn with_env(self) -> Result<Config, ConfigError> {
        let locale = std::env::var("DEFAULT_LOCALE").ok();
        Ok(Config {
            lang: Lang::of(
                locale.as_deref().map(str::trim).filter(|l| !l.is_empty()),
                self.lang,
            ),
            rules_text: config::rules_text_or(self.rules_text)?,
            ..self
        })
    }

    /// The local stack's and the tests' settings: Korean alerts, the built-in rules.
    pub fn new(
        table: impl Into<String>,
        events_queue_url: impl Into<String>,
        slack_queue_url: impl Into<String>,
        dashboard_url: impl Into<String>,
    ) -> Config {
        Config {
            table: table.into(),
            events_queue_url: events_queue_url.into(),
            slack_queue_url: slack_queue_url.into(),
            dashboard_url: dashboard_url.into(),
            lang: Lang::Ko,
            rules_text: DEFAULT_RULES_TOML.to_string(),
        }
    }
}

/// Why the sender could not be built: its cold start fails, naming what is wrong.
#[derive(Debug, Error)]
pub enum BuildError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Templates(#[from] TemplateError),
    #[error("the Slack webhook client: {0}")]
    Webhook(String),
}

/// The adapters a sender works through; [`build`] uses AWS's and the incoming webhook, the
/// local stack and the tests their own.
pub struct Ports<S, H, Q, R, C> {
    pub store: S,
    pub chat: H,
    /// The events queue, for the outcome reports.
    pub reports: Q,
    pub redelivery: R,
    pub clock: C,
}

/// The sender on AWS's adapters.
pub type AwsSlackSender =
    SlackSender<DynamoStore, SlackWebhook, SqsEventQueue, SqsRedelivery, SystemClock>;

/// Builds the sender on `clients`, posting to `webhook_url` (the secret).
pub fn build(
    config: &Config,
    clients: &Clients,
    webhook_url: &str,
) -> Result<AwsSlackSender, BuildError> {
    let ports = Ports {
        store: DynamoStore::new(clients.dynamodb.clone(), &config.table),
        chat: SlackWebhook::new(webhook_url.trim(), WEBHOOK_TIMEOUT)
            .map_err(BuildError::Webhook)?,
        reports: SqsEventQueue::new(clients.sqs.clone(), &config.events_queue_url),
        redelivery: SqsRedelivery::new(clients.sqs.clone(), &config.slack_queue_url),
        clock: SystemClock,
    };
    assemble(config, ports)
}

/// The sender `config` describes, over `ports`: the rules parsed and checked against the
/// templates, so a rule sending a missing template fails here, naming it.
pub fn assemble<S, H, Q, R, C>(
    config: &Config,
    ports: Ports<S, H, Q, R, C>,
) -> Result<SlackSender<S, H, Q, R, C>, BuildError> {
    let rules = config::parse_rules(&config.rules_text)?;
    let templates = Templates::embedded()?;
    templates.catalogue().check(&rules)?;
    Ok(SlackSender {
        store: ports.store,
        chat: ports.chat,
        reports: ports.reports,
        redelivery: ports.redelivery,
        clock: ports.clock,
        rules,
        templates,
        lang: config.lang,
        dashboard_url: config.dashboard_url.clone(),
        metrics: journey::metrics::Metrics::new("slack-sender"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::new("table", "events", "slack", "https://dash")
    }

    #[test]
    fn the_shipped_rules_build_a_sender() {
        let sender = build(
            &config(),
            &Clients::unconnected(),
            " https://hooks.slack.test/x\n",
        )
        .unwrap();
        assert_eq!(sender.dashboard_url, "https://dash");
    }

    #[test]
    fn a_rules_file_that_sends_a_missing_template_fails_the_cold_start_naming_the_key() {
        let config = Config {
            rules_text: format!(
                "{DEFAULT_RULES_TOML}\n[programs.fit.interventions.risk_danger]\nslack = \"owner_alrt\"\n"
            ),
            ..config()
        };
        let Err(e) = build(
            &config,
            &Clients::unconnected(),
            "https://hooks.slack.test/x",
        ) else {
            panic!("built on a rules file that names a missing template");
        };
        assert!(
            e.to_string()
                .contains("programs.fit.interventions.risk_danger.slack"),
            "{e}"
        );
    }
}

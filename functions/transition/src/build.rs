//! The transition worker as deployed, built in one place: `main.rs` (Lambda) and the local
//! stack call the same [`build`] with a [`Config`], so a setting cannot exist in one wiring only.

use std::time::Duration;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use journey::config::{self, ConfigError};
use journey::domain::rules::DEFAULT_RULES_TOML;
use journey::metrics::Metrics;
use journey::ports::{CustomerStore, EventBus, EventLog, InterventionQueue, TextNotes};
use journey::rules_versions::LiveRules;
use journey::templates::{Catalogue, TemplateError};
use journey_adapters::aws::Clients;
use journey_adapters::dynamodb::DynamoStore;
use journey_adapters::eventbridge::EventBridgeBus;
use journey_adapters::firehose::FirehoseLog;
use journey_adapters::sqs::SqsInterventionQueues;
use thiserror::Error;

use crate::Transition;

/// Everything the transition worker is configured with, read once at the cold start.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `TABLE_NAME`: the single table.
    pub table: String,
    /// `EMAIL_QUEUE_URL`, `SLACK_QUEUE_URL`: where interventions go.
    pub email_queue_url: String,
    pub slack_queue_url: String,
    /// `TEXT_QUEUE_URL` (optional): where texts go; without it, rules that send texts fail the
    /// cold start.
    pub text_queue_url: Option<String>,
    /// `EVENT_BUS_NAME`: where domain events go.
    pub event_bus: String,
    /// `EVENT_LOG_STREAM`: the Firehose delivery stream the event log is appended to.
    pub event_log_stream: String,
    /// The deployed rules file (`RULES_FILE`, else the built-in one): versions are overlays on it.
    pub rules_text: String,
    /// `RULES_REFRESH_SECONDS`: how often the active rules version is looked up.
    pub rules_refresh: Duration,
}

impl Config {
    /// Texts go to `url`.
    pub fn with_texts(mut self, url: &str) -> Config {
        self.text_queue_url = Some(url.to_string());
        self
    }

    /// From the Lambda's environment; a missing or bad variable is named.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::new(
            config::required("TABLE_NAME")?,
            config::required("EMAIL_QUEUE_URL")?,
            config::required("SLACK_QUEUE_URL")?,
            config::required("EVENT_BUS_NAME")?,
            config::required("EVENT_LOG_STREAM")?,
        )
        .with_env()
    }

    /// Every optional setting the environment sets (`RULES_FILE`, `RULES_REFRESH_SECONDS`),
    /// over these: what the Lambda and the local stack both read.
    pub fn with_env(self) -> Result<Config, ConfigError> {
        Ok(Config {
            text_queue_url: std::env::var("TEXT_QUEUE_URL")
                .ok()
                .filter(|v| !v.trim().is_empty())
                .or(self.text_queue_url),
            rules_text: config::rules_text_or(self.rules_text)?,
            rules_refresh: Duration::from_secs(config::parsed_or(
                "RULES_REFRESH_SECONDS",
                self.rules_refresh.as_secs(),
            )?),
            ..self
        })
    }

    /// The local stack's and the tests' settings: the given resources, the built-in rules,
    /// and every other setting as deployed.
    pub fn new(
        table: impl Into<String>,
        email_queue_url: impl Into<String>,
        slack_queue_url: impl Into<String>,
        event_bus: impl Into<String>,
        event_log_stream: impl Into<String>,
    ) -> Config {
        Config {
            table: table.into(),
            email_queue_url: email_queue_url.into(),
            slack_queue_url: slack_queue_url.into(),
            text_queue_url: None,
            event_bus: event_bus.into(),
            event_log_stream: event_log_stream.into(),
            rules_text: DEFAULT_RULES_TOML.to_string(),
            rules_refresh: Duration::from_secs(300),
        }
    }
}

/// Why the worker could not be built: its cold start fails, naming what is wrong.
#[derive(Debug, Error)]
pub enum BuildError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Templates(#[from] TemplateError),
    #[error("the rules send texts (`{0}`) and TEXT_QUEUE_URL is not set: deploy the text sender")]
    NoTextQueue(String),
}

/// The transition worker on AWS's adapters.
pub type AwsTransition =
    Transition<DynamoStore, SqsInterventionQueues, EventBridgeBus, FirehoseLog>;

/// The deployed worker: the handler, and the rules version it follows.
pub struct Worker {
    pub transition: AwsTransition,
    pub live: LiveRules<DynamoStore>,
    metrics: Metrics,
}

/// The adapters the worker writes through; [`build`] uses AWS's, the tests their own (a
/// queue or bus that fails on cue).
pub struct Ports<S, Q, B, L> {
    pub store: S,
    pub queues: Q,
    pub bus: B,
    pub log: L,
}

/// Builds the worker: the adapters on `clients`, the active rules version followed (see
/// [`assemble`] for the rules).
pub fn build(config: &Config, clients: &Clients) -> Result<Worker, BuildError> {
    let store = DynamoStore::new(clients.dynamodb.clone(), &config.table);
    let ports = Ports {
        store: store.clone(),
        queues: SqsInterventionQueues::new(
            clients.sqs.clone(),
            &config.email_queue_url,
            &config.slack_queue_url,
        )
        .with_texts(config.text_queue_url.clone()),
        bus: EventBridgeBus::new(clients.eventbridge.clone(), &config.event_bus),
        log: FirehoseLog::new(clients.firehose.clone(), &config.event_log_stream),
    };
    let transition = assemble(config, ports)?;
    let live = LiveRules::new(
        store,
        config.rules_text.clone(),
        config.rules_refresh,
        transition.rules_handle(),
    )
    .checking(Catalogue::embedded()?);
    Ok(Worker {
        transition,
        live,
        metrics: Metrics::new("transition"),
    })
}

/// The handler `config` describes, over `ports`: the rules parsed and checked (a rule sending
/// a template no sender has fails here, naming the key; only names and variants are read,
/// the worker renders nothing).
pub fn assemble<S, Q, B, L>(
    config: &Config,
    ports: Ports<S, Q, B, L>,
) -> Result<Transition<S, Q, B, L>, BuildError>
where
    S: CustomerStore + TextNotes,
    Q: InterventionQueue,
    B: EventBus,
    L: EventLog,
{
    let rules = config::parse_rules(&config.rules_text)?;
    Catalogue::embedded()?.check(&rules)?;
    if config.text_queue_url.is_none()
        && let Some(text) = rules.plans().find_map(|plan| plan.text.clone())
    {
        return Err(BuildError::NoTextQueue(text));
    }
    Ok(Transition::new(
        ports.store,
        ports.queues,
        ports.bus,
        ports.log,
        rules,
    ))
}

impl Worker {
    /// One SQS batch: the active rules version looked up first (a rejected one is counted as
    /// `RulesVersionRejected` and the rules in force stay), then the batch applied.
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        match self.live.refresh().await {
            Ok(outcome) if outcome.rejected() > 0.0 => {
                self.metrics.add("RulesVersionRejected", outcome.rejected());
                self.metrics.flush();
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "rules versions unreadable; keeping the rules in force")
            }
        }
        self.transition.handle_batch(event).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::new("table", "email-url", "slack-url", "bus", "log")
    }

    #[test]
    fn the_shipped_rules_build_a_worker() {
        assert!(build(&config(), &Clients::unconnected()).is_ok());
    }

    #[test]
    fn rules_that_send_texts_need_the_text_queue() {
        let texts = Config {
            rules_text: DEFAULT_RULES_TOML.replace(
                "[interventions.payment_failed]\n",
                "[interventions.payment_failed]\ntext = \"billing_failed\"\n",
            ),
            ..config()
        };
        let Err(e) = build(&texts, &Clients::unconnected()) else {
            panic!("built to send texts with nowhere to send them");
        };
        assert!(e.to_string().contains("TEXT_QUEUE_URL"), "{e}");
        let with_queue = Config {
            text_queue_url: Some("https://sqs/texts".into()),
            ..texts
        };
        assert!(build(&with_queue, &Clients::unconnected()).is_ok());
    }

    #[test]
    fn a_rules_file_that_sends_a_missing_template_fails_the_cold_start_naming_the_key() {
        let config = Config {
            rules_text: format!(
                "{DEFAULT_RULES_TOML}\n[programs.fit.interventions.risk_caution]\nemail = \"gentel_reminder\"\n"
            ),
            ..config()
        };
        let Err(e) = build(&config, &Clients::unconnected()) else {
            panic!("built on a rules file that names a missing template");
        };
        assert!(
            e.to_string()
                .starts_with("rules key `programs.fit.interventions.risk_caution.email`"),
            "{e}"
        );
    }
}

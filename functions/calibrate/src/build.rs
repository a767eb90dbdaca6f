//! The weekly calibration job as deployed, built in one place: `main.rs` (Lambda) and the
//! local stack's `/_local/calibrate` call [`build`] or [`assemble`] with the same [`Config`].

use chrono::{DateTime, Utc};
use journey::backtest::sample::SampleOrder;
use journey::config::{self, ConfigError};
use journey::domain::rules::DEFAULT_RULES_TOML;
use journey::ports::{EventArchive, JourneyReader, RulesRegistry};
use journey_adapters::aws::Clients;
use journey_adapters::dynamodb::DynamoStore;
use journey_adapters::s3::S3Archive;

use crate::allocate::allocate;
use crate::{CalibrationError, Report, Settings, calibrate};

/// Everything the job is configured with, read once at the cold start.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `TABLE_NAME`: the single table (the rules versions, the tallies).
    pub table: String,
    /// `EVENT_LOG_BUCKET`: the bucket the event log is delivered to (read under `log/`).
    pub log_bucket: String,
    /// The deployed rules file (`RULES_FILE`, else the built-in one): proposals are overlays on it.
    pub rules_text: String,
    /// `CALIBRATION_MIN_OUTCOMES`: fewer churned or retained customers than this, no proposal.
    pub min_outcomes: usize,
}

impl Config {
    /// From the Lambda's environment; a missing or bad variable is named.
    pub fn from_env() -> Result<Config, ConfigError> {
        Ok(Config {
            table: config::required("TABLE_NAME")?,
            log_bucket: config::required("EVENT_LOG_BUCKET")?,
            rules_text: config::rules_text()?,
            min_outcomes: config::parsed_or(
                "CALIBRATION_MIN_OUTCOMES",
                Settings::default().min_outcomes,
            )?,
        })
    }

    /// The local stack's settings: the built-in rules, the deployed minimum.
    pub fn new(table: impl Into<String>, log_bucket: impl Into<String>) -> Config {
        Config {
            table: table.into(),
            log_bucket: log_bucket.into(),
            rules_text: DEFAULT_RULES_TOML.to_string(),
            min_outcomes: Settings::default().min_outcomes,
        }
    }
}

/// The job over a store of the rules versions and the event log's archive.
pub struct Job<S, A> {
    store: S,
    archive: A,
    base: String,
    settings: Settings,
}

impl<S: RulesRegistry + JourneyReader, A: EventArchive> Job<S, A> {
    /// One run as of `now`: a proposal stored (and applied, if the guard passes), then the
    /// variants re-allocated by their outcomes on top of whatever is then in force, unless
    /// `dry_run`.
    pub async fn run(&self, now: DateTime<Utc>, dry_run: bool) -> Result<Report, CalibrationError> {
        let mut report = calibrate(
            &self.store,
            &self.archive,
            &self.base,
            &self.settings,
            now,
            dry_run,
        )
        .await?;
        report.allocation = Some(allocate(&self.store, &self.base, now, dry_run).await?);
        Ok(report)
    }
}

/// The job on AWS's adapters.
pub type AwsJob = Job<DynamoStore, S3Archive>;

/// The secret that keys the order customers are sampled in (security review M4): without it,
/// anyone who can create customers could grind ids that crowd real ones out of the sample.
pub const SAMPLE_SECRET: &str = "calibration-sample-key";

/// Builds the job on `clients`, sampling in the order `secret` keys.
pub fn build(config: &Config, clients: &Clients, secret: &str) -> AwsJob {
    assemble(
        config,
        DynamoStore::new(clients.dynamodb.clone(), &config.table),
        S3Archive::new(
            clients.s3.clone(),
            &config.log_bucket,
            SampleOrder::keyed(secret.as_bytes()),
        ),
    )
}

/// The job `config` describes, over `store` and `archive`.
pub fn assemble<S, A>(config: &Config, store: S, archive: A) -> Job<S, A> {
    Job {
        store,
        archive,
        base: config.rules_text.clone(),
        settings: Settings {
            min_outcomes: config.min_outcomes,
            ..Settings::default()
        },
    }
}

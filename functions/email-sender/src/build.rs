//! The e-mail sender as deployed, built in one place: `main.rs` (Lambda), the local stack and
//! the tests call [`build`] or [`assemble`] with the same [`Config`], so a setting
//! (`QUIET_HOURS`, `CHECK_SUPPRESSION`, …) cannot exist in one wiring only.

use journey::config::{self, ConfigError};
use journey::domain::Rules;
use journey::domain::rules::DEFAULT_RULES_TOML;
use journey::ports::SystemClock;
use journey::templates::{Lang, TemplateError, Templates};
use journey::unsubscribe;
use journey_adapters::aws::Clients;
use journey_adapters::dynamodb::DynamoStore;
use journey_adapters::ses::SesMailer;
use journey_adapters::sqs::{SqsEventQueue, SqsRedelivery};
use thiserror::Error;

use crate::{EmailSender, EmailSettings};

/// Everything the e-mail sender is configured with, read once at the cold start.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `TABLE_NAME`: the single table (customers and the send ledger).
    pub table: String,
    /// `EVENTS_QUEUE_URL`: where outcomes are reported.
    pub events_queue_url: String,
    /// `EMAIL_QUEUE_URL`: the queue this sender reads, for deferred redeliveries.
    pub email_queue_url: String,
    /// `SES_CONFIGURATION_SET`: tags every e-mail for SES's events (optional).
    pub configuration_set: Option<String>,
    /// `CHECK_SUPPRESSION`: ask SES's account suppression list before sending (default on).
    pub check_suppression: bool,
    /// The deployed rules file (`RULES_FILE`, else the built-in one).
    pub rules_text: String,
    /// `QUIET_HOURS` (`21:00-08:00`, `off`; empty: as in the rules) overrides the rules' window.
    pub quiet_hours: String,
    /// `SENDER_EMAIL`, `BRAND_NAME`, `APP_URL`, `API_URL` (unsubscribe links),
    /// `DASHBOARD_URL`, `OFFER_CODE`, `DEFAULT_LOCALE` (`ko`/`en`).
    pub settings: EmailSettings,
}

impl Config {
    /// From the Lambda's environment; a missing or bad variable is named.
    pub fn from_env() -> Result<Config, ConfigError> {
        use journey::config::required;
        let mut config = Config::new(
            required("TABLE_NAME")?,
            required("EVENTS_QUEUE_URL")?,
            required("EMAIL_QUEUE_URL")?,
            required("SENDER_EMAIL")?,
            required("API_URL")?,
        );
        // a deployment names its own business: no example address reaches a customer
        let s = &mut config.settings;
        (s.sender_name, s.sender_address, s.sender_contact) = Default::default();
        config.with_env()
    }

    /// Every optional setting the environment sets, over these: what the Lambda and the local
    /// stack both read, so an operator's `QUIET_HOURS` or `CHECK_SUPPRESSION` reaches both.
    pub fn with_env(self) -> Result<Config, ConfigError> {
        use journey::config::parsed_or;
        let locale = std::env::var("DEFAULT_LOCALE").ok();
        Ok(Config {
            configuration_set: std::env::var("SES_CONFIGURATION_SET")
                .ok()
                .filter(|v| !v.trim().is_empty())
                .or(self.configuration_set),
            check_suppression: parsed_or("CHECK_SUPPRESSION", self.check_suppression)?,
            rules_text: config::rules_text_or(self.rules_text)?,
            quiet_hours: parsed_or("QUIET_HOURS", self.quiet_hours)?,
            settings: EmailSettings {
                brand: parsed_or("BRAND_NAME", self.settings.brand)?,
                app_url: parsed_or("APP_URL", self.settings.app_url)?,
                dashboard_url: parsed_or("DASHBOARD_URL", self.settings.dashboard_url)?,
                offer_code: parsed_or("OFFER_CODE", self.settings.offer_code)?,
                sender_name: parsed_or("SENDER_NAME", self.settings.sender_name)?,
                sender_address: parsed_or("SENDER_ADDRESS", self.settings.sender_address)?,
                sender_contact: parsed_or("SENDER_CONTACT", self.settings.sender_contact)?,
                default_lang: Lang::of(
                    locale.as_deref().map(str::trim).filter(|l| !l.is_empty()),
                    self.settings.default_lang,
                ),
                ..self.settings
            },
            ..self
        })
    }

    /// The local stack's and the tests' settings: the given resources and addresses, the
    /// built-in rules, and every other setting as deployed by default.
    pub fn new(
        table: impl Into<String>,
        events_queue_url: impl Into<String>,
        email_queue_url: impl Into<String>,
        from: impl Into<String>,
        api_url: impl Into<String>,
    ) -> Config {
        Config {
            table: table.into(),
            events_queue_url: events_queue_url.into(),
            email_queue_url: email_queue_url.into(),
            configuration_set: None,
            check_suppression: true,
            rules_text: DEFAULT_RULES_TOML.to_string(),
            quiet_hours: String::new(),
            settings: EmailSettings {
                from: from.into(),
                brand: "Journey".into(),
                app_url: "https://app.example.com".into(),
                api_url: api_url.into(),
                dashboard_url: "https://app.example.com/journey".into(),
                offer_code: "WELCOMEBACK".into(),
                default_lang: Lang::Ko,
                sender_name: "Journey (example)".into(),
                sender_address: "서울특별시 중구 세종대로 110 (example)".into(),
                sender_contact: "02-000-0000".into(),
            },
        }
    }

    /// The rules file with `QUIET_HOURS` applied; a bad value is named.
    pub fn rules(&self) -> Result<Rules, ConfigError> {
        config::parse_rules(&self.rules_text)?
            .with_quiet_hours(&self.quiet_hours)
            .map_err(|reason| ConfigError::Invalid {
                name: "QUIET_HOURS".into(),
                reason,
            })
    }

    /// SES as configured (configuration set, suppression check).
    pub fn mailer(&self, ses: &aws_sdk_sesv2::Client) -> SesMailer {
        SesMailer::new(
            ses.clone(),
            self.configuration_set.clone(),
            self.check_suppression,
        )
    }
}

/// Why the sender could not be built: its cold start fails, naming what is wrong.
#[derive(Debug, Error)]
pub enum BuildError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Templates(#[from] TemplateError),
    /// §50④: an advertising e-mail names its sender, their address and a contact.
    #[error(
        "the rules send advertising e-mails, which must name the sender: set SENDER_NAME, SENDER_ADDRESS and SENDER_CONTACT (missing: {0})"
    )]
    NoSender(String),
}

/// The adapters a sender works through; [`build`] uses AWS's, the local stack and the tests
/// their own (an aging ledger, a shared clock, a recording mailer).
pub struct Ports<S, M, Q, R, C> {
    pub store: S,
    pub mailer: M,
    /// The events queue, for the outcome reports.
    pub reports: Q,
    pub redelivery: R,
    pub clock: C,
}

/// The sender on AWS's adapters.
pub type AwsEmailSender =
    EmailSender<DynamoStore, SesMailer, SqsEventQueue, SqsRedelivery, SystemClock>;

/// Builds the sender on `clients`, signing unsubscribe links with `unsubscribe_secret`.
pub fn build(
    config: &Config,
    clients: &Clients,
    unsubscribe_secret: &str,
) -> Result<AwsEmailSender, BuildError> {
    let ports = Ports {
        store: DynamoStore::new(clients.dynamodb.clone(), &config.table),
        mailer: config.mailer(&clients.sesv2),
        reports: SqsEventQueue::new(clients.sqs.clone(), &config.events_queue_url),
        redelivery: SqsRedelivery::new(clients.sqs.clone(), &config.email_queue_url),
        clock: SystemClock,
    };
    assemble(config, ports, unsubscribe_secret)
}

/// The sender `config` describes, over `ports`: the rules (with quiet hours) parsed and
/// checked against the templates, so a rule sending a missing template fails here, naming it.
pub fn assemble<S, M, Q, R, C>(
    config: &Config,
    ports: Ports<S, M, Q, R, C>,
    unsubscribe_secret: &str,
) -> Result<EmailSender<S, M, Q, R, C>, BuildError> {
    let rules = config.rules()?;
    let templates = Templates::embedded()?;
    templates.catalogue().check(&rules)?;
    if templates.catalogue().sends_advertising(&rules) {
        config.settings.check_sender()?;
    }
    Ok(EmailSender {
        store: ports.store,
        mailer: ports.mailer,
        reports: ports.reports,
        redelivery: ports.redelivery,
        clock: ports.clock,
        rules,
        templates,
        settings: config.settings.clone(),
        unsubscribe_key: unsubscribe::signing_key(unsubscribe_secret),
        metrics: journey::metrics::Metrics::new("email-sender"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        let mut config = Config::new(
            "table",
            "events",
            "email",
            "hello@example.com",
            "https://api",
        );
        config.settings.sender_name = "(주)저니".into();
        config.settings.sender_address = "서울특별시 중구 세종대로 110".into();
        config.settings.sender_contact = "02-1234-5678".into();
        config
    }

    #[test]
    fn the_shipped_rules_build_a_sender_with_the_settings_given() {
        let sender = build(&config(), &Clients::unconnected(), "secret").unwrap();
        assert_eq!(sender.settings.from, "hello@example.com");
        assert_eq!(sender.unsubscribe_key, unsubscribe::signing_key("secret"));
    }

    #[test]
    fn advertising_without_the_senders_details_fails_the_cold_start() {
        let mut bare = config();
        bare.settings.sender_address = String::new();
        let Err(e) = build(&bare, &Clients::unconnected(), "secret") else {
            panic!("built to send advertising without the sender's address");
        };
        assert!(e.to_string().contains("SENDER_ADDRESS"), "{e}");
        // the name falls back to the brand
        let mut unnamed = config();
        unnamed.settings.sender_name = String::new();
        build(&unnamed, &Clients::unconnected(), "secret").unwrap();
    }

    #[test]
    fn quiet_hours_from_the_environment_reach_the_rules() {
        let off = Config {
            quiet_hours: "off".into(),
            ..config()
        };
        let sender = build(&off, &Clients::unconnected(), "secret").unwrap();
        assert_ne!(sender.rules, config().rules().unwrap());
        let Err(e) = build(
            &Config {
                quiet_hours: "late".into(),
                ..config()
            },
            &Clients::unconnected(),
            "secret",
        ) else {
            panic!("built with an unreadable QUIET_HOURS");
        };
        assert!(e.to_string().contains("QUIET_HOURS"), "{e}");
    }

    #[test]
    fn a_rules_file_that_sends_a_missing_template_fails_the_cold_start_naming_the_key() {
        let config = Config {
            rules_text: format!(
                "{DEFAULT_RULES_TOML}\n[programs.fit.interventions.risk_caution]\nemail = \"gentel_reminder\"\n"
            ),
            ..config()
        };
        let Err(e) = build(&config, &Clients::unconnected(), "secret") else {
            panic!("built on a rules file that names a missing template");
        };
        assert!(
            e.to_string()
                .contains("programs.fit.interventions.risk_caution.email"),
            "{e}"
        );
    }
}

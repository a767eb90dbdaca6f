//! The text sender as deployed, built in one place: `main.rs` (Lambda), the local stack and
//! the tests call [`assemble`] with the same [`Config`].

use std::time::Duration;

use journey::config::{self, ConfigError, parsed_or, required};
use journey::domain::Rules;
use journey::domain::rules::DEFAULT_RULES_TOML;
use journey::domain::text::TextReport;
use journey::ports::{OutgoingText, TextError, TextProvider};
use journey::templates::{Business, Catalogue, Lang, TemplateError};
use journey::text_templates::{Advertiser, TextTemplates};
use journey_adapters::text::{nhn::NhnProvider, solapi::SolapiProvider};
use thiserror::Error;

use crate::{TextSender, TextSettings};

/// The provider's attempt: below the function's timeout, with the reads and records around it.
pub const PROVIDER_TIMEOUT: Duration = Duration::from_secs(5);

/// Everything the text sender is configured with, read once at the cold start.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `TABLE_NAME`, `EVENTS_QUEUE_URL`, `TEXT_QUEUE_URL` (for deferred redeliveries).
    pub table: String,
    pub events_queue_url: String,
    pub text_queue_url: String,
    /// `TEXT_PROVIDER`: `solapi` or `nhn`.
    pub provider: ProviderKind,
    /// Another host for the provider's API: the local stand-in (set by the local stack).
    pub provider_url: Option<String>,
    /// The deployed rules file (`RULES_FILE`, else the built-in one); `QUIET_HOURS` over it.
    pub rules_text: String,
    pub quiet_hours: String,
    /// `TEXT_SENDER_NUMBER`, `KAKAO_SENDER_PROFILE`, `BRAND_NAME`, `APP_URL`, `OFFER_CODE`,
    /// `SENDER_NAME`, `SENDER_CONTACT`, `TEXT_OPT_OUT_NUMBER` (080), `DEFAULT_LOCALE`,
    /// `TEXT_CONCURRENCY`.
    pub settings: TextSettings,
}

/// Which provider a deployment sends through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderKind {
    Solapi,
    Nhn,
}

impl std::str::FromStr for ProviderKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "solapi" => Ok(ProviderKind::Solapi),
            "nhn" => Ok(ProviderKind::Nhn),
            other => Err(format!("`{other}` is neither `solapi` nor `nhn`")),
        }
    }
}

/// The provider's secrets, by name under the secrets path.
pub const SOLAPI_SECRETS: [&str; 2] = ["solapi-api-key", "solapi-api-secret"];
pub const NHN_SECRETS: [&str; 2] = ["nhn-app-key", "nhn-secret-key"];

impl ProviderKind {
    /// As report event ids name it (`solapi:…`, `nhn:…`).
    pub fn name(self) -> &'static str {
        match self {
            ProviderKind::Solapi => "solapi",
            ProviderKind::Nhn => "nhn",
        }
    }

    pub fn secrets(self) -> [&'static str; 2] {
        match self {
            ProviderKind::Solapi => SOLAPI_SECRETS,
            ProviderKind::Nhn => NHN_SECRETS,
        }
    }
}

impl Config {
    /// From the Lambda's environment; a missing or bad variable is named.
    pub fn from_env() -> Result<Config, ConfigError> {
        let mut config = Config::new(
            required("TABLE_NAME")?,
            required("EVENTS_QUEUE_URL")?,
            required("TEXT_QUEUE_URL")?,
            required("TEXT_SENDER_NUMBER")?,
        );
        config.provider = parsed_or("TEXT_PROVIDER", config.provider)?;
        config.advertiser_from_env()?;
        config.with_env()
    }

    /// Every optional setting the environment sets, over these.
    pub fn with_env(self) -> Result<Config, ConfigError> {
        let locale = std::env::var("DEFAULT_LOCALE").ok();
        let s = self.settings;
        let business = Business {
            brand: parsed_or("BRAND_NAME", s.business.brand)?,
            app_url: parsed_or("APP_URL", s.business.app_url)?,
            offer_code: parsed_or("OFFER_CODE", s.business.offer_code)?,
            sender_name: parsed_or("SENDER_NAME", s.business.sender_name)?,
            sender_address: parsed_or("SENDER_ADDRESS", s.business.sender_address)?,
            sender_contact: parsed_or("SENDER_CONTACT", s.business.sender_contact)?,
        };
        let kakao_profile = std::env::var("KAKAO_SENDER_PROFILE")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .or(s.kakao_profile);
        Ok(Config {
            rules_text: config::rules_text_or(self.rules_text)?,
            quiet_hours: parsed_or("QUIET_HOURS", self.quiet_hours)?,
            settings: TextSettings {
                kakao_profile,
                default_lang: Lang::of(
                    locale.as_deref().map(str::trim).filter(|l| !l.is_empty()),
                    s.default_lang,
                ),
                concurrency: parsed_or("TEXT_CONCURRENCY", s.concurrency)?,
                rate_per_second: parsed_or("TEXT_RATE_PER_SECOND", s.rate_per_second)?,
                business,
                ..s
            },
            ..self
        })
    }

    /// `TEXT_OPT_OUT_NUMBER` (the 080 number) and the sender's name and contact, when set.
    fn advertiser_from_env(&mut self) -> Result<(), ConfigError> {
        let opt_out = std::env::var("TEXT_OPT_OUT_NUMBER").unwrap_or_default();
        let contact = std::env::var("SENDER_CONTACT").unwrap_or_default();
        let name = parsed_or("SENDER_NAME", String::new())?;
        let brand = parsed_or("BRAND_NAME", self.settings.business.brand.clone())?;
        self.settings.advertiser =
            (!opt_out.trim().is_empty() && !contact.trim().is_empty()).then(|| Advertiser {
                name: if name.trim().is_empty() { brand } else { name },
                contact,
                opt_out,
            });
        Ok(())
    }

    /// The local stack's and the tests' settings: Solapi, an example business and 080 number.
    pub fn new(
        table: impl Into<String>,
        events_queue_url: impl Into<String>,
        text_queue_url: impl Into<String>,
        from: impl Into<String>,
    ) -> Config {
        Config {
            table: table.into(),
            events_queue_url: events_queue_url.into(),
            text_queue_url: text_queue_url.into(),
            provider: ProviderKind::Solapi,
            provider_url: None,
            rules_text: DEFAULT_RULES_TOML.to_string(),
            quiet_hours: String::new(),
            settings: TextSettings {
                from: from.into(),
                kakao_profile: Some("KA01PF-example".into()),
                business: Business {
                    brand: "Journey".into(),
                    app_url: "https://app.example.com".into(),
                    offer_code: "WELCOMEBACK".into(),
                    sender_name: "Journey (example)".into(),
                    sender_address: "서울특별시 중구 세종대로 110 (example)".into(),
                    sender_contact: "02-000-0000".into(),
                },
                advertiser: Some(Advertiser {
                    name: "Journey (example)".into(),
                    contact: "02-000-0000".into(),
                    opt_out: "080-000-0000".into(),
                }),
                default_lang: Lang::Ko,
                concurrency: 2,
                rate_per_second: 10.0,
            },
        }
    }

    /// The rules file with `QUIET_HOURS` applied.
    pub fn rules(&self) -> Result<Rules, ConfigError> {
        config::parse_rules(&self.rules_text)?
            .with_quiet_hours(&self.quiet_hours)
            .map_err(|reason| ConfigError::Invalid {
                name: "QUIET_HOURS".into(),
                reason,
            })
    }

    /// The configured provider, with its two secrets (in [`ProviderKind::secrets`] order).
    pub fn provider(&self, first: &str, second: &str) -> Result<AnyProvider, BuildError> {
        let provider = match self.provider {
            ProviderKind::Solapi => {
                let p = SolapiProvider::new(first, second, PROVIDER_TIMEOUT)
                    .map_err(BuildError::Provider)?;
                AnyProvider::Solapi(match &self.provider_url {
                    Some(url) => p.with_base_url(url),
                    None => p,
                })
            }
            ProviderKind::Nhn => {
                let p = NhnProvider::new(first, second, PROVIDER_TIMEOUT)
                    .map_err(BuildError::Provider)?;
                AnyProvider::Nhn(match &self.provider_url {
                    Some(url) => p.with_base_url(url),
                    None => p,
                })
            }
        };
        Ok(provider)
    }
}

/// The provider a deployment chose.
#[derive(Clone, Debug)]
pub enum AnyProvider {
    Solapi(SolapiProvider),
    Nhn(NhnProvider),
}

impl TextProvider for AnyProvider {
    async fn send(&self, text: &OutgoingText) -> Result<String, TextError> {
        match self {
            AnyProvider::Solapi(p) => p.send(text).await,
            AnyProvider::Nhn(p) => p.send(text).await,
        }
    }

    async fn poll(
        &self,
        send_id: &str,
        provider_id: &str,
    ) -> Result<Option<TextReport>, TextError> {
        match self {
            AnyProvider::Solapi(p) => p.poll(send_id, provider_id).await,
            AnyProvider::Nhn(p) => p.poll(send_id, provider_id).await,
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
    #[error("the text provider: {0}")]
    Provider(String),
    /// §50④: an advertising text names the sender, a contact and the free 080 opt-out.
    #[error(
        "the rules send advertising texts ({0}), which must name the sender: set SENDER_CONTACT and TEXT_OPT_OUT_NUMBER (the 080 number)"
    )]
    NoAdvertiser(String),
}

/// The adapters a sender works through.
pub struct Ports<S, P, Q, R, C> {
    pub store: S,
    pub provider: P,
    pub reports: Q,
    pub redelivery: R,
    pub clock: C,
}

/// The sender `config` describes, over `ports`: the rules checked against the templates, and an
/// advertising text template in the rules refused without the sender's details.
pub fn assemble<S, P, Q, R, C>(
    config: &Config,
    ports: Ports<S, P, Q, R, C>,
) -> Result<TextSender<S, P, Q, R, C>, BuildError> {
    let rules = config.rules()?;
    let templates = TextTemplates::embedded()?;
    Catalogue::embedded()?.check(&rules)?;
    let texts: Vec<&str> = rules
        .plans()
        .filter_map(|plan| plan.text.as_deref())
        .collect();
    if config.settings.advertiser.is_none() && templates.any_advertising(texts.iter().copied()) {
        return Err(BuildError::NoAdvertiser(texts.join(", ")));
    }
    Ok(TextSender {
        store: ports.store,
        provider: ports.provider,
        reports: ports.reports,
        redelivery: ports.redelivery,
        clock: ports.clock,
        rules,
        templates,
        settings: config.settings.clone(),
        metrics: journey::metrics::Metrics::new("text-sender"),
        provider_name: config.provider.name(),
        pace: crate::pace::Pace::per_second(config.settings.rate_per_second),
    })
}

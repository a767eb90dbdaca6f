//! The API as deployed, built in one place: `main.rs` (Lambda) and the local stack call the
//! same [`build`] with a [`Config`], so a setting cannot exist in one wiring only.

use journey::config::{self, ConfigError};
use journey::domain::rules::DEFAULT_RULES_TOML;
use journey::ports::SecretError;
use journey::secrets::split_rotation;
use journey_adapters::aws::Clients;
use journey_adapters::dynamodb::DynamoStore;
use journey_adapters::sqs::SqsEventQueue;

use crate::Api;
use crate::caller::{self, EmailVerified, StaffClaims};
use crate::roles::RoleGroups;
use crate::sign_in::SignIn;

/// Everything the API is configured with, read once at the cold start.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `TABLE_NAME`: the single table.
    pub table: String,
    /// `EVENTS_QUEUE_URL`: where notes, contacts and erasures go (through the single writer).
    pub events_queue_url: String,
    /// The deployed rules file (`RULES_FILE`, else the built-in one): how `/stats` judges.
    pub rules_text: String,
    /// `STAFF_ID_CLAIM` (`email`), `STAFF_GROUPS_CLAIM` (`cognito:groups`),
    /// `STAFF_ROLE_GROUPS` (`viewer=viewer,agent=agent,admin=admin`) and
    /// `STAFF_EMAIL_VERIFIED` (`required`, or `not_sent` where the provider never sends the
    /// claim): how a staff token names a member and their role.
    pub staff: StaffClaims,
    /// `STAFF_ISSUER`, `STAFF_CLIENT_ID`, `STAFF_CONNECT_ORIGINS`: the staff sign-in.
    pub sign_in: Option<SignIn>,
    /// `ACCESS_LOG_DAYS`: how long a record of a read of personal data is kept (400; at
    /// least 366).
    pub access_days: u32,
}

impl Config {
    /// From the Lambda's environment; a missing variable is named.
    pub fn from_env() -> Result<Config, ConfigError> {
        Ok(Config {
            rules_text: config::rules_text()?,
            staff: StaffClaims {
                id: config::parsed_or("STAFF_ID_CLAIM", caller::DEFAULT_ID_CLAIM.to_string())?,
                groups: config::parsed_or(
                    "STAFF_GROUPS_CLAIM",
                    caller::DEFAULT_GROUPS_CLAIM.to_string(),
                )?,
                roles: config::parsed_or("STAFF_ROLE_GROUPS", RoleGroups::default())?,
                verified: config::parsed_or("STAFF_EMAIL_VERIFIED", EmailVerified::Required)?,
            },
            sign_in: SignIn::from_env()?,
            access_days: access_days(config::parsed_or(
                "ACCESS_LOG_DAYS",
                crate::DEFAULT_ACCESS_DAYS,
            )?)?,
            ..Config::new(
                config::required("TABLE_NAME")?,
                config::required("EVENTS_QUEUE_URL")?,
            )
        })
    }

    /// The local stack's and the tests' settings.
    pub fn new(table: impl Into<String>, events_queue_url: impl Into<String>) -> Config {
        Config {
            table: table.into(),
            events_queue_url: events_queue_url.into(),
            rules_text: DEFAULT_RULES_TOML.to_string(),
            staff: StaffClaims::default(),
            sign_in: None,
            access_days: crate::DEFAULT_ACCESS_DAYS,
        }
    }
}

/// The API on AWS's adapters.
pub type AwsApi = Api<DynamoStore, SqsEventQueue>;

/// Builds the API on `clients`, accepting `keys`.
pub fn build(config: &Config, clients: &Clients, keys: &[String]) -> AwsApi {
    Api::new(
        DynamoStore::new(clients.dynamodb.clone(), &config.table),
        SqsEventQueue::new(clients.sqs.clone(), &config.events_queue_url),
        keys,
    )
    .with_rules_text(&config.rules_text)
    .with_staff_claims(config.staff.clone())
    .with_sign_in(config.sign_in.as_ref())
    .with_access_days(config.access_days)
}

/// PIPA's access records are kept at least a year: a shorter setting is a configuration error.
fn access_days(days: u32) -> Result<u32, ConfigError> {
    if days < 366 {
        return Err(ConfigError::Invalid {
            name: "ACCESS_LOG_DAYS".into(),
            reason: format!("{days} days: records of reads are kept at least a year (366)"),
        });
    }
    Ok(days)
}

/// The accepted keys from the `api-key` secret as read: a deleted parameter revokes every key
/// (every request is refused); an unreadable one is an error, so `Fresh` keeps the last keys.
pub fn keys(secret: Result<String, SecretError>) -> Result<Vec<String>, SecretError> {
    match secret {
        Ok(value) => Ok(split_rotation(&value)),
        Err(SecretError::Missing { hint, .. }) => {
            tracing::warn!(%hint, "api-key is not set: every request is refused");
            Ok(Vec::new())
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotation_accepts_both_keys() {
        assert_eq!(
            keys(Ok("old-key new-key".into())).unwrap(),
            vec!["old-key".to_string(), "new-key".to_string()]
        );
    }

    #[test]
    fn a_deleted_key_revokes_every_key_and_an_unreadable_one_is_an_error() {
        let missing = SecretError::Missing {
            name: "api-key".into(),
            hint: "set it".into(),
        };
        assert_eq!(keys(Err(missing)).unwrap(), Vec::<String>::new());
        let unavailable = SecretError::Unavailable {
            name: "api-key".into(),
            reason: "throttled".into(),
        };
        assert!(keys(Err(unavailable)).is_err());
    }
}

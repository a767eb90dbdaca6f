//! Secrets (webhook signing secrets, Slack URL, unsubscribe key): from SSM Parameter Store
//! SecureStrings when `SECRETS_SSM_PREFIX` is set (AWS), else from `JOURNEY_SECRET_<NAME>`
//! environment variables (local). Both behind `SecretSource`; read once at start-up.

use aws_config::SdkConfig;

use crate::adapters::ssm::SsmSecrets;
use crate::ports::{SecretError, SecretSource};

/// Reads `JOURNEY_SECRET_<NAME>` (name upper-cased, `-` → `_`).
#[derive(Clone, Debug, Default)]
pub struct EnvSecrets;

impl EnvSecrets {
    pub fn variable(name: &str) -> String {
        format!(
            "JOURNEY_SECRET_{}",
            name.to_ascii_uppercase().replace('-', "_")
        )
    }
}

impl SecretSource for EnvSecrets {
    async fn secret(&self, name: &str) -> Result<String, SecretError> {
        let variable = Self::variable(name);
        match std::env::var(&variable) {
            Ok(v) if !v.trim().is_empty() => Ok(v),
            _ => Err(SecretError::Missing {
                name: name.to_string(),
                hint: format!("set {variable} (or SECRETS_SSM_PREFIX to read SSM)"),
            }),
        }
    }
}

/// The source configured by the environment.
#[derive(Clone, Debug)]
pub enum Secrets {
    Env(EnvSecrets),
    Ssm(SsmSecrets),
}

impl Secrets {
    pub fn from_env(aws: &SdkConfig) -> Self {
        match std::env::var("SECRETS_SSM_PREFIX") {
            Ok(prefix) if !prefix.is_empty() => {
                Secrets::Ssm(SsmSecrets::new(aws_sdk_ssm::Client::new(aws), prefix))
            }
            _ => Secrets::Env(EnvSecrets),
        }
    }
}

impl SecretSource for Secrets {
    async fn secret(&self, name: &str) -> Result<String, SecretError> {
        match self {
            Secrets::Env(s) => s.secret(name).await,
            Secrets::Ssm(s) => s.secret(name).await,
        }
    }
}

/// Several secrets in one value, for rotation: separated by spaces, commas or newlines.
pub fn split_rotation(value: &str) -> Vec<String> {
    value
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_values_split_on_spaces_and_commas() {
        assert_eq!(
            split_rotation(" whsec_a, whsec_b\nwhsec_c "),
            vec!["whsec_a", "whsec_b", "whsec_c"]
        );
        assert!(split_rotation("  ").is_empty());
    }

    #[test]
    fn env_variable_names() {
        assert_eq!(
            EnvSecrets::variable("stripe-webhook"),
            "JOURNEY_SECRET_STRIPE_WEBHOOK"
        );
    }
}

//! SSM Parameter Store: secrets as SecureString parameters under one prefix.

use aws_sdk_ssm::Client;
use aws_sdk_ssm::error::{ProvideErrorMetadata, SdkError};

use aws_config::SdkConfig;
use journey::ports::{SecretError, SecretSource};
use journey::secrets::EnvSecrets;

#[derive(Clone, Debug)]
pub struct SsmSecrets {
    client: Client,
    prefix: String,
}

impl SsmSecrets {
    /// Secrets are read from `<prefix>/<name>`, e.g. `/journey/prod/stripe-webhook`.
    pub fn new(client: Client, prefix: impl Into<String>) -> Self {
        SsmSecrets {
            client,
            prefix: prefix.into().trim_end_matches('/').to_string(),
        }
    }
}

impl SecretSource for SsmSecrets {
    async fn secret(&self, name: &str) -> Result<String, SecretError> {
        let parameter = format!("{}/{name}", self.prefix);
        let out = self
            .client
            .get_parameter()
            .name(&parameter)
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| match &e {
                SdkError::ServiceError(se) if se.err().code() == Some("ParameterNotFound") => {
                    SecretError::Missing {
                        name: name.to_string(),
                        hint: format!("create the SecureString parameter {parameter}"),
                    }
                }
                _ => SecretError::Unavailable {
                    name: name.to_string(),
                    reason: format!("{parameter}: {e}"),
                },
            })?;
        out.parameter
            .and_then(|p| p.value)
            .ok_or_else(|| SecretError::Missing {
                name: name.to_string(),
                hint: format!("parameter {parameter} has no value"),
            })
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

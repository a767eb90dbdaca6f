//! Secrets (webhook signing secrets, Slack URL, unsubscribe key): from SSM Parameter Store
//! SecureStrings when `SECRETS_SSM_PREFIX` is set (AWS), else from `JOURNEY_SECRET_<NAME>`
//! environment variables (local). Both behind `SecretSource`. What is built from them is kept
//! in a [`Fresh`] and rebuilt after `SECRETS_REFRESH_SECONDS`, so a rotated or revoked key
//! takes effect on warm instances without a redeploy.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

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

/// How long what was built from secrets is used before they are read again: five minutes
/// unless `SECRETS_REFRESH_SECONDS` says otherwise.
pub fn refresh_after() -> Result<Duration, crate::config::ConfigError> {
    crate::config::parsed_or("SECRETS_REFRESH_SECONDS", 300u64).map(Duration::from_secs)
}

/// A value built from secrets (a handler holding its keys), rebuilt once it is older than
/// `ttl`. A rebuild that fails keeps the last good value and is tried again after `retry`: a
/// brief SSM outage does not take a warm function down, and a first build that fails is an
/// error (the cold start fails, as before).
pub struct Fresh<T> {
    ttl: Duration,
    retry: Duration,
    slot: Mutex<Option<(Arc<T>, Instant)>>,
}

impl<T> Fresh<T> {
    pub fn new(ttl: Duration) -> Self {
        Fresh {
            ttl,
            retry: ttl.min(Duration::from_secs(30)),
            slot: Mutex::new(None),
        }
    }

    /// The current value, built by `load` when there is none or it is stale.
    pub async fn get<F, Fut, E>(&self, load: F) -> Result<Arc<T>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: std::fmt::Display,
    {
        self.get_at(Instant::now(), load).await
    }

    /// [`Fresh::get`] as of `now` (tests pass their own).
    pub async fn get_at<F, Fut, E>(&self, now: Instant, load: F) -> Result<Arc<T>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: std::fmt::Display,
    {
        let mut slot = self.slot.lock().await;
        if let Some((value, built)) = slot.as_ref()
            && now.saturating_duration_since(*built) < self.ttl
        {
            return Ok(value.clone());
        }
        match load().await {
            Ok(value) => {
                let value = Arc::new(value);
                *slot = Some((value.clone(), now));
                Ok(value)
            }
            Err(e) => match slot.as_mut() {
                Some((value, built)) => {
                    tracing::warn!(error = %e, "secrets could not be read again: the last ones stay in use");
                    // stale again after `retry`, not after a whole ttl
                    *built = now
                        .checked_sub(self.ttl.saturating_sub(self.retry))
                        .unwrap_or(now);
                    Ok(value.clone())
                }
                None => Err(e),
            },
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

    async fn build(value: Result<&str, &str>) -> Result<String, String> {
        value.map(str::to_string).map_err(str::to_string)
    }

    #[tokio::test]
    async fn a_value_is_rebuilt_once_it_is_older_than_the_ttl() {
        let fresh = Fresh::new(Duration::from_secs(300));
        let start = Instant::now();
        assert_eq!(
            *fresh.get_at(start, || build(Ok("v1"))).await.unwrap(),
            "v1"
        );
        let later = start + Duration::from_secs(299);
        assert_eq!(
            *fresh.get_at(later, || build(Ok("v2"))).await.unwrap(),
            "v1"
        );
        let stale = start + Duration::from_secs(300);
        assert_eq!(
            *fresh.get_at(stale, || build(Ok("v2"))).await.unwrap(),
            "v2"
        );
    }

    #[tokio::test]
    async fn a_failed_rebuild_keeps_the_last_value_and_retries_soon() {
        let fresh = Fresh::new(Duration::from_secs(300));
        let start = Instant::now();
        assert!(
            fresh
                .get_at(start, || build(Err("ssm down")))
                .await
                .is_err()
        );
        fresh.get_at(start, || build(Ok("v1"))).await.unwrap();
        let stale = start + Duration::from_secs(301);
        assert_eq!(
            *fresh
                .get_at(stale, || build(Err("ssm down")))
                .await
                .unwrap(),
            "v1"
        );
        let soon = stale + Duration::from_secs(29);
        assert_eq!(*fresh.get_at(soon, || build(Ok("v2"))).await.unwrap(), "v1");
        let retry = stale + Duration::from_secs(30);
        assert_eq!(
            *fresh.get_at(retry, || build(Ok("v2"))).await.unwrap(),
            "v2"
        );
    }

    #[test]
    fn env_variable_names() {
        assert_eq!(
            EnvSecrets::variable("stripe-webhook"),
            "JOURNEY_SECRET_STRIPE_WEBHOOK"
        );
    }
}

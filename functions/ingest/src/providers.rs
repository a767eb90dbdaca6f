//! The payment providers' own APIs, asked before a Korean PG's webhook changes anything: Toss
//! payment webhooks are unsigned, and PortOne recommends re-reading the payment too.
//!
//! Bounded: each attempt times out well under the function's 10 s, and only network errors,
//! 429 and 5xx are retried, a few times. When the API stays unreachable the webhook answers 503
//! and the provider delivers it again later; nothing has been queued by then.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;
use thiserror::Error;

/// Attempts per lookup, and the time each may take: 3 × 2 s plus back-off stays under 7 s.
const ATTEMPTS: u32 = 3;
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
const BACKOFF: Duration = Duration::from_millis(150);
/// Longest id we put in a URL; provider ids are far shorter.
const MAX_ID: usize = 200;
/// How long a "no such payment" answer is reused: a flood of forged webhooks naming unknown
/// payments costs one lookup each per minute, not one per request, and a payment that appears
/// later (a webhook racing its payment) is seen once the provider retries.
const NOT_FOUND_FOR: Duration = Duration::from_secs(60);
/// Paths remembered as not found, at most (the oldest half is forgotten beyond it).
const NOT_FOUND_MAX: usize = 10_000;

/// Public API addresses, used unless `TOSS_API_URL` / `PORTONE_API_URL` say otherwise.
pub const TOSS_API: &str = "https://api.tosspayments.com";
pub const PORTONE_API: &str = "https://api.portone.io";

#[derive(Debug, Error, PartialEq)]
pub enum LookupError {
    /// The network, a timeout, 429 or 5xx after every attempt: the provider should retry.
    #[error("{0} API unavailable: {1}")]
    Unavailable(&'static str, String),
    /// Our credentials were refused (401/403) or the API answered something unreadable:
    /// an operator must look; the provider keeps retrying meanwhile.
    #[error("{0} API refused the lookup: {1}")]
    Refused(&'static str, String),
}

/// One provider's API: a base URL and the `Authorization` it expects.
#[derive(Clone, Debug)]
pub struct ProviderApi {
    name: &'static str,
    base: String,
    authorization: String,
    http: reqwest::Client,
    /// Paths answered 404 lately, and when.
    not_found: Arc<Mutex<HashMap<String, Instant>>>,
}

impl ProviderApi {
    /// Toss Payments: the secret key as HTTP Basic user with an empty password.
    pub fn toss(base: &str, secret_key: &str) -> Result<Self, String> {
        let basic = STANDARD.encode(format!("{secret_key}:"));
        Self::new("Toss", base, format!("Basic {basic}"))
    }

    /// PortOne V2: `Authorization: PortOne <API secret>`.
    pub fn portone(base: &str, api_secret: &str) -> Result<Self, String> {
        Self::new("PortOne", base, format!("PortOne {api_secret}"))
    }

    fn new(name: &'static str, base: &str, authorization: String) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(ProviderApi {
            name,
            base: base.trim_end_matches('/').to_string(),
            authorization,
            http,
            not_found: Arc::default(),
        })
    }

    /// `GET <base>/<segments…>`, each segment percent-encoded (ids come from unsigned bodies:
    /// `../` must not reach another endpoint with our key). `Ok(None)` is a 404.
    pub async fn get(&self, segments: &[&str]) -> Result<Option<Value>, LookupError> {
        let mut url = self.base.clone();
        for segment in segments {
            url.push('/');
            url.extend(utf8_percent_encode(segment, NON_ALPHANUMERIC));
        }
        if self.recently_not_found(&url) {
            return Ok(None);
        }
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                // full jitter: webhooks that failed together must not retry together
                let cap = Duration::from_secs(5);
                tokio::time::sleep(journey::backoff::full_jitter(BACKOFF, attempt - 1, cap)).await;
            }
            match self.once(&url).await {
                Ok(None) => {
                    self.remember_not_found(url);
                    return Ok(None);
                }
                Ok(found) => return Ok(found),
                Err(Attempt::Retry(reason)) => {
                    tracing::warn!(api = self.name, attempt, %reason, "provider API lookup failed");
                    last = reason;
                }
                Err(Attempt::Refused(reason)) => {
                    return Err(LookupError::Refused(self.name, reason));
                }
            }
        }
        Err(LookupError::Unavailable(self.name, last))
    }

    fn recently_not_found(&self, url: &str) -> bool {
        let seen = self.not_found.lock().unwrap_or_else(|e| e.into_inner());
        seen.get(url).is_some_and(|at| at.elapsed() < NOT_FOUND_FOR)
    }

    fn remember_not_found(&self, url: String) {
        let mut seen = self.not_found.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() >= NOT_FOUND_MAX {
            seen.retain(|_, at| at.elapsed() < NOT_FOUND_FOR);
            if seen.len() >= NOT_FOUND_MAX {
                seen.clear();
            }
        }
        seen.insert(url, Instant::now());
    }

    async fn once(&self, url: &str) -> Result<Option<Value>, Attempt> {
        let response = self
            .http
            .get(url)
            .header("authorization", &self.authorization)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| Attempt::Retry(e.to_string()))?;
        let status = response.status().as_u16();
        let body = response
            .text()
            .await
            .map_err(|e| Attempt::Retry(e.to_string()))?;
        match status {
            200 => serde_json::from_str(&body)
                .map(Some)
                .map_err(|e| Attempt::Refused(format!("unreadable payment: {e}"))),
            404 => Ok(None),
            429 | 500..=599 => Err(Attempt::Retry(format!("{status}: {}", clip(&body)))),
            _ => Err(Attempt::Refused(format!("{status}: {}", clip(&body)))),
        }
    }
}

enum Attempt {
    Retry(String),
    Refused(String),
}

/// Checks an id taken from an unsigned webhook body before it goes into a URL: the providers'
/// ids (Toss `paymentKey`/`orderId`: letters, digits, `-`, `_`, `=`; PortOne `paymentId` also `.`
/// and `:`) and nothing that could climb a path, even percent-encoded (`..`, `%2E`).
pub fn id<'a>(value: Option<&'a str>, field: &str) -> Result<&'a str, String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '=' | '.' | ':');
    match value {
        None => Err(format!("{field} is required")),
        Some(v) if v.is_empty() || v.len() > MAX_ID => {
            Err(format!("{field} must be 1 to {MAX_ID} characters"))
        }
        Some(v) if !v.chars().all(allowed) || v.contains("..") || v.starts_with('.') => {
            Err(format!(
                "{field} may hold only letters, digits, '-', '_', '=', '.' and ':', and no '..'"
            ))
        }
        Some(v) => Ok(v),
    }
}

fn clip(body: &str) -> &str {
    let end = body.char_indices().nth(200).map_or(body.len(), |(i, _)| i);
    &body[..end]
}

#[cfg(test)]
mod tests {
    use super::id;

    #[test]
    fn provider_ids_are_checked_before_any_url_is_built() {
        for good in [
            "tgen_20261102abc",
            "order-1",
            "payment-3f2a:01",
            "pay.2026.11",
        ] {
            assert_eq!(id(Some(good), "f"), Ok(good));
        }
        for bad in [
            "",
            "..",
            "../v1/billing",
            "%2E%2E",
            "a/b",
            "a..b",
            ".hidden",
            "a b",
            "키",
            "a?x=1",
            "a#b",
        ] {
            let e = id(Some(bad), "data.paymentKey").unwrap_err();
            assert!(e.starts_with("data.paymentKey"), "{bad}: {e}");
        }
        assert!(id(Some(&"a".repeat(201)), "f").is_err());
        assert!(id(None, "f").is_err());
    }
}

//! Slack: staff alerts through an incoming webhook (success is 200 with body `ok`), or, with no
//! webhook configured, appended as JSON lines to a local file.

use std::path::PathBuf;
use std::time::Duration;

use journey::ports::{Chat, ChatError};

#[derive(Clone, Debug)]
pub struct SlackWebhook {
    http: reqwest::Client,
    url: String,
}

impl SlackWebhook {
    /// `timeout` stays below the function's own.
    pub fn new(url: impl Into<String>, timeout: Duration) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(SlackWebhook {
            http,
            url: url.into(),
        })
    }
}

/// Slack's answer → outcome: 429 honours `Retry-After`; 404/410 (channel gone, URL revoked)
/// and other 4xx are permanent; 5xx transient.
pub fn outcome(status: u16, retry_after: Option<&str>, body: &str) -> Result<(), ChatError> {
    match status {
        200 if body.trim() == "ok" || body.trim().is_empty() => Ok(()),
        200 => Err(ChatError::Permanent(format!(
            "unexpected 200 body `{body}`"
        ))),
        429 => {
            let seconds = retry_after
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(30);
            Err(ChatError::RateLimited(Duration::from_secs(seconds)))
        }
        500..=599 => Err(ChatError::Transient(format!("{status}: {body}"))),
        _ => Err(ChatError::Permanent(format!("{status}: {body}"))),
    }
}

impl Chat for SlackWebhook {
    async fn post(&self, payload: &serde_json::Value) -> Result<(), ChatError> {
        let response = self
            .http
            .post(&self.url)
            .json(payload)
            .send()
            .await
            .map_err(unanswered)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response.text().await.unwrap_or_default();
        outcome(status, retry_after.as_deref(), &body)
    }
}

/// No answer: a connection never made means the post never left; anything later (a timeout,
/// a reset) may have been posted.
fn unanswered(e: reqwest::Error) -> ChatError {
    if e.is_connect() || e.is_builder() {
        ChatError::Transient(e.to_string())
    } else {
        ChatError::Unknown(e.to_string())
    }
}

/// Local stand-in: one JSON line per alert in a file the local stack shows.
#[derive(Clone, Debug)]
pub struct FileChat {
    path: PathBuf,
}

impl FileChat {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileChat { path: path.into() }
    }
}

impl Chat for FileChat {
    async fn post(&self, payload: &serde_json::Value) -> Result<(), ChatError> {
        use tokio::io::AsyncWriteExt;
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .await
            .map_err(|e| ChatError::Transient(format!("{}: {e}", self.path.display())))?;
        let line = format!("{payload}\n");
        file.write_all(line.as_bytes())
            .await
            .map_err(|e| ChatError::Transient(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_answers_map_to_outcomes() {
        assert_eq!(outcome(200, None, "ok"), Ok(()));
        assert_eq!(
            outcome(429, Some("7"), "rate_limited"),
            Err(ChatError::RateLimited(Duration::from_secs(7)))
        );
        assert!(matches!(
            outcome(500, None, "rollup_error"),
            Err(ChatError::Transient(_))
        ));
        assert!(matches!(
            outcome(404, None, "channel_not_found"),
            Err(ChatError::Permanent(_))
        ));
        assert!(matches!(
            outcome(410, None, "channel_is_archived"),
            Err(ChatError::Permanent(_))
        ));
    }
}

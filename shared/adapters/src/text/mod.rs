//! Text messages to customers' phones (`journey::ports::TextProvider`): KakaoTalk 알림톡 with the
//! provider's own SMS/LMS fallback, and plain SMS/LMS. One module per provider; each maps its
//! wire format, its answers and its status codes to the port's vocabulary
//! (`journey::domain::text`), and parses its delivery webhook. What they share is here: how a
//! request that got no answer is classified, HTTP refusals, and the providers' dates.
//!
//! No adapter retries: one request per `send` (neither provider can tell a repeat from a new
//! text, so a retry is the sender's decision, made with the ledger).

pub mod nhn;
pub mod solapi;

use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use thiserror::Error;

use journey::ports::TextError;

/// A provider's webhook body we cannot use.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ReportError {
    #[error("not the report JSON expected: {0}")]
    Malformed(String),
    #[error("report on {0} carries no date we can read")]
    NoDate(String),
    /// NHN: the body names another app key (a misrouted or forged hook).
    #[error("report for app key `{0}`, not ours")]
    WrongApp(String),
}

/// A reqwest client with `timeout` (below the function's own) and nothing else: no retries.
fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| e.to_string())
}

/// A send that got no answer: a connection never made means the text never left (transient);
/// anything later — a timeout, a reset, a body cut off — may have been taken: unknown.
fn unanswered(e: reqwest::Error) -> TextError {
    if e.is_connect() || e.is_builder() {
        TextError::Transient(e.to_string())
    } else {
        TextError::Unknown(e.to_string())
    }
}

/// A read that failed: reads may be repeated freely, so every failure is worth retrying.
fn unread(e: reqwest::Error) -> TextError {
    TextError::Transient(e.to_string())
}

/// An HTTP refusal: 429 waits as asked; a 5xx is an answer, so the request was not taken
/// (as for SES, `ses.rs`); any other status is for an operator to fix.
fn refusal(status: u16, retry_after: Option<&str>, code: String, reason: String) -> TextError {
    match status {
        429 => TextError::Throttled {
            reason,
            after: retry_after
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs),
        },
        500..=599 => TextError::Transient(format!("{status} {code}: {reason}")),
        _ => TextError::Rejected {
            code,
            reason,
            block: None,
        },
    }
}

/// The `Retry-After` header, when present.
fn retry_after(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// A provider's date: RFC 3339, or a local Korean time without a zone (`2025-09-14 21:34:56`,
/// `2025-09-14 21:34`, `2025-09-14`), as NHN writes its dates.
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    let naive = [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
    .or_else(|| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    })?;
    let kst = chrono::FixedOffset::east_opt(9 * 3600)?;
    kst.from_local_datetime(&naive)
        .single()
        .map(|at| at.with_timezone(&Utc))
}

/// The first of `dates` that parses.
fn first_time<'a>(dates: impl IntoIterator<Item = Option<&'a str>>) -> Option<DateTime<Utc>> {
    dates.into_iter().flatten().find_map(parse_time)
}

#[cfg(test)]
pub(crate) mod stand_in {
    //! A few lines of HTTP/1.1 on a local socket, standing in for a provider: it records each
    //! request and answers with the next scripted reply, or drops the connection unanswered.

    use std::collections::BTreeMap;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;
    use tokio::sync::mpsc;

    /// One request as the stand-in read it; header names in lower case.
    #[derive(Debug)]
    pub struct Seen {
        pub request_line: String,
        pub headers: BTreeMap<String, String>,
        pub body: String,
    }

    pub enum Reply {
        Answer {
            status: u16,
            headers: Vec<(&'static str, String)>,
            body: String,
        },
        /// Reads the whole request, then closes without a word.
        Drop,
    }

    pub fn answer(status: u16, body: &str) -> Reply {
        Reply::Answer {
            status,
            headers: vec![],
            body: body.to_string(),
        }
    }

    /// Serves `replies`, one connection each; the base URL and the requests seen.
    pub async fn serve(replies: Vec<Reply>) -> (String, mpsc::UnboundedReceiver<Seen>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            for reply in replies {
                let (mut socket, _) = listener.accept().await.unwrap();
                let seen = read_request(&mut socket).await;
                tx.send(seen).unwrap();
                if let Reply::Answer {
                    status,
                    headers,
                    body,
                } = reply
                {
                    let mut head = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
                        body.len()
                    );
                    for (name, value) in headers {
                        head.push_str(&format!("{name}: {value}\r\n"));
                    }
                    head.push_str("\r\n");
                    socket.write_all(head.as_bytes()).await.unwrap();
                    socket.write_all(body.as_bytes()).await.unwrap();
                }
            }
        });
        (url, rx)
    }

    async fn read_request(socket: &mut tokio::net::TcpStream) -> Seen {
        let mut data = Vec::new();
        let mut buffer = [0u8; 4096];
        let end = loop {
            let n = socket.read(&mut buffer).await.unwrap();
            data.extend_from_slice(&buffer[..n]);
            if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
        };
        let head = String::from_utf8(data[..end].to_vec()).unwrap();
        let mut lines = head.split("\r\n");
        let request_line = lines.next().unwrap().to_string();
        let headers: BTreeMap<String, String> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
            .collect();
        let length: usize = headers
            .get("content-length")
            .map_or(0, |v| v.parse().unwrap());
        let mut body = data[end + 4..].to_vec();
        while body.len() < length {
            let n = socket.read(&mut buffer).await.unwrap();
            body.extend_from_slice(&buffer[..n]);
        }
        Seen {
            request_line,
            headers,
            body: String::from_utf8(body).unwrap(),
        }
    }

    /// A port nothing listens on: a connection there is refused.
    pub async fn closed_port() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_dates_are_read_in_every_form_they_come_in() {
        let at = |s: &str| parse_time(s).map(|t| t.to_rfc3339());
        let utc = Some("2025-09-14T12:34:56+00:00".to_string());
        assert_eq!(at("2025-09-14T12:34:56Z"), utc);
        assert_eq!(at("2025-09-14T21:34:56+09:00"), utc);
        assert_eq!(at("2025-09-14 21:34:56"), utc, "a zoneless time is Korean");
        assert_eq!(
            at("2025-09-14T12:34:56.123Z"),
            Some("2025-09-14T12:34:56.123+00:00".to_string())
        );
        assert_eq!(
            at("2025-09-14 21:34"),
            Some("2025-09-14T12:34:00+00:00".to_string())
        );
        assert_eq!(
            at("2023-06-01"),
            Some("2023-05-31T15:00:00+00:00".to_string())
        );
        assert_eq!(at("yesterday"), None);
        assert_eq!(
            first_time([None, Some("bad"), Some("2025-09-14T12:34:56Z")]).map(|t| t.to_rfc3339()),
            utc
        );
    }

    #[test]
    fn http_refusals_say_whether_to_wait_retry_or_stop() {
        assert_eq!(
            refusal(429, Some("7"), "429".into(), "slow down".into()),
            TextError::Throttled {
                reason: "slow down".into(),
                after: Some(Duration::from_secs(7))
            }
        );
        assert!(matches!(
            refusal(503, None, "503".into(), "down".into()),
            TextError::Transient(_)
        ));
        assert_eq!(
            refusal(401, None, "InvalidAPIKey".into(), "no".into()),
            TextError::Rejected {
                code: "InvalidAPIKey".into(),
                reason: "no".into(),
                block: None
            }
        );
    }
}

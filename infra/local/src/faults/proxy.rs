//! An HTTP proxy in front of the emulator that fails requests as an AWS endpoint fails them:
//! before they are applied (the connection dropped while the request is read, or a 503) and
//! after (the emulator applied it and answered, and the connection drops before the answer
//! leaves). The SDK sees real transport errors, so its own retry policy applies, as in AWS.
//! It also counts every `SendEmail` that reached the emulator, per intervention id (its
//! `intervention_id` tag): what SES accepted, whatever the client was told. In front of the
//! Solapi stand-in it fails the text sender's requests the same way (the stand-in counts).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::{Dice, Draw};

/// Why the proxy dropped a connection.
#[derive(Debug)]
struct Dropped(&'static str);

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "injected: connection dropped ({})", self.0)
    }
}

impl std::error::Error for Dropped {}

/// The running proxy.
pub struct Proxy {
    pub url: String,
    pub dice: Dice,
    emails: Arc<Mutex<BTreeMap<String, u64>>>,
    task: JoinHandle<()>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub async fn start(upstream: &str, dice: Dice) -> Result<Proxy, String> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let url = format!(
            "http://{}",
            listener.local_addr().map_err(|e| e.to_string())?
        );
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_string(),
            http: reqwest::Client::new(),
            dice: dice.clone(),
            emails: Arc::default(),
        });
        let emails = Arc::clone(&shared.emails);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = Arc::clone(&shared);
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let shared = Arc::clone(&shared);
                        async move { shared.handle(request).await }
                    });
                    // an injected drop ends the connection with an error: expected
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Proxy {
            url,
            dice,
            emails,
            task,
        })
    }

    /// `SendEmail` requests the emulator received, per intervention id.
    pub fn emails(&self) -> BTreeMap<String, u64> {
        self.emails
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Shared {
    upstream: String,
    http: reqwest::Client,
    dice: Dice,
    emails: Arc<Mutex<BTreeMap<String, u64>>>,
}

type Answer = Response<Full<Bytes>>;

impl Shared {
    async fn handle(&self, request: Request<Incoming>) -> Result<Answer, Dropped> {
        let (parts, body) = request.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|_| Dropped("body unreadable"))?
            .to_bytes();
        let service = service_of(&parts.headers);
        let operation = operation_of(&parts.headers, parts.uri.path());
        let draw = self.dice.throw(&service, &operation);
        match draw {
            Draw::Reset => return Err(Dropped("before the request was read")),
            Draw::Unavailable => return Ok(unavailable()),
            Draw::Pass | Draw::AnswerLost => {}
        }
        let answer = self.forward(&parts, body.clone()).await;
        if operation == "SendEmail" && answer.status().is_success() {
            self.count_email(&body);
        }
        if draw == Draw::AnswerLost {
            return Err(Dropped("after the emulator applied it"));
        }
        Ok(answer)
    }

    async fn forward(&self, parts: &http::request::Parts, body: Bytes) -> Answer {
        let url = format!(
            "{}{}",
            self.upstream,
            parts.uri.path_and_query().map_or("/", |p| p.as_str())
        );
        let mut request = self.http.request(parts.method.clone(), url).body(body);
        for (name, value) in &parts.headers {
            if name != http::header::HOST && name != http::header::CONTENT_LENGTH {
                request = request.header(name, value);
            }
        }
        match request.send().await {
            Ok(response) => {
                let mut answer = Response::builder().status(response.status());
                for (name, value) in response.headers() {
                    if name != http::header::CONTENT_LENGTH
                        && name != http::header::TRANSFER_ENCODING
                    {
                        answer = answer.header(name, value);
                    }
                }
                let bytes = response.bytes().await.unwrap_or_default();
                answer
                    .body(Full::new(bytes))
                    .unwrap_or_else(|_| unavailable())
            }
            Err(_) => unavailable(),
        }
    }

    fn count_email(&self, body: &[u8]) {
        let id = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| {
                v["EmailTags"].as_array().and_then(|tags| {
                    tags.iter()
                        .find(|t| t["Name"] == "intervention_id")
                        .and_then(|t| t["Value"].as_str().map(str::to_string))
                })
            })
            .unwrap_or_else(|| "(untagged)".into());
        *self
            .emails
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(id)
            .or_default() += 1;
    }
}

/// A 503 with a body every AWS protocol reads as a retryable service error.
fn unavailable() -> Answer {
    Response::builder()
        .status(StatusCode::SERVICE_UNAVAILABLE)
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amzn-errortype", "ServiceUnavailable")
        .body(Full::new(Bytes::from_static(
            br#"{"__type":"ServiceUnavailable","message":"injected: service unavailable"}"#,
        )))
        .unwrap_or_default()
}

/// The service a SigV4-signed request is for: `Credential=<key>/<date>/<region>/<service>/…`;
/// `solapi` for Solapi's own signature (`HMAC-SHA256 apiKey=…`).
fn service_of(headers: &http::HeaderMap) -> String {
    let authorization = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if authorization.is_some_and(|v| v.starts_with("HMAC-SHA256 apiKey=")) {
        return "solapi".into();
    }
    authorization
        .and_then(|v| v.split("Credential=").nth(1))
        .and_then(|scope| scope.split('/').nth(3))
        .unwrap_or("unknown")
        .to_string()
}

/// The operation: the JSON protocols' `X-Amz-Target` (`DynamoDB_20120810.UpdateItem`), else the
/// REST path (SES v2 `POST /v2/email/outbound-emails` is `SendEmail`).
fn operation_of(headers: &http::HeaderMap, path: &str) -> String {
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        return target.rsplit('.').next().unwrap_or(target).to_string();
    }
    if path.ends_with("/outbound-emails") {
        return "SendEmail".into();
    }
    if path.starts_with("/messages/v4/send") {
        return "SendText".into();
    }
    path.to_string()
}

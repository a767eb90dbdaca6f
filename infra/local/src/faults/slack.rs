//! A stand-in Slack incoming webhook with faults: a post refused (the connection dropped, or a
//! 503) is not recorded; a post whose answer is lost is recorded and then the connection drops.
//! It counts the posts per intervention id (the alert's `block_id`, see `journey::alerts`).

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

#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("injected: connection dropped")
    }
}

impl std::error::Error for Dropped {}

pub struct SlackStandIn {
    /// The webhook URL to give the Slack sender.
    pub url: String,
    posts: Arc<Mutex<BTreeMap<String, u64>>>,
    task: JoinHandle<()>,
}

impl SlackStandIn {
    pub async fn start(dice: Dice) -> Result<SlackStandIn, String> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let url = format!(
            "http://{}/services/T0/B0/stand-in",
            listener.local_addr().map_err(|e| e.to_string())?
        );
        let posts: Arc<Mutex<BTreeMap<String, u64>>> = Arc::default();
        let shared = Arc::clone(&posts);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (posts, dice) = (Arc::clone(&shared), dice.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let (posts, dice) = (Arc::clone(&posts), dice.clone());
                        async move { answer(request, &posts, &dice).await }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(SlackStandIn { url, posts, task })
    }

    /// Posts received, per intervention id.
    pub fn posts(&self) -> BTreeMap<String, u64> {
        self.posts.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Drop for SlackStandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(
    request: Request<Incoming>,
    posts: &Mutex<BTreeMap<String, u64>>,
    dice: &Dice,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let body = request
        .into_body()
        .collect()
        .await
        .map_err(|_| Dropped)?
        .to_bytes();
    let draw = dice.throw("slack", "post");
    match draw {
        Draw::Reset => return Err(Dropped),
        Draw::Unavailable => {
            return Ok(Response::builder()
                .status(StatusCode::SERVICE_UNAVAILABLE)
                .body(Full::new(Bytes::from_static(b"service_unavailable")))
                .unwrap_or_default());
        }
        Draw::Pass | Draw::AnswerLost => {}
    }
    let id = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|payload| intervention_of(&payload))
        .unwrap_or_else(|| "(untagged)".into());
    *posts
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(id)
        .or_default() += 1;
    if draw == Draw::AnswerLost {
        return Err(Dropped);
    }
    Ok(Response::new(Full::new(Bytes::from_static(b"ok"))))
}

/// The intervention id an alert carries as its actions block's `block_id`.
fn intervention_of(payload: &Value) -> Option<String> {
    payload["blocks"]
        .as_array()?
        .iter()
        .find_map(|b| b["block_id"].as_str().map(str::to_string))
}

//! A stand-in for Solapi, the Korean text-message provider (KakaoTalk 알림톡 with its SMS/LMS
//! fallback, and plain SMS/LMS), speaking Solapi's wire format so the text sender and the
//! reconciler run locally and in end-to-end tests as they would against `api.solapi.com`.
//!
//! It serves, on a loopback port of its own (`serve`) or mounted in a router (`router`):
//! - `POST /messages/v4/send-many/detail`: signed as Solapi signs (`auth.rs`: the key it was
//!   given, a date within ±15 minutes of the wall clock, a signature never seen before, the
//!   HMAC checked in constant time), answered as Solapi answers — `groupInfo`,
//!   `failedMessageList` (messages refused at intake with a 1xxx code, e.g. 1026 for a second
//!   message to one number without `allowDuplicates`), and `messageList` only when the request
//!   asks for it with `showMessageList: true`, as the real API does;
//! - `GET /messages/v4/list?messageId=…` (or `messageIds=`, `groupId=`, `to=`, or the older
//!   `criteria=messageId&cond=eq&value=…`): the messages' current state, in the list
//!   response's shape `{startKey, nextKey, limit, messageList: {<id>: message}}`;
//! - `GET /_stand-in/messages`: every message received and the count of accepted ones per
//!   `customFields.send_id`, for a test or the demo (no signature needed);
//! - `POST /_stand-in/reports`: [`SolapiStandIn::deliver_reports`], over HTTP.
//!
//! A message is accepted with 2000 and then waits (a poll shows 3000) until reports are asked
//! for: [`SolapiStandIn::deliver_reports`] settles every waiting message on its scripted outcome
//! and posts the reports to the webhook URL, as Solapi's single-report webhook does — a JSON
//! array of `{eventDataId, data: {messageId, groupId, type, to, from, statusCode, statusMessage,
//! dateProcessed, dateReported, dateReceived, networkCode, kakaoOptions, customFields},
//! retryCount}` — re-posting what was not answered 200 until it was tried 5 times in all.
//! Nothing is posted on a timer unless [`SolapiStandIn::report_every`] is started, so tests
//! decide when reports arrive and never sleep. Ids, creation dates and the reports' dates come
//! from the provider clock ([`SolapiConfig::clock`], the stack's simulated one); signed dates
//! are checked against [`SolapiConfig::signing_clock`], the wall clock clients sign with.
//!
//! Recipients script the outcome (any other number: delivered). `to` is compared as a
//! domestic number, so `+821000003104` is [`NOT_KAKAO_USER`] too:
//!
//! | number | 알림톡 (`ATA`) | SMS / LMS |
//! |---|---|---|
//! | any other | 4000, type `ATA` | 4000, its type |
//! | [`NOT_KAKAO_USER`] `010-0000-3104` | with a fallback (`text`, no `disableSms`): 4000 with type `SMS`, or `LMS` over 90 bytes or with a `subject`; without: 3104, type `ATA` | 4000 |
//! | [`UNAVAILABLE_ONCE`] `010-0000-0503` | the first request naming it is answered 503 (its signature spent; nothing recorded); then as any other | same |
//! | [`BLOCKED`] `010-0000-3107` | 3107, type `ATA`, no fallback (the recipient has also opted out of texts) | refused at intake: 1061 in `failedMessageList` |
//! | [`REPORTED_TWICE`] `010-0000-0002` | 4000; the report is posted twice (the same `eventDataId`, the second with `retryCount` one more), as when Solapi missed the first 200 | same |
//! | [`NEVER_REPORTED`] `010-0000-3000` | accepted; no report ever, a poll shows 3000 | same |

mod auth;
mod wire;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use journey::ports::{Clock, SystemClock};
use serde::Serialize;
use serde_json::{Map, Value, json};

pub use auth::{Credentials, Refusal, SKEW, authorization, parse, signature};
use wire::{Checked, Refused};
pub use wire::{Kind, SMS_BYTES, text_bytes};

/// Not a KakaoTalk user (3104): a 알림톡 goes out as its SMS/LMS fallback, or fails.
pub const NOT_KAKAO_USER: &str = "01000003104";
/// The first request naming this number is answered 503; later ones are served.
pub const UNAVAILABLE_ONCE: &str = "01000000503";
/// Blocked the channel and opted out of texts: 알림톡 3107 without fallback, SMS/LMS 1061.
pub const BLOCKED: &str = "01000003107";
/// Delivered, and the report posted twice.
pub const REPORTED_TWICE: &str = "01000000002";
/// Accepted, and never reported: polls show 3000 for ever.
pub const NEVER_REPORTED: &str = "01000003000";

/// The triggers the local stack also sends by text, and their text templates.
const TEXTS: [(&str, &str); 2] = [
    ("payment_failed", "billing_failed"),
    ("risk_caution", "gentle_reminder"),
];

/// `rules` with [`TEXTS`] added to their interventions; with `email_fallback`, their e-mails
/// wait for the texts to fail (`email_fallback = true`) instead of going beside them.
pub fn with_texts(rules: &str, email_fallback: bool) -> Result<String, String> {
    let mut table: toml::Table = rules.parse().map_err(|e| format!("rules: {e}"))?;
    let interventions = table
        .entry("interventions")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let toml::Value::Table(interventions) = interventions else {
        return Err("rules: `interventions` is not a table".into());
    };
    for (trigger, template) in TEXTS {
        let plan = interventions
            .entry(trigger)
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let toml::Value::Table(plan) = plan {
            plan.insert("text".into(), toml::Value::String(template.into()));
            if email_fallback && plan.contains_key("email") {
                plan.insert("email_fallback".into(), toml::Value::Boolean(true));
            }
        }
    }
    toml::to_string(&table).map_err(|e| format!("rules: {e}"))
}

/// How many times a report is posted before it is given up: "총 5번" in all.
pub const REPORT_TRIES: u32 = 5;
/// The account id the stand-in answers with.
pub const ACCOUNT_ID: &str = "19000101000000";
/// How long the stand-in waits for the webhook to answer a report.
const REPORT_TIMEOUT: Duration = Duration::from_secs(5);
/// A webhook answering anything else than this is posted to again.
const REPORT_ACKNOWLEDGED: u16 = 200;

/// What a recipient's number makes happen (the table in the module's comment).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Script {
    Delivered,
    NotKakaoUser,
    UnavailableOnce,
    Blocked,
    ReportedTwice,
    NeverReported,
}

impl Script {
    fn of(to: &str) -> Script {
        match wire::domestic(to).as_str() {
            NOT_KAKAO_USER => Script::NotKakaoUser,
            UNAVAILABLE_ONCE => Script::UnavailableOnce,
            BLOCKED => Script::Blocked,
            REPORTED_TWICE => Script::ReportedTwice,
            NEVER_REPORTED => Script::NeverReported,
            _ => Script::Delivered,
        }
    }

    /// The final status of an accepted message: its code and the type its report carries.
    fn outcome(self, message: &Checked) -> (&'static str, Kind) {
        match (self, message.kind) {
            (Script::NotKakaoUser, Kind::Ata) if message.fallback_allowed() => {
                (wire::DELIVERED, message.fallback_kind())
            }
            (Script::NotKakaoUser, Kind::Ata) => (wire::NOT_KAKAO_USER, Kind::Ata),
            (Script::Blocked, Kind::Ata) => (wire::KAKAO_BLOCKED, Kind::Ata),
            (_, kind) => (wire::DELIVERED, kind),
        }
    }
}

/// The stand-in's settings.
#[derive(Clone)]
pub struct SolapiConfig {
    pub api_key: String,
    pub api_secret: String,
    /// Where delivery reports are posted (the webhook URL one sets in Solapi's console); none:
    /// messages are still settled, polls see their outcome, nothing is posted.
    pub report_url: Option<String>,
    /// The provider's time: ids, `dateCreated`, the reports' dates (the stack's simulated
    /// clock, so reports fall in the journey's time).
    pub clock: Arc<dyn Clock>,
    /// The clock a request's signed `date` is checked against: the wall clock unless told,
    /// since clients sign with theirs.
    pub signing_clock: Arc<dyn Clock>,
}

impl SolapiConfig {
    /// The wall clock, no webhook.
    pub fn new(api_key: impl Into<String>, api_secret: impl Into<String>) -> SolapiConfig {
        SolapiConfig {
            api_key: api_key.into(),
            api_secret: api_secret.into(),
            report_url: None,
            clock: Arc::new(SystemClock),
            signing_clock: Arc::new(SystemClock),
        }
    }

    pub fn with_report_url(mut self, url: impl Into<String>) -> SolapiConfig {
        self.report_url = Some(url.into());
        self
    }

    /// One clock for everything (tests: a fixed instant).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> SolapiConfig {
        self.signing_clock = Arc::clone(&clock);
        self.clock = clock;
        self
    }

    /// The provider's time only; signed dates stay checked against the wall clock.
    pub fn with_provider_clock(mut self, clock: Arc<dyn Clock>) -> SolapiConfig {
        self.clock = clock;
        self
    }
}

impl std::fmt::Debug for SolapiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SolapiConfig")
            .field("api_key", &self.api_key)
            .field("api_secret", &"…")
            .field("report_url", &self.report_url)
            .finish_non_exhaustive()
    }
}

/// One message the stand-in received and did not refuse as a whole request: accepted, or
/// refused at intake (then `status_code` is the 1xxx code).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedText {
    pub message_id: String,
    pub group_id: String,
    pub to: String,
    pub from: String,
    /// The type asked for (or detected): `ATA`, `SMS`, `LMS`.
    #[serde(rename = "type")]
    pub kind: String,
    pub text: Option<String>,
    pub subject: Option<String>,
    /// As sent: `pfId`, `templateId`, `variables`, `disableSms`, `buttons` ….
    pub kakao_options: Option<Value>,
    pub custom_fields: BTreeMap<String, String>,
    /// `customFields.send_id`: our send id.
    pub send_id: Option<String>,
    pub received_at: DateTime<Utc>,
    /// Now: 2000 accepted, 3000 waiting for its report, then the report's code (4000, 3104,
    /// 3107); a 1xxx code when refused at intake.
    pub status_code: String,
    /// The type the report carries: `SMS`/`LMS` when a 알림톡 went out as its fallback.
    pub report_type: String,
}

/// What [`SolapiStandIn::deliver_reports`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reported {
    /// POSTs made to the webhook (each an array of reports).
    pub posts: u32,
    /// Reports answered 200 (a report posted twice counts twice).
    pub acknowledged: u32,
    /// Reports dropped after 5 tries.
    pub given_up: u32,
    /// Reports still to post.
    pub pending: u32,
}

impl Reported {
    fn add(&mut self, round: Reported) {
        self.posts += round.posts;
        self.acknowledged += round.acknowledged;
        self.given_up += round.given_up;
        self.pending = round.pending;
    }
}

/// One POST of reports to the webhook, and how it was answered (`None`: no answer).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportPost {
    pub status: Option<u16>,
    pub body: Value,
}

/// The stand-in: cheap to clone, every clone the same provider.
#[derive(Clone)]
pub struct SolapiStandIn(Arc<Inner>);

struct Inner {
    report_url: Option<String>,
    clock: Arc<dyn Clock>,
    signing_clock: Arc<dyn Clock>,
    http: reqwest::Client,
    ledger: Mutex<Ledger>,
}

struct Ledger {
    verifier: auth::Verifier,
    messages: Vec<Stored>,
    /// The numbers that already answered their one 503.
    tripped: HashSet<String>,
    /// Reports waiting to be posted.
    queue: Vec<Delivery>,
    posts: Vec<ReportPost>,
}

struct Stored {
    public: ReceivedText,
    script: Script,
    /// The scripted final status (none: refused at intake).
    outcome: Option<(&'static str, Kind)>,
    /// When the outcome was reached (none: still waiting).
    settled: Option<DateTime<Utc>>,
}

/// A report on its way to the webhook.
#[derive(Clone, Debug)]
struct Delivery {
    event_id: String,
    data: Value,
    retry_count: u32,
    tries: u32,
    /// Posted once more after it was acknowledged ([`REPORTED_TWICE`]).
    echo: bool,
}

impl SolapiStandIn {
    pub fn new(config: SolapiConfig) -> Result<SolapiStandIn, String> {
        let http = reqwest::Client::builder()
            .timeout(REPORT_TIMEOUT)
            .no_proxy()
            .build()
            .map_err(|e| e.to_string())?;
        Ok(SolapiStandIn(Arc::new(Inner {
            report_url: config.report_url,
            clock: config.clock,
            signing_clock: config.signing_clock,
            http,
            ledger: Mutex::new(Ledger {
                verifier: auth::Verifier::new(&config.api_key, &config.api_secret),
                messages: Vec::new(),
                tripped: HashSet::new(),
                queue: Vec::new(),
                posts: Vec::new(),
            }),
        })))
    }

    /// The routes, relative: `/messages/v4/…` and `/_stand-in/…`.
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        Router::new()
            .route("/messages/v4/send-many/detail", post(send_many))
            .route("/messages/v4/list", get(list))
            .route("/_stand-in/messages", get(received))
            .route("/_stand-in/reports", post(reports))
            .with_state(self.clone())
    }

    /// Serves the stand-in alone on a free loopback port; returns its base URL (Solapi's
    /// `https://api.solapi.com`).
    pub async fn serve(&self) -> std::io::Result<String> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let base = format!("http://{}", listener.local_addr()?);
        let app = self.router();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(base)
    }

    /// Every message received, in order, as it stands now.
    pub fn received(&self) -> Vec<ReceivedText> {
        self.ledger()
            .messages
            .iter()
            .map(|m| m.public.clone())
            .collect()
    }

    /// Accepted messages per `customFields.send_id` (`(untagged)` without one): a send that
    /// reached the provider once counts 1.
    pub fn sends_per_id(&self) -> BTreeMap<String, u64> {
        self.ledger().sends_per_id()
    }

    /// A message's status code now (what a poll would say).
    pub fn status_of(&self, message_id: &str) -> Option<String> {
        self.ledger()
            .messages
            .iter()
            .find(|m| m.public.message_id == message_id)
            .map(|m| m.public.status_code.clone())
    }

    /// Every POST of reports made so far.
    pub fn report_posts(&self) -> Vec<ReportPost> {
        self.ledger().posts.clone()
    }

    /// Settles every waiting message and posts the reports until each is acknowledged or was
    /// tried 5 times (one POST per round, all the reports due in it as one array).
    pub async fn deliver_reports(&self) -> Reported {
        let mut total = Reported::default();
        // each report is posted at most 5 times, and once more when scripted to: this ends
        for _ in 0..(REPORT_TRIES + 1) * 2 {
            let round = self.deliver_round().await;
            total.add(round);
            if round.posts == 0 || round.pending == 0 {
                break;
            }
        }
        total
    }

    /// One round of [`Self::deliver_reports`]: settles what is waiting, then one POST of
    /// what is due.
    pub async fn deliver_round(&self) -> Reported {
        let now = self.0.clock.now();
        let batch = {
            let mut ledger = self.ledger();
            ledger.settle(now, self.0.report_url.is_some());
            std::mem::take(&mut ledger.queue)
        };
        let Some(url) = self.0.report_url.as_deref().filter(|_| !batch.is_empty()) else {
            return Reported::default();
        };
        let body = Value::Array(
            batch
                .iter()
                .map(|d| {
                    json!({"eventDataId": d.event_id, "data": d.data, "retryCount": d.retry_count})
                })
                .collect(),
        );
        let status = match self.0.http.post(url).json(&body).send().await {
            Ok(response) => Some(response.status().as_u16()),
            Err(e) => {
                tracing::debug!(error = %e, "solapi stand-in: the report webhook did not answer");
                None
            }
        };
        let acknowledged = status == Some(REPORT_ACKNOWLEDGED);
        let mut round = Reported {
            posts: 1,
            ..Reported::default()
        };
        let mut ledger = self.ledger();
        ledger.posts.push(ReportPost { status, body });
        for mut delivery in batch {
            if acknowledged {
                round.acknowledged += 1;
                if delivery.echo {
                    ledger.queue.push(Delivery {
                        retry_count: delivery.retry_count + 1,
                        tries: 0,
                        echo: false,
                        ..delivery
                    });
                }
            } else {
                delivery.tries += 1;
                delivery.retry_count += 1;
                if delivery.tries >= REPORT_TRIES {
                    round.given_up += 1;
                } else {
                    ledger.queue.push(delivery);
                }
            }
        }
        round.pending = u32::try_from(ledger.queue.len()).unwrap_or(u32::MAX);
        round
    }

    /// Delivers reports every `every` until the task is aborted (for `make dev`).
    pub fn report_every(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let stand_in = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            loop {
                ticks.tick().await;
                stand_in.deliver_reports().await;
            }
        })
    }

    fn ledger(&self) -> MutexGuard<'_, Ledger> {
        self.0.ledger.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Ledger {
    fn sends_per_id(&self) -> BTreeMap<String, u64> {
        let mut counts = BTreeMap::new();
        for m in self.messages.iter().filter(|m| m.outcome.is_some()) {
            let id = m.public.send_id.as_deref().unwrap_or("(untagged)");
            *counts.entry(id.to_string()).or_default() += 1;
        }
        counts
    }

    /// Registers a request's messages and answers as send-many/detail does.
    fn accept(&mut self, request: &Value, now: DateTime<Utc>) -> Value {
        let group_id = wire::new_id('G', now);
        let allow_duplicates = request["allowDuplicates"].as_bool().unwrap_or(false);
        let show_message_list = request["showMessageList"].as_bool().unwrap_or(false);
        let messages = request["messages"].as_array().cloned().unwrap_or_default();
        let mut recipients = HashSet::new();
        let (mut accepted, mut failed) = (Vec::new(), Vec::new());
        let mut charged: BTreeMap<&'static str, u64> = BTreeMap::new();
        for message in &messages {
            let message_id = wire::new_id('M', now);
            let checked = wire::intake(message).and_then(|m| {
                let number = wire::domestic(&m.to);
                if !allow_duplicates && !recipients.insert(number) {
                    Err(refusal(&m, "1026"))
                } else if Script::of(&m.to) == Script::Blocked && m.kind != Kind::Ata {
                    Err(refusal(&m, wire::OPTED_OUT))
                } else {
                    Ok(m)
                }
            });
            match checked {
                Ok(m) => {
                    *charged.entry(m.kind.as_str()).or_default() += 1;
                    accepted.push(accepted_item(&m, &message_id, &group_id));
                    let script = Script::of(&m.to);
                    let outcome = script.outcome(&m);
                    self.messages.push(Stored {
                        public: received_text(m, &message_id, &group_id, now),
                        script,
                        outcome: Some(outcome),
                        settled: None,
                    });
                }
                Err(r) => {
                    failed.push(failed_item(&r, &message_id, &group_id));
                    self.messages.push(Stored {
                        public: refused_text(r, message, &message_id, &group_id, now),
                        script: Script::Delivered,
                        outcome: None,
                        settled: None,
                    });
                }
            }
        }
        let group = group_info(
            &group_id,
            now,
            (messages.len(), accepted.len(), failed.len()),
            &charged,
            allow_duplicates,
        );
        let mut answer = json!({"groupInfo": group, "failedMessageList": failed});
        if show_message_list {
            answer["messageList"] = Value::Array(accepted);
        }
        answer
    }

    /// Moves every waiting message to its outcome and queues its reports.
    fn settle(&mut self, now: DateTime<Utc>, report: bool) {
        let mut queued = Vec::new();
        for m in self.messages.iter_mut().filter(|m| m.settled.is_none()) {
            let Some((code, kind)) = m.outcome else {
                continue;
            };
            if m.script == Script::NeverReported {
                continue;
            }
            m.settled = Some(now);
            m.public.status_code = code.to_string();
            m.public.report_type = kind.as_str().to_string();
            if report {
                queued.push(Delivery {
                    event_id: wire::new_event_id(),
                    data: report_data(m),
                    retry_count: 0,
                    tries: 0,
                    echo: m.script == Script::ReportedTwice,
                });
            }
        }
        self.queue.extend(queued);
    }

    /// The messages a list query asks for (all, without a filter).
    fn listed(&self, query: &[(String, String)]) -> Value {
        let values = |name: &str| -> Vec<String> {
            query
                .iter()
                .filter(|(k, _)| k == name || k.strip_suffix("[]") == Some(name))
                .flat_map(|(_, v)| v.split(',').map(str::to_string).collect::<Vec<_>>())
                .collect()
        };
        let mut ids = values("messageId");
        ids.extend(values("messageIds"));
        // the older form: criteria=messageId,groupId&cond=eq,eq&value=…,…
        let (mut groups, mut tos) = (values("groupId"), values("to"));
        let (criteria, conds, wanted) = (values("criteria"), values("cond"), values("value"));
        for (i, (criterion, value)) in criteria.iter().zip(&wanted).enumerate() {
            if conds.get(i).is_some_and(|c| c != "eq") {
                continue;
            }
            match criterion.as_str() {
                "messageId" => ids.push(value.clone()),
                "groupId" => groups.push(value.clone()),
                "to" => tos.push(value.clone()),
                _ => {}
            }
        }
        let limit = values("limit")
            .first()
            .and_then(|l| l.parse::<usize>().ok())
            .unwrap_or(20);
        let mut list = Map::new();
        for m in self
            .messages
            .iter()
            .filter(|m| ids.is_empty() || ids.contains(&m.public.message_id))
            .filter(|m| groups.is_empty() || groups.contains(&m.public.group_id))
            .filter(|m| tos.is_empty() || tos.contains(&m.public.to))
            .take(limit)
        {
            list.insert(m.public.message_id.clone(), listed_message(m));
        }
        json!({"startKey": null, "nextKey": null, "limit": limit, "messageList": list})
    }
}

fn refusal(m: &Checked, code: &'static str) -> Refused {
    Refused {
        code,
        to: m.to.clone(),
        from: m.from.clone(),
        kind: m.kind.as_str().to_string(),
        custom_fields: m.custom_fields.clone(),
    }
}

fn received_text(m: Checked, message_id: &str, group_id: &str, now: DateTime<Utc>) -> ReceivedText {
    ReceivedText {
        message_id: message_id.to_string(),
        group_id: group_id.to_string(),
        send_id: m.custom_fields.get("send_id").cloned(),
        to: m.to,
        from: m.from,
        kind: m.kind.as_str().to_string(),
        text: m.text,
        subject: m.subject,
        kakao_options: m.kakao_options,
        custom_fields: m.custom_fields,
        received_at: now,
        status_code: wire::IN_FLIGHT.to_string(),
        report_type: m.kind.as_str().to_string(),
    }
}

fn refused_text(
    r: Refused,
    message: &Value,
    message_id: &str,
    group_id: &str,
    now: DateTime<Utc>,
) -> ReceivedText {
    let field = |name: &str| message[name].as_str().map(str::to_string);
    ReceivedText {
        message_id: message_id.to_string(),
        group_id: group_id.to_string(),
        send_id: r.custom_fields.get("send_id").cloned(),
        to: r.to,
        from: r.from,
        report_type: r.kind.clone(),
        kind: r.kind,
        text: field("text"),
        subject: field("subject"),
        kakao_options: message.get("kakaoOptions").cloned(),
        custom_fields: r.custom_fields,
        received_at: now,
        status_code: r.code.to_string(),
    }
}

/// An element of `messageList` (send-many/detail with `showMessageList`).
fn accepted_item(m: &Checked, message_id: &str, group_id: &str) -> Value {
    json!({
        "messageId": message_id,
        "groupId": group_id,
        "accountId": ACCOUNT_ID,
        "to": m.to,
        "from": m.from,
        "type": m.kind.as_str(),
        "country": "82",
        "statusCode": wire::ACCEPTED,
        "statusMessage": wire::status_message(wire::ACCEPTED),
        "customFields": m.custom_fields,
    })
}

/// An element of `failedMessageList`.
fn failed_item(r: &Refused, message_id: &str, group_id: &str) -> Value {
    json!({
        "messageId": message_id,
        "groupId": group_id,
        "accountId": ACCOUNT_ID,
        "to": r.to,
        "from": r.from,
        "type": r.kind,
        "country": "82",
        "statusCode": r.code,
        "statusMessage": wire::status_message(r.code),
        "customFields": r.custom_fields,
    })
}

/// `groupInfo`, with the fields the Node and Python SDKs' models require.
fn group_info(
    group_id: &str,
    now: DateTime<Utc>,
    (total, registered, failed): (usize, usize, usize),
    charged: &BTreeMap<&'static str, u64>,
    allow_duplicates: bool,
) -> Value {
    let at = wire::stamp(now);
    let mut for_charge = Map::new();
    for kind in [
        "sms", "lms", "mms", "ata", "cta", "cti", "nsa", "rcs_sms", "rcs_lms", "rcs_mms", "rcs_tpl",
    ] {
        let n = charged
            .get(kind.to_ascii_uppercase().as_str())
            .copied()
            .unwrap_or_default();
        let by_country = if n > 0 { json!({"82": n}) } else { json!({}) };
        for_charge.insert(kind.to_string(), by_country);
    }
    let cash = json!({"requested": 0, "replacement": 0, "refund": 0, "sum": 0});
    json!({
        "count": {
            "total": total,
            "sentTotal": 0,
            "sentSuccess": 0,
            "sentPending": 0,
            "sentReplacement": 0,
            "refund": 0,
            "registeredFailed": failed,
            "registeredSuccess": registered,
        },
        "countForCharge": for_charge,
        "balance": cash,
        "point": cash,
        "app": {"appId": null, "version": null, "profit": {}},
        "log": [],
        "status": "SENDING",
        "allowDuplicates": allow_duplicates,
        "isRefunded": false,
        "accountId": ACCOUNT_ID,
        "masterAccountId": ACCOUNT_ID,
        "apiVersion": "4",
        "groupId": group_id,
        "price": {},
        "dateCreated": at,
        "dateUpdated": at,
        "scheduledDate": at,
        "dateSent": at,
        "dateCompleted": at,
    })
}

/// A report's `data`, from a settled message.
fn report_data(m: &Stored) -> Value {
    let p = &m.public;
    let at = m.settled.map(wire::stamp);
    let delivered = p.status_code == wire::DELIVERED;
    json!({
        "messageId": p.message_id,
        "groupId": p.group_id,
        "type": p.report_type,
        "to": p.to,
        "from": p.from,
        "statusCode": p.status_code,
        "statusMessage": wire::status_message(&p.status_code),
        "dateProcessed": at,
        "dateReported": at,
        "dateReceived": if delivered { at.clone() } else { None },
        "networkCode": network_code(p),
        "kakaoOptions": p.kakao_options,
        "customFields": p.custom_fields,
    })
}

/// The carrier of a text delivered by SMS/LMS (none for 알림톡, or while waiting).
fn network_code(p: &ReceivedText) -> Option<&'static str> {
    (p.status_code == wire::DELIVERED && p.report_type != Kind::Ata.as_str()).then_some("SKT")
}

/// A message as `GET /messages/v4/list` gives it.
fn listed_message(m: &Stored) -> Value {
    let p = &m.public;
    let at = m.settled.map(wire::stamp);
    let delivered = p.status_code == wire::DELIVERED;
    json!({
        "_id": p.message_id,
        "messageId": p.message_id,
        "groupId": p.group_id,
        "accountId": ACCOUNT_ID,
        "type": p.report_type,
        "country": "82",
        "to": p.to,
        "from": p.from,
        "text": p.text,
        "subject": p.subject,
        "imageId": null,
        "statusCode": p.status_code,
        "reason": null,
        "networkName": if network_code(p).is_some() { "SKT" } else { "ETC" },
        "networkCode": network_code(p),
        "customFields": p.custom_fields,
        "kakaoOptions": p.kakao_options,
        "replacement": p.report_type != p.kind,
        "autoTypeDetect": true,
        "resendCount": 0,
        "log": [],
        "dateCreated": wire::stamp(p.received_at),
        "dateUpdated": wire::stamp(m.settled.unwrap_or(p.received_at)),
        "dateProcessed": at,
        "dateReported": at,
        "dateReceived": if delivered { at } else { None },
    })
}

/// Solapi's error body.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"errorCode": code, "errorMessage": message})),
    )
        .into_response()
}

fn refused(refusal: Refusal) -> Response {
    error(
        refusal.status(),
        refusal.error_code(),
        refusal.error_message(),
    )
}

fn authorization_of(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}

async fn send_many(
    State(stand_in): State<SolapiStandIn>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (now, signed_now) = (stand_in.0.clock.now(), stand_in.0.signing_clock.now());
    let mut ledger = stand_in.ledger();
    if let Err(refusal) = ledger
        .verifier
        .check(authorization_of(&headers), signed_now)
    {
        return refused(refusal);
    }
    let request: Value = match serde_json::from_slice(&body) {
        Ok(request @ Value::Object(_)) => request,
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "ValidationError",
                "the body must be a JSON object",
            );
        }
    };
    let Some(messages) = request["messages"].as_array().filter(|m| !m.is_empty()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "ValidationError",
            "messages: at least one message is required",
        );
    };
    // after the signature was spent, as a platform failing behind its front would: a retry
    // must sign afresh
    let flaky = messages
        .iter()
        .filter_map(|m| m["to"].as_str())
        .any(|to| Script::of(to) == Script::UnavailableOnce);
    if flaky && ledger.tripped.insert(UNAVAILABLE_ONCE.to_string()) {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "the stand-in's scripted 503",
        );
    }
    Json(ledger.accept(&request, now)).into_response()
}

async fn list(
    State(stand_in): State<SolapiStandIn>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let signed_now = stand_in.0.signing_clock.now();
    let mut ledger = stand_in.ledger();
    if let Err(refusal) = ledger
        .verifier
        .check(authorization_of(&headers), signed_now)
    {
        return refused(refusal);
    }
    Json(ledger.listed(&query)).into_response()
}

async fn received(State(stand_in): State<SolapiStandIn>) -> Json<Value> {
    let ledger = stand_in.ledger();
    let messages: Vec<&ReceivedText> = ledger.messages.iter().map(|m| &m.public).collect();
    Json(json!({"messages": messages, "sendsPerId": ledger.sends_per_id()}))
}

async fn reports(State(stand_in): State<SolapiStandIn>) -> Json<Reported> {
    Json(stand_in.deliver_reports().await)
}

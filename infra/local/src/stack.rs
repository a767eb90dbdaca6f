//! The running local stack: every function wired as in AWS — the HTTP routes through the
//! gateway, the SQS-triggered functions through pollers, the sweep on a timer and on request —
//! plus the local-only routes under `/_local/`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use api::Api;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use axum::Json;
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use email_sender::EmailSender;
use ingest::WebhookKeys;
use journey::domain::{CustomerId, RiskLevel, Stage};
use journey::ports::{Clock, CustomerStore, JourneyReader};
use journey_adapters::dynamodb::DynamoStore;
use journey_adapters::s3::S3Archive;
use journey_adapters::ses::SesMailer;

use crate::mailbox::MailboxSimulator;
use journey_adapters::slack::{FileChat, SlackWebhook};
use journey_adapters::sqs::SqsRedelivery;
use journey_adapters::sqs::{EMAIL_QUEUE, SLACK_QUEUE, SqsEventQueue, TEXT_QUEUE};

use serde::Deserialize;
use serde_json::{Value, json};
use slack_sender::SlackSender;
use tokio::task::JoinHandle;

use crate::clients::Clients;
use crate::clock::{AgedLedger, SharedClock};
use crate::config::LocalConfig;
use crate::gateway::{self, Function};
use crate::oidc::LocalIssuer;
use crate::outbox::{self, LocalChat};
use crate::poller::Poller;
use crate::providers::ProviderStandIn;
use crate::resources::{Resources, provision};
use crate::secrets::LocalSecrets;

/// The emulator needs credentials to sign with; any will do.
pub async fn emulator_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .retry_config(journey_adapters::aws::retry_config())
        .credentials_provider(Credentials::new(
            "local",
            "local",
            None,
            None,
            "journey-local",
        ))
        .load()
        .await
}

/// How the fault suite runs a stack: its own Slack stand-in, short redeliveries, crashable
/// invocations, and pollers (Lambda's event source, not ours) that bypass the faults.
#[derive(Clone, Debug, Default)]
pub struct Tuning {
    pub slack_url: Option<String>,
    pub redeliver_after: Option<Duration>,
    /// Crashes this share of handler invocations, drawn from the dice.
    pub crashes: Option<(crate::faults::Dice, f64)>,
    /// The event source's own SQS client.
    pub pollers: Option<aws_sdk_sqs::Client>,
    /// No stand-in for SES's events (the fault suite compares runs whose sends differ on purpose).
    pub without_ses_events: bool,
    /// These rules instead of `RULES_FILE` or the built-in ones (the fault suite adds texts).
    pub rules_text: Option<String>,
    /// Where the text sender finds Solapi: a faulty proxy in front of the stand-in.
    pub text_provider_url: Option<String>,
}

impl Tuning {
    /// `ages` (the senders' queues): their redeliveries age the handler's clock by the
    /// queue's visibility timeout, as the send lease expects.
    fn poller(
        &self,
        functions: &aws_sdk_sqs::Client,
        url: &str,
        ages: Option<&journey_adapters::sqs::QueueSpec>,
    ) -> Poller {
        let client = self.pollers.clone().unwrap_or_else(|| functions.clone());
        let mut poller = Poller::new(client, url);
        poller.redeliver_after = self.redeliver_after;
        poller.crashes = self.crashes.clone();
        poller.visibility = ages
            .filter(|_| self.redeliver_after.is_some())
            .map(|spec| chrono::Duration::seconds(spec.visibility_timeout_seconds.into()));
        poller
    }
}

type LocalEmail = EmailSender<
    AgedLedger<DynamoStore>,
    MailboxSimulator<SesMailer>,
    SqsEventQueue,
    SqsRedelivery,
    SharedClock,
>;
/// The text sender on the Solapi stand-in (`/_local/solapi`).
type LocalText = text_sender::TextSender<
    AgedLedger<DynamoStore>,
    text_sender::build::AnyProvider,
    SqsEventQueue,
    SqsRedelivery,
    SharedClock,
>;

type LocalSlack =
    SlackSender<AgedLedger<DynamoStore>, LocalChat, SqsEventQueue, SqsRedelivery, SharedClock>;

pub struct LocalStack {
    pub config: LocalConfig,
    pub clock: SharedClock,
    pub resources: Resources,
    pub secrets: LocalSecrets,
    pub store: DynamoStore,
    /// The event log as calibration reads it (the emulator's S3).
    pub archive: S3Archive,
    /// The emulator's URL, to read what its SES received.
    pub endpoint: Option<String>,
    ingest: ingest::AwsIngest,
    api: Api<DynamoStore, SqsEventQueue>,
    /// The transition worker as `transition::build` makes it in AWS: it follows the active
    /// rules version (looked up every 5 s here) and counts a rejected one.
    transition: transition::Worker,
    /// The rules file the versions are overlays on (for `/_local/calibrate`).
    rules_text: String,
    sweep: sweep::AwsSweep,
    email: LocalEmail,
    text: LocalText,
    /// Solapi's stand-in under `/_local/solapi`: what the text sender sends to, and what posts
    /// delivery reports back to `/webhooks/solapi`.
    pub solapi: crate::texts::SolapiStandIn,
    slack: LocalSlack,
    /// SES's feedback function: locally fed by `POST /_local/ses` (SES itself sends no events
    /// to the emulator).
    feedback: Arc<ses_feedback::AwsFeedback>,
    events: Poller,
    email_queue: Poller,
    text_queue: Poller,
    slack_queue: Poller,
    http: reqwest::Client,
    /// The Toss and PortOne API stand-ins under `/_local/toss` and `/_local/portone`.
    pub providers: ProviderStandIn,
    /// The staff identity provider's stand-in under `/_local/oidc`; the gateway checks the
    /// `/staff/` routes' tokens with it, as the HTTP API's JWT authorizer does.
    pub issuer: Arc<LocalIssuer>,
}

/// The providers' APIs: `TOSS_API_URL` / `PORTONE_API_URL` when set, else the stand-ins here.
fn provider_urls(config: &LocalConfig) -> ingest::ProviderUrls {
    let base = config.base_url();
    ingest::ProviderUrls::from_env_or(
        &format!("{base}/_local/toss"),
        &format!("{base}/_local/portone"),
    )
}

impl LocalStack {
    /// Creates the resources and wires the functions to them.
    pub async fn build(
        config: LocalConfig,
        aws: &SdkConfig,
        endpoint: Option<String>,
    ) -> Result<Arc<LocalStack>, String> {
        Self::build_with(config, aws, Clients::new(aws), endpoint).await
    }

    /// As [`LocalStack::build`], with the functions using `clients`.
    pub async fn build_with(
        config: LocalConfig,
        aws: &SdkConfig,
        clients: Clients,
        endpoint: Option<String>,
    ) -> Result<Arc<LocalStack>, String> {
        Self::build_tuned(config, aws, clients, endpoint, Tuning::default()).await
    }

    /// As [`LocalStack::build_with`], tuned for the fault suite.
    pub async fn build_tuned(
        config: LocalConfig,
        aws: &SdkConfig,
        clients: Clients,
        endpoint: Option<String>,
        tuning: Tuning,
    ) -> Result<Arc<LocalStack>, String> {
        let resources = provision(aws, &config.env, &config.sender_email).await?;
        let secrets = LocalSecrets::load_or_create(&config.state_dir)
            .map_err(|e| format!("secrets in {}: {e}", config.state_dir.display()))?;
        let rules_text = match &tuning.rules_text {
            Some(text) => text.clone(),
            None if config.texts
                && std::env::var("RULES_FILE").map_or(true, |v| v.trim().is_empty()) =>
            {
                let built_in = journey::config::rules_text().map_err(|e| e.to_string())?;
                crate::texts::with_texts(&built_in, true)?
            }
            None => journey::config::rules_text().map_err(|e| e.to_string())?,
        };
        let rules = journey::config::parse_rules(&rules_text).map_err(|e| e.to_string())?;
        let sqs = clients.sqs.clone();
        let store = DynamoStore::new(clients.dynamodb.clone(), &resources.table);
        let events_queue = SqsEventQueue::new(sqs.clone(), &resources.events_url);
        let providers = ProviderStandIn::default();
        let keys = WebhookKeys::load(&secrets, &provider_urls(&config)).await?;
        if let Some(key) = secrets.value(ingest::keys::TOSS_SECRET) {
            providers.expect_toss_key(&key);
        }
        if let Some(secret) = secrets.value(ingest::keys::PORTONE_API_SECRET) {
            providers.expect_portone_secret(&secret);
        }
        let clock = SharedClock::default();
        let secret = |name: &str| secrets.value(name).unwrap_or_default();
        let base = config.base_url();
        // every function from its own crate's Config and build, as in AWS: the rules and the
        // behaviour an operator sets (`RULES_FILE`, `QUIET_HOURS`, `DEFAULT_LOCALE`, …) reach
        // them here too; the addresses, brand and configuration set stay the local stack's
        let from_env = email_sender::Config::new(
            &resources.table,
            &resources.events_url,
            &resources.email_url,
            &config.sender_email,
            &base,
        )
        .with_env()
        .map_err(|e| e.to_string())?;
        let email_config = email_sender::Config {
            settings: email_sender::EmailSettings {
                brand: "Journey (local)".into(),
                app_url: format!("{base}/app"),
                dashboard_url: base.clone(),
                offer_code: "WELCOMEBACK".into(),
                sender_name: "저니 (로컬)".into(),
                sender_address: "서울특별시 중구 세종대로 110 (local)".into(),
                sender_contact: "02-000-0000".into(),
                ..from_env.settings.clone()
            },
            configuration_set: None,
            // the emulator keeps no account suppression list (`CHECK_SUPPRESSION=true` asks it)
            check_suppression: journey::config::parsed_or("CHECK_SUPPRESSION", false)
                .map_err(|e| e.to_string())?,
            rules_text: rules_text.clone(),
            ..from_env
        };
        // one feedback function: fed by the mailer's stand-in and by `POST /_local/ses`
        let feedback = Arc::new(ses_feedback::build(
            &ses_feedback::Config::new(&resources.table, &resources.events_url),
            &clients,
        ));
        let email = email_sender::assemble(
            &email_config,
            email_sender::Ports {
                store: AgedLedger(store.clone()),
                // SES's events on what it accepted, as its configuration set publishes them
                mailer: MailboxSimulator {
                    inner: email_config.mailer(&clients.sesv2),
                    feedback: (!tuning.without_ses_events).then(|| Arc::clone(&feedback)),
                    clock: clock.clone(),
                },
                reports: events_queue.clone(),
                redelivery: SqsRedelivery::new(sqs.clone(), &resources.email_url),
                clock: clock.clone(),
            },
            &secret(journey::unsubscribe::SECRET),
        )
        .map_err(|e| e.to_string())?;
        let (solapi, text) = local_texts(
            &config,
            &resources,
            &secrets,
            &store,
            &events_queue,
            &sqs,
            &clock,
            &rules_text,
            tuning.text_provider_url.as_deref(),
        )?;
        let webhook = tuning
            .slack_url
            .clone()
            .or_else(|| std::env::var("SLACK_WEBHOOK_URL").ok())
            .filter(|url| !url.is_empty());
        let chat = match webhook {
            Some(url) => LocalChat::Webhook(SlackWebhook::new(url, slack_sender::WEBHOOK_TIMEOUT)?),
            None => LocalChat::File(FileChat::new(config.state_dir.join("slack.log"))),
        };
        let slack = slack_sender::assemble(
            &slack_sender::Config {
                rules_text: rules_text.clone(),
                ..slack_sender::Config::new(
                    &resources.table,
                    &resources.events_url,
                    &resources.slack_url,
                    &base,
                )
                .with_env()
                .map_err(|e| e.to_string())?
            },
            slack_sender::Ports {
                store: AgedLedger(store.clone()),
                chat,
                reports: events_queue.clone(),
                redelivery: SqsRedelivery::new(sqs.clone(), &resources.slack_url),
                clock: clock.clone(),
            },
        )
        .map_err(|e| e.to_string())?;
        let ingest = ingest::build(
            &ingest::Config::new(
                &resources.table,
                &resources.events_url,
                provider_urls(&config),
            )
            .with_rules(&rules),
            &clients,
            keys,
        );
        let transition_config = transition::Config {
            rules_refresh: Duration::from_secs(5),
            ..transition::Config::new(
                &resources.table,
                &resources.email_url,
                &resources.slack_url,
                &resources.bus,
                &resources.log_stream,
            )
            .with_texts(&resources.text_url)
        }
        .with_env()
        .map_err(|e| e.to_string())?;
        let transition = transition::build(
            &transition::Config {
                rules_text: rules_text.clone(),
                ..transition_config
            },
            &clients,
        )
        .map_err(|e| e.to_string())?;
        let api_keys = journey::secrets::split_rotation(&secret(api::API_KEY_SECRET));
        let issuer = Arc::new(LocalIssuer::new(
            &base,
            secret(crate::secrets::STAFF_SIGNING_KEY).as_bytes(),
        ));
        let sign_in = api::sign_in::SignIn::new(issuer.issuer(), crate::oidc::CLIENT_ID, "")
            .map_err(|e| e.to_string())?;
        let api = api::build(
            // the same rules file the worker and calibration read (`RULES_FILE`), so `/stats`
            // judges with the deployed outcome_days and holdouts (issue 45)
            &api::Config {
                sign_in: Some(sign_in),
                rules_text: rules_text.clone(),
                ..api::Config::new(&resources.table, &resources.events_url)
            },
            &clients,
            &api_keys,
        );
        Ok(Arc::new(LocalStack {
            api,
            issuer,
            ingest,
            sweep: sweep::build(
                &sweep::Config::new(&resources.table, &resources.events_url),
                &clients,
            ),
            transition,
            rules_text,
            email,
            text,
            solapi,
            slack,
            feedback,
            events: tuning.poller(&sqs, &resources.events_url, None),
            email_queue: tuning.poller(&sqs, &resources.email_url, Some(&EMAIL_QUEUE)),
            text_queue: tuning.poller(&sqs, &resources.text_url, Some(&TEXT_QUEUE)),
            slack_queue: tuning.poller(&sqs, &resources.slack_url, Some(&SLACK_QUEUE)),
            http: reqwest::Client::new(),
            providers,
            store,
            archive: S3Archive::new(
                clients.s3.clone(),
                &resources.log_bucket,
                journey::backtest::sample::SampleOrder::keyed(
                    secret(calibrate::SAMPLE_SECRET).as_bytes(),
                ),
            ),
            resources,
            secrets,
            clock,
            endpoint,
            config,
        }))
    }

    /// Starts the SQS pollers and the sweep's schedule.
    pub fn start_background(self: &Arc<Self>) -> Vec<JoinHandle<()>> {
        let mut tasks = Vec::new();
        let consumers = std::iter::repeat_n(Consumer::Transition, TRANSITION_POLLERS).chain([
            Consumer::Email,
            Consumer::Text,
            Consumer::Slack,
        ]);
        for function in consumers {
            let stack = Arc::clone(self);
            tasks.push(tokio::spawn(async move {
                loop {
                    if let Err(e) = stack.poll(function).await {
                        tracing::warn!(error = ?e, ?function, "poller: receive failed");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }));
        }
        // Solapi posts its reports a moment after the send; the stand-in does so every 2 s
        tasks.push(self.solapi.report_every(Duration::from_secs(2)));
        if let Some(every) = self.config.sweep_every {
            let stack = Arc::clone(self);
            tasks.push(tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    let _ = stack.fire_sweep(stack.clock.0.now()).await;
                }
            }));
        }
        tasks
    }

    /// One poll of `function`'s queue, handing a batch to its handler as the event source does.
    async fn poll(&self, function: Consumer) -> Result<usize, aws_sdk_sqs::Error> {
        match function {
            Consumer::Transition => self.events.run_once(|b| self.transition.handle(b)).await,
            Consumer::Email => {
                self.email_queue
                    .run_once(|b| self.email.handle_batch(b))
                    .await
            }
            Consumer::Text => {
                self.text_queue
                    .run_once(|b| self.text.handle_batch(b))
                    .await
            }
            Consumer::Slack => {
                self.slack_queue
                    .run_once(|b| self.slack.handle_batch(b))
                    .await
            }
        }
    }

    /// Fires the sweep as the schedule does, with `time` in the scheduled event.
    pub async fn fire_sweep(&self, time: DateTime<Utc>) -> Result<Value, String> {
        let event = json!({"version": "0", "detail-type": "Scheduled Event", "source": "aws.scheduler", "time": time});
        let report = self
            .sweep
            .handle(event, Instant::now() + Duration::from_secs(60))
            .await
            .map_err(|e| e.to_string())?;
        let mut report = serde_json::to_value(report).map_err(|e| e.to_string())?;
        // the text reconciler runs on a schedule of its own in AWS; here, with each sweep
        let texts = self.text.reconcile().await?;
        report["texts_reconciled"] = serde_json::to_value(texts).map_err(|e| e.to_string())?;
        Ok(report)
    }

    /// Waits until no queue holds a message (or `limit` passes).
    pub async fn settle(&self, limit: Duration) -> bool {
        self.drain_below(1, limit).await
    }

    /// Waits until the queues hold fewer than `backlog` messages in all, visible or in flight
    /// (or `limit` passes). With 1 it waits for quiet, confirmed by a second look: a sender
    /// may be putting its report on the events queue as the first look passes it.
    pub async fn drain_below(&self, backlog: u64, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let mut confirmed = 0;
        let needed = if backlog <= 1 { 2 } else { 1 };
        // asked again soon at first (most drains take tens of milliseconds), then less often, so
        // a long drain is not slowed by the asking
        let mut pause = Duration::from_millis(5);
        while Instant::now() < deadline {
            let mut total = 0;
            for poller in [
                &self.events,
                &self.email_queue,
                &self.text_queue,
                &self.slack_queue,
            ] {
                total += poller.depth().await.unwrap_or(backlog);
            }
            confirmed = if total < backlog { confirmed + 1 } else { 0 };
            if confirmed >= needed {
                return true;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(200));
        }
        false
    }

    /// The HTTP app: the function routes and `/_local/…`.
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/_local/health", get(health))
            .route("/_local/clock", get(clock).post(set_clock))
            .route("/_local/sweep", post(sweep_now))
            .route("/_local/ses", post(ses_notification))
            .route("/_local/settle", post(settle))
            .route("/_local/counts", get(counts))
            .route("/_local/calibrate", post(calibrate_now))
            .route("/_local/customers/{id}", get(customer))
            .route("/_local/outbox", get(outbox_json))
            .route("/_local/", get(outbox_page))
            .nest("/_local", self.providers.router())
            .nest("/_local/solapi", self.solapi.router())
            .nest(crate::oidc::PATH, self.issuer.router())
            .fallback(invoke)
            .with_state(Arc::clone(self))
    }
}

/// Any request that is not `/_local/…`: a function route, or API Gateway's 404.
async fn invoke(
    State(stack): State<Arc<LocalStack>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request<Body>,
) -> Response {
    let (parts, body) = request.into_parts();
    let Some((function, route_key)) = gateway::route(parts.method.as_str(), parts.uri.path())
    else {
        return (StatusCode::NOT_FOUND, Json(json!({"message": "Not Found"}))).into_response();
    };
    let body = match to_bytes(body, 10 * 1024 * 1024).await {
        Ok(b) => b,
        Err(_) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                Json(json!({"message": "Request Entity Too Large"})),
            )
                .into_response();
        }
    };
    let head = Request::from_parts(parts, ());
    let request_id = format!(
        "local-{}",
        Utc::now().timestamp_nanos_opt().unwrap_or_default()
    );
    let mut event = gateway::to_event(
        &head,
        &body,
        &route_key,
        &peer.ip().to_string(),
        stack.clock.now(),
        request_id,
    );
    // the staff routes' JWT authorizer: no valid token, no call (API Gateway's answer)
    if head.uri().path().starts_with(gateway::STAFF_PREFIX) {
        let authorization = head
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let Some(claims) = stack.issuer.verify(authorization) else {
            return (
                StatusCode::UNAUTHORIZED,
                Json(json!({"message": "Unauthorized"})),
            )
                .into_response();
        };
        gateway::with_claims(&mut event, claims);
    }
    let response = match function {
        Function::Ingest => stack.ingest.handle(event).await,
        Function::Api => stack.api.handle(event).await,
    };
    gateway::from_response(response)
}

async fn outbox_json(State(stack): State<Arc<LocalStack>>) -> Json<Value> {
    let (emails, slack) = stack.outbox().await;
    Json(json!({"emails": emails, "slack": slack}))
}

async fn outbox_page(State(stack): State<Arc<LocalStack>>) -> axum::response::Html<String> {
    let (emails, slack) = stack.outbox().await;
    axum::response::Html(outbox::page(&emails, &slack))
}

impl LocalStack {
    /// E-mails the emulator's SES received and the Slack alerts logged.
    pub async fn outbox(&self) -> (Vec<Value>, Vec<Value>) {
        let emails = match &self.endpoint {
            Some(url) => outbox::emails(&self.http, url).await,
            None => Vec::new(),
        };
        (
            emails,
            outbox::slack(&self.config.state_dir.join("slack.log")),
        )
    }
}

/// Transition batches handled at once. Lambda's event source runs a FIFO queue's batches side
/// by side (one message group is never in two at once), so the local stack does too.
const TRANSITION_POLLERS: usize = 4;

/// The SQS-triggered functions.
#[derive(Clone, Copy, Debug)]
enum Consumer {
    Transition,
    Email,
    Text,
    Slack,
}

/// The Solapi stand-in and the text sender on it. The stand-in posts its reports to this
/// stack's `/webhooks/solapi` with the local token; its reports carry the simulated time.
#[allow(clippy::too_many_arguments, reason = "the stack's parts, wired once")]
fn local_texts(
    config: &LocalConfig,
    resources: &Resources,
    secrets: &LocalSecrets,
    store: &DynamoStore,
    events_queue: &SqsEventQueue,
    sqs: &aws_sdk_sqs::Client,
    clock: &SharedClock,
    rules_text: &str,
    provider_url: Option<&str>,
) -> Result<(crate::texts::SolapiStandIn, LocalText), String> {
    let secret = |name: &str| secrets.value(name).unwrap_or_default();
    let [key, api_secret] = text_sender::build::SOLAPI_SECRETS.map(secret);
    let base = config.base_url();
    let token = secret(ingest::keys::SOLAPI_WEBHOOK_SECRET);
    let solapi = crate::texts::SolapiStandIn::new(
        crate::texts::SolapiConfig::new(&key, &api_secret)
            .with_report_url(format!("{base}/webhooks/solapi?token={token}"))
            .with_provider_clock(Arc::new(clock.clone())),
    )?;
    let mut text_config = text_sender::Config::new(
        &resources.table,
        &resources.events_url,
        &resources.text_url,
        "0212345678",
    )
    .with_env()
    .map_err(|e| e.to_string())?;
    text_config.rules_text = rules_text.to_string();
    // unpaced locally (replays and the fault suite send in bursts on a simulated clock) unless
    // TEXT_RATE_PER_SECOND says otherwise
    if std::env::var_os("TEXT_RATE_PER_SECOND").is_none() {
        text_config.settings.rate_per_second = 0.0;
    }
    text_config.provider_url =
        Some(provider_url.map_or_else(|| format!("{base}/_local/solapi"), str::to_string));
    text_config.settings.business.brand = "Journey (local)".into();
    text_config.settings.business.app_url = format!("{base}/app");
    let provider = text_config
        .provider(&key, &api_secret)
        .map_err(|e| e.to_string())?;
    let text = text_sender::assemble(
        &text_config,
        text_sender::Ports {
            store: AgedLedger(store.clone()),
            provider,
            reports: events_queue.clone(),
            redelivery: SqsRedelivery::new(sqs.clone(), &resources.text_url),
            clock: clock.clone(),
        },
    )
    .map_err(|e| e.to_string())?;
    Ok((solapi, text))
}

async fn health(State(stack): State<Arc<LocalStack>>) -> Json<Value> {
    Json(
        json!({"ok": true, "now": stack.clock.now(), "env": stack.config.env, "table": stack.resources.table}),
    )
}

async fn clock(State(stack): State<Arc<LocalStack>>) -> Json<Value> {
    Json(json!({"now": stack.clock.0.now()}))
}

#[derive(Deserialize)]
struct TimeBody {
    time: Option<DateTime<Utc>>,
}

async fn set_clock(State(stack): State<Arc<LocalStack>>, Json(body): Json<TimeBody>) -> Response {
    match body.time {
        Some(time) => {
            stack.clock.0.set(time);
            Json(json!({"now": stack.clock.0.now()})).into_response()
        }
        None => (StatusCode::BAD_REQUEST, Json(json!({"error": {"code": "invalid_field", "field": "time", "message": "an RFC 3339 time is required"}}))).into_response(),
    }
}

/// Fires the sweep as of `time` (default: the clock), moving the clock forward to it.
async fn sweep_now(State(stack): State<Arc<LocalStack>>, body: Option<Json<TimeBody>>) -> Response {
    let time = body
        .and_then(|b| b.0.time)
        .unwrap_or_else(|| stack.clock.now());
    stack.clock.0.advance_to(time);
    match stack.fire_sweep(time).await {
        Ok(report) => Json(report).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": {"code": "sweep_failed", "message": e}})),
        )
            .into_response(),
    }
}

/// Hands an SES event notification (as EventBridge delivers it: `events/ses/*.json`) to the
/// feedback function, as the configuration set's event destination and its queue do in AWS.
async fn ses_notification(State(stack): State<Arc<LocalStack>>, body: String) -> Response {
    let now = stack.clock.now();
    let event = ses_feedback::queued([(format!("local-{}", now.timestamp_micros()), body)], now);
    let response = stack.feedback.handle(event).await;
    match response.batch_item_failures.is_empty() {
        true => Json(json!({"status": "accepted"})).into_response(),
        false => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"code": "unreadable_notification", "message": "not an SES event notification (see the log)"}})),
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
struct SettleBody {
    /// Wait only until fewer than this many messages are queued (default: until none is).
    below: Option<u64>,
}

async fn settle(
    State(stack): State<Arc<LocalStack>>,
    body: Option<Json<SettleBody>>,
) -> Json<Value> {
    let backlog = body.and_then(|b| b.0.below).unwrap_or(1).max(1);
    let settled = stack.drain_below(backlog, Duration::from_secs(30)).await;
    let mut answer = json!({"settled": settled});
    if !settled {
        // what is still queued, for the caller to say why it waits
        for (name, poller) in [
            ("events", &stack.events),
            ("email", &stack.email_queue),
            ("slack", &stack.slack_queue),
        ] {
            answer["queued"][name] = json!(poller.depth().await.ok());
        }
    }
    Json(answer)
}

/// The weekly calibration job, run now on the local table as of the stack's clock:
/// `?dry_run=true` stores nothing, `?min_outcomes=N` lowers the history it needs.
async fn calibrate_now(
    State(stack): State<Arc<LocalStack>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let mut config = calibrate::Config {
        rules_text: stack.rules_text.clone(),
        ..calibrate::Config::new(stack.store.table(), &stack.resources.log_bucket)
    };
    if let Some(n) = params.get("min_outcomes").and_then(|n| n.parse().ok()) {
        config.min_outcomes = n;
    }
    let dry_run = params.get("dry_run").is_some_and(|v| v == "true");
    let job = calibrate::assemble(&config, stack.store.clone(), stack.archive.clone());
    match job.run(stack.clock.now(), dry_run).await {
        Ok(report) => Json(json!({
            "message": report.message,
            "stored": report.stored,
            "applied": report.applied,
            "overlay": report.proposal.as_ref().map(|p| &p.overlay),
        }))
        .into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": {"code": "calibration", "message": e.to_string()}})),
        )
            .into_response(),
    }
}

async fn counts(State(stack): State<Arc<LocalStack>>) -> Response {
    match stack.store.counts().await {
        Ok(counts) => {
            let rows: Vec<Value> = Stage::ALL
                .iter()
                .map(|s| {
                    let mut row = json!({"stage": s.as_str()});
                    for r in RiskLevel::ALL {
                        row[r.as_str()] = json!(counts.get(*s, r));
                    }
                    row
                })
                .collect();
            Json(json!({"total": counts.total(), "stages": rows})).into_response()
        }
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": {"code": "store", "message": e.to_string()}})),
        )
            .into_response(),
    }
}

async fn customer(State(stack): State<Arc<LocalStack>>, Path(id): Path<String>) -> Response {
    let Ok(id) = CustomerId::new(id) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"code": "invalid_field", "field": "id"}})),
        )
            .into_response();
    };
    let state = match stack.store.load(&id).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return (
                StatusCode::NOT_FOUND,
                Json(json!({"error": {"code": "not_found"}})),
            )
                .into_response();
        }
        Err(e) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"error": {"code": "store", "message": e.to_string()}})),
            )
                .into_response();
        }
    };
    let history = stack
        .store
        .history(&id, 100, None)
        .await
        .map(|p| p.entries)
        .unwrap_or_default();
    Json(json!({"customer": state, "history": history})).into_response()
}

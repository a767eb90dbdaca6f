//! The standard mix: customers living through a month of journeys — signed up, paid through
//! Stripe, active most days, some going quiet (and swept into interventions), some failing a
//! payment, some asking for a refund — sent through the local stack's gateway as signed
//! webhooks, one event per request, with a sweep every simulated day. Every AWS request the
//! functions make is counted by [`RequestCounter`].

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;
use chrono::{DateTime, Duration as Days, Utc};
use journey_local::clients::Clients;
use journey_local::config::LocalConfig;
use journey_local::emulator::Moto;
use journey_local::secrets::LocalSecrets;
use journey_local::signing::Gateway;
use journey_local::stack::{LocalStack, emulator_config};
use serde::Serialize;
use serde_json::{Value, json};

use crate::counter::{RequestCounter, Tally};

#[derive(Debug, Serialize)]
pub struct MixReport {
    pub customers: usize,
    pub days: u32,
    /// Events accepted by the webhooks (the denominator of every per-event figure).
    pub events: u64,
    /// HTTP requests to the gateway (one per event: the app does not batch here).
    pub http_requests: u64,
    /// Requests of the daily sweeps (included in `tally`).
    pub sweeps: u32,
    pub tally: Tally,
    /// What one sweep costs when nobody is due: it runs every 15 minutes regardless.
    pub idle_sweep: Tally,
    /// Staff alerts posted to Slack (not an AWS request; the senders' time counts).
    pub slack_posts: u64,
    /// What the functions logged during the mix (their own lines, as they write them).
    pub logged: crate::logs::Logged,
    pub seconds: f64,
}

/// One customer's month, by the customer's index: most stay active, the rest go quiet, fail a
/// payment or leave.
#[derive(Clone, Copy, Debug)]
enum Persona {
    Engaged,
    Fading,
    PaymentTrouble,
    Refund,
}

fn persona(i: usize) -> Persona {
    match i % 10 {
        0..=5 => Persona::Engaged,
        6 | 7 => Persona::Fading,
        8 => Persona::PaymentTrouble,
        _ => Persona::Refund,
    }
}

enum Send {
    App(Value),
    Stripe(Value),
}

fn app(kind: &str, customer: &str, at: DateTime<Utc>, extra: Value) -> Send {
    let mut event = json!({"type": kind, "customer_id": customer, "occurred_at": at});
    if let (Some(map), Value::Object(more)) = (event.as_object_mut(), extra) {
        map.extend(more);
    }
    Send::App(event)
}

fn stripe_payment(customer: &str, at: DateTime<Utc>, paid: bool, n: u32) -> Send {
    let kind = if paid {
        "invoice.paid"
    } else {
        "invoice.payment_failed"
    };
    Send::Stripe(json!({
        "id": format!("evt_bench_{customer}_{n}"), "object": "event", "type": kind,
        "created": at.timestamp(),
        "data": {"object": {"object": "invoice", "customer": format!("cus_{customer}"),
            "amount_paid": if paid { 99_000 } else { 0 }, "amount_due": 99_000, "currency": "krw",
            "customer_email": format!("{customer}@example.com"),
            "metadata": {"customer_id": customer}}}
    }))
}

/// What customer `i` sends on day `day` (day 0 at `start`).
fn day_of(i: usize, day: u32, start: DateTime<Utc>) -> Vec<Send> {
    let c = format!("bench-{i:04}");
    let at = |hour: i64, minute: i64| {
        start + Days::days(day as i64) + Days::hours(hour) + Days::minutes(minute + i as i64 % 50)
    };
    let p = persona(i);
    match day {
        0 => vec![app(
            "signed_up",
            &c,
            at(0, 0),
            json!({"plan": "trial", "email": format!("{c}@example.com"),
                   "locale": if i.is_multiple_of(3) { "en" } else { "ko" }, "time_zone": "Asia/Seoul",
                   "program": "english-12w",
                   "owner": {"id": "tutor-1", "name": "박서연", "email": "tutor1@example.com"}}),
        )],
        1 => vec![stripe_payment(&c, at(0, 0), true, 1)],
        2 => vec![app("onboarding_completed", &c, at(0, 0), json!({}))],
        _ => match p {
            Persona::Fading if day > 6 => vec![],
            Persona::Refund if day == 5 => {
                vec![app(
                    "refund_requested",
                    &c,
                    at(0, 0),
                    json!({"reason": "too busy"}),
                )]
            }
            Persona::Refund if day > 5 => vec![],
            Persona::PaymentTrouble if day == 10 => vec![stripe_payment(&c, at(0, 0), false, 2)],
            Persona::PaymentTrouble if day == 12 => vec![stripe_payment(&c, at(0, 0), true, 3)],
            _ => active_day(&c, day, at(0, 0)),
        },
    }
}

/// About five events: a login, content, an assignment, and now and then a survey or ticket.
fn active_day(c: &str, day: u32, at: DateTime<Utc>) -> Vec<Send> {
    let mut events = vec![
        app("login", c, at, json!({})),
        app(
            "content_viewed",
            c,
            at + Days::minutes(5),
            json!({"seconds": 600}),
        ),
        app(
            "content_viewed",
            c,
            at + Days::minutes(25),
            json!({"seconds": 420}),
        ),
        app("assignment_submitted", c, at + Days::minutes(40), json!({})),
        app("login", c, at + Days::hours(8), json!({})),
    ];
    if day.is_multiple_of(14) {
        events.push(app(
            "nps_response",
            c,
            at + Days::hours(9),
            json!({"score": 9}),
        ));
    }
    if day.is_multiple_of(11) {
        events.push(app("support_ticket", c, at + Days::hours(9), json!({})));
    }
    events
}

struct Harness {
    stack: Arc<LocalStack>,
    gateway: Gateway,
    counter: RequestCounter,
    _moto: Moto,
    server: tokio::task::JoinHandle<()>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.server.abort();
        for t in &self.tasks {
            t.abort();
        }
    }
}

async fn start(root: &Path) -> Result<Harness, String> {
    let state_dir = root.join("target/bench/state");
    std::fs::create_dir_all(&state_dir).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(state_dir.join("slack.log"));
    let (r, log) = (root.to_path_buf(), state_dir.join("moto.log"));
    let moto = tokio::task::spawn_blocking(move || Moto::start(&r, 0, &log))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let aws = emulator_config(&moto.url()).await;
    let counter = RequestCounter::default();
    let clients = Clients::intercepted(&aws, SharedInterceptor::new(counter.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let config = LocalConfig {
        host: "127.0.0.1".into(),
        port,
        endpoint: Some(moto.url()),
        emulator_port: moto.port,
        sweep_every: None,
        env: "bench".into(),
        state_dir: state_dir.clone(),
        root: root.to_path_buf(),
        sender_email: "journey@example.com".into(),
        texts: false,
    };
    let stack = LocalStack::build_with(config, &aws, clients, Some(moto.url())).await?;
    let tasks = stack.start_background();
    let app = stack
        .router()
        .into_make_service_with_connect_info::<SocketAddr>();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let secrets = LocalSecrets::load_or_create(&state_dir).map_err(|e| e.to_string())?;
    let gateway = Gateway::new(format!("http://127.0.0.1:{port}"), &secrets);
    Ok(Harness {
        stack,
        gateway,
        counter,
        _moto: moto,
        server,
        tasks,
    })
}

impl Harness {
    /// Sends one webhook, signed at the stack's (simulated) now.
    async fn send(&self, send: &Send, id: &str) -> Result<(), String> {
        let t = self.stack.clock.0.now().timestamp();
        let (status, body) = match send {
            Send::App(event) => self.gateway.app(event, id, t).await?,
            Send::Stripe(event) => self.gateway.stripe(event, t).await?,
        };
        if status >= 300 {
            return Err(format!("the gateway answered {status}: {body}"));
        }
        Ok(())
    }

    async fn settle(&self) -> Result<(), String> {
        if self.stack.settle(Duration::from_secs(120)).await {
            Ok(())
        } else {
            Err("the queues did not drain within 120 s".into())
        }
    }
}

pub async fn run(root: &Path, customers: usize, days: u32) -> Result<MixReport, String> {
    let began = Instant::now();
    let logs = crate::logs::install();
    let h = start(root).await?;
    let start_at: DateTime<Utc> = "2026-11-02T01:00:00Z".parse().map_err(|e| format!("{e}"))?;
    h.counter.reset();
    let logged_before = logs.read();
    let (mut events, mut http_requests) = (0u64, 0u64);
    for day in 0..days {
        // the day's events (01:00–10:50 UTC) are sent at 11:00 UTC, 20:00 in Seoul, before
        // quiet hours; they keep their own times
        let noon = start_at + Days::days(day as i64) + Days::hours(10);
        h.stack.clock.0.set(noon);
        let sends: Vec<(usize, Vec<Send>)> = (0..customers)
            .map(|i| (i, day_of(i, day, start_at)))
            .collect();
        // customers in parallel, each customer's events in order (as an app would send them)
        let results = futures::future::join_all(sends.iter().map(|(i, list)| {
            let h = &h;
            async move {
                for (n, send) in list.iter().enumerate() {
                    h.send(send, &format!("msg_bench_{i}_{day}_{n}")).await?;
                }
                Ok::<usize, String>(list.len())
            }
        }))
        .await;
        for r in results {
            let n = r? as u64;
            events += n;
            http_requests += n;
        }
        h.settle().await?;
        h.stack.fire_sweep(noon + Days::minutes(30)).await?;
        h.settle().await?;
    }
    let tally = h.counter.snapshot();
    let logged_after = logs.read();
    let logged = crate::logs::Logged {
        bytes: logged_after.bytes - logged_before.bytes,
        lines: logged_after.lines - logged_before.lines,
    };
    h.counter.reset();
    // before anyone's first check: a run that finds nobody due
    h.stack.fire_sweep(start_at - Days::days(1)).await?;
    let mut idle_sweep = h.counter.snapshot();
    // only the sweep's own requests: the pollers and the rules refresh run meanwhile
    idle_sweep.calls.retain(|name, _| name == "DynamoDB Query");
    let slack_log = h.stack.config.state_dir.join("slack.log");
    let slack_posts = std::fs::read_to_string(slack_log)
        .map(|s| s.lines().filter(|l| !l.trim().is_empty()).count() as u64)
        .unwrap_or(0);
    Ok(MixReport {
        slack_posts,
        customers,
        days,
        events,
        http_requests,
        sweeps: days,
        tally,
        idle_sweep,
        logged,
        seconds: began.elapsed().as_secs_f64(),
    })
}

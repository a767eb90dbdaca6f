//! `journey-local replay --events log.jsonl`: a canonical event log (the backtest's format)
//! through the local stack as its senders would post it — signed app batches and provider
//! webhooks through the gateway, at their own simulated times — with the sweep fired every
//! simulated `--sweep-hours` and the queues drained around it. It prints what the business's
//! own history would have produced: customers per stage and risk, and the messages per template.

mod requests;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use journey::domain::Event;
use reqwest::Method;
use serde_json::{Value, json};

use crate::config::LocalConfig;
use crate::session::Session;
use crate::signing::Gateway;
pub use requests::{Request, Requests};

/// The most events `POST /events` takes at once (`ingest::app::MAX_BATCH`).
const BATCH: usize = ingest::app::MAX_BATCH;
/// How long the queues may take to drain before the replay gives up.
const SETTLE_PATIENCE: Duration = Duration::from_secs(300);
/// The messages the replay lets wait in the queues before it posts more: a receive from the
/// emulator's FIFO queue scans every message in it, so a deep backlog slows every step.
const BACKLOG: u64 = 2 * BATCH as u64;

/// Sends of one request before the replay gives up on it (the fault suite).
const MAX_TRIES: usize = 30;

#[derive(Debug)]
pub struct Options {
    pub events: PathBuf,
    pub sweep_every: TimeDelta,
    /// Print a progress line (and record a throughput sample) every this many events.
    pub progress_every: usize,
    /// Where to write the run's figures as JSON.
    pub report: Option<PathBuf>,
}

impl Options {
    /// Sweeps every 6 hours, progress every 1,000 events, no report file (the fault suite).
    pub fn quiet() -> Options {
        Options {
            events: PathBuf::new(),
            sweep_every: TimeDelta::hours(6),
            progress_every: 1000,
            report: None,
        }
    }

    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut options = Options {
            events: PathBuf::new(),
            sweep_every: TimeDelta::hours(6),
            progress_every: 1000,
            report: None,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or(format!("{arg} takes a value"));
            match arg.as_str() {
                "--events" => options.events = PathBuf::from(value()?),
                "--sweep-hours" => {
                    let hours: i64 = value()?
                        .parse()
                        .map_err(|_| "--sweep-hours takes a whole number of hours")?;
                    if hours < 1 {
                        return Err("--sweep-hours is at least 1".into());
                    }
                    options.sweep_every = TimeDelta::hours(hours);
                }
                "--progress" => {
                    options.progress_every = value()?
                        .parse()
                        .map_err(|_| "--progress takes a number of events")?;
                }
                "--report" => options.report = Some(PathBuf::from(value()?)),
                other => {
                    return Err(format!(
                        "unknown option `{other}`: use --events FILE [--sweep-hours 6] [--progress 1000] [--report FILE]"
                    ));
                }
            }
        }
        if options.events.as_os_str().is_empty() {
            return Err("replay needs --events FILE (JSON Lines of canonical events)".into());
        }
        Ok(options)
    }
}

pub async fn replay(mut config: LocalConfig, args: &[String]) -> Result<(), String> {
    let options = Options::parse(args)?;
    let events = load(&options.events)?;
    // a stack started for the replay sweeps on the log's time only
    config.sweep_every = None;
    let session = Session::open(&config, "replay").await?;
    let mut run = Replayer::new(&session.gateway, Some(&session), &options);
    let result = run.events(&events).await;
    let result = match result {
        Ok(()) => run.finish(&options).await,
        Err(e) => Err(e),
    };
    session.close();
    result
}

/// The log, in time order (a log written customer by customer is sorted here; events at the
/// same time keep their order).
pub(crate) fn load(path: &PathBuf) -> Result<Vec<Event>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut events = journey::backtest::read_events(std::io::BufReader::new(file))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    events.sort_by_key(|e| e.occurred_at);
    Ok(events)
}

pub(crate) struct Replayer<'a> {
    session: Option<&'a Session>,
    g: &'a Gateway,
    /// With dice: every webhook is delivered 1 to 3 times, and every request is sent again
    /// until it is answered below 500, as providers and apps retry (the fault suite).
    copies: Option<crate::faults::Dice>,
    /// Every request's consequences (transitions, messages, their reports) drain before the
    /// next request moves the clock: two runs of one log then see the same interleaving of
    /// senders' reports and the log's events (the fault suite compares their histories).
    lockstep: bool,
    requests: Requests,
    batch: Vec<Value>,
    batch_time: Option<DateTime<Utc>>,
    batches: usize,
    clock: Option<DateTime<Utc>>,
    next_sweep: Option<DateTime<Utc>>,
    sweep_every: TimeDelta,
    progress_every: usize,
    figures: Figures,
}

/// What the replay did, and how fast.
#[derive(Default)]
struct Figures {
    events: usize,
    posted: BTreeMap<&'static str, usize>,
    skipped: BTreeMap<&'static str, usize>,
    /// Requests the gateway did not accept, with its answer (the first few).
    refused: Vec<String>,
    refused_count: usize,
    /// Requests sent again after a 5xx or no answer (the fault suite).
    retried: u64,
    /// Extra copies of webhooks delivered (the fault suite).
    copies: u64,
    sweeps: usize,
    checks: u64,
    started: Option<Instant>,
    window: Option<(Instant, usize)>,
    /// Wall time spent posting, draining the queues, and in the sweeps themselves.
    posting: Duration,
    settling: Duration,
    sweeping: Duration,
    samples: Vec<Value>,
}

impl<'a> Replayer<'a> {
    pub(crate) fn new(g: &'a Gateway, session: Option<&'a Session>, options: &Options) -> Self {
        Replayer {
            session,
            g,
            copies: None,
            lockstep: false,
            requests: Requests::default(),
            batch: Vec::new(),
            batch_time: None,
            batches: 0,
            clock: None,
            next_sweep: None,
            sweep_every: options.sweep_every,
            progress_every: options.progress_every.max(1),
            figures: Figures::default(),
        }
    }

    /// Delivers webhooks 1–3 times and retries what is answered 5xx (the fault suite).
    pub(crate) fn with_copies(mut self, dice: crate::faults::Dice) -> Self {
        self.copies = Some(dice);
        self
    }

    /// See `lockstep`.
    pub(crate) fn in_lockstep(mut self) -> Self {
        self.lockstep = true;
        self
    }

    /// How far the queues drain after a request: empty in lockstep, else below `BACKLOG`.
    fn backlog(&self) -> u64 {
        if self.lockstep { 1 } else { BACKLOG }
    }

    pub(crate) async fn events(&mut self, events: &[Event]) -> Result<(), String> {
        println!("Replaying {} events through {}", events.len(), self.g.base);
        let now = Instant::now();
        self.figures.started = Some(now);
        self.figures.window = Some((now, 0));
        for event in events {
            self.sweeps_until(event.occurred_at).await?;
            let started = Instant::now();
            for request in self.requests.of(event) {
                self.post(event, request).await?;
            }
            self.figures.posting += started.elapsed();
            self.figures.events += 1;
            if self.figures.events.is_multiple_of(self.progress_every) {
                self.flush().await?;
                self.settle().await?;
                self.progress();
            }
        }
        self.flush().await?;
        if let Some(last) = events.last() {
            // one more sweep past the last event, so its time-based rules have run
            self.sweeps_until(last.occurred_at + self.sweep_every)
                .await?;
        }
        self.settle().await
    }

    /// Fires every sweep due before `at`, on the log's clock.
    async fn sweeps_until(&mut self, at: DateTime<Utc>) -> Result<(), String> {
        let every = self.sweep_every;
        let next = *self
            .next_sweep
            .get_or_insert_with(|| at.duration_trunc(every).unwrap_or(at) + every);
        if at < next {
            return Ok(());
        }
        self.flush().await?;
        let mut due = next;
        while due <= at {
            self.settle().await?;
            let started = Instant::now();
            let report = self.sweep(due).await?;
            self.figures.sweeping += started.elapsed();
            self.clock = Some(due);
            self.figures.sweeps += 1;
            self.figures.checks += report["customers_due"].as_u64().unwrap_or(0);
            self.settle().await?;
            due += every;
        }
        self.next_sweep = Some(due);
        Ok(())
    }

    /// One sweep; under faults it may fail, and is run again as Lambda retries an asynchronous
    /// invocation (its checks have deterministic ids).
    async fn sweep(&mut self, due: DateTime<Utc>) -> Result<Value, String> {
        let tries = if self.copies.is_some() { MAX_TRIES } else { 1 };
        let mut last = String::new();
        for _ in 0..tries {
            match self
                .g
                .local("/_local/sweep", Some(json!({"time": due})))
                .await
            {
                Ok(report) if report.get("customers_due").is_some() => return Ok(report),
                Ok(answer) => last = answer.to_string(),
                Err(e) => last = e,
            }
            self.figures.retried += 1;
        }
        Err(format!("the sweep at {due} failed {tries} times: {last}"))
    }

    async fn post(&mut self, event: &Event, request: Request) -> Result<(), String> {
        let label = match &request {
            Request::App(_) => "app events (/events)",
            Request::Stripe(_) => "Stripe webhooks",
            Request::Payment(crate::providers::Provider::Toss, _) => "Toss webhooks",
            Request::Payment(crate::providers::Provider::PortOne, _) => "PortOne webhooks",
            Request::Note(_) => "staff notes (API)",
            Request::Erase => "erasures (API)",
            Request::Unsubscribe => "unsubscribes (link)",
            Request::Skip(reason) => {
                *self.figures.skipped.entry(reason).or_default() += 1;
                return Ok(());
            }
        };
        *self.figures.posted.entry(label).or_default() += 1;
        if let Request::App(body) = request {
            self.batch.push(body);
            self.batch_time = self.batch_time.max(Some(event.occurred_at));
            if self.batch.len() == BATCH {
                self.flush().await?;
            }
            return Ok(());
        }
        self.flush().await?;
        let t = self.advance_clock(event.occurred_at).await?;
        let id = &event.customer_id;
        let g = self.g;
        let (_, (status, body)) = match request {
            Request::Stripe(body) => self.deliver(true, || g.stripe(&body, t)).await?,
            Request::Payment(provider, payment) => {
                let message = format!("replay-{}", event.id.as_str().replace(':', "-"));
                self.deliver(true, || g.provider_payment(provider, &payment, &message, t))
                    .await?
            }
            Request::Note(body) => {
                let path = format!("/customers/{}/notes", path_segment(id.as_str()));
                self.deliver(false, || g.api(Method::POST, &path, Some(body.clone())))
                    .await?
            }
            Request::Erase => {
                let path = format!("/customers/{}", path_segment(id.as_str()));
                self.deliver(false, || g.api(Method::DELETE, &path, None))
                    .await?
            }
            Request::Unsubscribe => self.deliver(true, || g.unsubscribe(id)).await?,
            Request::App(_) | Request::Skip(_) => return Ok(()),
        };
        self.check(label, status, &body);
        if self.lockstep {
            self.settle().await?;
        }
        Ok(())
    }

    /// Sends a request; with copies (the fault suite) again until it is answered below 500,
    /// then, for a webhook, 0–2 more times, as providers redeliver. Returns the copies sent.
    async fn deliver<F, Fut>(
        &mut self,
        webhook: bool,
        send: F,
    ) -> Result<(u64, (u16, Value)), String>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<(u16, Value), String>>,
    {
        let Some(dice) = self.copies.clone() else {
            return Ok((1, send().await?));
        };
        let mut answer = Err(String::new());
        for _ in 0..MAX_TRIES {
            answer = send().await;
            match &answer {
                Ok((status, _)) if *status < 500 => break,
                _ => self.figures.retried += 1,
            }
        }
        let answer = answer?;
        let extra = if webhook { dice.below(3) } else { 0 };
        for _ in 0..extra {
            for _ in 0..MAX_TRIES {
                if matches!(send().await, Ok((status, _)) if status < 500) {
                    break;
                }
                self.figures.retried += 1;
            }
        }
        self.figures.copies += extra;
        Ok((1 + extra, answer))
    }

    /// Posts the pending app events as one signed batch, at the time of the latest of them.
    async fn flush(&mut self) -> Result<(), String> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let at = self.batch_time.take().unwrap_or_else(Utc::now);
        let t = self.advance_clock(at).await?;
        let body = Value::Array(std::mem::take(&mut self.batch));
        self.batches += 1;
        let message = format!("replay-batch-{}", self.batches);
        let g = self.g;
        let (_, (status, answer)) = self.deliver(true, || g.app(&body, &message, t)).await?;
        self.check("app batch", status, &answer);
        self.drain_below(self.backlog()).await
    }

    /// Moves the stack's clock forward to `at` (never back); returns it as the signing time.
    async fn advance_clock(&mut self, at: DateTime<Utc>) -> Result<i64, String> {
        if self.clock.is_none_or(|c| c < at) {
            self.g
                .local("/_local/clock", Some(json!({"time": at})))
                .await?;
            self.clock = Some(at);
        }
        Ok(self.clock.unwrap_or(at).timestamp())
    }

    fn check(&mut self, what: &str, status: u16, body: &Value) {
        if (200..300).contains(&status) {
            return;
        }
        self.figures.refused_count += 1;
        if self.figures.refused.len() < 10 {
            self.figures
                .refused
                .push(format!("{what}: {status} {body}"));
        }
    }

    /// Waits until the queues are empty.
    async fn settle(&mut self) -> Result<(), String> {
        self.drain_below(1).await
    }

    async fn drain_below(&mut self, backlog: u64) -> Result<(), String> {
        let started = Instant::now();
        let deadline = started + SETTLE_PATIENCE;
        while Instant::now() < deadline {
            let settled = self
                .g
                .local("/_local/settle", Some(json!({"below": backlog})))
                .await?;
            if settled["settled"] == true {
                self.figures.settling += started.elapsed();
                return Ok(());
            }
            println!("  waiting for the queues: {}", settled["queued"]);
        }
        Err(format!(
            "the queues did not drain within {} s",
            SETTLE_PATIENCE.as_secs()
        ))
    }

    /// One progress line: events so far, the rate over the last window and overall, and the
    /// emulator's memory when the replay started it.
    fn progress(&mut self) {
        let now = Instant::now();
        let f = &mut self.figures;
        let (since, before) = f.window.unwrap_or((now, 0));
        let window_rate =
            (f.events - before) as f64 / now.duration_since(since).as_secs_f64().max(1e-9);
        let elapsed = f
            .started
            .map_or(0.0, |s| now.duration_since(s).as_secs_f64());
        let overall = f.events as f64 / elapsed.max(1e-9);
        let rss = self.session.and_then(Session::emulator_rss_bytes);
        println!(
            "  {:>8} events  {:>7.1} s  {:>6.1} events/s (last {}: {:>6.1}){}",
            f.events,
            elapsed,
            overall,
            f.events - before,
            window_rate,
            rss.map(|b| format!("  emulator {:.0} MB", b as f64 / 1e6))
                .unwrap_or_default()
        );
        f.samples.push(json!({
            "events": f.events, "seconds": elapsed, "window_events_per_second": window_rate,
            "events_per_second": overall, "emulator_rss_bytes": rss,
            "emulator_actions": emulator_stats(),
        }));
        f.window = Some((now, f.events));
    }

    async fn finish(&mut self, options: &Options) -> Result<(), String> {
        self.progress();
        let f = &self.figures;
        println!("\nPosted:");
        for (what, n) in &f.posted {
            println!("  {what:<24} {n:>8}");
        }
        for (why, n) in &f.skipped {
            println!("  not posted: {why}: {n}");
        }
        println!(
            "  sweeps: {} (every {} h), customers due: {}",
            f.sweeps,
            self.sweep_every.num_hours(),
            f.checks
        );
        println!(
            "  wall time: posting {:.1} s, draining the queues {:.1} s, sweeps {:.1} s",
            f.posting.as_secs_f64(),
            f.settling.as_secs_f64(),
            f.sweeping.as_secs_f64()
        );
        if f.refused_count > 0 {
            println!("  refused by the gateway: {}", f.refused_count);
            for r in &f.refused {
                println!("    {r}");
            }
        }
        crate::demo::print_counts(self.g).await?;
        let counts = self.g.local("/_local/counts", None).await?;
        let messages = self.messages().await?;
        if let Some(path) = &options.report {
            let report = json!({
                "events": f.events, "samples": f.samples, "posted": f.posted, "skipped": f.skipped,
                "sweeps": f.sweeps, "refused": f.refused_count, "refusals": f.refused,
                "counts": counts, "messages": messages,
            });
            std::fs::write(
                path,
                serde_json::to_vec_pretty(&report).map_err(|e| e.to_string())?,
            )
            .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(())
    }

    /// The messages per template and variant, as the senders reported them, and what SES and
    /// Slack received.
    async fn messages(&self) -> Result<Value, String> {
        let (_, stats) = self.g.api(Method::GET, "/stats", None).await?;
        let rows = stats["interventions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        println!("\nMessages per template (as the senders reported them):\n");
        println!(
            "  {:<28} {:>7} {:>8} {:>8} {:>7} {:>8}",
            "template", "variant", "sent", "skipped", "failed", "unknown"
        );
        for row in &rows {
            let n = |k: &str| row[k].as_u64().unwrap_or(0);
            println!(
                "  {:<28} {:>7} {:>8} {:>8} {:>7} {:>8}",
                row["template"].as_str().unwrap_or("?"),
                row["variant"].as_str().unwrap_or("-"),
                n("sent"),
                n("skipped"),
                n("failed"),
                n("unknown")
            );
        }
        let outbox = self.g.local("/_local/outbox", None).await?;
        let emails = outbox["emails"].as_array().map_or(0, Vec::len);
        let slack = outbox["slack"].as_array().map_or(0, Vec::len);
        println!(
            "\nReceived: {emails} e-mails by the emulator's SES, {slack} Slack alerts. Every one: {}/_local/\n",
            self.g.base
        );
        Ok(json!({"templates": rows, "emails_received": emails, "slack_received": slack}))
    }
}

/// The emulator's requests and CPU time per action so far, when it writes them
/// (`JOURNEY_EMULATOR_STATS`, see infra/scripts/moto_workarounds/stats.py).
fn emulator_stats() -> Value {
    std::env::var("JOURNEY_EMULATOR_STATS")
        .ok()
        .and_then(|path| std::fs::read_to_string(path).ok())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(Value::Null)
}

/// A customer id as one URL path segment.
fn path_segment(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

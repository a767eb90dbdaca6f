//! `journey-local faults`: the same event log replayed twice through the local stack — once
//! without faults, once with webhooks delivered 1–3 times and every service failing at random
//! (requests refused, answers lost, handlers crashed between two I/O calls) — and the two
//! compared: no state change lost, no message sent twice, none missed, the DLQs empty.
//!
//! The rules are the stack's (`RULES_FILE` or the built-in ones) with texts added
//! ([`crate::texts::with_texts`]): the payment notice and the caution nudge also go by text, to the Solapi
//! stand-in behind a faulty proxy of its own, so the text provider refuses requests and loses
//! answers like every AWS service.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;
use journey::domain::{CustomerId, Event};
use journey::ports::{CustomerStore, JourneyReader};
use journey_adapters::dynamodb::DynamoStore;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use super::proxy::Proxy;
use super::slack::SlackStandIn;
use super::{Dice, Faults, Rates};
use crate::clients;
use crate::config::LocalConfig;
use crate::emulator::free_port;
use crate::replay::{Options as ReplayOptions, Replayer, load};
use crate::run::backend;
use crate::secrets::LocalSecrets;
use crate::signing::Gateway;
use crate::stack::{LocalStack, Tuning, emulator_config};

/// `--events FILE [--seed N] [--refused 0.2] [--lost 0.2] [--crash 0.05] [--sweep-hours 6]
/// [--report FILE]`: shares of requests refused and of answers lost, per service; share of
/// handler invocations that crash (before one of their first 8 requests); hours between the
/// sweeps (24: a clock that moves a day at a time, past every quiet-hours window).
#[derive(Clone, Debug)]
pub struct Options {
    pub events: PathBuf,
    pub seed: u64,
    pub rates: Rates,
    pub crash: f64,
    pub sweep_every: chrono::TimeDelta,
    pub report: Option<PathBuf>,
}

impl Options {
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut options = Options {
            events: PathBuf::new(),
            seed: 1,
            rates: Rates {
                refused: 0.2,
                lost: 0.2,
            },
            crash: 0.05,
            sweep_every: ReplayOptions::quiet().sweep_every,
            report: None,
        };
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let mut value = || {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("{flag} needs a value"))
            };
            let number = |v: String| {
                v.parse::<f64>()
                    .map_err(|e| format!("{flag}: {e}"))
                    .and_then(|x| {
                        (0.0..=1.0)
                            .contains(&x)
                            .then_some(x)
                            .ok_or(format!("{flag}: a share in 0..1"))
                    })
            };
            match flag.as_str() {
                "--events" => options.events = PathBuf::from(value()?),
                "--seed" => options.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
                "--refused" => options.rates.refused = number(value()?)?,
                "--lost" => options.rates.lost = number(value()?)?,
                "--crash" => options.crash = number(value()?)?,
                "--sweep-hours" => {
                    let hours: i64 = value()?
                        .parse()
                        .ok()
                        .filter(|h| (1..=72).contains(h))
                        .ok_or("--sweep-hours: 1 to 72")?;
                    options.sweep_every = chrono::TimeDelta::hours(hours);
                }
                "--report" => options.report = Some(PathBuf::from(value()?)),
                other => return Err(format!("unknown option {other}")),
            }
        }
        if options.events.as_os_str().is_empty() {
            return Err("usage: journey-local faults --events log.jsonl [--seed N] [--refused 0.2] [--lost 0.2] [--crash 0.05] [--sweep-hours 6] [--report FILE]".into());
        }
        Ok(options)
    }
}

/// The services the dice fail (SigV4 names), Slack and the text provider.
const SERVICES: [&str; 6] = ["dynamodb", "sqs", "ses", "events", "slack", "solapi"];

/// Rounds of "time passes past a send lease, the queues drain" at the end of each run, so
/// claims of crashed senders are resolved the same way in both runs.
const FINAL_ROUNDS: usize = 4;

pub async fn run(config: LocalConfig, args: &[String]) -> Result<(), String> {
    let options = Options::parse(args)?;
    let events = load(&options.events)?;
    let started = Instant::now();
    let (backend, aws, endpoint) = backend(&config).await?;
    let emulator = endpoint.ok_or("the fault suite needs an emulator endpoint")?;
    let rules = crate::texts::with_texts(
        &journey::config::rules_text().map_err(|e| e.to_string())?,
        false,
    )?;
    let config = (config, rules);
    println!("Fault-free run of {} events", events.len());
    let clean = Run::start("clean", &config, &aws, &emulator, Dice::none(), 0.0).await?;
    clean.replay(&events, false, options.sweep_every).await?;
    let rates: Vec<(&str, Rates)> = SERVICES.iter().map(|s| (*s, options.rates)).collect();
    let dice = Dice::new(options.seed, &rates);
    println!(
        "Faulty run: {:.0} % refused, {:.0} % answers lost per request and service, {:.0} % of invocations crash, webhooks 1–3 times",
        options.rates.refused * 100.0,
        options.rates.lost * 100.0,
        options.crash * 100.0
    );
    let faulty = Run::start(
        "faulty",
        &config,
        &aws,
        &emulator,
        dice.clone(),
        options.crash,
    )
    .await?;
    faulty.replay(&events, true, options.sweep_every).await?;
    let verdict = compare(&clean, &faulty, &aws, &events).await?;
    let report = verdict.report(&dice, started.elapsed(), events.len());
    println!(
        "{}",
        serde_json::to_string_pretty(&report).unwrap_or_default()
    );
    if let Some(path) = &options.report {
        std::fs::write(
            path,
            serde_json::to_string_pretty(&report).unwrap_or_default(),
        )
        .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    clean.stop();
    faulty.stop();
    drop(backend);
    verdict.result()
}

/// One stack with its proxies (AWS, the text provider), Slack stand-in and gateway.
struct Run {
    name: &'static str,
    stack: Arc<LocalStack>,
    gateway: Gateway,
    proxy: Proxy,
    /// In front of the Solapi stand-in; kept for as long as the run (the stand-in counts).
    _texts: Proxy,
    slack: SlackStandIn,
    dice: Dice,
    tasks: Vec<JoinHandle<()>>,
    server: JoinHandle<std::io::Result<()>>,
}

impl Run {
    async fn start(
        name: &'static str,
        (base, rules): &(LocalConfig, String),
        aws: &SdkConfig,
        emulator: &str,
        dice: Dice,
        crash: f64,
    ) -> Result<Run, String> {
        let mut config = base.clone();
        config.env = format!("{}-{name}", base.env);
        config.port = free_port();
        config.state_dir = base.state_dir.join(format!("faults-{name}"));
        config.sweep_every = None;
        std::fs::create_dir_all(&config.state_dir).map_err(|e| e.to_string())?;
        let proxy = Proxy::start(emulator, dice.clone()).await?;
        let texts = Proxy::start(
            &format!("{}/_local/solapi", config.base_url()),
            dice.clone(),
        )
        .await?;
        let slack = SlackStandIn::start(dice.clone()).await?;
        // the SDK's own retries as in AWS, their back-off compressed as the redeliveries are
        let through_proxy = emulator_config(&proxy.url)
            .await
            .into_builder()
            .retry_config(
                journey_adapters::aws::retry_config()
                    .with_initial_backoff(Duration::from_millis(5))
                    .with_max_backoff(Duration::from_millis(50)),
            )
            .build();
        let crashes = SharedInterceptor::new(Faults::crashing(dice.clone()));
        let clients = clients::faulty(&through_proxy, crashes);
        let tuning = Tuning {
            slack_url: Some(slack.url.clone()),
            redeliver_after: Some(Duration::from_secs(1)),
            crashes: (crash > 0.0).then(|| (dice.clone(), crash)),
            pollers: Some(aws_sdk_sqs::Client::new(aws)),
            without_ses_events: true,
            rules_text: Some(rules.clone()),
            text_provider_url: Some(texts.url.clone()),
        };
        let stack = LocalStack::build_tuned(
            config.clone(),
            aws,
            clients,
            Some(emulator.to_string()),
            tuning,
        )
        .await?;
        stack.clock.0.freeze();
        let tasks = stack.start_background();
        let listener = crate::run::bind(&config).await?;
        let app = stack
            .router()
            .into_make_service_with_connect_info::<SocketAddr>();
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let secrets = LocalSecrets::load_or_create(&config.state_dir).map_err(|e| e.to_string())?;
        let gateway = Gateway::new(config.base_url(), &secrets);
        Ok(Run {
            name,
            stack,
            gateway,
            proxy,
            _texts: texts,
            slack,
            dice,
            tasks,
            server,
        })
    }

    async fn replay(
        &self,
        events: &[Event],
        faulty: bool,
        sweep_every: chrono::TimeDelta,
    ) -> Result<(), String> {
        let options = ReplayOptions {
            sweep_every,
            ..ReplayOptions::quiet()
        };
        let mut replayer = Replayer::new(&self.gateway, None, &options).in_lockstep();
        if faulty {
            replayer = replayer.with_copies(self.dice.clone());
        }
        replayer.events(events).await?;
        // the faults stop; time passes beyond every lease; what is left drains
        self.dice.stop();
        let mut at = journey::ports::Clock::now(&self.stack.clock);
        for _ in 0..FINAL_ROUNDS {
            at += journey::sending::LEASE + chrono::Duration::seconds(1);
            self.gateway
                .local("/_local/clock", Some(json!({"time": at})))
                .await?;
            if !self.stack.settle(Duration::from_secs(300)).await {
                return Err(format!("{}: the queues did not drain", self.name));
            }
        }
        Ok(())
    }

    fn stop(self) {
        for task in self.tasks {
            task.abort();
        }
        self.server.abort();
    }

    fn store(&self, aws: &SdkConfig) -> DynamoStore {
        DynamoStore::new(
            aws_sdk_dynamodb::Client::new(aws),
            &self.stack.resources.table,
        )
    }
}

/// What one run left behind.
struct Outcome {
    customers: BTreeMap<String, Value>,
    history: BTreeMap<String, Vec<Value>>,
    /// Send ledger: intervention id → (status, channel, template, unknowns).
    ledger: BTreeMap<String, (String, String, String, i64)>,
    emails: BTreeMap<String, u64>,
    /// Texts the provider accepted, per send id (the intervention id).
    texts: BTreeMap<String, u64>,
    slack: BTreeMap<String, u64>,
    dead_letters: BTreeMap<String, Vec<String>>,
}

async fn outcome(
    run: &Run,
    aws: &SdkConfig,
    ids: &BTreeSet<CustomerId>,
) -> Result<Outcome, String> {
    let store = run.store(aws);
    let mut customers = BTreeMap::new();
    let mut history = BTreeMap::new();
    for id in ids {
        let Some(customer) = store.load(id).await.map_err(|e| e.to_string())? else {
            continue;
        };
        customers.insert(id.to_string(), comparable(&customer));
        let page = store
            .history(id, 1000, None)
            .await
            .map_err(|e| e.to_string())?;
        let entries = page.entries.iter().map(comparable_entry).collect();
        history.insert(id.to_string(), entries);
    }
    Ok(Outcome {
        customers,
        history,
        ledger: ledger(aws, &run.stack.resources.table).await?,
        emails: run.proxy.emails(),
        texts: run.stack.solapi.sends_per_id(),
        slack: run.slack.posts(),
        dead_letters: dead_letters(aws, &run.stack).await?,
    })
}

/// A customer's state without what legitimately differs between two runs: the write version
/// (how events were grouped into transactions) and the delivery status of its last message
/// (`sent` in one run may be `unknown` in the other).
fn comparable(customer: &journey::domain::Customer) -> Value {
    let mut value = serde_json::to_value(customer).unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        object.remove("version");
        object.remove("recent_events");
        if let Some(last) = object
            .get_mut("last_intervention")
            .and_then(Value::as_object_mut)
        {
            last.remove("status");
        }
    }
    value
}

/// A history entry, its sweep check named without the instant the customer became due: that
/// instant may be the time a sender's report arrived, which faults delay (the same check, the
/// same change, a few minutes later).
fn comparable_entry(entry: &journey::domain::apply::HistoryEntry) -> Value {
    let mut value = serde_json::to_value(entry).unwrap_or_default();
    if value["cause"]["event_type"] == "check_due"
        && let Some(id) = value["cause"]["event_id"].as_str()
    {
        // `check:<customer>:<due, RFC 3339 to the second: 20 characters>`
        let named = id
            .get(..id.len().saturating_sub(21))
            .unwrap_or(id)
            .to_string();
        value["cause"]["event_id"] = Value::String(named);
    }
    value
}

async fn ledger(
    aws: &SdkConfig,
    table: &str,
) -> Result<BTreeMap<String, (String, String, String, i64)>, String> {
    let client = aws_sdk_dynamodb::Client::new(aws);
    let mut out = BTreeMap::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .filter_expression("begins_with(SK, :send)")
            .expression_attribute_values(":send", AttributeValue::S("SEND#".into()))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        for item in page.items() {
            let text = |k: &str| {
                item.get(k)
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default()
            };
            let unknowns = item
                .get("unknowns")
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let id = text("SK").trim_start_matches("SEND#").to_string();
            out.insert(
                id,
                (text("status"), text("channel"), text("template"), unknowns),
            );
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            return Ok(out);
        }
    }
}

/// Messages in the DLQs, per queue (with a peek at what they are).
async fn dead_letters(
    aws: &SdkConfig,
    stack: &LocalStack,
) -> Result<BTreeMap<String, Vec<String>>, String> {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let sqs = aws_sdk_sqs::Client::new(aws);
    let r = &stack.resources;
    let mut out = BTreeMap::new();
    for url in [&r.events_url, &r.email_url, &r.text_url, &r.slack_url] {
        let dlq = match url.strip_suffix(".fifo") {
            Some(stem) => format!("{stem}-dlq.fifo"),
            None => format!("{url}-dlq"),
        };
        let depths = sqs
            .get_queue_attributes()
            .queue_url(&dlq)
            .attribute_names(A::ApproximateNumberOfMessages)
            .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(|e| format!("{dlq}: {e:?}"))?;
        let attributes = depths.attributes.unwrap_or_default();
        let depth: u64 = [
            A::ApproximateNumberOfMessages,
            A::ApproximateNumberOfMessagesNotVisible,
        ]
        .iter()
        .filter_map(|a| attributes.get(a)?.parse::<u64>().ok())
        .sum();
        if depth == 0 {
            continue;
        }
        let peek = sqs
            .receive_message()
            .queue_url(&dlq)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .send()
            .await
            .map_err(|e| format!("{dlq}: {e:?}"))?;
        let mut bodies: Vec<String> = peek
            .messages()
            .iter()
            .map(|m| m.body().unwrap_or_default().chars().take(300).collect())
            .collect();
        bodies.resize(depth as usize, String::from("(not peeked)"));
        out.insert(dlq.rsplit('/').next().unwrap_or(&dlq).to_string(), bodies);
    }
    Ok(out)
}

/// The comparison's findings.
struct Verdict {
    /// The histories of the first customers that differ, side by side.
    traces: Vec<Value>,
    customers: usize,
    lost: Vec<String>,
    duplicates: Vec<String>,
    /// Sent twice where the rules allow it (`retry_once` after an unknown outcome).
    allowed_repeats: Vec<String>,
    missed: Vec<String>,
    /// E-mails SES (and texts Solapi) accepted that no send record of the same run accounts
    /// for (security review R2): untagged, or tagged with an intervention the ledger does not
    /// hold.
    unaccounted: Vec<String>,
    unknown: BTreeMap<String, u64>,
    planned: usize,
    emails: (u64, u64),
    texts: (u64, u64),
    slack: (u64, u64),
    dead_letters: BTreeMap<String, Vec<String>>,
}

async fn compare(
    clean: &Run,
    faulty: &Run,
    aws: &SdkConfig,
    events: &[Event],
) -> Result<Verdict, String> {
    let ids: BTreeSet<CustomerId> = events.iter().map(|e| e.customer_id.clone()).collect();
    let a = outcome(clean, aws, &ids).await?;
    let b = outcome(faulty, aws, &ids).await?;
    let mut lost = Vec::new();
    let mut traces = Vec::new();
    for id in ids.iter().map(CustomerId::to_string) {
        let differs = a.customers.get(&id) != b.customers.get(&id)
            || a.history.get(&id) != b.history.get(&id);
        if differs && traces.len() < 3 {
            traces.push(json!({"customer": id, "fault_free": trace(a.history.get(&id)), "faulty": trace(b.history.get(&id))}));
        }
        if a.customers.get(&id) != b.customers.get(&id) {
            lost.push(format!(
                "{id}: state differs: {}",
                diff(&a.customers.get(&id), &b.customers.get(&id))
            ));
        } else if a.history.get(&id) != b.history.get(&id) {
            lost.push(format!(
                "{id}: history differs: {}",
                diff(&a.history.get(&id), &b.history.get(&id))
            ));
        }
    }
    let mut duplicates = Vec::new();
    let mut allowed_repeats = Vec::new();
    let mut missed = Vec::new();
    let mut unknown: BTreeMap<String, u64> = BTreeMap::new();
    for (id, (clean_status, channel, template, _)) in &a.ledger {
        let Some((status, _, _, unknowns)) = b.ledger.get(id) else {
            missed.push(format!("{id} ({template}): planned, never handled"));
            continue;
        };
        let received = match channel.as_str() {
            "slack" => b.slack.get(id).copied().unwrap_or(0),
            "text" => b.texts.get(id).copied().unwrap_or(0),
            _ => b.emails.get(id).copied().unwrap_or(0),
        };
        if status == "unknown" {
            *unknown.entry(template.clone()).or_default() += 1;
        }
        match (status.as_str(), received) {
            (_, n) if n > 2 || (n == 2 && *unknowns == 0) => {
                duplicates.push(format!("{id} ({template}): received {n} times, {status}"))
            }
            (_, 2) => allowed_repeats.push(format!(
                "{id} ({template}): sent again after an unknown outcome, as `retry_once` says"
            )),
            ("sent", 0) => missed.push(format!("{id} ({template}): recorded sent, never received")),
            ("sent" | "unknown" | "skipped" | "failed", _) => {}
            // held by quiet hours past the log's end, in both runs: still to go out
            ("deferred", _) if clean_status == "deferred" => {}
            (other, _) => missed.push(format!(
                "{id} ({template}): left `{other}` (the fault-free run: {clean_status})"
            )),
        }
    }
    for id in b.ledger.keys().filter(|id| !a.ledger.contains_key(*id)) {
        duplicates.push(format!("{id}: planned only under faults"));
    }
    let unaccounted = [("fault-free", &a), ("faulty", &b)]
        .into_iter()
        .flat_map(|(run, o)| {
            let emails = o.emails.iter().map(|(id, n)| (id, n, "e-mail(s) SES"));
            let texts = o.texts.iter().map(|(id, n)| (id, n, "text(s) Solapi"));
            emails
                .chain(texts)
                .filter(|(id, _, _)| !o.ledger.contains_key(*id))
                .map(move |(id, n, what)| {
                    format!("{run}: {id}: {n} {what} accepted, no send record")
                })
        })
        .collect();
    let total = |m: &BTreeMap<String, u64>| m.values().sum::<u64>();
    Ok(Verdict {
        traces,
        customers: ids.len(),
        lost,
        duplicates,
        allowed_repeats,
        missed,
        unaccounted,
        unknown,
        planned: a.ledger.len(),
        emails: (total(&a.emails), total(&b.emails)),
        texts: (total(&a.texts), total(&b.texts)),
        slack: (total(&a.slack), total(&b.slack)),
        dead_letters: b.dead_letters,
    })
}

/// A history as one line per entry: when, what, caused by which event.
fn trace(history: Option<&Vec<Value>>) -> Vec<String> {
    history
        .map(|entries| {
            entries
                .iter()
                .map(|e| {
                    format!(
                        "{} {} {}→{} ({})",
                        e["at"].as_str().unwrap_or_default(),
                        e["kind"].as_str().unwrap_or_default(),
                        e["from"],
                        e["to"],
                        e["cause"]["event_id"].as_str().unwrap_or_default()
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The first difference, shortly.
fn diff<T: serde::Serialize>(a: &Option<&T>, b: &Option<&T>) -> String {
    let a = serde_json::to_string(a).unwrap_or_default();
    let b = serde_json::to_string(b).unwrap_or_default();
    let at = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    let from = at.saturating_sub(60);
    let cut = |s: &str| {
        s.get(from..(at + 100).min(s.len()))
            .unwrap_or_default()
            .to_string()
    };
    format!("fault-free …{}… / faulty …{}…", cut(&a), cut(&b))
}

impl Verdict {
    fn report(&self, dice: &Dice, wall: Duration, events: usize) -> Value {
        let faults: Vec<Value> = dice
            .counts()
            .into_iter()
            .map(|((service, operation, kind), n)| json!({"service": service, "operation": operation, "kind": kind, "count": n}))
            .collect();
        let mut by_kind: BTreeMap<String, u64> = BTreeMap::new();
        for ((service, _, kind), n) in dice.counts() {
            *by_kind.entry(format!("{service} {kind}")).or_default() += n;
        }
        json!({
            "events": events, "customers": self.customers, "wall_seconds": wall.as_secs(),
            "faults_injected": by_kind, "faults": faults,
            "planned_interventions": self.planned,
            "emails_received": {"fault_free": self.emails.0, "faulty": self.emails.1},
            "texts_received": {"fault_free": self.texts.0, "faulty": self.texts.1},
            "slack_posts_received": {"fault_free": self.slack.0, "faulty": self.slack.1},
            "lost_state_changes": self.lost.len(), "duplicates": self.duplicates.len(),
            "missed": self.missed.len(), "unaccounted_emails": self.unaccounted.len(),
            "unknown_outcomes": self.unknown,
            "repeated_as_the_rules_allow": self.allowed_repeats.len(),
            "dead_letters": self.dead_letters.values().map(Vec::len).sum::<usize>(),
            "dead_letter_messages": self.dead_letters,
            "differing_histories": self.traces,
            "examples": {
                "lost": self.lost.iter().take(5).collect::<Vec<_>>(),
                "duplicates": self.duplicates.iter().take(5).collect::<Vec<_>>(),
                "missed": self.missed.iter().take(5).collect::<Vec<_>>(),
                "unaccounted": self.unaccounted.iter().take(5).collect::<Vec<_>>(),
            },
        })
    }

    fn result(&self) -> Result<(), String> {
        let failures =
            self.lost.len() + self.duplicates.len() + self.missed.len() + self.unaccounted.len();
        let dead: usize = self.dead_letters.values().map(Vec::len).sum();
        if failures == 0 && dead == 0 {
            return Ok(());
        }
        Err(format!(
            "under faults: {} lost state changes, {} duplicates, {} missed, {} e-mails no send record accounts for, {} dead letters",
            self.lost.len(),
            self.duplicates.len(),
            self.missed.len(),
            self.unaccounted.len(),
            dead
        ))
    }
}

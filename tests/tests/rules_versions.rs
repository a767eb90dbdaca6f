//! Rules versions and the event log, through the real SDK against the emulator: the log (the
//! emulator's Firehose and S3) reads back what the transition worker appended, the calibration job stores and activates a
//! version, a roll-back is one call, a stale activation is refused, and a running transition
//! worker picks the active version up.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration as StdDuration;

use calibrate::{Settings, calibrate};
use chrono::Duration;
use journey::backtest::Label;
use journey::backtest::LogRecord;
use journey::backtest::{sample, write_records};
use journey::domain::rules::DEFAULT_RULES_TOML;
use journey::domain::{EventKind, Rules, Signal};
use journey::event_log::Collector;
use journey::messages::EventMessage;
use journey::ports::{EventArchive, ExportedLog, RulesRegistry, SampleLimits, Sampled, StoreError};
use journey::rules_versions::{Approval, LiveRules, Origin, RulesHandle, RulesVersion};
use journey::testing::{Events, krw, t};
use journey_adapters::dynamodb::DynamoStore;
use journey_adapters::s3::{S3Archive, create_bucket, shard_folder};
use journey_tests::fresh_store;
use journey_tests::population::generate;
use journey_tests::stack::Stack;

#[tokio::test]
async fn the_log_gives_back_the_events_from_outside_and_every_churn_once() {
    // through the real SDK: the worker appends to the emulator's Firehose, which writes its S3
    let stack = Stack::new().await;
    let mut a = Events::new("export-a");
    let mut paid = a.at(t("2026-03-01T09:00:00Z"), EventKind::paid(krw(9_000)));
    paid.profile.email = Some("a@example.com".into());
    paid.profile.program = Some("yoga".into());
    let login = a.at(t("2026-03-02T09:00:00Z"), EventKind::Login);
    let refund = a.at(
        t("2026-03-05T09:00:00Z"),
        EventKind::RefundRequested { reason: None },
    );
    let check = a.check(t("2026-03-04T09:00:00Z"));
    let message = |e: &journey::domain::Event| EventMessage {
        received_at: e.occurred_at,
        event: e.clone(),
    };
    let messages: Vec<_> = [&paid, &login, &check, &refund]
        .into_iter()
        .map(message)
        .collect();
    stack.apply(&messages).await;
    // redelivered (the login) and the refund's append repeated: still once each in the log
    stack.apply(&[message(&login), message(&refund)]).await;

    // the log is this test process's: its other tests' customers are left aside
    let ours = |log: journey::ports::ExportedLog| journey::ports::ExportedLog {
        events: (log.events.into_iter())
            .filter(|e| e.customer_id.as_str().starts_with("export-"))
            .collect(),
        labels: (log.labels.into_iter())
            .filter(|l| l.customer_id.as_str().starts_with("export-"))
            .collect(),
    };
    let log = ours(
        stack
            .archive
            .export_log(SampleLimits::none())
            .await
            .unwrap()
            .0,
    );
    let ids: Vec<&str> = log.events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
        ids,
        [paid.id.as_str(), login.id.as_str(), refund.id.as_str()]
    );
    assert_eq!(
        log.events[0].profile.email, None,
        "no contact details in the log"
    );
    assert_eq!(log.events[0].profile.program.as_deref(), Some("yoga"));
    assert_eq!(
        log.labels,
        [Label {
            customer_id: a.customer().clone(),
            churned_at: refund.occurred_at,
            how: Some("refund_requested".into()),
        }]
    );

    // an erasure leaves the customer's every line out of what is read back
    let mut b = Events::new("export-b");
    let b_paid = b.at(t("2026-03-01T10:00:00Z"), EventKind::paid(krw(9_000)));
    let erased = b.at(t("2026-03-06T09:00:00Z"), EventKind::Erased { by: None });
    stack.apply(&[message(&b_paid), message(&erased)]).await;
    let log = ours(
        stack
            .archive
            .export_log(SampleLimits::none())
            .await
            .unwrap()
            .0,
    );
    assert!(log.events.iter().all(|e| e.customer_id == *a.customer()));
    assert_eq!(log.events.len(), 3);
}

#[tokio::test]
async fn a_partitioned_log_gives_a_bounded_sample_of_whole_customers() {
    // the objects as Firehose delivers them in AWS (GZIP, under each customer's shard), beside
    // an unpartitioned one as the emulator and older releases write
    let s3 = journey_adapters::aws::s3_client(&journey_tests::sdk_config().await);
    let bucket = journey_tests::unique("sample");
    create_bucket(&s3, &bucket).await.unwrap();
    let mut by_folder: BTreeMap<String, Vec<LogRecord>> = BTreeMap::new();
    let mut all = Vec::new();
    for n in 0..300 {
        let mut c = Events::new(&format!("cus_{n:05}"));
        let records = [
            c.at(t("2026-03-01T09:00:00Z"), EventKind::paid(krw(9_000))),
            c.at(t("2026-03-02T09:00:00Z"), EventKind::Login),
        ]
        .map(|e| LogRecord::Event(Box::new(e)));
        // every tenth customer's payment sits in the unpartitioned object
        for (i, record) in records.into_iter().enumerate() {
            let folder = if i == 0 && n % 10 == 0 {
                "log/2026/03/01/09/".to_string()
            } else {
                shard_folder(sample::shard(c.customer()))
            };
            by_folder.entry(folder).or_default().push(record.clone());
            all.push(record);
        }
    }
    for (folder, records) in &by_folder {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&write_records(records).unwrap()).unwrap();
        s3.put_object()
            .bucket(&bucket)
            .key(format!("{folder}journey-log-1"))
            .body(gz.finish().unwrap().into())
            .send()
            .await
            .unwrap();
    }
    let archive = S3Archive::new(s3, &bucket, Stack::sample_order());

    let (whole, sampled) = archive.export_log(SampleLimits::none()).await.unwrap();
    assert_eq!(
        sampled,
        Sampled {
            customers: 300,
            of_about: None,
            over_cap: 0,
        }
    );
    assert_eq!(whole.events.len(), 600);

    // a sample of 80 events: the 40 customers with the smallest keys, each with both events
    let (part, sampled) = archive.export_log(SampleLimits::events(80)).await.unwrap();
    let mut expected = Collector::new(SampleLimits::events(80), Stack::sample_order());
    for record in all {
        expected.add(record);
    }
    assert_eq!((part.clone(), sampled), expected.finish());
    assert_eq!(sampled.customers, 40);
    assert_eq!(part.events.len(), 80);
    let estimate = sampled.of_about.unwrap();
    assert!((150..600).contains(&estimate), "{estimate}");
}

/// The registry of the emulator's table, with the event log given in memory: a population
/// large enough to calibrate on would take the emulator minutes to write.
struct Recorded {
    store: DynamoStore,
    log: ExportedLog,
}

impl Recorded {
    /// The emulator's registry with a synthetic population as the recorded history.
    fn population(store: &DynamoStore, customers: usize, days: i64, seed: u64) -> Recorded {
        let p = generate(customers, days, seed);
        Recorded {
            store: store.clone(),
            log: ExportedLog {
                events: p.events,
                labels: p.labels,
            },
        }
    }
}

impl EventArchive for Recorded {
    async fn export_log(&self, limits: SampleLimits) -> Result<(ExportedLog, Sampled), StoreError> {
        let mut collector = Collector::new(limits, Stack::sample_order());
        let events = self.log.events.iter().cloned();
        for record in events.map(|e| LogRecord::Event(Box::new(e))) {
            collector.add(record);
        }
        for label in &self.log.labels {
            collector.add(LogRecord::Churn(label.clone()));
        }
        Ok(collector.finish())
    }
}

impl RulesRegistry for Recorded {
    async fn active_rules(
        &self,
    ) -> Result<Option<journey::rules_versions::ActiveRules>, StoreError> {
        self.store.active_rules().await
    }
    async fn rules_versions(&self) -> Result<Vec<RulesVersion>, StoreError> {
        self.store.rules_versions().await
    }
    async fn add_rules_version(
        &self,
        version: &RulesVersion,
        activate: bool,
        expected: Option<u32>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        self.store
            .add_rules_version(version, activate, expected, now)
            .await
    }
    async fn activate_rules(
        &self,
        number: u32,
        expected: Option<u32>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        self.store.activate_rules(number, expected, now).await
    }
}

/// An admin's approval through the API, as the dashboard's button sends it.
async fn approve(stack: &Stack, version: u32, key: &str) -> (u16, serde_json::Value) {
    use aws_lambda_events::encodings::Body;
    let api = api::Api::new(
        stack.store.clone(),
        journey_adapters::sqs::SqsEventQueue::new(stack.sqs.clone(), &stack.events_url),
        &[ADMIN_KEY.to_string(), READ_KEY.to_string()],
    );
    let mut request = aws_lambda_events::apigw::ApiGatewayV2httpRequest::default();
    request.raw_path = Some(format!("/rules/{version}/approve"));
    request.request_context.http.method = http::Method::POST;
    request.request_context.time_epoch = t("2026-05-05T09:00:00Z").timestamp_millis();
    request.headers.insert(
        http::HeaderName::from_static("x-api-key"),
        http::HeaderValue::from_str(key).unwrap(),
    );
    let response = api.handle(request).await;
    let body = match response.body {
        Some(Body::Text(t)) => serde_json::from_str(&t).unwrap_or_default(),
        _ => serde_json::Value::Null,
    };
    (response.status_code as u16, body)
}

const ADMIN_KEY: &str = "admin_rules-versions-test-key-0123456789abcdef";
const READ_KEY: &str = "read_rules-versions-test-key-0123456789abcdef";

/// A calibration within the weekly step is applied on its own; one beyond it waits for an
/// admin's approval (security review M4), which activates it as a new version naming them.
#[tokio::test]
async fn calibration_applies_a_better_version_refuses_one_that_is_not_and_rolls_back() {
    let stack = Stack::new().await;
    let store = stack.store.clone();
    // enough outcomes for weights, too few churners for a learned model: what is tested
    // here is the registry, and the weights alone calibrate in a fraction of the time
    let recorded = Recorded::population(&store, 240, 120, 7);
    let now = t("2026-05-04T03:00:00Z");
    let settings = Settings {
        min_outcomes: 50,
        ..Settings::default()
    };

    let first = calibrate(
        &recorded,
        &recorded,
        DEFAULT_RULES_TOML,
        &settings,
        now,
        false,
    )
    .await
    .unwrap();
    // the weights move further than max_step (10 points): held for an admin
    assert_eq!(
        (first.stored, first.applied),
        (Some(2), false),
        "{}",
        first.message
    );
    assert!(
        first.message.contains("waits for an admin's approval"),
        "{}",
        first.message
    );
    let versions = store.rules_versions().await.unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0].origin, Origin::Default);
    assert_eq!(versions[0].overlay, "");
    assert_eq!(versions[1].origin, Origin::Calibrated);
    assert!(matches!(
        versions[1].approval,
        Some(Approval::Awaiting {
            judged_against: Some(1),
            ..
        })
    ));
    assert_eq!(
        store.active_rules().await.unwrap().unwrap().version.number,
        1
    );
    // a read-only key may not approve; an admin's key may, once
    assert_eq!(approve(&stack, 2, READ_KEY).await.0, 403);
    assert_eq!(
        approve(&stack, 1, ADMIN_KEY).await.1["error"]["code"],
        "not_awaiting"
    );
    let (status, approved) = approve(&stack, 2, ADMIN_KEY).await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["number"], 3);
    assert_eq!(approved["approval"]["status"], "given");
    assert_eq!(approved["approval"]["of"], 2);
    assert!(
        approved["approval"]["by"]
            .as_str()
            .unwrap()
            .starts_with("key:")
    );
    let (status, again) = approve(&stack, 2, ADMIN_KEY).await;
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (409, Some("already_approved"))
    );
    let active = store.active_rules().await.unwrap().unwrap();
    assert_eq!(active.version.number, 3);
    assert_eq!(active.version.overlay, versions[1].overlay);
    assert!(
        active.version.metrics.is_some(),
        "stored with its holdout metrics"
    );

    // A warm transition worker takes the new version up at its next refresh.
    let handle = RulesHandle::new(Rules::embedded().unwrap());
    let live = LiveRules::new(
        store.clone(),
        DEFAULT_RULES_TOML.into(),
        StdDuration::ZERO,
        handle.clone(),
    );
    live.refresh().await.unwrap();
    let calibrated = active.version.rules(DEFAULT_RULES_TOML).unwrap();
    assert_eq!(*handle.get(), calibrated);
    assert_ne!(
        handle.get().default_policy().score.weights[&Signal::Inactivity],
        40.0,
        "the weights are the calibrated ones"
    );

    // The same history again: the proposal is no better than what is in force.
    let second = calibrate(
        &recorded,
        &recorded,
        DEFAULT_RULES_TOML,
        &settings,
        now + Duration::days(7),
        false,
    )
    .await
    .unwrap();
    assert_eq!(
        (second.stored, second.applied),
        (Some(4), false),
        "{}",
        second.message
    );
    assert!(
        second.message.starts_with("proposal refused"),
        "{}",
        second.message
    );
    assert_eq!(
        store.active_rules().await.unwrap().unwrap().version.number,
        3
    );

    // Roll back to the deployed file in one call; a stale caller cannot undo it.
    store.activate_rules(1, Some(3), now).await.unwrap();
    assert_eq!(
        store.active_rules().await.unwrap().unwrap().version.number,
        1
    );
    let stale = store.activate_rules(3, Some(3), now).await.unwrap_err();
    assert!(stale.to_string().contains("changed meanwhile"), "{stale}");
    live.refresh().await.unwrap();
    assert_eq!(*handle.get(), Rules::embedded().unwrap());
}

#[tokio::test]
async fn too_little_history_stores_nothing() {
    let store = fresh_store().await;
    let recorded = Recorded::population(&store, 60, 90, 3);
    let report = calibrate(
        &recorded,
        &recorded,
        DEFAULT_RULES_TOML,
        &Settings::default(),
        t("2026-04-01T00:00:00Z"),
        false,
    )
    .await
    .unwrap();
    assert!(
        report.message.contains("too little history"),
        "{}",
        report.message
    );
    assert_eq!(report.stored, None);
    assert!(store.rules_versions().await.unwrap().is_empty());
    assert!(store.active_rules().await.unwrap().is_none());
}

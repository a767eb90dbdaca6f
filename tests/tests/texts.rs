//! The text sender on the emulator's table (the real DynamoDB ledger) through the real Solapi
//! adapter, over HTTP, against the local Solapi stand-in (`journey_local::texts`): the
//! signature it makes is accepted and never reused, each scripted number ends as the provider
//! would end it, and every send id reaches the provider once; the delivery reports it posts
//! back go through ingest's `/webhooks/solapi` and the transition worker to the customer's
//! record, the send records (the channel that delivered, its cost) and the monthly counts.

use std::sync::{Arc, Mutex};

use axum::routing::post;
use journey::domain::text::{Block, TextChannel, TextReport, TextStatus};
use journey::domain::{Channel, Effect, EventKind, Intervention};
use journey::ports::{
    Claim, CustomerStore, JourneyReader, PendingTexts, SendLedger, SendStatus, TextOwners,
};
use journey::service::apply_once;
use journey::testing::{Events, MemoryQueue, RecordedDelays, TestClock, delivery, krw, t};
use journey_adapters::dynamodb::DynamoStore;
use journey_adapters::text::solapi::{self, SolapiProvider};
use journey_local::texts::{self as standin, SolapiConfig, SolapiStandIn};
use text_sender::{Config, Ports, TextSender};

const KEY: &str = "NCSTESTKEY0000001";
const SECRET: &str = "stand-in-secret-0123456789abcdef";

/// A webhook that keeps every report body and answers 200.
async fn receiver() -> (String, Arc<Mutex<Vec<Vec<u8>>>>) {
    let bodies: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let kept = Arc::clone(&bodies);
    let app = axum::Router::new().route(
        "/reports",
        post(move |body: axum::body::Bytes| {
            let kept = Arc::clone(&kept);
            async move {
                kept.lock().unwrap().push(body.to_vec());
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/reports", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, bodies)
}

fn config() -> Config {
    let mut config = Config::new("table", "events", "texts", "0212345678");
    config.settings.rate_per_second = 0.0;
    config.rules_text = journey::domain::rules::DEFAULT_RULES_TOML.replace(
        "[interventions.payment_failed]\n",
        "[interventions.payment_failed]\ntext = \"billing_failed\"\n",
    );
    config
}

type Sender = TextSender<DynamoStore, SolapiProvider, MemoryQueue, RecordedDelays, TestClock>;

async fn sender(base_url: &str, store: DynamoStore) -> Sender {
    let provider = SolapiProvider::new(KEY, SECRET, std::time::Duration::from_secs(5))
        .unwrap()
        .with_base_url(base_url);
    let ports = Ports {
        store,
        provider,
        reports: MemoryQueue::default(),
        redelivery: RecordedDelays::default(),
        clock: TestClock::at(t("2026-11-02T02:00:30Z")),
    };
    text_sender::assemble(&config(), ports).unwrap()
}

/// `customer`'s payment fails: the notice's text, planned in the sender's store.
async fn notice(sender: &Sender, customer: &str, phone: &str) -> Intervention {
    let rules = config().rules().unwrap();
    let mut events = Events::new(customer);
    let mut paid = events.at(
        t("2026-11-02T01:00:00Z"),
        EventKind::PaymentSucceeded {
            amount: krw(99_000),
            renews_at: None,
        },
    );
    paid.profile.phone = Some(journey::domain::text::e164(phone, Some("82")).unwrap());
    apply_once(&sender.store, &rules, &paid, paid.occurred_at)
        .await
        .unwrap();
    let failed = events.at(
        t("2026-11-02T02:00:00Z"),
        EventKind::PaymentFailed {
            amount: Some(krw(99_000)),
        },
    );
    apply_once(&sender.store, &rules, &failed, failed.occurred_at)
        .await
        .unwrap()
        .effects()
        .iter()
        .find_map(|e| match e {
            Effect::Send(i) if i.channel == Channel::Text => Some(i.clone()),
            _ => None,
        })
        .unwrap()
}

async fn recorded(sender: &Sender, intervention: &Intervention) -> Claim {
    sender
        .store
        .claim(
            intervention,
            t("2026-11-03T00:00:00Z"),
            chrono::Duration::minutes(1),
        )
        .await
        .unwrap()
}

/// The reports the stand-in posted, as the journey reads them, by send id.
fn reports(bodies: &Mutex<Vec<Vec<u8>>>) -> Vec<TextReport> {
    bodies
        .lock()
        .unwrap()
        .iter()
        .flat_map(|b| solapi::reports(b).unwrap())
        .map(Result::unwrap)
        .collect()
}

#[tokio::test]
async fn every_scripted_number_ends_as_the_provider_ends_it_and_each_send_goes_once() {
    let (webhook, bodies) = receiver().await;
    let standin =
        SolapiStandIn::new(SolapiConfig::new(KEY, SECRET).with_report_url(webhook)).unwrap();
    let base = standin.serve().await.unwrap();
    let stack = journey_tests::stack::Stack::new().await;
    let sender = sender(&base, stack.store.clone()).await;

    let numbers = [
        ("kakao", "01012345678"),
        ("no-kakao", standin::NOT_KAKAO_USER),
        ("busy", standin::UNAVAILABLE_ONCE),
        ("blocked", standin::BLOCKED),
        ("twice", standin::REPORTED_TWICE),
        ("silent", standin::NEVER_REPORTED),
    ];
    let mut notices = Vec::new();
    for (customer, number) in numbers {
        let n = notice(&sender, customer, number).await;
        // each delivered three times, as SQS may: the 503 is retried, nothing else is
        for receives in 1..=3 {
            sender.handle_batch(delivery(&n, receives)).await;
        }
        assert_eq!(
            recorded(&sender, &n).await,
            Claim::Done(SendStatus::Sent),
            "{customer}"
        );
        notices.push((customer, n));
    }
    let per_id = standin.sends_per_id();
    for (customer, n) in &notices {
        assert_eq!(
            per_id.get(n.id.as_str()),
            Some(&1),
            "{customer}: {per_id:?}"
        );
    }
    // every request signed afresh: the stand-in refuses a reused signature, and none was
    assert_eq!(standin.received().len(), notices.len());

    standin.deliver_reports().await;
    let reports = reports(&bodies);
    let of = |customer: &str| -> Vec<&TextReport> {
        let id = notices
            .iter()
            .find(|(c, _)| *c == customer)
            .unwrap()
            .1
            .id
            .as_str();
        reports.iter().filter(|r| r.send_id == id).collect()
    };
    assert_eq!(
        of("kakao")[0].status,
        TextStatus::Delivered {
            via: TextChannel::Alimtalk
        }
    );
    // not on KakaoTalk: the provider's own fallback delivered it, as one SMS (it fits 90 bytes)
    assert_eq!(
        of("no-kakao")[0].status,
        TextStatus::Delivered {
            via: TextChannel::Sms
        }
    );
    assert_eq!(of("busy").len(), 1);
    assert!(matches!(
        of("blocked")[0].status,
        TextStatus::Failed {
            block: Some(Block::NotKakaoUser),
            ..
        }
    ));
    // the same report twice: the same event, for the receiver to deduplicate
    let twice = of("twice");
    assert_eq!(twice.len(), 2);
    assert_eq!(twice[0], twice[1]);
    assert!(of("silent").is_empty(), "never reported");

    // the reports as Solapi posts them to ingest, applied by the single writer: the blocked
    // number is suppressed on 알림톡 once, in its history; a delivery changes no state, and
    // each final report is noted on its send record and counted once for its month
    let token = "tok_0123456789abcdef0123456789abcdef";
    let ingest = ingest::Ingest::new(
        MemoryQueue::default(),
        ingest::WebhookKeys::default().with_solapi_token(token),
    );
    let posted: Vec<Vec<u8>> = bodies.lock().unwrap().clone();
    for body in posted {
        let response = ingest.handle(solapi_post(token, &body)).await;
        assert_eq!(response.status_code, 200);
    }
    let worker = stack.worker();
    for message in ingest.queue().taken() {
        let response = worker
            .handle_batch(journey_tests::stack::sqs_event(&[message]))
            .await;
        assert!(response.batch_item_failures.is_empty(), "{response:?}");
    }
    let text_of = |customer: &str| {
        let (store, id) = (stack.store.clone(), customer.to_string());
        async move {
            let id = journey::domain::CustomerId::new(id).unwrap();
            let sends = store.sends(&id).await.unwrap();
            sends.into_iter().find_map(|s| s.text)
        }
    };
    let kakao = text_of("kakao").await.expect("a final report noted");
    assert_eq!((kakao.via.as_str(), kakao.fallback), ("alimtalk", false));
    let prices = journey::domain::text::TextPrices::default();
    assert_eq!(kakao.cost_krw, prices.alimtalk);
    let fell_back = text_of("no-kakao").await.unwrap();
    assert_eq!((fell_back.via.as_str(), fell_back.fallback), ("sms", true));
    assert_eq!(fell_back.cost_krw, prices.sms);
    let blocked_text = text_of("blocked").await.unwrap();
    assert_eq!(
        (blocked_text.via.as_str(), blocked_text.cost_krw),
        ("failed", 0)
    );
    assert!(text_of("silent").await.is_none(), "no final report yet");
    let tallies = stack.store.tallies().await.unwrap();
    let row = tallies
        .iter()
        .find(|t| t.template == journey::domain::TEXTS)
        .unwrap();
    let months = journey::domain::text::text_months(&row.by_month);
    assert_eq!(months.len(), 1, "{months:?}");
    let month = &months[0];
    // kakao, busy and twice (its second report the same event) by 알림톡; no-kakao by SMS
    assert_eq!(
        (
            month.alimtalk,
            month.sms,
            month.lms,
            month.failed,
            month.fell_back
        ),
        (3, 1, 0, 1, 1),
        "{month:?}"
    );
    assert_eq!(month.cost_krw, 3 * prices.alimtalk + prices.sms);

    // the reconciler on the table: the reported texts' polls ended with their reports; the
    // silent one is polled (the stand-in says 3000, in flight) until 72 h have passed, then
    // recorded expired through the worker
    let silent = &notices.iter().find(|(c, _)| *c == "silent").unwrap().1;
    let pending = stack
        .store
        .due_texts(t("2026-11-09T00:00:00Z"), 100)
        .await
        .unwrap();
    let ids: Vec<&str> = pending.iter().map(|p| p.send_id.as_str()).collect();
    assert_eq!(
        ids,
        vec![silent.id.as_str()],
        "only the unreported text awaits a poll"
    );
    // whose a text is, for reports naming only the send id (NHN's): known while it waits
    let owner = stack.store.text_owner(silent.id.as_str()).await.unwrap();
    assert_eq!(owner.as_ref().map(|c| c.as_str()), Some("silent"));
    let kakao = &notices.iter().find(|(c, _)| *c == "kakao").unwrap().1;
    assert_eq!(
        stack.store.text_owner(kakao.id.as_str()).await.unwrap(),
        None
    );
    sender.clock.set(t("2026-11-02T02:31:00Z"));
    let run = sender.reconcile().await.unwrap();
    assert_eq!((run.polled, run.reported, run.failed), (1, 0, 0), "{run:?}");
    sender.clock.set(t("2026-11-05T03:00:00Z"));
    let run = sender.reconcile().await.unwrap();
    assert_eq!(run.expired, 1, "{run:?}");
    for message in sender.reports.taken() {
        if matches!(message.event.kind, EventKind::TextReported { .. }) {
            let response = worker
                .handle_batch(journey_tests::stack::sqs_event(&[message]))
                .await;
            assert!(response.batch_item_failures.is_empty(), "{response:?}");
        }
    }
    let expired = text_of("silent").await.expect("the expiry noted");
    assert_eq!((expired.via.as_str(), expired.cost_krw), ("expired", 0));
    assert!(
        stack
            .store
            .due_texts(t("2026-11-09T00:00:00Z"), 100)
            .await
            .unwrap()
            .is_empty()
    );
    let blocked = sender
        .store
        .load(&journey::domain::CustomerId::new("blocked").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        blocked.profile.text_blocks[&TextChannel::Alimtalk].block,
        Block::NotKakaoUser
    );
    let delivered = sender
        .store
        .load(&journey::domain::CustomerId::new("kakao").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(delivered.profile.text_blocks.is_empty());
}

/// Solapi's report POST to `/webhooks/solapi?token=…`, as API Gateway hands it over.
fn solapi_post(token: &str, body: &[u8]) -> aws_lambda_events::apigw::ApiGatewayV2httpRequest {
    let mut r = aws_lambda_events::apigw::ApiGatewayV2httpRequest::default();
    r.raw_path = Some("/webhooks/solapi".into());
    r.raw_query_string = Some(format!("token={token}"));
    r.request_context.http.method = http::Method::POST;
    r.request_context.time_epoch = t("2026-11-02T03:00:00Z").timestamp_millis();
    r.headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r.body = Some(String::from_utf8(body.to_vec()).unwrap());
    r
}

//! The senders against the emulator: e-mails read back from its SES (one per intervention, even
//! when the queue redelivers), headers and tags as sent, unsubscribes and suppressions skipped
//! and recorded, throttling retried with back-off, rejections recorded and not retried, quiet
//! hours in two time zones; Slack alerts against a scripted local sink (200, 429 with
//! Retry-After, 500, 404, 410).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use chrono::{DateTime, Duration, Utc};
use email_sender::EmailSender;
use journey::domain::event::{EventKind, Owner};
use journey::domain::{Channel, Intervention};
use journey::messages::EventMessage;
use journey::ports::{
    CustomerStore, JourneyReader, MailError, Mailer, OutgoingEmail, TemplateTally,
};
use journey::testing::{Events, RecordedDelays, TestClock, customer_id, krw, t};
use journey_adapters::dynamodb::DynamoStore;
use journey_adapters::ses::SesMailer;
use journey_adapters::slack::SlackWebhook;
use journey_adapters::sqs::SqsEventQueue;
use journey_local::faults::{Fault, Faults};
use journey_tests::stack::{Stack, intervention_event};
use journey_tests::{emulator_url, sdk_config, unique};
use serde_json::Value;
use slack_sender::SlackSender;

const FROM: &str = "journey@example.com";

/// Captures the SES request bodies, to check what moto does not keep (headers, tags).
#[derive(Clone, Debug, Default)]
struct Capture(Arc<Mutex<Vec<String>>>);

impl Intercept for Capture {
    fn name(&self) -> &'static str {
        "capture"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _config: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(bytes) = context.request().body().bytes() {
            self.0
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(bytes).to_string());
        }
        Ok(())
    }
}

async fn ses(capture: &Capture) -> aws_sdk_sesv2::Client {
    let config = sdk_config().await;
    let client = aws_sdk_sesv2::Client::new(&config);
    let _ = client
        .create_email_identity()
        .email_identity(FROM)
        .send()
        .await;
    aws_sdk_sesv2::Client::from_conf(
        journey_adapters::aws::ses_config(&config)
            .interceptor(capture.clone())
            .build(),
    )
}

/// The production SES client (no SDK retries) with `faults` on it.
async fn faulty_ses(faults: &Faults) -> aws_sdk_sesv2::Client {
    let config = sdk_config().await;
    let _ = ses(&Capture::default()).await; // the sender identity
    aws_sdk_sesv2::Client::from_conf(
        journey_adapters::aws::ses_config(&config)
            .interceptor(faults.clone())
            .build(),
    )
}

/// The stack's table through a client with `faults` on it.
async fn faulty_store(stack: &Stack, faults: &Faults) -> DynamoStore {
    let config = sdk_config().await;
    let client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&config)
            .interceptor(faults.clone())
            .build(),
    );
    DynamoStore::new(client, stack.store.table())
}

type Email<M> = EmailSender<DynamoStore, M, SqsEventQueue, RecordedDelays, TestClock>;

/// The sender as `email_sender::build` makes it, on this stack's store and queue and the
/// given mailer and clock.
fn email_sender<M: Mailer>(stack: &Stack, mailer: M, clock: &TestClock, from: &str) -> Email<M> {
    let mut config = email_sender::Config::new(
        stack.store.table(),
        &stack.events_url,
        &stack.email_url,
        from,
        "https://api.example.com",
    );
    config.settings.brand = "소리튠".into();
    config.settings.dashboard_url = "https://dash.example.com".into();
    let ports = email_sender::Ports {
        store: stack.store.clone(),
        mailer,
        reports: SqsEventQueue::new(stack.sqs.clone(), &stack.events_url),
        redelivery: RecordedDelays::default(),
        clock: clock.clone(),
    };
    email_sender::assemble(&config, ports, "test-generated-unsubscribe-secret").unwrap()
}

/// A customer who just paid; returns the welcome e-mail planned for them.
async fn paying_customer(
    stack: &Stack,
    id: &str,
    email: &str,
    zone: &str,
    at: DateTime<Utc>,
) -> Intervention {
    let mut events = Events::new(id);
    let mut pay = events.at(
        at,
        EventKind::PaymentSucceeded {
            amount: krw(99_000),
            renews_at: None,
        },
    );
    pay.profile.email = Some(email.into());
    pay.profile.locale = Some("ko".into());
    pay.profile.time_zone = Some(zone.into());
    stack
        .apply(&[EventMessage {
            received_at: at,
            event: pay,
        }])
        .await;
    let sent = stack.sent().await;
    sent.into_iter()
        .find(|i| i.customer_id.as_str() == id && i.template == "welcome_setup_guide")
        .expect("the welcome e-mail is planned")
}

/// E-mails moto's SES received for `address`. Moto builds `data.json` from every service's
/// state without a lock, so a concurrent test's write can break one answer: ask again.
async fn inbox(address: &str) -> Vec<Value> {
    let url = format!("{}/moto-api/data.json", emulator_url());
    let mut data = Value::Null;
    for _ in 0..10 {
        if let Ok(response) = reqwest::get(&url).await
            && let Ok(value) = response.json::<Value>().await
        {
            data = value;
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(200)).await;
    }
    assert!(data.is_object(), "moto's data.json never answered");
    data["ses"]["Message"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|m| {
            m["destinations"]["ToAddresses"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == address))
        })
        .collect()
}

async fn tally(stack: &Stack, template: &str) -> TemplateTally {
    let worker = stack.worker();
    stack.settle(&worker).await; // the senders' reports
    stack
        .store
        .tallies()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.template == template)
        .unwrap_or_default()
}

#[tokio::test]
async fn an_email_is_sent_once_with_its_headers_and_tag_even_when_redelivered() {
    let stack = Stack::new().await;
    let capture = Capture::default();
    let now = t("2026-11-02T01:00:00Z"); // 10:00 in Seoul
    let clock = TestClock::at(now);
    let address = format!("{}@example.com", unique("kim"));
    let welcome = paying_customer(&stack, "mail-1", &address, "Asia/Seoul", now).await;
    let sender = email_sender(
        &stack,
        SesMailer::new(ses(&capture).await, Some("journey-test".into()), false),
        &clock,
        FROM,
    );

    for receives in 1..=3 {
        let response = sender
            .handle_batch(intervention_event(std::slice::from_ref(&welcome), receives))
            .await;
        assert!(response.batch_item_failures.is_empty());
    }
    let received = inbox(&address).await;
    assert_eq!(received.len(), 1, "one e-mail for three deliveries");
    assert_eq!(received[0]["source"], FROM);
    assert!(
        received[0]["subject"].as_str().unwrap().contains("3단계"),
        "{}",
        received[0]["subject"]
    );
    assert!(
        received[0]["body"]
            .as_str()
            .unwrap()
            .contains("https://app.example.com")
    );

    let requests: Vec<Value> = capture
        .0
        .lock()
        .unwrap()
        .iter()
        .filter_map(|b| serde_json::from_str(b).ok())
        .collect();
    let send = requests
        .iter()
        .find(|r| r["Content"]["Simple"].is_object())
        .expect("a SendEmail request");
    let headers = send["Content"]["Simple"]["Headers"].as_array().unwrap();
    let header = |name: &str| {
        headers
            .iter()
            .find(|h| h["Name"] == name)
            .map(|h| h["Value"].as_str().unwrap().to_string())
    };
    assert!(
        header("List-Unsubscribe")
            .unwrap()
            .starts_with("<https://api.example.com/unsubscribe?c=mail-1&t=")
    );
    assert_eq!(
        header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let tags = send["EmailTags"].as_array().unwrap();
    assert!(
        tags.iter()
            .any(|t| t["Name"] == "intervention_id" && t["Value"] == welcome.id.as_str())
    );
    assert_eq!(send["ConfigurationSetName"], "journey-test");
    assert_eq!(
        tally(&stack, "welcome_setup_guide").await.sent,
        1,
        "the report counted once"
    );
}

#[tokio::test]
async fn unsubscribed_customers_get_no_marketing_email_and_the_skip_is_recorded() {
    let stack = Stack::new().await;
    let now = t("2026-11-02T01:00:00Z");
    let clock = TestClock::at(now);
    let address = format!("{}@example.com", unique("lee"));
    let welcome = paying_customer(&stack, "mail-2", &address, "Asia/Seoul", now).await;
    stack
        .apply(&[EventMessage {
            received_at: now,
            event: journey::domain::Event::unsubscribed(customer_id("mail-2"), now),
        }])
        .await;
    let sender = email_sender(
        &stack,
        SesMailer::new(ses(&Capture::default()).await, None, false),
        &clock,
        FROM,
    );
    let response = sender.handle_batch(intervention_event(&[welcome], 1)).await;
    assert!(response.batch_item_failures.is_empty());
    assert!(inbox(&address).await.is_empty());
    let t = tally(&stack, "welcome_setup_guide").await;
    assert_eq!((t.sent, t.skipped), (0, 1));
}

/// A mailer that throttles, suppresses or passes through, as scripted.
struct Scripted<M> {
    inner: M,
    throttle: AtomicU32,
    suppressed: Option<String>,
}

impl<M: Mailer> Mailer for Scripted<M> {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError> {
        if self.throttle.load(Ordering::SeqCst) > 0 {
            self.throttle.fetch_sub(1, Ordering::SeqCst);
            return Err(MailError::Throttled(
                "TooManyRequestsException: Maximum sending rate exceeded.".into(),
            ));
        }
        self.inner.send(email).await
    }

    async fn is_suppressed(&self, address: &str) -> Result<bool, MailError> {
        Ok(self.suppressed.as_deref() == Some(address))
    }
}

#[tokio::test]
async fn throttling_is_retried_later_with_back_off_and_still_sends_once() {
    let stack = Stack::new().await;
    let now = t("2026-11-02T01:00:00Z");
    let clock = TestClock::at(now);
    let address = format!("{}@example.com", unique("park"));
    let welcome = paying_customer(&stack, "mail-3", &address, "Asia/Seoul", now).await;
    let mailer = Scripted {
        inner: SesMailer::new(ses(&Capture::default()).await, None, false),
        throttle: AtomicU32::new(1),
        suppressed: None,
    };
    let sender = email_sender(&stack, mailer, &clock, FROM);
    let first = sender
        .handle_batch(intervention_event(std::slice::from_ref(&welcome), 1))
        .await;
    assert_eq!(
        first.batch_item_failures.len(),
        1,
        "handed back to the queue"
    );
    let delays = sender.redelivery.0.lock().unwrap().clone();
    assert_eq!(delays.len(), 1, "held back, not hot-looped");
    assert!(
        delays[0] <= StdDuration::from_secs(30),
        "full jitter under 30 s"
    );
    clock.set(now + Duration::seconds(30));
    let second = sender
        .handle_batch(intervention_event(std::slice::from_ref(&welcome), 2))
        .await;
    assert!(second.batch_item_failures.is_empty());
    assert_eq!(inbox(&address).await.len(), 1);
}

#[tokio::test]
async fn suppressed_addresses_are_skipped() {
    let stack = Stack::new().await;
    let now = t("2026-11-02T01:00:00Z");
    let address = format!("{}@example.com", unique("bounced"));
    let welcome = paying_customer(&stack, "mail-4", &address, "Asia/Seoul", now).await;
    let mailer = Scripted {
        inner: SesMailer::new(ses(&Capture::default()).await, None, false),
        throttle: AtomicU32::new(0),
        suppressed: Some(address.clone()),
    };
    let sender = email_sender(&stack, mailer, &TestClock::at(now), FROM);
    assert!(
        sender
            .handle_batch(intervention_event(&[welcome], 1))
            .await
            .batch_item_failures
            .is_empty()
    );
    assert!(inbox(&address).await.is_empty());
    assert_eq!(tally(&stack, "welcome_setup_guide").await.skipped, 1);
}

#[tokio::test]
async fn a_permanent_rejection_is_recorded_and_not_retried() {
    let stack = Stack::new().await;
    let now = t("2026-11-02T01:00:00Z");
    let address = format!("{}@example.com", unique("choi"));
    let welcome = paying_customer(&stack, "mail-5", &address, "Asia/Seoul", now).await;
    // an unverified sender: SES answers MessageRejected
    let sender = email_sender(
        &stack,
        SesMailer::new(ses(&Capture::default()).await, None, false),
        &TestClock::at(now),
        "unverified@nowhere.example",
    );
    let response = sender
        .handle_batch(intervention_event(std::slice::from_ref(&welcome), 1))
        .await;
    assert!(
        response.batch_item_failures.is_empty(),
        "acknowledged: retrying cannot help"
    );
    let again = sender.handle_batch(intervention_event(&[welcome], 2)).await;
    assert!(again.batch_item_failures.is_empty());
    assert!(inbox(&address).await.is_empty());
    assert_eq!(
        tally(&stack, "welcome_setup_guide").await.failed,
        1,
        "recorded once"
    );
}

#[tokio::test]
async fn quiet_hours_defer_by_the_customers_own_time_zone_through_the_due_index() {
    let stack = Stack::new().await;
    let now = t("2026-11-02T13:30:00Z"); // 22:30 in Seoul, 08:30 in New York
    let clock = TestClock::at(now);
    let seoul = format!("{}@example.com", unique("seoul"));
    let new_york = format!("{}@example.com", unique("ny"));
    let welcome_seoul = paying_customer(&stack, "mail-seoul", &seoul, "Asia/Seoul", now).await;
    let welcome_ny = paying_customer(&stack, "mail-ny", &new_york, "America/New_York", now).await;
    let sender = email_sender(
        &stack,
        SesMailer::new(ses(&Capture::default()).await, None, false),
        &clock,
        FROM,
    );
    let response = sender
        .handle_batch(intervention_event(&[welcome_seoul.clone(), welcome_ny], 1))
        .await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(inbox(&new_york).await.len(), 1, "08:30 in New York: sent");
    assert!(inbox(&seoul).await.is_empty(), "22:30 in Seoul: deferred");

    // the deferral reaches the customer's schedule, and the due index brings it back at 08:00
    stack.settle(&stack.worker()).await;
    let customer = stack
        .store
        .load(&customer_id("mail-seoul"))
        .await
        .unwrap()
        .unwrap();
    let morning = t("2026-11-02T23:00:00Z");
    assert_eq!(customer.next_check_at, Some(morning));
    let report = stack
        .sweep()
        .run(
            morning,
            std::time::Instant::now() + StdDuration::from_secs(30),
        )
        .await
        .unwrap();
    assert_eq!(report.checks_emitted, 1);
    stack.settle(&stack.worker()).await;
    let resent: Vec<Intervention> = stack
        .sent()
        .await
        .into_iter()
        .filter(|i| i.customer_id.as_str() == "mail-seoul")
        .collect();
    assert_eq!(
        resent,
        vec![welcome_seoul.clone()],
        "the same message, the same id"
    );
    clock.set(morning);
    assert!(
        sender
            .handle_batch(intervention_event(&resent, 1))
            .await
            .batch_item_failures
            .is_empty()
    );
    assert_eq!(inbox(&seoul).await.len(), 1, "sent at 08:00 in Seoul");
}

/// A customer in danger with an owner; returns the staff alerts planned (Slack + owner e-mail).
async fn customer_in_danger(stack: &Stack, id: &str, owner_email: &str) -> Vec<Intervention> {
    let mut events = Events::new(id);
    let start = t("2026-11-01T01:00:00Z");
    let mut pay = events.at(
        start,
        EventKind::PaymentSucceeded {
            amount: krw(374_000),
            renews_at: None,
        },
    );
    pay.profile.email = Some(format!("{id}@example.com"));
    pay.profile.owner = Some(Owner {
        id: "tutor-7".into(),
        name: Some("박서연".into()),
        email: Some(owner_email.into()),
        slack_id: Some("U0TUTOR7".into()),
    });
    let mut messages = vec![EventMessage {
        received_at: start,
        event: pay,
    }];
    for days in [7, 10, 14] {
        let at = start + Duration::days(days);
        messages.push(EventMessage {
            received_at: at,
            event: events.check(at),
        });
    }
    stack.apply(&messages).await;
    stack
        .sent()
        .await
        .into_iter()
        .filter(|i| i.customer_id.as_str() == id && i.template == "danger_alert")
        .collect()
}

#[tokio::test]
async fn the_owner_gets_the_danger_alert_by_email_too() {
    let stack = Stack::new().await;
    let owner = format!("{}@example.com", unique("tutor"));
    let alerts = customer_in_danger(&stack, "danger-1", &owner).await;
    let by_email: Vec<Intervention> = alerts
        .into_iter()
        .filter(|i| i.channel == Channel::OwnerEmail)
        .collect();
    assert_eq!(by_email.len(), 1);
    let now = t("2026-11-15T02:00:00Z");
    let sender = email_sender(
        &stack,
        SesMailer::new(ses(&Capture::default()).await, None, false),
        &TestClock::at(now),
        FROM,
    );
    assert!(
        sender
            .handle_batch(intervention_event(&by_email, 1))
            .await
            .batch_item_failures
            .is_empty()
    );
    let received = inbox(&owner).await;
    assert_eq!(received.len(), 1);
    let subject = received[0]["subject"].as_str().unwrap();
    assert!(
        subject.contains("danger-1") && subject.contains("위험"),
        "{subject}"
    );
    assert!(received[0]["body"].as_str().unwrap().contains("₩374,000"));
}

// ---- unknown outcomes and crashes -----------------------------------------------------

#[tokio::test]
async fn a_lost_ses_answer_is_recorded_unknown_and_never_sent_again() {
    let stack = Stack::new().await;
    let now = t("2026-11-02T01:00:00Z");
    let address = format!("{}@example.com", unique("lost"));
    let welcome = paying_customer(&stack, "lost-1", &address, "Asia/Seoul", now).await;
    let faults = Faults::new();
    faults.script("SendEmail", [Fault::AnswerLost]);
    let mailer = SesMailer::new(faulty_ses(&faults).await, None, false);
    let sender = email_sender(&stack, mailer, &TestClock::at(now), FROM);
    for receives in 1..=3 {
        let response = sender
            .handle_batch(intervention_event(std::slice::from_ref(&welcome), receives))
            .await;
        assert!(
            response.batch_item_failures.is_empty(),
            "settled as unknown"
        );
    }
    assert_eq!(faults.injected(), 1);
    assert_eq!(
        inbox(&address).await.len(),
        1,
        "SES accepted the one request; nothing repeated it"
    );
    let t = tally(&stack, "welcome_setup_guide").await;
    assert_eq!(
        (t.sent, t.unknown),
        (0, 1),
        "counted as unknown, once: {t:?}"
    );
}

/// The billing notice planned for a customer whose payment failed.
async fn billing_notice(stack: &Stack, id: &str, email: &str, at: DateTime<Utc>) -> Intervention {
    let mut events = Events::new(id);
    let mut pay = events.at(
        at,
        EventKind::PaymentSucceeded {
            amount: krw(99_000),
            renews_at: None,
        },
    );
    pay.profile.email = Some(email.into());
    let failed = events.at(
        at + Duration::minutes(5),
        EventKind::PaymentFailed {
            amount: Some(krw(99_000)),
        },
    );
    let messages: Vec<EventMessage> = [pay, failed]
        .into_iter()
        .map(|event| EventMessage {
            received_at: event.occurred_at,
            event,
        })
        .collect();
    stack.apply(&messages).await;
    stack
        .sent()
        .await
        .into_iter()
        .find(|i| i.customer_id.as_str() == id && i.template == "billing_failed")
        .expect("the billing notice is planned")
}

#[tokio::test]
async fn a_billing_notice_whose_answer_was_lost_is_sent_once_more_as_the_rules_say() {
    let stack = Stack::new().await;
    let now = t("2026-11-02T01:00:00Z");
    let address = format!("{}@example.com", unique("billing"));
    let notice = billing_notice(&stack, "billing-1", &address, now).await;
    assert_eq!(notice.if_unknown, journey::domain::IfUnknown::RetryOnce);
    let faults = Faults::new();
    faults.script("SendEmail", [Fault::AnswerLost, Fault::AnswerLost]);
    let mailer = SesMailer::new(faulty_ses(&faults).await, None, false);
    let sender = email_sender(&stack, mailer, &TestClock::at(now), FROM);
    let first = sender
        .handle_batch(intervention_event(std::slice::from_ref(&notice), 1))
        .await;
    assert_eq!(
        first.batch_item_failures.len(),
        1,
        "held back for one more try"
    );
    for receives in 2..=4 {
        let response = sender
            .handle_batch(intervention_event(std::slice::from_ref(&notice), receives))
            .await;
        assert!(response.batch_item_failures.is_empty());
    }
    assert_eq!(
        inbox(&address).await.len(),
        2,
        "at least once: the second try went out, and no third"
    );
    assert_eq!(tally(&stack, "billing_failed").await.unknown, 1);
}

#[tokio::test]
async fn a_sender_that_dies_after_ses_accepted_is_not_repeated_by_the_redelivery() {
    let stack = Stack::new().await;
    let now = t("2026-11-02T01:00:00Z");
    let clock = TestClock::at(now);
    let address = format!("{}@example.com", unique("crash"));
    let welcome = paying_customer(&stack, "crash-1", &address, "Asia/Seoul", now).await;
    // the claim is written, SES accepts, then the store refuses every record of the outcome
    let faults = Faults::new();
    faults.script(
        "UpdateItem",
        [Fault::Pass, Fault::Refused, Fault::Refused, Fault::Refused],
    );
    let mut dying = email_sender(
        &stack,
        SesMailer::new(ses(&Capture::default()).await, None, false),
        &clock,
        FROM,
    );
    dying.store = faulty_store(&stack, &faults).await;
    let first = dying
        .handle_batch(intervention_event(std::slice::from_ref(&welcome), 1))
        .await;
    assert_eq!(first.batch_item_failures.len(), 1);
    assert_eq!(inbox(&address).await.len(), 1);

    let sender = email_sender(
        &stack,
        SesMailer::new(ses(&Capture::default()).await, None, false),
        &clock,
        FROM,
    );
    // a redelivery while the lease may still be held waits
    clock.set(now + Duration::seconds(30));
    let busy = sender
        .handle_batch(intervention_event(std::slice::from_ref(&welcome), 2))
        .await;
    assert_eq!(busy.batch_item_failures.len(), 1, "the lease is live");
    // after the lease (longer than any sender runs) its holder is dead: unknown, not resent
    clock.set(now + journey::sending::LEASE + Duration::seconds(1));
    for receives in 3..=4 {
        let response = sender
            .handle_batch(intervention_event(std::slice::from_ref(&welcome), receives))
            .await;
        assert!(response.batch_item_failures.is_empty());
    }
    assert_eq!(inbox(&address).await.len(), 1, "sent once");
    let t = tally(&stack, "welcome_setup_guide").await;
    assert_eq!((t.sent, t.unknown), (0, 1));
}

#[tokio::test]
async fn a_claim_whose_answer_was_lost_is_still_ours_after_the_sdk_retries_it() {
    let stack = Stack::new().await;
    let now = t("2026-11-02T01:00:00Z");
    let address = format!("{}@example.com", unique("claim"));
    let welcome = paying_customer(&stack, "claim-1", &address, "Asia/Seoul", now).await;
    let faults = Faults::new();
    faults.script("UpdateItem", [Fault::AnswerLost]);
    let mut sender = email_sender(
        &stack,
        SesMailer::new(ses(&Capture::default()).await, None, false),
        &TestClock::at(now),
        FROM,
    );
    sender.store = faulty_store(&stack, &faults).await;
    let response = sender
        .handle_batch(intervention_event(std::slice::from_ref(&welcome), 1))
        .await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(faults.injected(), 1);
    assert_eq!(inbox(&address).await.len(), 1);
    assert_eq!(tally(&stack, "welcome_setup_guide").await.sent, 1);
}

// ---- Slack ------------------------------------------------------------------------------

/// One scripted answer: status, `Retry-After`, body.
type Answer = (u16, Option<&'static str>, &'static str);

/// A body that makes the sink answer after 2 s, past a short client timeout.
const SLOW: &str = "ok after a while";

/// A local stand-in for Slack's incoming webhook, answering as scripted and keeping what it got.
#[derive(Clone, Default)]
struct Sink {
    script: Arc<Mutex<VecDeque<Answer>>>,
    received: Arc<Mutex<Vec<Value>>>,
}

impl Sink {
    async fn start(script: Vec<Answer>) -> (Sink, String) {
        use axum::http::{HeaderMap, StatusCode};
        let sink = Sink {
            script: Arc::new(Mutex::new(script.into())),
            received: Arc::default(),
        };
        let state = sink.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |body: axum::Json<Value>| {
                let state = state.clone();
                async move {
                    state.received.lock().unwrap().push(body.0);
                    let (status, retry_after, text) = state
                        .script
                        .lock()
                        .unwrap()
                        .pop_front()
                        .unwrap_or((200, None, "ok"));
                    if text == SLOW {
                        tokio::time::sleep(StdDuration::from_secs(2)).await;
                    }
                    let mut headers = HeaderMap::new();
                    if let Some(r) = retry_after {
                        headers.insert("retry-after", r.parse().unwrap());
                    }
                    (StatusCode::from_u16(status).unwrap(), headers, text)
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (sink, url)
    }
}

type Slack = SlackSender<DynamoStore, SlackWebhook, SqsEventQueue, RecordedDelays, TestClock>;

fn slack_sender(stack: &Stack, url: &str) -> Slack {
    let config = slack_sender::Config::new(
        stack.store.table(),
        &stack.events_url,
        &stack.slack_url,
        "https://dash.example.com",
    );
    let ports = slack_sender::Ports {
        store: stack.store.clone(),
        chat: SlackWebhook::new(url, StdDuration::from_secs(5)).unwrap(),
        reports: SqsEventQueue::new(stack.sqs.clone(), &stack.events_url),
        redelivery: RecordedDelays::default(),
        clock: TestClock::at(t("2026-11-15T02:00:00Z")),
    };
    slack_sender::assemble(&config, ports).unwrap()
}

async fn slack_alert(stack: &Stack, id: &str) -> Intervention {
    customer_in_danger(stack, id, "owner@example.com")
        .await
        .into_iter()
        .find(|i| i.channel == Channel::Slack)
        .expect("a Slack alert")
}

#[tokio::test]
async fn a_slack_alert_names_the_owner_and_is_posted_once() {
    let stack = Stack::new().await;
    let alert = slack_alert(&stack, "slack-1").await;
    let (sink, url) = Sink::start(vec![]).await;
    let sender = slack_sender(&stack, &url);
    for receives in 1..=2 {
        assert!(
            sender
                .handle_batch(intervention_event(std::slice::from_ref(&alert), receives))
                .await
                .batch_item_failures
                .is_empty()
        );
    }
    let received = sink.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1, "posted once");
    let text = received[0].to_string();
    for expected in [
        "<@U0TUTOR7>",
        "slack-1",
        "₩374,000",
        "https://dash.example.com/#/customers/slack-1",
    ] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
    assert_eq!(tally(&stack, "danger_alert").await.sent, 1);
}

#[tokio::test]
async fn a_429_waits_for_retry_after_and_a_500_backs_off() {
    let stack = Stack::new().await;
    let alert = slack_alert(&stack, "slack-2").await;
    let (sink, url) = Sink::start(vec![
        (429, Some("7"), "rate_limited"),
        (500, None, "rollup_error"),
    ])
    .await;
    let sender = slack_sender(&stack, &url);
    let first = sender
        .handle_batch(intervention_event(std::slice::from_ref(&alert), 1))
        .await;
    assert_eq!(first.batch_item_failures.len(), 1);
    let second = sender
        .handle_batch(intervention_event(std::slice::from_ref(&alert), 2))
        .await;
    assert_eq!(second.batch_item_failures.len(), 1);
    let delays = sender.redelivery.0.lock().unwrap().clone();
    assert_eq!(delays[0], StdDuration::from_secs(7), "Retry-After honoured");
    assert!(
        delays.len() == 2 && delays[1] <= StdDuration::from_secs(60),
        "then full-jitter back-off under the second step's 60 s: {delays:?}"
    );
    let third = sender.handle_batch(intervention_event(&[alert], 3)).await;
    assert!(third.batch_item_failures.is_empty());
    assert_eq!(sink.received.lock().unwrap().len(), 3);
    assert_eq!(tally(&stack, "danger_alert").await.sent, 1);
}

#[tokio::test]
async fn a_gone_channel_is_permanent_recorded_and_not_retried() {
    for (status, body) in [(404, "channel_not_found"), (410, "channel_is_archived")] {
        let stack = Stack::new().await;
        let alert = slack_alert(&stack, &format!("slack-{status}")).await;
        let (sink, url) = Sink::start(vec![(status, None, body)]).await;
        let sender = slack_sender(&stack, &url);
        for receives in 1..=2 {
            let response = sender
                .handle_batch(intervention_event(std::slice::from_ref(&alert), receives))
                .await;
            assert!(
                response.batch_item_failures.is_empty(),
                "{status}: acknowledged, not retried forever"
            );
        }
        assert_eq!(
            sink.received.lock().unwrap().len(),
            1,
            "{status}: tried once"
        );
        assert_eq!(tally(&stack, "danger_alert").await.failed, 1);
    }
}

#[tokio::test]
async fn a_poison_message_fails_alone() {
    let stack = Stack::new().await;
    let alert = slack_alert(&stack, "slack-poison").await;
    let (_, url) = Sink::start(vec![]).await;
    let sender = slack_sender(&stack, &url);
    let mut event = intervention_event(&[alert], 1);
    let mut poison = event.records[0].clone();
    poison.message_id = Some("poison".into());
    poison.body = Some("{not json".into());
    event.records.push(poison);
    let response = sender.handle_batch(event).await;
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, vec!["poison"]);
}

#[tokio::test]
async fn a_slack_post_left_without_an_answer_is_unknown_and_not_posted_again() {
    let stack = Stack::new().await;
    let alert = slack_alert(&stack, "slack-slow").await;
    let (sink, url) = Sink::start(vec![(200, None, SLOW)]).await;
    let mut sender = slack_sender(&stack, &url);
    sender.chat = SlackWebhook::new(&url, StdDuration::from_millis(300)).unwrap();
    for receives in 1..=2 {
        let response = sender
            .handle_batch(intervention_event(std::slice::from_ref(&alert), receives))
            .await;
        assert!(
            response.batch_item_failures.is_empty(),
            "settled as unknown"
        );
    }
    assert_eq!(sink.received.lock().unwrap().len(), 1, "posted once");
    let t = tally(&stack, "danger_alert").await;
    assert_eq!((t.sent, t.unknown), (0, 1));
}

#[tokio::test]
async fn near_its_deadline_the_slack_sender_hands_messages_back_unclaimed() {
    let stack = Stack::new().await;
    let alert = slack_alert(&stack, "slack-deadline").await;
    let (sink, url) = Sink::start(vec![]).await;
    let sender = slack_sender(&stack, &url);
    let nearly_over = || slack_sender::RESERVE - StdDuration::from_secs(1);
    let late = sender
        .handle_batch_within(
            intervention_event(std::slice::from_ref(&alert), 1),
            &nearly_over,
        )
        .await;
    assert_eq!(late.batch_item_failures.len(), 1, "handed back");
    assert!(sink.received.lock().unwrap().is_empty(), "nothing posted");
    // unclaimed: the next delivery, with time to spare, posts it at once
    let plenty = || StdDuration::from_secs(29);
    let next = sender
        .handle_batch_within(intervention_event(&[alert], 2), &plenty)
        .await;
    assert!(next.batch_item_failures.is_empty());
    assert_eq!(sink.received.lock().unwrap().len(), 1);
    assert_eq!(tally(&stack, "danger_alert").await.sent, 1);
}

// ---- SES's feedback loop --------------------------------------------------------------

/// The tags of the last `SendEmail` request `capture` saw: SES hands them back in its event
/// notifications.
fn tags_sent(capture: &Capture) -> Vec<(String, String)> {
    let requests = capture.0.lock().unwrap().clone();
    let send: Value = requests
        .iter()
        .rev()
        .filter_map(|b| serde_json::from_str::<Value>(b).ok())
        .find(|r| r["EmailTags"].is_array())
        .expect("a SendEmail request with tags");
    send["EmailTags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["Name"].as_str().unwrap().into(),
                t["Value"].as_str().unwrap().into(),
            )
        })
        .collect()
}

/// SES's notifications of `(eventType, its object)` on a message to `to`, as the feedback queue
/// delivers them.
fn notifications(
    tags: &[(String, String)],
    to: &str,
    events: &[(&str, Value)],
    at: &str,
) -> aws_lambda_events::sqs::SqsEvent {
    let bodies = events.iter().map(|(kind, detail)| {
        let body = ses_feedback::notification::compose(
            tags,
            to,
            "0100019a-feedback-1",
            kind,
            detail.clone(),
            t(at),
        );
        (unique("m"), body.to_string())
    });
    ses_feedback::queued(bodies, t(at))
}

#[tokio::test]
async fn ses_feedback_through_the_single_writer_counts_deliveries_and_suppresses_a_bounced_address()
{
    let stack = Stack::new().await;
    let capture = Capture::default();
    let now = t("2026-11-02T01:00:00Z");
    let clock = TestClock::at(now);
    let address = format!("{}@example.com", unique("gone"));
    let welcome = paying_customer(&stack, "mail-fb-1", &address, "Asia/Seoul", now).await;
    let sender = email_sender(
        &stack,
        SesMailer::new(ses(&capture).await, Some("journey-test".into()), false),
        &clock,
        FROM,
    );
    let sent = sender
        .handle_batch(intervention_event(std::slice::from_ref(&welcome), 1))
        .await;
    assert!(sent.batch_item_failures.is_empty());
    assert_eq!(inbox(&address).await.len(), 1);

    // SES's word on it comes back with the tags the sender put on the real request
    let tags = tags_sent(&capture);
    let at = "2026-11-02T01:00:05Z";
    let batch = || {
        notifications(
            &tags,
            &address,
            &[
                ("Delivery", serde_json::json!({})),
                ("Open", serde_json::json!({})),
                (
                    "Bounce",
                    serde_json::json!({"bounceType": "Permanent", "bounceSubType": "General"}),
                ),
            ],
            at,
        )
    };
    let feedback = ses_feedback::Feedback::new(
        SqsEventQueue::new(stack.sqs.clone(), &stack.events_url),
        stack.store.clone(),
    );
    // SES and EventBridge deliver at least once: the same notifications twice
    for _ in 0..2 {
        assert!(
            feedback
                .handle(batch())
                .await
                .batch_item_failures
                .is_empty()
        );
    }
    let worker = stack.worker();
    stack.settle(&worker).await;

    let customer = stack
        .store
        .load(&customer_id("mail-fb-1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        customer.profile.suppression(),
        Some(journey::domain::MailFeedback::HardBounce)
    );
    let history = stack
        .store
        .history(&customer_id("mail-fb-1"), 50, None)
        .await
        .unwrap();
    assert!(
        history
            .entries
            .iter()
            .any(|h| serde_json::to_string(&h.change)
                .unwrap()
                .contains("e-mail suppressed")),
        "the suppression is in the customer's history"
    );
    // and per message, on its send record, as the customer's page shows it
    let sends = stack.store.sends(&customer_id("mail-fb-1")).await.unwrap();
    let record = sends
        .iter()
        .find(|r| r.intervention_id == welcome.id.as_str())
        .unwrap();
    assert_eq!(
        record.mail.keys().collect::<Vec<_>>(),
        ["delivered", "hard_bounce", "opened"]
    );
    let t = tally(&stack, "welcome_setup_guide").await;
    assert_eq!(
        (
            t.sent,
            t.mail.emailed,
            t.mail.delivered,
            t.mail.opened,
            t.mail.bounced,
            t.mail.suppressed
        ),
        (1, 1, 1, 1, 1, 1),
        "each counted once, whatever the redeliveries"
    );

    // the next e-mail to the address, even a billing notice, is not sent
    let next = Intervention {
        id: journey::domain::InterventionId::new("iv_after_the_bounce").unwrap(),
        transactional: true,
        ..welcome
    };
    let response = sender.handle_batch(intervention_event(&[next], 1)).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(inbox(&address).await.len(), 1, "nothing more was sent");
    assert_eq!(tally(&stack, "welcome_setup_guide").await.skipped, 1);

    // erasure takes SES's feedback off the send record, and nothing is noted on it again
    let erase = journey::domain::Event::staff(
        customer_id("mail-fb-1"),
        "req-erase",
        EventKind::Erased { by: None },
        now,
    )
    .unwrap();
    stack
        .apply(&[EventMessage {
            received_at: now,
            event: erase,
        }])
        .await;
    assert!(
        feedback
            .handle(batch())
            .await
            .batch_item_failures
            .is_empty()
    );
    stack.settle(&worker).await;
    let sends = stack.store.sends(&customer_id("mail-fb-1")).await.unwrap();
    assert!(sends.iter().all(|r| r.mail.is_empty()), "{sends:?}");
}

#[tokio::test]
async fn ses_feedback_for_a_customer_never_stored_creates_no_one() {
    let stack = Stack::new().await;
    let stranger = journey::mail_tags::customer_tag(&customer_id("never-seen"));
    let tags: Vec<(String, String)> = [
        ("customer", stranger.as_str()),
        ("channel", "email"),
        ("intervention_id", "iv_0"),
        ("template", "gentle_reminder"),
        ("variant", "-"),
    ]
    .into_iter()
    .map(|(name, value)| (name.into(), value.into()))
    .collect();
    let at = "2026-11-02T01:00:05Z";
    let feedback = ses_feedback::Feedback::new(
        SqsEventQueue::new(stack.sqs.clone(), &stack.events_url),
        stack.store.clone(),
    );
    let batch = notifications(
        &tags,
        "nobody@example.com",
        &[(
            "Complaint",
            serde_json::json!({"complaintFeedbackType": "abuse"}),
        )],
        at,
    );
    assert!(feedback.handle(batch).await.batch_item_failures.is_empty());
    let worker = stack.worker();
    assert_eq!(
        stack.settle(&worker).await,
        1,
        "taken off the queue, not retried"
    );
    assert!(
        stack
            .store
            .load(&customer_id("never-seen"))
            .await
            .unwrap()
            .is_none()
    );
}

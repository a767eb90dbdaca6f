//! The text sender on the in-memory store and ledger (held to the same contract as DynamoDB)
//! and a scripted provider: sent once, whatever the provider answers. The same sender against
//! the Solapi stand-in is in `tests/tests/texts.rs`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test: a panic is its failure report"
)]

use std::collections::VecDeque;
use std::sync::Mutex;

use journey::domain::text::TextReport;
use journey::domain::{Channel, Effect, EventKind, Intervention};
use journey::ports::{
    Claim, OutgoingText, PendingText, SendLedger, SendStatus, TextContent, TextError, TextProvider,
};
use journey::service::apply_once;
use journey::testing::{
    Events, MemoryQueue, MemoryStore, RecordedDelays, TestClock, delivery, krw, t,
};
use text_sender::{Config, Ports, TextSender};

/// Keeps every request; answers from a script, then accepts.
#[derive(Default)]
struct Provider {
    sent: Mutex<Vec<OutgoingText>>,
    answers: Mutex<VecDeque<TextError>>,
    /// What the reconciler's polls find, in turn; then nothing.
    polls: Mutex<VecDeque<Result<Option<TextReport>, TextError>>>,
}

impl Provider {
    fn then(self, answer: TextError) -> Self {
        self.answers.lock().unwrap().push_back(answer);
        self
    }
}

impl TextProvider for Provider {
    async fn send(&self, text: &OutgoingText) -> Result<String, TextError> {
        let mut sent = self.sent.lock().unwrap();
        sent.push(text.clone());
        match self.answers.lock().unwrap().pop_front() {
            Some(answer) => Err(answer),
            None => Ok(format!("M{}", sent.len())),
        }
    }

    async fn poll(&self, _: &str, _: &str) -> Result<Option<TextReport>, TextError> {
        self.polls.lock().unwrap().pop_front().unwrap_or(Ok(None))
    }
}

/// A customer whose payment failed, with `phone`: the notice's text, planned in `store`.
async fn payment_failed(store: &MemoryStore, phone: Option<&str>) -> Intervention {
    let mut events = Events::new("text-1");
    let mut paid = events.at(
        t("2026-11-02T01:00:00Z"),
        EventKind::PaymentSucceeded {
            amount: krw(99_000),
            renews_at: None,
        },
    );
    paid.profile.phone = phone.map(str::to_string);
    paid.profile.locale = Some("ko".into());
    let rules = config().rules().unwrap();
    apply_once(store, &rules, &paid, paid.occurred_at)
        .await
        .unwrap();
    let failed = events.at(
        t("2026-11-02T02:00:00Z"),
        EventKind::PaymentFailed {
            amount: Some(krw(99_000)),
        },
    );
    let applied = apply_once(store, &rules, &failed, failed.occurred_at)
        .await
        .unwrap();
    applied
        .effects()
        .iter()
        .find_map(|e| match e {
            Effect::Send(i) if i.channel == Channel::Text => Some(i.clone()),
            _ => None,
        })
        .expect("the rules text the notice")
}

fn config() -> Config {
    let mut config = Config::new("table", "events", "texts", "0212345678");
    // no pacing: the tests never sleep (`pace.rs` tests the spacing)
    config.settings.rate_per_second = 0.0;
    // the payment notice also as a text, and the warning's offer as an advertising text
    config.rules_text = journey::domain::rules::DEFAULT_RULES_TOML
        .replace(
            "[interventions.payment_failed]\n",
            "[interventions.payment_failed]\ntext = \"billing_failed\"\n",
        )
        .replace(
            "[interventions.risk_warning]\n",
            "[interventions.risk_warning]\ntext = \"special_offer\"\n",
        );
    config
}

type Sender = TextSender<MemoryStore, Provider, MemoryQueue, RecordedDelays, TestClock>;

fn sender(store: MemoryStore, provider: Provider) -> Sender {
    let ports = Ports {
        store,
        provider,
        reports: MemoryQueue::default(),
        redelivery: RecordedDelays::default(),
        clock: TestClock::at(t("2026-11-02T02:00:30Z")),
    };
    text_sender::assemble(&config(), ports).unwrap()
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

#[tokio::test]
async fn a_payment_notice_goes_once_as_alimtalk_with_its_sms_fallback() {
    let store = MemoryStore::new(journey_adapters::dynamodb::MARKER_TTL);
    let notice = payment_failed(&store, Some("+821012345678")).await;
    let sender = sender(store, Provider::default());
    let (a, b) = tokio::join!(
        sender.handle_batch(delivery(&notice, 1)),
        sender.handle_batch(delivery(&notice, 1)),
    );
    sender.handle_batch(delivery(&notice, 2)).await;
    let sent = sender.provider.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "{a:?} {b:?}");
    let text = &sent[0];
    assert_eq!(
        (text.to.as_str(), text.send_id.as_str()),
        ("+821012345678", notice.id.as_str())
    );
    let TextContent::Alimtalk {
        template_code,
        variables,
        buttons,
        fallback,
        ..
    } = &text.content
    else {
        panic!("not a 알림톡: {:?}", text.content);
    };
    assert_eq!(template_code, "JOURNEY_BILLING_FAILED");
    assert_eq!(variables.get("brand").map(String::as_str), Some("Journey"));
    assert_eq!(buttons[0].url, "https://app.example.com/billing");
    assert!(fallback.as_ref().unwrap().text.contains("결제"));
    assert_eq!(
        recorded(&sender, &notice).await,
        Claim::Done(SendStatus::Sent)
    );
}

#[tokio::test]
async fn a_refused_request_is_retried_and_a_lost_answer_is_not() {
    // 503 then accepted: one text taken, two requests
    let store = MemoryStore::new(journey_adapters::dynamodb::MARKER_TTL);
    let notice = payment_failed(&store, Some("+821012345678")).await;
    let retried = sender(
        store,
        Provider::default().then(TextError::Transient("503".into())),
    );
    retried.handle_batch(delivery(&notice, 1)).await;
    retried.handle_batch(delivery(&notice, 2)).await;
    retried.handle_batch(delivery(&notice, 3)).await;
    assert_eq!(retried.provider.sent.lock().unwrap().len(), 2);
    assert_eq!(
        recorded(&retried, &notice).await,
        Claim::Done(SendStatus::Sent)
    );

    // the answer lost after the request: perhaps sent; a redelivery sends nothing more
    let store = MemoryStore::new(journey_adapters::dynamodb::MARKER_TTL);
    let notice = payment_failed(&store, Some("+821012345678")).await;
    let mut notice = notice;
    notice.if_unknown = journey::domain::IfUnknown::GiveUp;
    let lost = sender(
        store,
        Provider::default().then(TextError::Unknown("timeout".into())),
    );
    for receives in 1..=3 {
        lost.handle_batch(delivery(&notice, receives)).await;
    }
    assert_eq!(lost.provider.sent.lock().unwrap().len(), 1);
    assert_eq!(
        recorded(&lost, &notice).await,
        Claim::Done(SendStatus::Unknown)
    );
}

#[tokio::test]
async fn no_number_or_a_number_not_on_kakaotalk_changes_what_goes() {
    let store = MemoryStore::new(journey_adapters::dynamodb::MARKER_TTL);
    let notice = payment_failed(&store, None).await;
    let sender = sender(store, Provider::default());
    sender.handle_batch(delivery(&notice, 1)).await;
    assert!(sender.provider.sent.lock().unwrap().is_empty());
    assert_eq!(
        recorded(&sender, &notice).await,
        Claim::Done(SendStatus::Skipped)
    );

    // without a Kakao channel: the short text as an SMS
    let store = MemoryStore::new(journey_adapters::dynamodb::MARKER_TTL);
    let notice = payment_failed(&store, Some("+821012345678")).await;
    let mut config = config();
    config.settings.kakao_profile = None;
    let ports = Ports {
        store,
        provider: Provider::default(),
        reports: MemoryQueue::default(),
        redelivery: RecordedDelays::default(),
        clock: TestClock::at(t("2026-11-02T02:00:30Z")),
    };
    let sender = text_sender::assemble(&config, ports).unwrap();
    sender.handle_batch(delivery(&notice, 1)).await;
    let sent = sender.provider.sent.lock().unwrap().clone();
    assert!(
        matches!(&sent[0].content, TextContent::Sms { text } if text.contains("결제")),
        "{sent:?}"
    );
}

#[test]
fn advertising_texts_without_the_080_number_fail_the_cold_start() {
    let mut config = config();
    config.settings.advertiser = None;
    let ports = Ports {
        store: MemoryStore::new(journey_adapters::dynamodb::MARKER_TTL),
        provider: Provider::default(),
        reports: MemoryQueue::default(),
        redelivery: RecordedDelays::default(),
        clock: TestClock::at(t("2026-11-02T02:00:30Z")),
    };
    let Err(e) = text_sender::assemble(&config, ports) else {
        panic!("built to send advertising texts without the opt-out number");
    };
    assert!(e.to_string().contains("TEXT_OPT_OUT_NUMBER"), "{e}");
}

/// A text without a webhook report: polled 30 min after it was sent, then later as the
/// schedule backs off; a final report found is queued as the webhook's would be (the same
/// event id), and a text never reported is recorded expired after 72 h. A poll that fails is
/// tried at the next run.
#[tokio::test]
async fn the_reconciler_polls_unreported_texts_and_expires_the_silent_ones() {
    use journey::domain::text::{TextChannel, TextStatus};
    use journey::ports::PendingTexts;
    let store = MemoryStore::new(journey_adapters::dynamodb::MARKER_TTL);
    let iv = payment_failed(&store, Some("010-1234-5678")).await;
    let sent_at = t("2026-11-02T02:00:30Z");
    let report = |code: &str, status| TextReport {
        send_id: iv.id.as_str().to_string(),
        customer_id: None,
        provider_id: "M1".into(),
        code: code.into(),
        status,
        at: t("2026-11-02T03:00:00Z"),
        fallback: false,
    };
    let provider = Provider::default();
    {
        let mut polls = provider.polls.lock().unwrap();
        polls.push_back(Ok(Some(report("3000", TextStatus::InFlight))));
        polls.push_back(Err(TextError::Transient("503".into())));
        polls.push_back(Ok(Some(report(
            "4000",
            TextStatus::Delivered {
                via: TextChannel::Alimtalk,
            },
        ))));
    }
    let sender = sender(store, provider);
    sender.handle_batch(delivery(&iv, 1)).await;
    sender.reports.taken();
    let due = |at: &str| {
        sender.clock.set(t(at));
        sender.reconcile()
    };
    assert_eq!(
        due("2026-11-02T02:20:00Z").await.unwrap().polled,
        0,
        "not yet"
    );
    // +30 min: in flight, asked again at +90 min
    let run = due("2026-11-02T02:31:00Z").await.unwrap();
    assert_eq!((run.polled, run.reported), (1, 0));
    assert!(sender.reports.taken().is_empty());
    let pending = sender
        .store
        .due_texts(t("2026-11-05T00:00:00Z"), 10)
        .await
        .unwrap();
    assert_eq!(pending[0].due_at, sent_at + chrono::Duration::minutes(90));
    assert_eq!(due("2026-11-02T03:00:00Z").await.unwrap().polled, 0);
    // the provider is down: the next run asks again
    assert_eq!(due("2026-11-02T03:31:00Z").await.unwrap().failed, 1);
    let run = due("2026-11-02T03:41:00Z").await.unwrap();
    assert_eq!(run.reported, 1);
    let queued = sender.reports.taken();
    assert_eq!(queued.len(), 1);
    assert_eq!(
        queued[0].event.id.as_str(),
        "solapi:M1:4000",
        "as the webhook names it"
    );
    assert_eq!(queued[0].event.customer_id, iv.customer_id);
    assert!(
        sender
            .store
            .due_texts(t("2026-11-09T00:00:00Z"), 10)
            .await
            .unwrap()
            .is_empty(),
        "its polls ended"
    );

    // a text no report ever comes for: expired once 72 h have passed, once
    let silent = PendingText {
        send_id: "iv_silent".into(),
        customer_id: iv.customer_id.clone(),
        provider_id: "M2".into(),
        sent_at,
        due_at: sent_at + chrono::Duration::minutes(30),
    };
    sender.store.await_report(&silent).await.unwrap();
    let mut expired = Vec::new();
    for hour in (1..=80).step_by(3) {
        let run = due(&(sent_at + chrono::Duration::hours(hour)).to_rfc3339())
            .await
            .unwrap();
        if run.expired > 0 {
            expired.push(hour);
        }
    }
    assert_eq!(
        expired,
        vec![73],
        "expired at the first run after 72 h, once"
    );
    let queued = sender.reports.taken();
    let last = queued.last().unwrap();
    assert_eq!(last.event.id.as_str(), "solapi:M2:expired");
    assert!(matches!(
        last.event.kind,
        EventKind::TextReported {
            status: TextStatus::Expired,
            ..
        }
    ));
}

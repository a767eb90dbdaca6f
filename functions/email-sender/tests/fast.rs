//! The sender on the in-memory store and ledger (`journey::testing::MemoryStore`, held to the
//! same contract as DynamoDB): the at-most-once promise in the fast tier, no emulator. The
//! same paths against the emulator and SES are in `tests/tests/senders.rs`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test: a panic is its failure report"
)]

use std::sync::Mutex;

use email_sender::{Config, EmailSender, Ports};
use journey::domain::{Channel, Effect, EventKind, Intervention, Rules};
use journey::ports::{Claim, MailError, Mailer, OutgoingEmail, SendLedger, SendStatus};
use journey::service::apply_once;
use journey::testing::{
    Events, MemoryQueue, MemoryStore, RecordedDelays, TestClock, delivery, krw, t,
};

/// Keeps what it was given; answers as told.
#[derive(Default)]
struct Outbox {
    sent: Mutex<Vec<OutgoingEmail>>,
    /// The answer to the next send is lost after it was accepted.
    lose_answer: Mutex<bool>,
    /// The suppression list refuses to be read (an account in the SES sandbox).
    list_refused: Mutex<bool>,
}

impl Mailer for Outbox {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError> {
        let mut sent = self.sent.lock().unwrap();
        sent.push(email.clone());
        if std::mem::take(&mut *self.lose_answer.lock().unwrap()) {
            return Err(MailError::Unknown(
                "connection reset after the request".into(),
            ));
        }
        Ok(format!("ses-{}", sent.len()))
    }

    async fn is_suppressed(&self, _address: &str) -> Result<bool, MailError> {
        if *self.list_refused.lock().unwrap() {
            return Err(MailError::Rejected(
                "AccessDeniedException: not in the sandbox".into(),
            ));
        }
        Ok(false)
    }
}

/// A paying customer's welcome e-mail, planned in `store`.
async fn welcome(store: &MemoryStore) -> Intervention {
    let mut events = Events::new("fast-1");
    let mut paid = events.at(
        t("2026-11-02T01:00:00Z"),
        EventKind::PaymentSucceeded {
            amount: krw(99_000),
            renews_at: None,
        },
    );
    paid.profile.email = Some("customer@example.com".into());
    paid.profile.time_zone = Some("Asia/Seoul".into());
    let rules = Rules::embedded().unwrap();
    let applied = apply_once(store, &rules, &paid, paid.occurred_at)
        .await
        .unwrap();
    applied
        .effects()
        .iter()
        .find_map(|e| match e {
            Effect::Send(i) if i.channel == Channel::Email => Some(i.clone()),
            _ => None,
        })
        .unwrap()
}

type Sender = EmailSender<MemoryStore, Outbox, MemoryQueue, RecordedDelays, TestClock>;

/// The sender as `email_sender::build` makes it, on the fakes.
fn sender(store: MemoryStore) -> Sender {
    let config = Config::new(
        "table",
        "events",
        "email",
        "hello@example.com",
        "https://api",
    );
    let ports = Ports {
        store,
        mailer: Outbox::default(),
        reports: MemoryQueue::default(),
        redelivery: RecordedDelays::default(),
        clock: TestClock::at(t("2026-11-02T01:00:30Z")),
    };
    email_sender::assemble(&config, ports, "unsubscribe-secret").unwrap()
}

/// What the ledger says of `intervention` a day later.
async fn recorded(sender: &Sender, intervention: &Intervention) -> Claim {
    let later = t("2026-11-03T00:00:00Z");
    let lease = chrono::Duration::minutes(1);
    sender
        .store
        .claim(intervention, later, lease)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_message_delivered_twice_at_once_and_again_later_is_sent_once() {
    let store = MemoryStore::new(journey_adapters::dynamodb::MARKER_TTL);
    let welcome = welcome(&store).await;
    let sender = sender(store);
    let (a, b) = tokio::join!(
        sender.handle_batch(delivery(&welcome, 1)),
        sender.handle_batch(delivery(&welcome, 1)),
    );
    let again = sender.handle_batch(delivery(&welcome, 2)).await;
    for response in [a, b, again] {
        assert!(response.batch_item_failures.is_empty());
    }
    assert_eq!(sender.mailer.sent.lock().unwrap().len(), 1);
    assert_eq!(
        recorded(&sender, &welcome).await,
        Claim::Done(SendStatus::Sent)
    );
}

#[tokio::test]
async fn an_answer_lost_after_the_provider_accepted_is_not_sent_again() {
    let store = MemoryStore::new(journey_adapters::dynamodb::MARKER_TTL);
    let welcome = welcome(&store).await;
    let sender = sender(store);
    *sender.mailer.lose_answer.lock().unwrap() = true;
    sender.handle_batch(delivery(&welcome, 1)).await;
    sender.handle_batch(delivery(&welcome, 2)).await;
    assert_eq!(
        sender.mailer.sent.lock().unwrap().len(),
        1,
        "an unknown outcome is never repeated blindly"
    );
    assert_eq!(
        recorded(&sender, &welcome).await,
        Claim::Done(SendStatus::Unknown),
        "the welcome's rules give up on an unknown outcome, and say so"
    );
}

#[tokio::test]
async fn a_suppression_list_that_refuses_to_be_read_does_not_stop_the_mail() {
    let store = MemoryStore::new(journey_adapters::dynamodb::MARKER_TTL);
    let welcome = welcome(&store).await;
    let sender = sender(store);
    *sender.mailer.list_refused.lock().unwrap() = true;
    let response = sender.handle_batch(delivery(&welcome, 1)).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(
        sender.mailer.sent.lock().unwrap().len(),
        1,
        "SES applies its own suppression list to the send; its bounce comes back as feedback"
    );
}

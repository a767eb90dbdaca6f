//! The feedback function on the fixtures of `events/ses/` (SES's EventBridge notifications as the
//! queue delivers them), against an in-memory events queue.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use aws_lambda_events::sqs::SqsEvent;
use journey::domain::{Channel, EventKind, MailFeedback, Source};
use journey::ports::SendLedger;
use journey::testing::{MemoryQueue, MemoryStore, t};
use ses_feedback::Feedback;
use ses_feedback::notification::{Malformed, Reading, read};

fn feedback() -> Feedback<MemoryQueue, MemoryStore> {
    Feedback::new(
        MemoryQueue::default(),
        MemoryStore::new(chrono::Duration::days(7)),
    )
}

fn fixture(name: &str) -> String {
    let path = format!("{}/../../events/ses/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn feedback_of(name: &str) -> (MailFeedback, journey::domain::Event) {
    match read(&fixture(name)).unwrap() {
        Reading::Feedback(event) => match &event.kind {
            EventKind::MailFeedback { feedback, .. } => (*feedback, (*event).clone()),
            other => panic!("{other:?}"),
        },
        other => panic!("{name}: {other:?}"),
    }
}

/// One fixture as the feedback queue delivers it.
fn batch_of_one(name: &str) -> SqsEvent {
    ses_feedback::queued(
        [(name.to_string(), fixture(name))],
        t("2026-11-08T09:02:01Z"),
    )
}

#[test]
fn each_notification_becomes_the_feedback_it_reports() {
    for (name, expected) in [
        ("bounce-permanent.json", MailFeedback::HardBounce),
        ("bounce-transient.json", MailFeedback::SoftBounce),
        ("complaint.json", MailFeedback::Complaint),
        ("delivery.json", MailFeedback::Delivered),
        ("delivery-delay.json", MailFeedback::Delayed),
        ("open.json", MailFeedback::Opened),
        ("click.json", MailFeedback::Clicked),
        ("reject.json", MailFeedback::Rejected),
    ] {
        let (feedback, event) = feedback_of(name);
        assert_eq!(feedback, expected, "{name}");
        assert_eq!(event.customer_id.as_str(), "ses-demo-1", "{name}");
        assert_eq!(event.source, Source::Ses);
        let EventKind::MailFeedback { delivery, .. } = &event.kind else {
            unreachable!()
        };
        assert_eq!(delivery.channel, Channel::Email);
        assert_eq!(delivery.template, "gentle_reminder");
        assert_eq!(delivery.variant, None, "the tag `-` is no variant");
        assert_eq!(delivery.intervention_id.as_str(), "iv_5c7a2e0f4b1d9a3e6c20");
    }
}

#[test]
fn the_feedback_names_the_address_it_is_about_as_a_key_never_in_clear() {
    let (_, bounce) = feedback_of("bounce-permanent.json");
    let EventKind::MailFeedback { recipient, .. } = &bounce.kind else {
        unreachable!()
    };
    assert_eq!(
        recipient.as_deref(),
        Some(journey::domain::customer::address_key("kim@example.com").as_str())
    );
    assert!(!serde_json::to_string(&bounce).unwrap().contains("kim@"));
    // a bounce without its object cannot be read: a person looks at it in the DLQ
    let broken = fixture("bounce-permanent.json").replace("\"bounce\":", "\"bounce_\":");
    assert!(matches!(read(&broken), Err(Malformed::Shape(_))));
}

#[test]
fn the_event_id_names_the_message_and_the_feedback_and_its_time_is_ses_s() {
    let (_, bounce) = feedback_of("bounce-permanent.json");
    assert_eq!(
        bounce.id.as_str(),
        "ses:0100019a5e3c7b2a-1f0e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b-000000:hard_bounce"
    );
    assert_eq!(bounce.occurred_at, t("2026-11-08T09:02:00.123Z"));
    let (_, reject) = feedback_of("reject.json");
    assert_eq!(
        reject.occurred_at,
        t("2026-11-08T09:01:58.412Z"),
        "a reject has no time of its own: the mail's"
    );
}

#[test]
fn a_message_journey_did_not_send_is_unmatched_and_garbage_is_malformed() {
    assert!(matches!(
        read(&fixture("not-ours.json")).unwrap(),
        Reading::Unmatched(_)
    ));
    assert!(matches!(
        read(&fixture("malformed.json")),
        Err(Malformed::Shape(_))
    ));
    assert!(matches!(read("not json"), Err(Malformed::Shape(_))));
    // ours (tagged) but with a customer tag that is not ours to read: for a person to look at
    let forged = fixture("delivery.json").replace("c2VzLWRlbW8tMQ", "!!");
    assert!(matches!(read(&forged), Err(Malformed::Domain(_))));
    // a type that changes nothing
    let send = fixture("delivery.json").replace("\"Delivery\"", "\"Send\"");
    assert_eq!(read(&send).unwrap(), Reading::Ignored("Send".into()));
    // a mailbox provider's "not spam" report is no complaint
    let not_spam = fixture("complaint.json").replace("\"abuse\"", "\"not-spam\"");
    assert!(matches!(read(&not_spam).unwrap(), Reading::Ignored(_)));
}

#[tokio::test]
async fn a_batch_queues_every_feedback_acknowledges_strangers_and_hands_back_only_garbage() {
    let batch: SqsEvent = serde_json::from_str(&fixture("sqs-batch.json")).unwrap();
    let malformed_id = batch
        .records
        .iter()
        .find(|r| {
            r.body
                .as_deref()
                .unwrap()
                .contains("\"detail\": {\"eventType\": \"Bounce\"}")
        })
        .and_then(|r| r.message_id.clone())
        .unwrap();
    let feedback = feedback();
    let response = feedback.handle(batch).await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, [malformed_id], "only the unreadable one comes back");
    let queued = feedback.queue().taken();
    assert_eq!(
        queued.len(),
        8,
        "eight notifications of ours, the stranger acknowledged"
    );
    for m in &queued {
        assert_eq!(
            m.group_id(),
            "ses-demo-1",
            "in the customer's message group"
        );
        assert_eq!(
            m.received_at,
            t("2026-11-08T09:02:01Z"),
            "applied as of SQS's SentTimestamp, the same on every redelivery"
        );
    }
}

#[tokio::test]
async fn a_queue_that_is_down_hands_the_message_back_for_a_retry() {
    let feedback = feedback();
    *feedback.queue().fail.lock().unwrap() = Some(true);
    let mut batch: SqsEvent = serde_json::from_str(&fixture("sqs-batch.json")).unwrap();
    batch.records.retain(|r| {
        r.body.as_deref().unwrap().contains("\"Permanent\"")
            && r.body.as_deref().unwrap().contains("iv_")
    });
    assert_eq!(batch.records.len(), 1);
    let response = feedback.handle(batch).await;
    assert_eq!(response.batch_item_failures.len(), 1);
}

#[tokio::test]
async fn each_feedback_is_noted_on_the_messages_send_record_first_time_kept() {
    let feedback = feedback();
    let (_, bounce) = feedback_of("bounce-permanent.json");
    let EventKind::MailFeedback { delivery, .. } = &bounce.kind else {
        unreachable!()
    };
    // the send record the e-mail sender wrote
    let sent = journey::domain::Intervention {
        id: delivery.intervention_id.clone(),
        customer_id: bounce.customer_id.clone(),
        trigger: journey::domain::Trigger::RiskCaution,
        channel: Channel::Email,
        template: delivery.template.clone(),
        variant: None,
        transactional: false,
        if_unknown: Default::default(),
        planned_at: t("2026-11-08T09:00:00Z"),
        cause: journey::domain::EventId::new("check:ses-demo-1").unwrap(),
    };
    let claim = feedback
        .notes()
        .claim(
            &sent,
            t("2026-11-08T09:01:00Z"),
            chrono::Duration::minutes(2),
        )
        .await
        .unwrap();
    let journey::ports::Claim::Claimed(lease) = claim else {
        panic!("{claim:?}")
    };
    // a record still in progress gets no note: only one the sender finished
    feedback.handle(batch_of_one("delivery.json")).await;
    assert!(feedback.notes().feedback_noted(&sent.id).is_empty());
    feedback
        .notes()
        .finish(
            &sent,
            &lease,
            journey::ports::SendStatus::Sent,
            "0100019a5e3c7b2a-…",
            t("2026-11-08T09:01:58Z"),
        )
        .await
        .unwrap();
    let batch: SqsEvent = serde_json::from_str(&fixture("sqs-batch.json")).unwrap();
    feedback.handle(batch.clone()).await;
    feedback.handle(batch).await; // SES repeats itself
    let noted: Vec<&str> = feedback
        .notes()
        .feedback_noted(&sent.id)
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        noted,
        [
            "clicked",
            "complaint",
            "delayed",
            "delivered",
            "hard_bounce",
            "opened",
            "rejected",
            "soft_bounce"
        ]
    );
    let delivered = feedback
        .notes()
        .feedback_noted(&sent.id)
        .into_iter()
        .find(|(name, _)| *name == "delivered")
        .unwrap();
    assert_eq!(delivered.1, t("2026-11-08T09:01:59.870Z"));
}

#[test]
fn a_composed_notification_reads_back_as_what_it_reports() {
    let tags = vec![
        (
            "customer".to_string(),
            journey::mail_tags::customer_tag(&journey::testing::customer_id("c1")),
        ),
        ("channel".to_string(), "email".to_string()),
        ("intervention_id".to_string(), "iv_1".to_string()),
        ("template".to_string(), "gentle_reminder".to_string()),
        ("variant".to_string(), "-".to_string()),
    ];
    let at = t("2026-11-08T09:20:00Z");
    let composed = ses_feedback::notification::compose(
        &tags,
        "kim@example.com",
        "m-1",
        "DeliveryDelay",
        serde_json::json!({"delayType": "MailboxFull"}),
        at,
    );
    let Reading::Feedback(event) = read(&composed.to_string()).unwrap() else {
        panic!("{composed}")
    };
    assert_eq!(event.occurred_at, at);
    assert!(matches!(
        event.kind,
        EventKind::MailFeedback {
            feedback: MailFeedback::Delayed,
            ..
        }
    ));
}

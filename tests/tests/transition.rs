//! The transition worker against the emulator, through the real SDK: whole journeys from the
//! `events/` fixtures, duplicated and shuffled deliveries, concurrent workers, faults between
//! the commit and the sends, and poison messages.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU32, Ordering};

use aws_lambda_events::sqs::SqsBatchResponse;
use journey::domain::{
    Change, ChurnReason, Customer, DomainEvent, DomainEventDetail, Intervention, RiskLevel, Stage,
};
use journey::messages::EventMessage;
use journey::ports::{CustomerStore, EventBus, InterventionQueue, JourneyReader, QueueError};
use journey::testing::customer_id;
use journey_adapters::sqs::EVENTS_QUEUE;
use journey_tests::stack::{Stack, sqs_event, sqs_message};
use journey_tests::{fresh_events_queue, sdk_config};

fn journeys() -> Vec<EventMessage> {
    let path = journey_tests::workspace_root().join("events/transition/journeys.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("EventMessages")
}

fn of(messages: &[EventMessage], customer: &str) -> Vec<EventMessage> {
    messages
        .iter()
        .filter(|m| m.event.customer_id.as_str() == customer)
        .cloned()
        .collect()
}

/// Feeds messages in batches of up to 10, as the event source does, retrying what a batch
/// reports failed (as SQS would redeliver it); panics if anything never succeeds.
async fn run<Q: InterventionQueue, B: EventBus>(
    worker: &journey_tests::stack::Worker<Q, B>,
    messages: &[EventMessage],
) {
    for chunk in messages.chunks(10) {
        let mut pending: Vec<EventMessage> = chunk.to_vec();
        for _ in 0..EVENTS_QUEUE.max_receive_count {
            let response = worker.handle_batch(sqs_event(&pending)).await;
            pending = failed_messages(&pending, &response);
            if pending.is_empty() {
                break;
            }
        }
        assert!(pending.is_empty(), "messages never succeeded: {pending:?}");
    }
}

fn failed_messages(sent: &[EventMessage], response: &SqsBatchResponse) -> Vec<EventMessage> {
    let failed: BTreeSet<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    sent.iter()
        .filter(|m| failed.contains(sqs_message(m).message_id.as_deref().unwrap_or_default()))
        .cloned()
        .collect()
}

async fn customer(stack: &Stack, id: &str) -> Customer {
    stack
        .store
        .load(&customer_id(id))
        .await
        .expect("load")
        .expect("customer exists")
}

async fn history(stack: &Stack, id: &str) -> Vec<Change> {
    let page = stack
        .store
        .history(&customer_id(id), 100, None)
        .await
        .expect("history");
    page.entries.into_iter().rev().map(|h| h.change).collect()
}

fn ids(interventions: &[Intervention]) -> BTreeSet<String> {
    interventions.iter().map(|i| i.id.to_string()).collect()
}

fn templates_for(interventions: &[Intervention], customer: &str) -> Vec<String> {
    let mut t: Vec<String> = interventions
        .iter()
        .filter(|i| i.customer_id.as_str() == customer)
        .map(|i| format!("{}:{}", i.channel.as_str(), i.template))
        .collect();
    t.sort();
    t
}

#[tokio::test]
async fn whole_journeys_from_the_fixtures_end_where_the_rules_say() {
    let stack = Stack::new().await;
    let worker = stack.worker();
    run(&worker, &journeys()).await;

    let happy = customer(&stack, "happy-1").await;
    assert_eq!(happy.stage, Some(Stage::Completed));
    let stages: Vec<Stage> = history(&stack, "happy-1")
        .await
        .into_iter()
        .filter_map(|c| match c {
            Change::Stage { to, .. } => Some(to),
            _ => None,
        })
        .collect();
    assert_eq!(
        stages,
        vec![
            Stage::Paid,
            Stage::Onboarding,
            Stage::Active,
            Stage::Engaged,
            Stage::Completed
        ]
    );

    let quiet = customer(&stack, "quiet-2").await;
    assert_eq!(quiet.stage, Some(Stage::Churned));
    assert_eq!(
        quiet.churn.as_ref().map(|c| c.reason),
        Some(ChurnReason::Inactivity)
    );
    let risks: Vec<RiskLevel> = history(&stack, "quiet-2")
        .await
        .into_iter()
        .filter_map(|c| match c {
            Change::Risk { to, .. } => Some(to),
            _ => None,
        })
        .collect();
    assert_eq!(
        risks,
        vec![
            RiskLevel::Caution,
            RiskLevel::Warning,
            RiskLevel::Danger,
            RiskLevel::None
        ]
    );

    let refund = customer(&stack, "refund-3").await;
    assert_eq!(refund.stage, Some(Stage::Churned));
    let churn = refund.churn.expect("churn recorded");
    assert_eq!(
        (churn.reason, churn.detail.as_deref()),
        (ChurnReason::RefundRequested, Some("requested_by_customer"))
    );

    let recovered = customer(&stack, "recover-4").await;
    assert_eq!(recovered.risk, RiskLevel::None);
    assert!(recovered.last_intervention.expect("reminder").credited);

    let sent = stack.sent().await;
    assert_eq!(
        templates_for(&sent, "quiet-2"),
        vec![
            "email:consultation_invite",
            "email:gentle_reminder",
            "email:special_offer",
            "email:welcome_setup_guide",
            "owner_email:danger_alert",
            "slack:danger_alert",
        ]
    );
    assert_eq!(
        templates_for(&sent, "recover-4"),
        vec!["email:gentle_reminder", "email:welcome_setup_guide"]
    );
    assert_eq!(
        ids(&sent).len(),
        sent.len(),
        "each intervention queued once"
    );

    let published = stack.published().await;
    let recovered_events: Vec<&DomainEvent> = published
        .iter()
        .filter(|e| matches!(e.detail, DomainEventDetail::InterventionRecovered { .. }))
        .collect();
    assert_eq!(recovered_events.len(), 1);
    assert_eq!(recovered_events[0].customer_id.as_str(), "recover-4");
    assert!(published.iter().any(|e| e.detail.name() == "stage_changed"));
    assert!(
        published
            .iter()
            .any(|e| e.detail.name() == "intervention_planned")
    );

    let counts = stack.store.counts().await.expect("counts");
    assert_eq!(counts.get(Stage::Completed, RiskLevel::None), 1);
    assert_eq!(counts.get(Stage::Churned, RiskLevel::None), 2);
    assert_eq!(counts.get(Stage::Active, RiskLevel::None), 1);
    assert_eq!(counts.total(), 4);
}

/// What a run leaves behind, for comparing deliveries.
async fn snapshot(
    stack: &Stack,
    customers: &[&str],
) -> (
    Vec<Customer>,
    Vec<Vec<Change>>,
    BTreeSet<String>,
    BTreeSet<String>,
) {
    let mut states = Vec::new();
    let mut histories = Vec::new();
    for c in customers {
        let mut state = customer(stack, c).await;
        state.version = 0; // duplicates may be refused by marker or by memory: versions aside
        state.recent_events.clear();
        // where the due index holds the customer may be earlier than its next check (the store
        // keeps an earlier entry rather than move it at every event): never later
        if let (Some(indexed), Some(next)) = (state.indexed_check_at, state.next_check_at) {
            assert!(
                indexed <= next,
                "{c}: indexed {indexed} after the check due {next}"
            );
        }
        state.indexed_check_at = None;
        states.push(state);
        histories.push(history(stack, c).await);
    }
    let sent = ids(&stack.sent().await);
    let published: BTreeSet<String> = stack.published().await.into_iter().map(|e| e.id).collect();
    (states, histories, sent, published)
}

const CUSTOMERS: [&str; 4] = ["happy-1", "quiet-2", "refund-3", "recover-4"];

#[tokio::test]
async fn duplicated_deliveries_give_the_same_state_history_and_effects() {
    let messages = journeys();
    let in_order = Stack::new().await;
    run(&in_order.worker(), &messages).await;
    let expected = snapshot(&in_order, &CUSTOMERS).await;

    let duplicated = Stack::new().await;
    let worker = duplicated.worker();
    for (i, m) in messages.iter().enumerate() {
        // each message delivered again: at once, and again much later
        run(&worker, &[m.clone(), m.clone()]).await;
        if i % 3 == 0 {
            run(&worker, &messages[..=i]).await;
        }
    }
    let got = snapshot(&duplicated, &CUSTOMERS).await;
    assert_eq!(got.0, expected.0, "states");
    assert_eq!(got.1, expected.1, "histories");
    assert_eq!(
        got.2, expected.2,
        "interventions (by id: the senders drop repeats)"
    );
    assert_eq!(got.3, expected.3, "domain events (by id)");
    let counts = duplicated.store.counts().await.expect("counts");
    assert_eq!(counts.total(), 4, "counters exact");
}

#[tokio::test]
async fn shuffled_activity_gives_the_same_state_history_and_effects() {
    // the happy customer's logins, delivered in another order than they happened
    let messages = of(&journeys(), "happy-1");
    let (head, rest) = messages.split_at(2);
    let (logins, tail) = rest.split_at(6);
    let in_order = Stack::new().await;
    run(&in_order.worker(), &messages).await;
    let expected = snapshot(&in_order, &["happy-1"]).await;

    let shuffled = Stack::new().await;
    let mut reordered: Vec<EventMessage> = head.to_vec();
    reordered.extend(logins.iter().rev().cloned());
    reordered.extend(tail.iter().cloned());
    // all received at once, after the last login
    let received = logins.last().expect("logins").received_at;
    for m in reordered.iter_mut().skip(2).take(6) {
        m.received_at = received;
    }
    run(&shuffled.worker(), &reordered).await;
    let got = snapshot(&shuffled, &["happy-1"]).await;
    assert_eq!(got.0[0].activity, expected.0[0].activity);
    assert_eq!(got.0[0].stage, expected.0[0].stage);
    assert_eq!(got.0[0].risk, expected.0[0].risk);
    let kinds = |h: &Vec<Change>| h.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>();
    assert_eq!(kinds(&got.1[0]), kinds(&expected.1[0]));
    assert_eq!(got.2, expected.2);
}

#[tokio::test]
async fn two_workers_on_one_customer_lose_no_update_and_keep_counters_exact() {
    let stack = Stack::new().await;
    let messages = of(&journeys(), "happy-1");
    let (first, rest) = messages.split_at(1);
    run(&stack.worker(), first).await;
    // the logins split between two workers running at the same time (as if FIFO were broken)
    let (a, b) = (stack.worker(), stack.worker());
    let logins: Vec<EventMessage> = rest[1..7].to_vec();
    let (odd, even): (Vec<_>, Vec<_>) = logins
        .iter()
        .cloned()
        .enumerate()
        .partition(|(i, _)| i % 2 == 1);
    let odd: Vec<EventMessage> = odd.into_iter().map(|(_, m)| m).collect();
    let even: Vec<EventMessage> = even.into_iter().map(|(_, m)| m).collect();
    run(&stack.worker(), &rest[..1]).await;
    tokio::join!(run(&a, &odd), run(&b, &even));
    let c = customer(&stack, "happy-1").await;
    let logins_counted: u32 = c.activity.days.values().map(|d| d.logins).sum();
    assert_eq!(
        logins_counted, 6,
        "every login applied once: none lost, none twice"
    );
    assert!(logins.iter().all(|m| c.has_applied(&m.event.id)));
    assert_eq!(c.activity.days.values().filter(|d| d.active).count(), 7);
    let counts = stack.store.counts().await.expect("counts");
    assert_eq!(counts.total(), 1);
    assert_eq!(counts.get(c.stage.expect("stage"), c.risk), 1);
}

/// Passes calls through after failing the first `failures` of them.
struct Flaky<T> {
    inner: T,
    failures: AtomicU32,
}

impl<T> Flaky<T> {
    fn new(inner: T, failures: u32) -> Self {
        Flaky {
            inner,
            failures: AtomicU32::new(failures),
        }
    }

    fn trip(&self) -> Result<(), QueueError> {
        let left = self.failures.load(Ordering::SeqCst);
        if left > 0 {
            self.failures.store(left - 1, Ordering::SeqCst);
            return Err(QueueError::Unavailable("injected: connection reset".into()));
        }
        Ok(())
    }
}

impl<T: InterventionQueue> InterventionQueue for Flaky<T> {
    async fn send(&self, interventions: &[Intervention]) -> Result<(), QueueError> {
        self.trip()?;
        self.inner.send(interventions).await
    }
}

impl<T: EventBus> EventBus for Flaky<T> {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), QueueError> {
        self.trip()?;
        self.inner.publish(events).await
    }
}

#[tokio::test]
async fn a_send_that_fails_after_the_commit_loses_nothing_and_doubles_nothing() {
    let messages = of(&journeys(), "quiet-2");
    let reference = Stack::new().await;
    run(&reference.worker(), &messages).await;
    let expected = snapshot(&reference, &["quiet-2"]).await;

    let stack = Stack::new().await;
    // the first intervention send fails after its transaction committed; later the bus does
    let worker = stack.worker_with(
        Flaky::new(stack.queues.clone(), 1),
        Flaky::new(stack.bus.clone(), 1),
    );
    let first = worker.handle_batch(sqs_event(&messages[..1])).await;
    assert_eq!(
        first.batch_item_failures.len(),
        1,
        "the message is handed back"
    );
    let committed = customer(&stack, "quiet-2").await;
    assert_eq!(
        committed.stage,
        Some(Stage::Onboarding),
        "the commit landed before the failure"
    );
    assert!(stack.sent().await.is_empty(), "nothing was sent yet");
    run(&worker, &messages).await;

    let got = snapshot(&stack, &["quiet-2"]).await;
    assert_eq!(got.0, expected.0);
    assert_eq!(got.1, expected.1);
    assert_eq!(got.2, expected.2, "every intervention delivered: none lost");
    assert_eq!(got.3, expected.3, "every domain event delivered");
}

#[tokio::test]
async fn a_redelivered_message_re_sends_its_effects_with_the_same_ids() {
    let stack = Stack::new().await;
    let worker = stack.worker();
    let payment = of(&journeys(), "quiet-2").remove(0);
    run(&worker, std::slice::from_ref(&payment)).await;
    let first = stack.sent().await;
    // the function died after sending, before SQS deleted the message: it comes back
    run(&worker, std::slice::from_ref(&payment)).await;
    let again = stack.sent().await;
    assert_eq!(
        ids(&first),
        ids(&again),
        "same intervention ids: the senders drop the repeat"
    );
    assert_eq!(customer(&stack, "quiet-2").await.version, 1, "applied once");
}

#[tokio::test]
async fn poison_messages_fail_alone_and_reach_the_dlq_after_the_receive_count() {
    let stack = Stack::new().await;
    let worker = stack.worker();
    let good = of(&journeys(), "refund-3");
    let mut undecodable = sqs_message(&good[0]);
    undecodable.message_id = Some("poison-1".into());
    undecodable.body = Some("{\"event\": 42}".into());
    undecodable
        .attributes
        .insert("MessageGroupId".into(), "someone-else".into());
    let mut unknown_kind = serde_json::to_value(&good[0]).expect("json");
    unknown_kind["event"]["type"] = "teleported".into();
    unknown_kind["event"]["customer_id"] = "another".into();
    let mut unknown = sqs_message(&good[0]);
    unknown.message_id = Some("poison-2".into());
    unknown.body = Some(unknown_kind.to_string());
    unknown
        .attributes
        .insert("MessageGroupId".into(), "another".into());

    let mut batch = sqs_event(&good);
    batch.records.insert(0, undecodable);
    batch.records.insert(1, unknown);
    let response = worker.handle_batch(batch).await;
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, vec!["poison-1", "poison-2"]);
    assert_eq!(
        customer(&stack, "refund-3").await.stage,
        Some(Stage::Churned),
        "others processed"
    );

    // through a real FIFO queue: a message that keeps failing moves to the DLQ
    let urls = fresh_events_queue().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk_config().await);
    sqs.send_message()
        .queue_url(&urls.url)
        .message_body("not an event")
        .message_group_id("poisoned")
        .message_deduplication_id("poison")
        .send()
        .await
        .expect("send");
    for _ in 0..=EVENTS_QUEUE.max_receive_count {
        let received = sqs
            .receive_message()
            .queue_url(&urls.url)
            .visibility_timeout(0)
            .send()
            .await
            .expect("receive");
        for m in received.messages.unwrap_or_default() {
            let mut event = aws_lambda_events::sqs::SqsEvent::default();
            let mut record = aws_lambda_events::sqs::SqsMessage::default();
            record.message_id = m.message_id.clone();
            record.body = m.body.clone();
            event.records.push(record);
            let response = worker.handle_batch(event).await;
            assert_eq!(response.batch_item_failures.len(), 1);
        }
    }
    let dead = journey_tests::drain(&urls.dlq_url).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body(), Some("not an event"));
}

#[tokio::test]
async fn events_for_an_unknown_customer_are_kept_and_count_once_it_appears() {
    let stack = Stack::new().await;
    let worker = stack.worker();
    let mut messages = of(&journeys(), "recover-4");
    // the app's submission arrives before the payment webhook
    messages.swap(0, 1);
    run(&worker, &messages[..1]).await;
    let early: Customer = customer(&stack, "recover-4").await;
    assert_eq!(early.stage, None);
    assert!(early.progress.first_submission_at.is_some());
    assert_eq!(stack.store.counts().await.expect("counts").total(), 0);
    run(&worker, &messages[1..2]).await;
    assert_eq!(
        customer(&stack, "recover-4").await.stage,
        Some(Stage::Active)
    );
}

#[tokio::test]
async fn the_sqs_batch_fixture_is_processed_whole() {
    let stack = Stack::new().await;
    let path = journey_tests::workspace_root().join("events/transition/sqs-batch.json");
    let event: aws_lambda_events::sqs::SqsEvent =
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture"))
            .expect("an SQS event");
    let records = event.records.len();
    let response = stack.worker().handle_batch(event).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert!(records > 1);
    assert_eq!(customer(&stack, "happy-1").await.stage, Some(Stage::Active));
}

#[tokio::test]
async fn a_customers_messages_in_one_batch_share_one_commit() {
    let messages = of(&journeys(), "happy-1");
    let batch = &messages[..8];
    let one_by_one = Stack::new().await;
    for m in batch {
        run(&one_by_one.worker(), std::slice::from_ref(m)).await;
    }
    let expected = snapshot(&one_by_one, &["happy-1"]).await;
    assert_eq!(customer(&one_by_one, "happy-1").await.version, 8);

    let stack = Stack::new().await;
    let response = stack.worker().handle_batch(sqs_event(batch)).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert_eq!(
        customer(&stack, "happy-1").await.version,
        1,
        "eight events, one transaction"
    );
    assert_eq!(snapshot(&stack, &["happy-1"]).await, expected);

    // the whole batch delivered again: every event is recognised, the effects go out again
    let again = stack.worker().handle_batch(sqs_event(batch)).await;
    assert!(again.batch_item_failures.is_empty(), "{again:?}");
    assert_eq!(
        customer(&stack, "happy-1").await.version,
        1,
        "nothing re-applied"
    );
    assert_eq!(snapshot(&stack, &["happy-1"]).await, expected);
}

/// A login of `template`'s customer, numbered, an hour after the previous one.
fn login(template: &EventMessage, n: i64) -> EventMessage {
    let mut m = template.clone();
    m.event.id = journey::domain::EventId::new(format!("app:login-{n}")).expect("an id");
    m.event.kind = journey::domain::EventKind::Login;
    m.event.occurred_at = template.event.occurred_at + chrono::Duration::hours(n);
    m.received_at = m.event.occurred_at;
    m
}

#[tokio::test]
async fn an_event_the_state_forgot_is_still_recognised_in_a_batch() {
    let payment = of(&journeys(), "happy-1").remove(0);
    let mut history_messages = vec![payment.clone()];
    // more logins than the state remembers event ids: login-1 is known only by its marker
    history_messages.extend((1..=20).map(|n| login(&payment, n)));
    let late = [login(&payment, 1), login(&payment, 21), login(&payment, 22)];

    let reference = Stack::new().await;
    for m in history_messages.iter().chain(&late[1..]) {
        run(&reference.worker(), std::slice::from_ref(m)).await;
    }
    let expected = snapshot(&reference, &["happy-1"]).await;

    let stack = Stack::new().await;
    for m in &history_messages {
        run(&stack.worker(), std::slice::from_ref(m)).await;
    }
    let before = customer(&stack, "happy-1").await;
    assert!(
        !before.has_applied(&late[0].event.id),
        "forgotten by the state"
    );
    let response = stack.worker().handle_batch(sqs_event(&late)).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert_eq!(
        customer(&stack, "happy-1").await.version,
        before.version + 2,
        "the two new logins applied (one at a time, after the refused batch)"
    );
    assert_eq!(snapshot(&stack, &["happy-1"]).await, expected);
}

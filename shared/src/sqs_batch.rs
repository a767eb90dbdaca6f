//! The one SQS batch helper every SQS-triggered function uses: one span per message, partial
//! batch failures (`ReportBatchItemFailures`), and — for FIFO queues — order kept per message
//! group: after a failure, the group's later messages are handed back untouched, while other
//! groups carry on.

use std::future::Future;
use std::time::Duration;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures::stream::{self, StreamExt};
use tracing::{Instrument, error, info_span, warn};

/// Why a message was not processed. Either way SQS redelivers it, up to the queue's
/// `maxReceiveCount`, then moves it to the DLQ; `retryable` says whether that is expected to
/// help, and decides how loudly it is logged.
#[derive(Debug)]
pub struct MessageFailure {
    pub retryable: bool,
    pub reason: String,
}

impl MessageFailure {
    pub fn retryable(reason: impl Into<String>) -> Self {
        MessageFailure {
            retryable: true,
            reason: reason.into(),
        }
    }

    /// A poison message: it will reach the DLQ after the queue's receive count.
    pub fn permanent(reason: impl Into<String>) -> Self {
        MessageFailure {
            retryable: false,
            reason: reason.into(),
        }
    }
}

/// How messages of one batch relate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// FIFO: messages of a group one after the other, stopping at the first failure.
    PerGroup,
    /// Standard queue: every message on its own.
    Independent,
}

/// Processes `event`'s messages with `handle`, at most `concurrency` groups at a time, and
/// reports the failed (and held-back) ones.
pub async fn process_batch<F, Fut>(
    event: SqsEvent,
    order: Order,
    concurrency: usize,
    handle: F,
) -> SqsBatchResponse
where
    F: Fn(SqsMessage) -> Fut,
    Fut: Future<Output = Result<(), MessageFailure>>,
{
    process_batch_within(event, order, concurrency, Within::unbounded(), handle).await
}

/// The invocation's remaining time, and what one message may need of it.
#[derive(Clone, Copy)]
pub struct Within<'a> {
    pub time_left: &'a (dyn Fn() -> Duration + Sync),
    /// One message's worst case (its provider call's timeout, its record and report) plus a
    /// margin: a message is started only while more than this is left.
    pub reserve: Duration,
}

/// The time left until `deadline` (Lambda's invocation deadline), for [`Within::time_left`].
pub fn until(deadline: std::time::SystemTime) -> impl Fn() -> Duration + Sync {
    move || {
        deadline
            .duration_since(std::time::SystemTime::now())
            .unwrap_or_default()
    }
}

impl Within<'_> {
    pub fn unbounded() -> Within<'static> {
        Within {
            time_left: &|| Duration::MAX,
            reserve: Duration::ZERO,
        }
    }

    fn allows_another(&self) -> bool {
        (self.time_left)() > self.reserve
    }
}

/// [`process_batch`], starting no message once the invocation has less than `within.reserve`
/// left: those are handed back untouched (unclaimed) for SQS to deliver again, instead of
/// being cut off mid-send by the function's timeout.
pub async fn process_batch_within<F, Fut>(
    event: SqsEvent,
    order: Order,
    concurrency: usize,
    within: Within<'_>,
    handle: F,
) -> SqsBatchResponse
where
    F: Fn(SqsMessage) -> Fut,
    Fut: Future<Output = Result<(), MessageFailure>>,
{
    let groups = group(event.records, order);
    let handle = &handle;
    let handed: Vec<Handed> = stream::iter(groups)
        .map(|messages| process_group(messages, within, handle))
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    response(handed)
}

/// What one group hands back: the messages for SQS to deliver again, and how many of them
/// failed for good (a poison message, not a retryable refusal, nor one held back behind a
/// failure or left for lack of time): what a new version's canary watches.
#[derive(Default)]
struct Handed {
    back: Vec<String>,
    failed: usize,
}

/// Where a group stopped: the message at `from` failed, and it and the later ones go back.
#[derive(Debug)]
pub struct GroupFailure {
    pub from: usize,
    pub failure: MessageFailure,
}

/// FIFO, a whole group at a time: `handle` gets each group's messages in order (and may work
/// on them together); on a failure, the failed message and the group's later ones are handed
/// back, while other groups carry on.
pub async fn process_groups<F, Fut>(
    event: SqsEvent,
    concurrency: usize,
    handle: F,
) -> SqsBatchResponse
where
    F: Fn(Vec<SqsMessage>) -> Fut,
    Fut: Future<Output = Result<(), GroupFailure>>,
{
    let groups = group(event.records, Order::PerGroup);
    let handle = &handle;
    let handed = stream::iter(groups)
        .map(|messages| async move {
            let ids: Vec<String> = messages
                .iter()
                .map(|m| m.message_id.clone().unwrap_or_default())
                .collect();
            let span = info_span!(
                "group",
                messages = ids.len(),
                customer_id = tracing::field::Empty
            );
            let Err(GroupFailure { from, failure }) =
                handle(messages).instrument(span.clone()).await
            else {
                return Handed::default();
            };
            let back = ids.get(from..).map(<[String]>::to_vec).unwrap_or_default();
            let _entered = span.enter();
            let first = back.first().map(String::as_str).unwrap_or_default();
            log_failure(first, &failure);
            if back.len() > 1 {
                warn!(
                    held_back = back.len() - 1,
                    "later messages of the group handed back untouched"
                );
            }
            Handed {
                back,
                failed: usize::from(!failure.retryable),
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect::<Vec<Handed>>()
        .await;
    response(handed)
}

fn log_failure(message_id: &str, failure: &MessageFailure) {
    if failure.retryable {
        warn!(message_id, reason = %failure.reason, "message failed; SQS will redeliver it");
    } else {
        error!(message_id, reason = %failure.reason, "poison message: it goes to the DLQ after the queue's receive count");
    }
}

/// The batch's answer; the messages that failed are counted against this version (the
/// canary's signal: `metrics::version_failures`).
fn response(handed: Vec<Handed>) -> SqsBatchResponse {
    crate::metrics::version_failures(handed.iter().map(|h| h.failed).sum());
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = handed
        .into_iter()
        .flat_map(|h| h.back)
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    response
}

/// Groups messages by FIFO group, keeping arrival order inside each group.
fn group(records: Vec<SqsMessage>, order: Order) -> Vec<Vec<SqsMessage>> {
    let mut groups: Vec<(Option<String>, Vec<SqsMessage>)> = Vec::new();
    for message in records {
        let key = match order {
            Order::PerGroup => message.attributes.get("MessageGroupId").cloned(),
            Order::Independent => None,
        };
        match groups.iter_mut().find(|(k, _)| key.is_some() && *k == key) {
            Some((_, messages)) => messages.push(message),
            None => groups.push((key, vec![message])),
        }
    }
    groups.into_iter().map(|(_, messages)| messages).collect()
}

/// Returns the ids of the messages to hand back.
async fn process_group<F, Fut>(messages: Vec<SqsMessage>, within: Within<'_>, handle: &F) -> Handed
where
    F: Fn(SqsMessage) -> Fut,
    Fut: Future<Output = Result<(), MessageFailure>>,
{
    let mut handed = Handed::default();
    for message in messages {
        let id = message.message_id.clone().unwrap_or_default();
        if !handed.back.is_empty() {
            warn!(message_id = %id, "held back: an earlier message of its group failed");
            handed.back.push(id);
            continue;
        }
        if !within.allows_another() {
            warn!(message_id = %id, reserve = ?within.reserve, "handed back untouched: the invocation's time is nearly up");
            handed.back.push(id);
            continue;
        }
        let span = info_span!(
            "message",
            message_id = %id,
            customer_id = tracing::field::Empty,
            event_id = tracing::field::Empty
        );
        let result = handle(message).instrument(span.clone()).await;
        if let Err(failure) = result {
            let _entered = span.enter();
            log_failure(&id, &failure);
            handed.back.push(id);
            handed.failed += usize::from(!failure.retryable);
        }
    }
    handed
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn message(id: &str, group: &str) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.message_id = Some(id.to_string());
        m.body = Some(id.to_string());
        m.attributes
            .insert("MessageGroupId".to_string(), group.to_string());
        m
    }

    fn batch(messages: Vec<SqsMessage>) -> SqsEvent {
        let mut e = SqsEvent::default();
        e.records = messages;
        e
    }

    fn failed(r: &SqsBatchResponse) -> Vec<&str> {
        let mut ids: Vec<&str> = r
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        ids.sort();
        ids
    }

    #[tokio::test]
    async fn a_failure_holds_back_its_group_and_no_other() {
        let seen = Mutex::new(Vec::new());
        let event = batch(vec![
            message("a1", "A"),
            message("b1", "B"),
            message("a2", "A"),
            message("b2", "B"),
            message("a3", "A"),
        ]);
        let response = process_batch(event, Order::PerGroup, 4, |m| {
            let body = m.body.unwrap_or_default();
            seen.lock().unwrap().push(body.clone());
            async move {
                if body == "a2" {
                    Err(MessageFailure::retryable("boom"))
                } else {
                    Ok(())
                }
            }
        })
        .await;
        assert_eq!(failed(&response), vec!["a2", "a3"]);
        let seen = seen.into_inner().unwrap();
        assert!(!seen.contains(&"a3".to_string()), "a3 was not attempted");
        assert!(seen.contains(&"b2".to_string()));
    }

    #[tokio::test]
    async fn a_group_is_handled_whole_and_hands_back_from_its_failure() {
        let groups = Mutex::new(Vec::new());
        let event = batch(vec![
            message("a1", "A"),
            message("b1", "B"),
            message("a2", "A"),
            message("a3", "A"),
        ]);
        let response = process_groups(event, 2, |messages| {
            let bodies: Vec<String> = messages.into_iter().filter_map(|m| m.body).collect();
            groups.lock().unwrap().push(bodies.clone());
            async move {
                match bodies.iter().position(|b| b == "a2") {
                    Some(from) => Err(GroupFailure {
                        from,
                        failure: MessageFailure::permanent("poison"),
                    }),
                    None => Ok(()),
                }
            }
        })
        .await;
        assert_eq!(failed(&response), vec!["a2", "a3"]);
        let mut groups = groups.into_inner().unwrap();
        groups.sort();
        assert_eq!(groups, vec![vec!["a1", "a2", "a3"], vec!["b1"]]);
    }

    #[tokio::test]
    async fn independent_messages_fail_alone() {
        let event = batch(vec![
            message("x", "G"),
            message("y", "G"),
            message("z", "G"),
        ]);
        let response = process_batch(event, Order::Independent, 2, |m| async move {
            if m.body.as_deref() == Some("x") {
                Err(MessageFailure::permanent("poison"))
            } else {
                Ok(())
            }
        })
        .await;
        assert_eq!(failed(&response), vec!["x"]);
    }

    #[tokio::test]
    async fn no_message_starts_once_the_time_left_is_below_the_reserve() {
        let left = Mutex::new(Duration::from_secs(30));
        let time_left = || *left.lock().unwrap();
        let within = Within {
            time_left: &time_left,
            reserve: Duration::from_secs(12),
        };
        let seen = Mutex::new(Vec::new());
        let event = batch((1..=5).map(|i| message(&format!("m{i}"), "G")).collect());
        let response = process_batch_within(event, Order::Independent, 1, within, |m| {
            seen.lock().unwrap().push(m.body.unwrap_or_default());
            // each message takes 7 s of the invocation
            *left.lock().unwrap() -= Duration::from_secs(7);
            async { Ok(()) }
        })
        .await;
        // 30, 23 and 16 s left are above the reserve; 9 s is not
        assert_eq!(seen.into_inner().unwrap(), vec!["m1", "m2", "m3"]);
        assert_eq!(failed(&response), vec!["m4", "m5"]);
    }
}

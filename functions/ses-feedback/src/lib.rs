//! SES's feedback loop: the configuration set's events (bounces, complaints, rejects, delays,
//! deliveries, opens, clicks) arrive through EventBridge on a queue; each becomes a customer
//! event on the events FIFO queue, so the transition worker — the single writer — records it:
//! a hard bounce or a complaint suppresses the address, the rest are counted per template and
//! variant, and opens and clicks feed the score.
//!
//! A notification that is not about one of our messages is acknowledged and counted
//! (`FeedbackUnmatched`); one for a customer the store does not know is dropped by the worker
//! and counted there; one that cannot be read fails, and after the queue's receive count lands
//! in its dead-letter queue (`FeedbackMalformed`).

mod build;
pub mod notification;

pub use build::{AwsFeedback, Config, build};

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, Utc};
use journey::domain::{Event, EventKind};
use journey::messages::EventMessage;
use journey::metrics::Metrics;
use journey::ports::{EventQueue, FeedbackNotes};
use journey::sqs_batch::{MessageFailure, Order, process_batch};
use tracing::{info, warn};

use notification::Reading;

/// Notifications handled at once; each is one `SendMessage`.
const CONCURRENCY: usize = 10;

pub struct Feedback<Q, N> {
    queue: Q,
    notes: N,
    metrics: Metrics,
}

impl<Q: EventQueue, N: FeedbackNotes> Feedback<Q, N> {
    pub fn new(queue: Q, notes: N) -> Self {
        Feedback {
            queue,
            notes,
            metrics: Metrics::new("ses-feedback"),
        }
    }

    /// Where the feedback is noted per message (tests read it back).
    pub fn notes(&self) -> &N {
        &self.notes
    }

    /// Where the customer events go (tests read it back).
    pub fn queue(&self) -> &Q {
        &self.queue
    }

    /// One batch from the feedback queue; failed messages are handed back for a retry.
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        let response = process_batch(event, Order::Independent, CONCURRENCY, |message| {
            self.one(message)
        })
        .await;
        self.metrics.flush();
        response
    }

    async fn one(&self, message: SqsMessage) -> Result<(), MessageFailure> {
        let received_at = sent_at(&message);
        let body = message.body.as_deref().unwrap_or_default();
        let event = match notification::read(body) {
            Ok(Reading::Feedback(event)) => *event,
            Ok(Reading::Ignored(kind)) => {
                self.metrics.add("FeedbackIgnored", 1.0);
                info!(event_type = %kind, "SES event of a type that changes nothing");
                return Ok(());
            }
            Ok(Reading::Unmatched(why)) => {
                self.metrics.add("FeedbackUnmatched", 1.0);
                info!(
                    why,
                    "SES event for a message Journey did not send: acknowledged"
                );
                return Ok(());
            }
            Err(e) => {
                self.metrics.add("FeedbackMalformed", 1.0);
                warn!(error = %e, "unreadable SES notification");
                return Err(MessageFailure::permanent(e.to_string()));
            }
        };
        self.note(&event).await?;
        info!(
            event_id = %event.id,
            customer_id = %event.customer_id,
            kind = event.kind.name(),
            "SES feedback queued for the transition worker"
        );
        let received_at = received_at.unwrap_or(event.occurred_at);
        self.queue
            .enqueue(&[EventMessage { received_at, event }])
            .await
            .map_err(|e| MessageFailure::retryable(e.to_string()))?;
        self.metrics.add("FeedbackEvents", 1.0);
        Ok(())
    }
}

impl<Q: EventQueue, N: FeedbackNotes> Feedback<Q, N> {
    /// Notes the feedback on the message's send record, for staff reading the customer's
    /// messages. Before the event is queued: a retry after a failure redoes both, and both
    /// keep what they recorded first.
    async fn note(&self, event: &Event) -> Result<(), MessageFailure> {
        let EventKind::MailFeedback {
            delivery, feedback, ..
        } = &event.kind
        else {
            return Ok(());
        };
        let noted = self
            .notes
            .note_feedback(
                &event.customer_id,
                &delivery.intervention_id,
                *feedback,
                event.occurred_at,
            )
            .await
            .map_err(|e| MessageFailure::retryable(e.to_string()))?;
        if !noted {
            self.metrics.add("FeedbackWithoutSendRecord", 1.0);
        }
        Ok(())
    }
}

/// Notifications as the feedback queue delivers them — `(message id, body)` each, taken by SQS
/// at `sent_at` — for the local stack's stand-in and the tests.
pub fn queued(
    notifications: impl IntoIterator<Item = (String, String)>,
    sent_at: DateTime<Utc>,
) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = notifications
        .into_iter()
        .map(|(id, body)| {
            let mut message = SqsMessage::default();
            message.message_id = Some(id);
            message.body = Some(body);
            message.attributes.insert(
                "SentTimestamp".into(),
                sent_at.timestamp_millis().to_string(),
            );
            message
        })
        .collect();
    event
}

/// When SQS took the notification (`SentTimestamp`, milliseconds): the same on every
/// redelivery, so a retried message applies as of the same moment.
fn sent_at(message: &SqsMessage) -> Option<DateTime<Utc>> {
    let ms = message
        .attributes
        .get("SentTimestamp")?
        .parse::<i64>()
        .ok()?;
    DateTime::from_timestamp_millis(ms)
}

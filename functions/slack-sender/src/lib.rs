//! The Slack sender: SQS (Slack queue) → a Slack incoming webhook. A Block Kit alert addressed
//! to the customer's owner (mentioned when their Slack id is known), sent at most once through
//! the send ledger. 200 `ok` is success; 429 waits for `Retry-After`; 5xx is retried with
//! back-off; 404/410 (channel gone, webhook revoked) are permanent: recorded and logged as an
//! error an operator alarms on, never retried forever.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, Utc};
use journey::alerts;
use journey::domain::{Channel, Intervention, Rules};
use journey::ports::{Chat, ChatError, Clock, CustomerStore, EventQueue, Redelivery, SendLedger};
use journey::sending::{Attempt, SendOutcome, Sending};
use journey::sqs_batch::{MessageFailure, Order, process_batch};
use journey::templates::{Lang, Templates};

/// Slack takes about one message per second per webhook: one at a time.
pub const CONCURRENCY: usize = 1;

pub struct SlackSender<S, H, Q, R, C> {
    pub store: S,
    pub chat: H,
    pub reports: Q,
    pub redelivery: R,
    pub clock: C,
    pub rules: Rules,
    pub templates: Templates,
    pub lang: Lang,
    pub dashboard_url: String,
    pub metrics: journey::metrics::Metrics,
}

impl<S, H, Q, R, C> SlackSender<S, H, Q, R, C>
where
    S: CustomerStore + SendLedger,
    H: Chat,
    Q: EventQueue,
    R: Redelivery,
    C: Clock,
{
    pub async fn handle_batch(&self, event: SqsEvent) -> SqsBatchResponse {
        process_batch(event, Order::Independent, CONCURRENCY, |m| {
            self.handle_message(m)
        })
        .await
    }

    async fn handle_message(&self, message: SqsMessage) -> Result<(), MessageFailure> {
        let body = message
            .body
            .as_deref()
            .ok_or_else(|| MessageFailure::permanent("message has no body"))?;
        let intervention: Intervention = serde_json::from_str(body)
            .map_err(|e| MessageFailure::permanent(format!("undecodable intervention: {e}")))?;
        if intervention.channel != Channel::Slack {
            return Err(MessageFailure::permanent(format!(
                "a {} intervention on the Slack queue",
                intervention.channel.as_str()
            )));
        }
        let span = tracing::Span::current();
        span.record("customer_id", intervention.customer_id.as_str());
        span.record("event_id", intervention.id.as_str());
        let now = self.clock.now();
        let sending = Sending {
            ledger: &self.store,
            reports: &self.reports,
            redelivery: &self.redelivery,
            metrics: &self.metrics,
        };
        sending
            .once(&message, &intervention, now, || {
                self.attempt(&intervention, now)
            })
            .await
    }

    async fn attempt(&self, intervention: &Intervention, now: DateTime<Utc>) -> Attempt {
        let customer = match self.store.load(&intervention.customer_id).await {
            Ok(Some(c)) => c,
            Ok(None) => return Attempt::Done(SendOutcome::Skipped("unknown customer".into())),
            Err(e) => {
                return Attempt::Retry {
                    reason: e.to_string(),
                    after: None,
                };
            }
        };
        let alert = match alerts::build(
            &self.templates,
            &self.rules,
            &customer,
            intervention,
            self.lang,
            &self.dashboard_url,
            now,
        ) {
            Ok(alert) => alert,
            Err(e) => return Attempt::Done(SendOutcome::Failed(e.to_string())),
        };
        match self.chat.post(&alert.slack_payload()).await {
            Ok(()) => Attempt::Done(SendOutcome::Sent("ok".into())),
            Err(ChatError::RateLimited(wait)) => Attempt::Retry {
                reason: format!("Slack rate limit: retry after {wait:?}"),
                after: Some(wait),
            },
            Err(ChatError::Transient(reason)) => Attempt::Retry {
                reason,
                after: None,
            },
            Err(ChatError::Permanent(reason)) => Attempt::Done(SendOutcome::Failed(reason)),
        }
    }
}

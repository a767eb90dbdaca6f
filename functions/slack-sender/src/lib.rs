//! The Slack sender: SQS (Slack queue) → a Slack incoming webhook. A Block Kit alert addressed
//! to the customer's owner (mentioned when their Slack id is known), sent at most once through
//! the send ledger. 200 `ok` is success; 429 waits for `Retry-After`; 5xx is retried with
//! back-off; 404/410 (channel gone, webhook revoked) are permanent: recorded and logged as an
//! error an operator alarms on, never retried forever.

/// The secret holding the incoming-webhook URL.
pub const WEBHOOK_SECRET: &str = "slack-webhook-url";

pub mod build;

pub use crate::build::{
    AwsSlackSender, BuildError, Config, Ports, WEBHOOK_TIMEOUT, assemble, build,
};

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, Utc};
use journey::alerts;
use journey::domain::{Channel, Intervention, Rules};
use journey::ports::{Chat, ChatError, Clock, CustomerStore, EventQueue, Redelivery, SendLedger};
use journey::sending::{Delivered, Prepared, SendOutcome, Sending};
use journey::sqs_batch::{MessageFailure, Order, Within, process_batch_within};
use journey::templates::{Lang, Templates};
use serde_json::Value;

/// One message's worst case: the webhook's 5 s timeout plus the read before it and the record and report after.
pub const RESERVE: std::time::Duration = std::time::Duration::from_secs(12);

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
        self.handle_batch_within(event, &|| std::time::Duration::MAX)
            .await
    }

    /// As Lambda runs it: no message is started with less than [`RESERVE`] of the invocation
    /// left; those go back unclaimed.
    pub async fn handle_batch_within(
        &self,
        event: SqsEvent,
        time_left: &(dyn Fn() -> std::time::Duration + Sync),
    ) -> SqsBatchResponse {
        let within = Within {
            time_left,
            reserve: RESERVE,
        };
        process_batch_within(event, Order::Independent, CONCURRENCY, within, |m| {
            self.handle_message(m)
        })
        .await
    }

    async fn handle_message(&self, message: SqsMessage) -> Result<(), MessageFailure> {
        let intervention = journey::sending::intervention_of(&message)?;
        if intervention.channel != Channel::Slack {
            return Err(MessageFailure::permanent(format!(
                "a {} intervention on the Slack queue",
                intervention.channel.as_str()
            )));
        }
        let now = self.clock.now();
        let sending = Sending {
            ledger: &self.store,
            reports: &self.reports,
            redelivery: &self.redelivery,
            metrics: &self.metrics,
        };
        sending
            .once(
                &message,
                &intervention,
                now,
                self.prepare(&intervention, now),
                |payload| self.deliver(payload),
            )
            .await
    }

    /// Reads and builds the alert.
    async fn prepare(&self, intervention: &Intervention, now: DateTime<Utc>) -> Prepared<Value> {
        let customer = match self.store.load(&intervention.customer_id).await {
            Ok(Some(c)) => c,
            Ok(None) => return Prepared::Done(SendOutcome::Skipped("unknown customer".into())),
            Err(e) => {
                return Prepared::Retry {
                    reason: e.to_string(),
                    after: None,
                };
            }
        };
        match alerts::build(
            &self.templates,
            &self.rules,
            &customer,
            intervention,
            self.lang,
            &self.dashboard_url,
            now,
        ) {
            Ok(alert) => Prepared::Send(alert.slack_payload()),
            Err(e) => Prepared::Done(SendOutcome::Failed(e.to_string())),
        }
    }

    /// One post, its answer classified.
    async fn deliver(&self, payload: Value) -> Delivered {
        match self.chat.post(&payload).await {
            Ok(()) => Delivered::Accepted("ok".into()),
            Err(ChatError::RateLimited(wait)) => Delivered::NotAccepted {
                reason: format!("Slack rate limit: retry after {wait:?}"),
                after: Some(wait),
            },
            Err(ChatError::Transient(reason)) => Delivered::NotAccepted {
                reason,
                after: None,
            },
            Err(ChatError::Permanent(reason)) => Delivered::Refused(reason),
            Err(ChatError::Unknown(reason)) => Delivered::Unknown(reason),
        }
    }
}

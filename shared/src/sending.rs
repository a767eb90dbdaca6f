//! Sending an intervention at most once, for every sender: claim the send ledger, attempt,
//! record the outcome, report it to the transition worker; on a transient error release the
//! claim and hold the message back (back-off) instead of retrying hot.

use std::future::Future;
use std::time::Duration;

use aws_lambda_events::sqs::SqsMessage;
use chrono::{DateTime, Utc};
use tracing::{error, info, warn};

use crate::domain::{Delivery, Event, EventKind, Intervention};
use crate::messages::EventMessage;
use crate::metrics::Metrics;
use crate::ports::{Claim, EventQueue, Lease, Redelivery, SendLedger, SendStatus};
use crate::sqs_batch::MessageFailure;

/// How long a claim protects a send in progress.
pub const LEASE: chrono::Duration = chrono::Duration::seconds(60);

/// What became of an intervention.
#[derive(Clone, Debug, PartialEq)]
pub enum SendOutcome {
    /// Sent; the provider's message id.
    Sent(String),
    /// Not sent on purpose (unsubscribed, suppressed, no address).
    Skipped(String),
    /// Quiet hours: it goes out at this instant.
    Deferred(DateTime<Utc>),
    /// Refused for good; an operator may need to act.
    Failed(String),
}

/// One try's result.
#[derive(Clone, Debug, PartialEq)]
pub enum Attempt {
    Done(SendOutcome),
    /// Worth retrying: after `after` if the provider said so, else with back-off.
    Retry {
        reason: String,
        after: Option<Duration>,
    },
}

pub struct Sending<'a, L, Q, R> {
    pub ledger: &'a L,
    pub reports: &'a Q,
    pub redelivery: &'a R,
    pub metrics: &'a Metrics,
}

impl<L: SendLedger, Q: EventQueue, R: Redelivery> Sending<'_, L, Q, R> {
    /// Runs `attempt` for `intervention` unless it was already sent (or is being sent).
    pub async fn once<F, Fut>(
        &self,
        message: &SqsMessage,
        intervention: &Intervention,
        now: DateTime<Utc>,
        attempt: F,
    ) -> Result<(), MessageFailure>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Attempt>,
    {
        let lease = match self
            .ledger
            .claim(intervention, now, LEASE)
            .await
            .map_err(retryable)?
        {
            Claim::Claimed(lease) => lease,
            Claim::Busy => {
                return Err(MessageFailure::retryable(
                    "another sender holds this intervention",
                ));
            }
            Claim::Done(status) => {
                info!(
                    status = status.as_str(),
                    "already handled: nothing sent again"
                );
                return self.report(intervention, &again(status), now).await;
            }
        };
        match attempt().await {
            Attempt::Done(outcome) => self.settle(intervention, &lease, outcome, now).await,
            Attempt::Retry { reason, after } => {
                self.metrics.add("SendsRetried", 1.0);
                self.ledger
                    .finish(intervention, &lease, SendStatus::Retry, &reason, now)
                    .await
                    .map_err(retryable)?;
                self.hold_back(message, after).await;
                Err(MessageFailure::retryable(reason))
            }
        }
    }

    /// Records the outcome, then reports it: a crash in between is mended by the redelivery,
    /// which finds the ledger finished and reports again.
    async fn settle(
        &self,
        intervention: &Intervention,
        lease: &Lease,
        outcome: SendOutcome,
        now: DateTime<Utc>,
    ) -> Result<(), MessageFailure> {
        let (status, detail) = match &outcome {
            SendOutcome::Sent(id) => (SendStatus::Sent, id.clone()),
            SendOutcome::Skipped(reason) => (SendStatus::Skipped, reason.clone()),
            SendOutcome::Deferred(until) => (SendStatus::Deferred, until.to_rfc3339()),
            SendOutcome::Failed(reason) => (SendStatus::Failed, reason.clone()),
        };
        self.metrics.add(
            match &outcome {
                SendOutcome::Sent(_) => "InterventionsSent",
                SendOutcome::Skipped(_) => "InterventionsSkipped",
                SendOutcome::Deferred(_) => "InterventionsDeferred",
                SendOutcome::Failed(_) => "InterventionsFailed",
            },
            1.0,
        );
        match &outcome {
            SendOutcome::Failed(reason) => error!(
                %reason, template = %intervention.template, channel = intervention.channel.as_str(),
                "intervention refused for good: not retried"
            ),
            _ => info!(
                status = status.as_str(), %detail, template = %intervention.template,
                channel = intervention.channel.as_str(), "intervention handled"
            ),
        }
        self.ledger
            .finish(intervention, lease, status, &detail, now)
            .await
            .map_err(retryable)?;
        self.report(intervention, &outcome, now).await
    }

    /// Reports are events with deterministic ids: sending one twice changes nothing.
    async fn report(
        &self,
        intervention: &Intervention,
        outcome: &SendOutcome,
        now: DateTime<Utc>,
    ) -> Result<(), MessageFailure> {
        let delivery = Delivery::from(intervention);
        let kind = match outcome.clone() {
            SendOutcome::Sent(_) => EventKind::InterventionSent { delivery },
            SendOutcome::Skipped(reason) => EventKind::InterventionSkipped { delivery, reason },
            SendOutcome::Failed(reason) => EventKind::InterventionFailed { delivery, reason },
            SendOutcome::Deferred(until) => EventKind::InterventionDeferred {
                intervention: intervention.clone(),
                until,
            },
        };
        let message = EventMessage {
            received_at: now,
            event: Event::report(intervention, kind, now),
        };
        self.reports
            .enqueue(&[message])
            .await
            .map_err(|e| MessageFailure::retryable(format!("outcome not reported: {e}")))
    }

    /// Holds the message back `after`, or by exponential back-off on its receive count
    /// (30 s, 1 min, 2 min … 15 min).
    async fn hold_back(&self, message: &SqsMessage, after: Option<Duration>) {
        let receives: u32 = message
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        let backoff = Duration::from_secs((30u64 << receives.saturating_sub(1).min(5)).min(900));
        let delay = after.unwrap_or(backoff);
        if let Some(receipt) = &message.receipt_handle
            && let Err(e) = self.redelivery.delay(receipt, delay).await
        {
            warn!(error = %e, "could not hold the retry back; it returns after the visibility timeout");
        }
    }
}

/// The outcome to report again for a finished record.
fn again(status: SendStatus) -> SendOutcome {
    match status {
        SendStatus::Sent => SendOutcome::Sent(String::new()),
        SendStatus::Skipped => SendOutcome::Skipped("reported again".into()),
        _ => SendOutcome::Failed("reported again".into()),
    }
}

pub fn retryable(e: impl std::fmt::Display) -> MessageFailure {
    MessageFailure::retryable(e.to_string())
}

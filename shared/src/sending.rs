//! Sending an intervention at most once, for every sender. The sender first prepares the
//! message (reads and decisions only), then claims the send ledger, calls the provider and
//! records the outcome, then reports it to the transition worker.
//!
//! The semantics (`docs/messages.md`; `docs/reliability.md`):
//! - only an answer that proves the provider did not accept the request is retried;
//! - an outcome that is unknown (the request went out, no answer came back; or the sender died
//!   holding the claim, which its lease outliving the function proves) is recorded `unknown`,
//!   counted and alarmed on, and repeated only where the rules say so (`if_unknown =
//!   "retry_once"`: at least once, at the price of a possible duplicate);
//! - a claim is fenced by its token: an abandoned claim is taken over only by a conditional
//!   write on the old token, so two senders never both hold it.

use std::future::Future;
use std::time::Duration;

use aws_lambda_events::sqs::SqsMessage;
use chrono::{DateTime, Utc};
use tracing::{error, info, warn};

use crate::backoff::full_jitter;
use crate::domain::{Delivery, Event, EventKind, IfUnknown, Intervention};
use crate::messages::EventMessage;
use crate::metrics::Metrics;
use crate::ports::{Claim, EventQueue, Lease, Redelivery, SendLedger, SendStatus, StoreError};
use crate::sqs_batch::MessageFailure;

/// How long a claim protects a send in progress. It outlives the longest sender function
/// (30 s, `template.yaml`; a test checks it), so a lease that ran out means its holder is dead.
pub const LEASE: chrono::Duration = chrono::Duration::seconds(120);

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
    /// Perhaps sent: the provider's answer was lost, and it is not repeated.
    Unknown(String),
}

/// The sender's preparation, before anything is claimed.
#[derive(Clone, Debug, PartialEq)]
pub enum Prepared<T> {
    /// Ready for the provider.
    Send(T),
    /// Decided without the provider: skipped, deferred, or impossible to compose.
    Done(SendOutcome),
    /// A read failed: nothing claimed, try again later (`after`, else back-off).
    Retry {
        reason: String,
        after: Option<Duration>,
    },
}

/// The provider's answer to one request.
#[derive(Clone, Debug, PartialEq)]
pub enum Delivered {
    /// Accepted; its message id.
    Accepted(String),
    /// Refused for good.
    Refused(String),
    /// Provably not accepted (an error answer, no connection): retried later.
    NotAccepted {
        reason: String,
        after: Option<Duration>,
    },
    /// The request was written and no answer came back.
    Unknown(String),
}

pub struct Sending<'a, L, Q, R> {
    pub ledger: &'a L,
    pub reports: &'a Q,
    pub redelivery: &'a R,
    pub metrics: &'a Metrics,
}

impl<L: SendLedger, Q: EventQueue, R: Redelivery> Sending<'_, L, Q, R> {
    /// Prepares, then delivers `intervention` unless it was already handled (or is being
    /// handled).
    pub async fn once<T, P, D, Fut>(
        &self,
        message: &SqsMessage,
        intervention: &Intervention,
        now: DateTime<Utc>,
        prepare: P,
        deliver: D,
    ) -> Result<(), MessageFailure>
    where
        P: Future<Output = Prepared<T>>,
        D: FnOnce(T) -> Fut,
        Fut: Future<Output = Delivered>,
    {
        let ready = match prepare.await {
            Prepared::Send(payload) => Ok(payload),
            Prepared::Done(outcome) => Err(outcome),
            Prepared::Retry { reason, after } => {
                self.metrics.add("SendsRetried", 1.0);
                self.hold_back(message, after).await;
                return Err(MessageFailure::retryable(reason));
            }
        };
        let payload = match ready {
            Ok(payload) => payload,
            Err(outcome) => return self.decided(intervention, outcome, now).await,
        };
        let Some(lease) = self.claim(intervention, now).await? else {
            return Ok(());
        };
        let delivered = deliver(payload).await;
        match delivered {
            Delivered::Accepted(id) => {
                self.settle(intervention, &lease, SendOutcome::Sent(id), now)
                    .await
            }
            Delivered::Refused(reason) => {
                self.settle(intervention, &lease, SendOutcome::Failed(reason), now)
                    .await
            }
            Delivered::NotAccepted { reason, after } => {
                self.release(message, intervention, &lease, reason, after, now)
                    .await
            }
            Delivered::Unknown(reason) => {
                self.unknown(message, intervention, lease, reason, now)
                    .await
            }
        }
    }

    /// The lease to send under; `None` when there is nothing to send (already handled, or an
    /// abandoned claim given up as unknown).
    async fn claim(
        &self,
        intervention: &Intervention,
        now: DateTime<Utc>,
    ) -> Result<Option<Lease>, MessageFailure> {
        match self
            .ledger
            .claim(intervention, now, LEASE)
            .await
            .map_err(retryable)?
        {
            Claim::Claimed(lease) => Ok(Some(lease)),
            Claim::Busy => Err(MessageFailure::retryable(
                "another sender holds this intervention",
            )),
            Claim::Done(status) => {
                info!(
                    status = status.as_str(),
                    "already handled: nothing sent again"
                );
                self.report(intervention, &again(status), now).await?;
                Ok(None)
            }
            Claim::Abandoned(old) => {
                warn!(
                    unknowns = old.unknowns,
                    "the sender that claimed it stopped without recording an outcome"
                );
                if may_repeat(intervention, &old) {
                    match self
                        .ledger
                        .retake(intervention, &old, now, LEASE)
                        .await
                        .map_err(retryable)?
                    {
                        Claim::Claimed(lease) => Ok(Some(lease)),
                        _ => Err(MessageFailure::retryable("another sender took it over")),
                    }
                } else {
                    let why = "its sender stopped between the claim and the record";
                    self.settle(intervention, &old, SendOutcome::Unknown(why.into()), now)
                        .await?;
                    Ok(None)
                }
            }
        }
    }

    /// An outcome decided without the provider: recorded in one write, with no claim.
    async fn decided(
        &self,
        intervention: &Intervention,
        outcome: SendOutcome,
        now: DateTime<Utc>,
    ) -> Result<(), MessageFailure> {
        let (status, detail, _) = parts(&outcome);
        match self
            .ledger
            .decide(intervention, status, &detail, now)
            .await
            .map_err(retryable)?
        {
            None => {
                self.note(intervention, &outcome);
                self.report(intervention, &outcome, now).await
            }
            Some(Claim::Done(status)) => self.report(intervention, &again(status), now).await,
            Some(Claim::Busy) | Some(Claim::Claimed(_)) => Err(MessageFailure::retryable(
                "another sender holds this intervention",
            )),
            // an earlier sender died holding a claim on it: settled as a claim is
            Some(Claim::Abandoned(_)) => match self.claim(intervention, now).await? {
                Some(lease) => self.settle(intervention, &lease, outcome, now).await,
                None => Ok(()),
            },
        }
    }

    /// Provably not accepted: the claim is released (`retry`) and the message held back.
    async fn release(
        &self,
        message: &SqsMessage,
        intervention: &Intervention,
        lease: &Lease,
        reason: String,
        after: Option<Duration>,
        now: DateTime<Utc>,
    ) -> Result<(), MessageFailure> {
        self.metrics.add("SendsRetried", 1.0);
        self.record(intervention, lease, SendStatus::Retry, &reason, now)
            .await?;
        self.hold_back(message, after).await;
        Err(MessageFailure::retryable(reason))
    }

    /// The provider's answer was lost: repeated once if the rules say so, else final.
    async fn unknown(
        &self,
        message: &SqsMessage,
        intervention: &Intervention,
        lease: Lease,
        reason: String,
        now: DateTime<Utc>,
    ) -> Result<(), MessageFailure> {
        self.metrics.add("SendOutcomesUnknown", 1.0);
        if may_repeat(intervention, &lease) {
            warn!(%reason, "outcome unknown: sent once more, as the rules allow");
            let lease = Lease {
                unknowns: lease.unknowns + 1,
                ..lease
            };
            return self
                .release(message, intervention, &lease, reason, None, now)
                .await;
        }
        self.settle(intervention, &lease, SendOutcome::Unknown(reason), now)
            .await
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
        let (status, detail, _) = parts(&outcome);
        self.note(intervention, &outcome);
        self.record(intervention, lease, status, &detail, now)
            .await?;
        self.report(intervention, &outcome, now).await
    }

    /// Counts and logs an outcome.
    fn note(&self, intervention: &Intervention, outcome: &SendOutcome) {
        let (status, detail, metric) = parts(outcome);
        self.metrics.add(metric, 1.0);
        let (template, channel) = (&intervention.template, intervention.channel.as_str());
        match &outcome {
            SendOutcome::Failed(reason) => error!(
                %reason, %template, channel, "intervention refused for good: not retried"
            ),
            SendOutcome::Unknown(reason) => error!(
                %reason, %template, channel, "intervention outcome unknown: not repeated"
            ),
            _ => info!(
                status = status.as_str(), %detail, %template, channel, "intervention handled"
            ),
        }
    }

    /// Finishes the ledger record, a few times over a failing store: after the provider
    /// accepted, losing the record would turn a known outcome into an unknown one.
    async fn record(
        &self,
        intervention: &Intervention,
        lease: &Lease,
        status: SendStatus,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<(), MessageFailure> {
        const ATTEMPTS: u32 = 3;
        let mut attempt = 0;
        loop {
            match self
                .ledger
                .finish(intervention, lease, status, detail, now)
                .await
            {
                Ok(()) => return Ok(()),
                Err(e @ StoreError::VersionConflict(_)) => return Err(retryable(e)),
                Err(e) if attempt + 1 >= ATTEMPTS => return Err(retryable(e)),
                Err(e) => {
                    warn!(error = %e, "send record not written: trying again");
                    attempt += 1;
                    tokio::time::sleep(full_jitter(
                        Duration::from_millis(50),
                        attempt,
                        Duration::from_millis(500),
                    ))
                    .await;
                }
            }
        }
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
            SendOutcome::Unknown(reason) => EventKind::InterventionUnknown { delivery, reason },
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

    /// Holds the message back `after`, or by full-jitter back-off on its receive count (up to
    /// 30 s, 1 min, 2 min … 15 min).
    async fn hold_back(&self, message: &SqsMessage, after: Option<Duration>) {
        let receives: u32 = message
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        let backoff = full_jitter(
            Duration::from_secs(30),
            receives.saturating_sub(1),
            Duration::from_secs(900),
        );
        let delay = after.unwrap_or(backoff);
        if let Some(receipt) = &message.receipt_handle
            && let Err(e) = self.redelivery.delay(receipt, delay).await
        {
            warn!(error = %e, "could not hold the retry back; it returns after the visibility timeout");
        }
    }
}

/// The intervention a sender's SQS message carries, its ids recorded on the message's span;
/// a body that is none is a poison message (permanent: to the DLQ after the bounded retries).
pub fn intervention_of(message: &SqsMessage) -> Result<Intervention, MessageFailure> {
    let body = message
        .body
        .as_deref()
        .ok_or_else(|| MessageFailure::permanent("message has no body"))?;
    let intervention: Intervention = serde_json::from_str(body)
        .map_err(|e| MessageFailure::permanent(format!("undecodable intervention: {e}")))?;
    let span = tracing::Span::current();
    span.record("customer_id", intervention.customer_id.as_str());
    span.record("event_id", intervention.id.as_str());
    Ok(intervention)
}

/// An outcome's ledger status, detail and metric.
fn parts(outcome: &SendOutcome) -> (SendStatus, String, &'static str) {
    match outcome {
        SendOutcome::Sent(id) => (SendStatus::Sent, id.clone(), "InterventionsSent"),
        SendOutcome::Skipped(why) => (SendStatus::Skipped, why.clone(), "InterventionsSkipped"),
        SendOutcome::Deferred(until) => (
            SendStatus::Deferred,
            until.to_rfc3339(),
            "InterventionsDeferred",
        ),
        SendOutcome::Failed(why) => (SendStatus::Failed, why.clone(), "InterventionsFailed"),
        SendOutcome::Unknown(why) => (SendStatus::Unknown, why.clone(), "InterventionsUnknown"),
    }
}

/// Whether an unknown outcome may be followed by one more send.
fn may_repeat(intervention: &Intervention, lease: &Lease) -> bool {
    intervention.if_unknown == IfUnknown::RetryOnce && lease.unknowns == 0
}

/// The outcome to report again for a finished record.
fn again(status: SendStatus) -> SendOutcome {
    match status {
        SendStatus::Sent => SendOutcome::Sent(String::new()),
        SendStatus::Skipped => SendOutcome::Skipped("reported again".into()),
        SendStatus::Unknown => SendOutcome::Unknown("reported again".into()),
        _ => SendOutcome::Failed("reported again".into()),
    }
}

pub fn retryable(e: impl std::fmt::Display) -> MessageFailure {
    MessageFailure::retryable(e.to_string())
}

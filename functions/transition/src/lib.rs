//! The transition worker: the single writer of customer state. It applies each message of the
//! events FIFO queue exactly once (`journey::service::apply_all`: read, apply, one conditional
//! write for a customer's messages of the batch), appends their lines to the event log
//! (`journey::event_log`, Firehose → S3), and then delivers the effects — interventions to the
//! e-mail and Slack queues, domain events to the bus.
//!
//! Effects are delivered effectively once: they are stored with the event's marker in the same
//! transaction, and delivered after the commit. If delivery fails (or the function dies after
//! the commit), the message is not acknowledged; its redelivery finds the marker and delivers
//! the stored effects again. Intervention ids and domain-event ids are deterministic, so the
//! senders and bus consumers drop the repeats: nothing is lost, nothing reaches a customer twice.

mod build;

pub use build::{AwsTransition, BuildError, Config, Ports, Worker, assemble, build};

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use journey::domain::{Change, CustomerId, Effect, Event, Milestone, Rules, TallyMetric};
use journey::event_log::records_of;
use journey::messages::EventMessage;
use journey::metrics::Metrics;
use journey::ports::{CustomerStore, EventBus, EventLog, InterventionQueue, TextNotes};
use journey::rules_versions::RulesHandle;
use journey::service::{Applied, Received, apply_all};
use journey::sqs_batch::{GroupFailure, MessageFailure, process_groups};
use tracing::{info, info_span};

/// Customers processed in parallel within one batch (a batch holds up to 10 messages).
pub const CONCURRENCY: usize = 10;

pub struct Transition<S, Q, B, L> {
    store: S,
    queue: Q,
    bus: B,
    /// The event log calibration reads (S3 through Firehose).
    log: L,
    /// The rules in force; a rules version activated later replaces them (`LiveRules`).
    rules: RulesHandle,
    metrics: Metrics,
}

impl<S: CustomerStore + TextNotes, Q: InterventionQueue, B: EventBus, L: EventLog>
    Transition<S, Q, B, L>
{
    pub fn new(store: S, queue: Q, bus: B, log: L, rules: Rules) -> Self {
        Transition {
            store,
            queue,
            bus,
            log,
            rules: RulesHandle::new(rules),
            metrics: Metrics::new("transition"),
        }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// The handle a `LiveRules` keeps on the active rules version.
    pub fn rules_handle(&self) -> RulesHandle {
        self.rules.clone()
    }

    /// One SQS batch: each customer's messages in order and applied together (one read, one
    /// commit), customers in parallel. A failed message is reported with the later messages of
    /// its customer.
    pub async fn handle_batch(&self, event: SqsEvent) -> SqsBatchResponse {
        process_groups(event, CONCURRENCY, |messages| self.handle_group(messages)).await
    }

    /// One customer's messages: the decodable ones up to the first poison message are applied
    /// in one go, then all their effects are delivered.
    async fn handle_group(&self, messages: Vec<SqsMessage>) -> Result<(), GroupFailure> {
        let mut decoded = Vec::with_capacity(messages.len());
        let mut poison = None;
        for (i, message) in messages.iter().enumerate() {
            match decode(message) {
                Ok(m) => decoded.push(m),
                Err(failure) => {
                    poison = Some(GroupFailure { from: i, failure });
                    break;
                }
            }
        }
        if let Some(EventMessage { event, .. }) = decoded.first() {
            tracing::Span::current().record("customer_id", event.customer_id.as_str());
        }
        let received: Vec<Received<'_>> =
            decoded.iter().map(|m| (&m.event, m.received_at)).collect();
        let rules = self.rules.get();
        let applied = apply_all(&self.store, &rules, &received)
            .await
            .map_err(|e| GroupFailure {
                from: 0,
                failure: MessageFailure {
                    retryable: e.is_retryable(),
                    reason: e.to_string(),
                },
            })?;
        let customer = decoded.first().map(|m| m.event.customer_id.clone());
        let mut effects = Vec::new();
        let mut records = Vec::new();
        for ((message, m), applied) in messages.iter().zip(&decoded).zip(&applied) {
            self.count(applied);
            log_applied(message, &m.event, applied);
            effects.extend_from_slice(applied.effects());
            records.extend(records_of(&m.event, applied));
        }
        self.deliver(customer.as_ref(), &effects)
            .await
            .map_err(|failure| GroupFailure { from: 0, failure })?;
        // the log after the effects, so an outage of the log holds back no message; a failure
        // hands the messages back, and their redelivery (applied already) delivers the effects
        // again (the receivers drop repeats) and appends the same lines from the event and its
        // recorded effects
        self.log.append(&records).await.map_err(|e| GroupFailure {
            from: 0,
            failure: MessageFailure {
                retryable: e.is_retryable(),
                reason: format!("event log not appended: {e}"),
            },
        })?;
        poison.map_or(Ok(()), Err)
    }

    fn count(&self, applied: &Applied) {
        let m = &self.metrics;
        match applied {
            Applied::Fresh(outcome) if outcome.dropped.is_some() => {
                m.add("EventsDropped", 1.0);
            }
            Applied::Fresh(outcome) => {
                m.add("EventsApplied", 1.0);
                for h in &outcome.history {
                    match h.change {
                        Change::Stage { .. } => m.add("StageChanges", 1.0),
                        Change::Risk { .. } => m.add("RiskChanges", 1.0),
                        Change::Note { .. } => {}
                    }
                }
                let planned = outcome
                    .effects
                    .iter()
                    .filter(|e| matches!(e, Effect::Send(_)))
                    .count();
                m.add("InterventionsPlanned", planned as f64);
                let recoveries = outcome
                    .milestones
                    .iter()
                    .filter(|x| matches!(x, Milestone::Recovered { .. }))
                    .count();
                m.add("Recoveries", recoveries as f64);
                for tally in &outcome.tallies {
                    match tally.metric {
                        TallyMetric::TextDelivered => m.add("TextsDelivered", 1.0),
                        TallyMetric::TextFailed => m.add("TextsUndelivered", 1.0),
                        _ => {}
                    }
                }
            }
            Applied::Again(_) => m.add("EventsDuplicate", 1.0),
        }
    }

    /// An erasure's cleaning first, then interventions to their queues, then domain events to
    /// the bus, then texts' final reports onto their send records. Any failure hands the
    /// message back, to be delivered again from the marker.
    async fn deliver(
        &self,
        customer: Option<&CustomerId>,
        effects: &[Effect],
    ) -> Result<(), MessageFailure> {
        let mut interventions = Vec::new();
        let mut events = Vec::new();
        let mut notes = Vec::new();
        let mut erase = false;
        for effect in effects {
            match effect {
                Effect::Send(i) => interventions.push(i.clone()),
                Effect::Publish(e) => events.push(e.clone()),
                Effect::Erase => erase = true,
                Effect::NoteText(note) => notes.push(note),
            }
        }
        if let (true, Some(customer)) = (erase, customer) {
            let erasure = self
                .store
                .erase_records(customer)
                .await
                .map_err(|e| MessageFailure {
                    retryable: e.is_retryable(),
                    reason: format!("erasure not finished: {e}"),
                })?;
            self.metrics.add("Erasures", 1.0);
            info!(
                logged_events = erasure.logged_events,
                send_details = erasure.send_details,
                notes = erasure.notes,
                "erasure: personal data removed from the customer's records"
            );
        }
        if !interventions.is_empty() {
            self.queue
                .send(&interventions)
                .await
                .map_err(|e| MessageFailure::retryable(format!("interventions not queued: {e}")))?;
        }
        if !events.is_empty() {
            self.bus.publish(&events).await.map_err(|e| {
                MessageFailure::retryable(format!("domain events not published: {e}"))
            })?;
        }
        if let Some(customer) = customer {
            for note in notes {
                self.note_text(customer, note).await?;
            }
        }
        Ok(())
    }

    /// A text's final report on its send record; a record long gone (past its retention) is
    /// only logged.
    async fn note_text(
        &self,
        customer: &CustomerId,
        note: &journey::domain::text::TextNote,
    ) -> Result<(), MessageFailure> {
        let noted = self
            .store
            .note_text(customer, note)
            .await
            .map_err(|e| MessageFailure {
                retryable: e.is_retryable(),
                reason: format!("text report not noted: {e}"),
            })?;
        if !noted {
            info!(
                intervention_id = note.intervention_id.as_str(),
                "text report: no send record, or one already final"
            );
        }
        Ok(())
    }
}

fn decode(message: &SqsMessage) -> Result<EventMessage, MessageFailure> {
    let body = message
        .body
        .as_deref()
        .ok_or_else(|| MessageFailure::permanent("message has no body"))?;
    serde_json::from_str(body)
        .map_err(|e| MessageFailure::permanent(format!("undecodable event message: {e}")))
}

/// One line per message, in a span with its ids.
fn log_applied(message: &SqsMessage, event: &Event, applied: &Applied) {
    let span = info_span!(
        "message",
        message_id = message.message_id.as_deref().unwrap_or_default(),
        customer_id = event.customer_id.as_str(),
        event_id = event.id.as_str(),
    );
    let _entered = span.enter();
    match applied {
        Applied::Fresh(outcome) if outcome.dropped.is_some() => info!(
            kind = event.kind.name(),
            dropped = outcome.dropped.map(|d| d.as_str()),
            occurred_at = %event.occurred_at,
            "event dropped unapplied: nothing stored"
        ),
        Applied::Fresh(outcome) => info!(
            kind = event.kind.name(),
            stage = ?outcome.customer.stage,
            risk = %outcome.customer.risk,
            changes = outcome.history.len(),
            effects = outcome.effects.len(),
            "event applied"
        ),
        Applied::Again(effects) => info!(
            kind = event.kind.name(),
            effects = effects.len(),
            "event already applied; delivering its recorded effects again"
        ),
    }
}

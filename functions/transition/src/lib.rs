//! The transition worker: the single writer of customer state. For each message of the events
//! FIFO queue it applies the event exactly once (`journey::service::apply_once`: read, apply,
//! one conditional transaction) and then delivers the effects — interventions to the e-mail and
//! Slack queues, domain events to the bus.
//!
//! Effects are delivered effectively once: they are stored with the event's marker in the same
//! transaction, and delivered after the commit. If delivery fails (or the function dies after
//! the commit), the message is not acknowledged; its redelivery finds the marker and delivers
//! the stored effects again. Intervention ids and domain-event ids are deterministic, so the
//! senders and bus consumers drop the repeats: nothing is lost, nothing reaches a customer twice.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use journey::domain::{Change, Effect, Milestone, Rules};
use journey::messages::EventMessage;
use journey::metrics::Metrics;
use journey::ports::{CustomerStore, EventBus, InterventionQueue};
use journey::rules_versions::RulesHandle;
use journey::service::{Applied, apply_once};
use journey::sqs_batch::{MessageFailure, Order, process_batch};
use tracing::info;

/// Customers processed in parallel within one batch (a batch holds up to 10 messages).
pub const CONCURRENCY: usize = 10;

pub struct Transition<S, Q, B> {
    store: S,
    queue: Q,
    bus: B,
    /// The rules in force; a rules version activated later replaces them (`LiveRules`).
    rules: RulesHandle,
    metrics: Metrics,
}

impl<S: CustomerStore, Q: InterventionQueue, B: EventBus> Transition<S, Q, B> {
    pub fn new(store: S, queue: Q, bus: B, rules: Rules) -> Self {
        Transition {
            store,
            queue,
            bus,
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

    /// One SQS batch: messages of a customer in order, customers in parallel; a failed message
    /// is reported alone, with the later messages of its customer.
    pub async fn handle_batch(&self, event: SqsEvent) -> SqsBatchResponse {
        process_batch(event, Order::PerGroup, CONCURRENCY, |m| {
            self.handle_message(m)
        })
        .await
    }

    async fn handle_message(&self, message: SqsMessage) -> Result<(), MessageFailure> {
        let body = message
            .body
            .as_deref()
            .ok_or_else(|| MessageFailure::permanent("message has no body"))?;
        let EventMessage { received_at, event } = serde_json::from_str(body)
            .map_err(|e| MessageFailure::permanent(format!("undecodable event message: {e}")))?;
        let span = tracing::Span::current();
        span.record("customer_id", event.customer_id.as_str());
        span.record("event_id", event.id.as_str());
        let rules = self.rules.get();
        let applied = apply_once(&self.store, &rules, &event, received_at)
            .await
            .map_err(|e| MessageFailure {
                retryable: e.is_retryable(),
                reason: e.to_string(),
            })?;
        self.count(&applied);
        match &applied {
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
        self.deliver(applied.effects()).await
    }

    fn count(&self, applied: &Applied) {
        let m = &self.metrics;
        match applied {
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
            }
            Applied::Again(_) => m.add("EventsDuplicate", 1.0),
        }
    }

    /// Interventions to their queues, then domain events to the bus. Any failure hands the
    /// message back, to be delivered again from the marker.
    async fn deliver(&self, effects: &[Effect]) -> Result<(), MessageFailure> {
        let mut interventions = Vec::new();
        let mut events = Vec::new();
        for effect in effects {
            match effect {
                Effect::Send(i) => interventions.push(i.clone()),
                Effect::Publish(e) => events.push(e.clone()),
            }
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
        Ok(())
    }
}

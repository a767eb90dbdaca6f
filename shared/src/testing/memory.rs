//! An in-memory store and send ledger with DynamoDB's conditional semantics: the customer
//! written only at the version read, an event's marker refused while it lives, a send record
//! claimed, fenced and finished as `DynamoStore` does. The contract tests
//! ([`super::contract`]) run the same cases against this and the emulator, so a handler test
//! on this fake says what it would against the table.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Duration, Utc};

use crate::domain::{Customer, CustomerId, Effect, EventId, Intervention, InterventionId};
use crate::ports::{
    Claim, Commit, CustomerStore, Erasure, Lease, SendLedger, SendStatus, StoreError,
};

/// One applied event's dedup marker.
struct Marker {
    expires: DateTime<Utc>,
    effects: Vec<Effect>,
}

/// One intervention's send record.
struct SendRecord {
    customer: CustomerId,
    status: SendStatus,
    lease_until: Option<DateTime<Utc>>,
    token: Option<String>,
    unknowns: u32,
    detail: Option<String>,
    /// SES's feedback, first time of each.
    mail: std::collections::BTreeMap<&'static str, DateTime<Utc>>,
    /// A text's first final report.
    text: Option<crate::domain::text::TextNote>,
}

#[derive(Default)]
struct Tables {
    customers: HashMap<CustomerId, Customer>,
    markers: HashMap<(CustomerId, EventId), Marker>,
    sends: HashMap<InterventionId, SendRecord>,
    /// Distinguishes tokens of claims made in the same instant.
    claims: u64,
    pending_texts: std::collections::BTreeMap<String, crate::ports::PendingText>,
}

/// Customers, markers and send records in memory. A marker lives `marker_ttl`
/// (`DynamoStore`'s is `journey_adapters::dynamodb::MARKER_TTL`).
pub struct MemoryStore {
    tables: Mutex<Tables>,
    marker_ttl: Duration,
}

impl MemoryStore {
    pub fn new(marker_ttl: Duration) -> Self {
        MemoryStore {
            tables: Mutex::default(),
            marker_ttl,
        }
    }

    fn tables(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl CustomerStore for MemoryStore {
    async fn load(&self, id: &CustomerId) -> Result<Option<Customer>, StoreError> {
        Ok(self.tables().customers.get(id).cloned())
    }

    /// All or nothing, checked in `DynamoStore`'s order: the version first, then each marker;
    /// a plain commit (`Commit::is_plain`) writes the customer alone, as `DynamoStore` does.
    async fn commit(&self, commit: &Commit<'_>) -> Result<(), StoreError> {
        let mut tables = self.tables();
        let id = &commit.before.id;
        let stored = tables.customers.get(id).map_or(0, |c| c.version);
        if stored != commit.before.version {
            return Err(StoreError::VersionConflict(id.clone()));
        }
        let steps = if commit.is_plain() {
            &[][..]
        } else {
            commit.steps
        };
        for step in steps {
            let key = (id.clone(), step.event.id.clone());
            if tables
                .markers
                .get(&key)
                .is_some_and(|m| m.expires >= step.now)
            {
                return Err(StoreError::AlreadyApplied(step.event.id.clone()));
            }
        }
        for step in steps {
            let marker = Marker {
                expires: step.now + self.marker_ttl,
                effects: step.outcome.effects.clone(),
            };
            tables
                .markers
                .insert((id.clone(), step.event.id.clone()), marker);
        }
        let mut after = commit.after().clone();
        after.version = stored + 1;
        tables.customers.insert(id.clone(), after);
        Ok(())
    }

    async fn applied_effects(
        &self,
        customer: &CustomerId,
        event: &EventId,
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<Effect>>, StoreError> {
        let tables = self.tables();
        let marker = tables.markers.get(&(customer.clone(), event.clone()));
        Ok(marker
            .filter(|m| m.expires > now)
            .map(|m| m.effects.clone()))
    }

    async fn erase_records(&self, customer: &CustomerId) -> Result<Erasure, StoreError> {
        let mut tables = self.tables();
        let send_details = tables
            .sends
            .values_mut()
            .filter(|r| &r.customer == customer)
            .filter_map(|r| {
                r.mail.clear();
                r.detail.take()
            })
            .count();
        Ok(Erasure {
            send_details,
            ..Erasure::default()
        })
    }
}

/// What a claim that could not be taken finds, as `DynamoStore` reads it back.
fn found(record: &SendRecord, now: DateTime<Utc>) -> Claim {
    match (record.status, record.lease_until, &record.token) {
        (status, _, _) if status.is_final() => Claim::Done(status),
        (SendStatus::InProgress, Some(until), Some(token)) if until < now => {
            Claim::Abandoned(Lease {
                token: token.clone(),
                until,
                unknowns: record.unknowns,
            })
        }
        _ => Claim::Busy,
    }
}

fn claimable(record: Option<&SendRecord>) -> bool {
    record.is_none_or(|r| matches!(r.status, SendStatus::Deferred | SendStatus::Retry))
}

impl Tables {
    /// Sets the record in progress under a new lease.
    fn take(
        &mut self,
        intervention: &Intervention,
        unknowns: Option<u32>,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Claim {
        self.claims += 1;
        let token = format!("{}-{}", intervention.id, self.claims);
        let until = now + lease;
        let record = self
            .sends
            .entry(intervention.id.clone())
            .or_insert_with(|| SendRecord {
                customer: intervention.customer_id.clone(),
                status: SendStatus::InProgress,
                lease_until: None,
                token: None,
                unknowns: 0,
                detail: None,
                mail: Default::default(),
                text: None,
            });
        record.status = SendStatus::InProgress;
        record.lease_until = Some(until);
        record.token = Some(token.clone());
        if let Some(count) = unknowns {
            record.unknowns = count;
        }
        Claim::Claimed(Lease {
            token,
            until,
            unknowns: record.unknowns,
        })
    }
}

impl MemoryStore {
    /// The feedback noted on `intervention`'s send record, by name, in name order.
    pub fn feedback_noted(
        &self,
        intervention: &InterventionId,
    ) -> Vec<(&'static str, DateTime<Utc>)> {
        self.tables()
            .sends
            .get(intervention)
            .map(|r| r.mail.iter().map(|(k, v)| (*k, *v)).collect())
            .unwrap_or_default()
    }
}

impl crate::ports::FeedbackNotes for MemoryStore {
    async fn note_feedback(
        &self,
        customer: &CustomerId,
        intervention: &InterventionId,
        feedback: crate::domain::MailFeedback,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        match tables.sends.get_mut(intervention) {
            // a finished record (it has its detail), not one an erasure cleaned
            Some(record) if record.customer == *customer && record.detail.is_some() => {
                record.mail.entry(feedback.as_str()).or_insert(at);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

impl MemoryStore {
    /// The final report noted on `intervention`'s send record.
    pub fn text_noted(
        &self,
        intervention: &InterventionId,
    ) -> Option<crate::domain::text::TextNote> {
        self.tables().sends.get(intervention)?.text.clone()
    }
}

impl crate::ports::PendingTexts for MemoryStore {
    async fn await_report(&self, text: &crate::ports::PendingText) -> Result<(), StoreError> {
        self.tables()
            .pending_texts
            .insert(text.send_id.clone(), text.clone());
        Ok(())
    }

    async fn due_texts(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<crate::ports::PendingText>, StoreError> {
        let tables = self.tables();
        let due = tables.pending_texts.values().filter(|p| p.due_at <= now);
        Ok(due.take(limit).cloned().collect())
    }

    async fn repoll(
        &self,
        text: &crate::ports::PendingText,
        due_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if let Some(p) = self.tables().pending_texts.get_mut(&text.send_id) {
            p.due_at = due_at;
        }
        Ok(())
    }

    async fn end_polls(&self, send_id: &str) -> Result<(), StoreError> {
        self.tables().pending_texts.remove(send_id);
        Ok(())
    }
}

impl crate::ports::TextOwners for MemoryStore {
    async fn text_owner(&self, send_id: &str) -> Result<Option<CustomerId>, StoreError> {
        let tables = self.tables();
        Ok(tables
            .pending_texts
            .get(send_id)
            .map(|p| p.customer_id.clone()))
    }
}

impl crate::ports::TextNotes for MemoryStore {
    async fn note_text(
        &self,
        customer: &CustomerId,
        note: &crate::domain::text::TextNote,
    ) -> Result<bool, StoreError> {
        let mut tables = self.tables();
        tables.pending_texts.remove(note.intervention_id.as_str());
        match tables.sends.get_mut(&note.intervention_id) {
            Some(record) if record.customer == *customer => {
                record.text.get_or_insert_with(|| note.clone());
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

impl SendLedger for MemoryStore {
    async fn claim(
        &self,
        intervention: &Intervention,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Claim, StoreError> {
        let mut tables = self.tables();
        let record = tables.sends.get(&intervention.id);
        if !claimable(record) {
            return Ok(record.map_or(Claim::Busy, |r| found(r, now)));
        }
        Ok(tables.take(intervention, None, now, lease))
    }

    async fn decide(
        &self,
        intervention: &Intervention,
        status: SendStatus,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Claim>, StoreError> {
        let mut tables = self.tables();
        let record = tables.sends.get(&intervention.id);
        if !claimable(record) {
            return Ok(Some(record.map_or(Claim::Busy, |r| found(r, now))));
        }
        let unknowns = record.map_or(0, |r| r.unknowns);
        tables.sends.insert(
            intervention.id.clone(),
            SendRecord {
                customer: intervention.customer_id.clone(),
                status,
                lease_until: None,
                token: None,
                unknowns,
                detail: Some(detail.to_string()),
                mail: Default::default(),
                text: None,
            },
        );
        Ok(None)
    }

    async fn retake(
        &self,
        intervention: &Intervention,
        abandoned: &Lease,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Claim, StoreError> {
        let mut tables = self.tables();
        let record = tables.sends.get(&intervention.id);
        let still_abandoned = record.is_some_and(|r| {
            r.status == SendStatus::InProgress && r.token.as_deref() == Some(&abandoned.token)
        });
        if !still_abandoned {
            // someone else's claim since, or already finished: not ours to send
            return Ok(match record.map(|r| found(r, now)) {
                Some(Claim::Done(status)) => Claim::Done(status),
                _ => Claim::Busy,
            });
        }
        Ok(tables.take(intervention, Some(abandoned.unknowns + 1), now, lease))
    }

    async fn finish(
        &self,
        intervention: &Intervention,
        lease: &Lease,
        status: SendStatus,
        detail: &str,
        _now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tables = self.tables();
        let record = tables
            .sends
            .get_mut(&intervention.id)
            .filter(|r| r.token.as_deref() == Some(&lease.token))
            .ok_or_else(|| StoreError::VersionConflict(intervention.customer_id.clone()))?;
        record.status = status;
        record.detail = Some(detail.to_string());
        record.unknowns = lease.unknowns;
        record.lease_until = None;
        Ok(())
    }
}

//! Applying one event exactly once: read, `apply`, commit in one conditional transaction;
//! re-read and retry on a conflict; an event already applied returns the effects recorded with
//! it, so a redelivery re-sends them (the senders deduplicate) and nothing is lost.

use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::domain::{Customer, DomainError, Effect, Event, Outcome, Rules, apply};
use crate::ports::{Commit, CustomerStore, StoreError};

/// Attempts before a customer under constant contention is given back to the queue.
pub const MAX_ATTEMPTS: u32 = 5;

/// The result of applying an event.
#[derive(Debug)]
pub enum Applied {
    /// Applied now; the outcome is committed.
    Fresh(Box<Outcome>),
    /// Applied before; these are the effects committed then (empty once the marker expired).
    Again(Vec<Effect>),
}

impl Applied {
    /// The effects to deliver after the commit.
    pub fn effects(&self) -> &[Effect] {
        match self {
            Applied::Fresh(outcome) => &outcome.effects,
            Applied::Again(effects) => effects,
        }
    }
}

#[derive(Debug, Error)]
pub enum ApplyError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("customer {0} kept changing under us ({MAX_ATTEMPTS} attempts)")]
    Contention(String),
}

impl ApplyError {
    pub fn is_retryable(&self) -> bool {
        match self {
            ApplyError::Domain(_) => false,
            ApplyError::Store(e) => e.is_retryable(),
            ApplyError::Contention(_) => true,
        }
    }
}

/// Applies `event` to its customer exactly once, as of `now`.
pub async fn apply_once<S: CustomerStore>(
    store: &S,
    rules: &Rules,
    event: &Event,
    now: DateTime<Utc>,
) -> Result<Applied, ApplyError> {
    for attempt in 0..MAX_ATTEMPTS {
        let before = store
            .load(&event.customer_id)
            .await?
            .unwrap_or_else(|| Customer::new(event.customer_id.clone()));
        let outcome = apply(&before, event, rules, now)?;
        if outcome.duplicate {
            return recorded_effects(store, event, now).await;
        }
        let commit = Commit {
            before: &before,
            event,
            outcome: &outcome,
            now,
            attempt,
        };
        match store.commit(&commit).await {
            Ok(()) => return Ok(Applied::Fresh(Box::new(outcome))),
            Err(StoreError::AlreadyApplied(_)) => return recorded_effects(store, event, now).await,
            Err(StoreError::VersionConflict(_)) => {
                tracing::debug!(attempt, "version conflict, re-reading");
            }
            Err(StoreError::Unavailable(reason)) if reason.contains("TransactionConflict") => {
                tracing::debug!(attempt, "transaction conflict, retrying");
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApplyError::Contention(event.customer_id.to_string()))
}

async fn recorded_effects<S: CustomerStore>(
    store: &S,
    event: &Event,
    now: DateTime<Utc>,
) -> Result<Applied, ApplyError> {
    let effects = store
        .applied_effects(&event.customer_id, &event.id, now)
        .await?
        .unwrap_or_default();
    Ok(Applied::Again(effects))
}

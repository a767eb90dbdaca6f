//! Applying events exactly once: read, `apply`, commit in one conditional transaction; re-read
//! and retry on a conflict; an event already applied returns the effects recorded with it, so
//! a redelivery re-sends them (the senders deduplicate) and nothing is lost. A customer's
//! consecutive events of one batch share the read and the commit.

use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::domain::{Customer, DomainError, Effect, Event, Outcome, Rules, apply};
use crate::ports::{Commit, CustomerStore, Step, StoreError};

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

/// Most events one commit carries. Each adds its marker and history entries to the
/// transaction, which DynamoDB caps at 100 items.
pub const MAX_STEPS: usize = 8;

/// An event and when it was received: the `now` it is applied as of.
pub type Received<'a> = (&'a Event, DateTime<Utc>);

/// Applies `event` to its customer exactly once, as of `now`.
pub async fn apply_once<S: CustomerStore>(
    store: &S,
    rules: &Rules,
    event: &Event,
    now: DateTime<Utc>,
) -> Result<Applied, ApplyError> {
    let mut applied = apply_all(store, rules, &[(event, now)]).await?;
    applied
        .pop()
        .ok_or_else(|| ApplyError::Contention(event.customer_id.to_string()))
}

/// Applies `events` (in order) exactly once, each as of its own time. A customer's consecutive
/// events share one read and one commit (up to [`MAX_STEPS`]): a burst from an app or a
/// provider costs one write, not one per event. Returns one `Applied` per event, in order.
pub async fn apply_all<S: CustomerStore>(
    store: &S,
    rules: &Rules,
    events: &[Received<'_>],
) -> Result<Vec<Applied>, ApplyError> {
    let mut results = Vec::with_capacity(events.len());
    let mut pending = events;
    while let Some((first, _)) = pending.first() {
        let size = pending
            .iter()
            .take(MAX_STEPS)
            .take_while(|(e, _)| e.customer_id == first.customer_id)
            .count();
        let (run, rest) = pending.split_at(size);
        match apply_run(store, rules, run).await? {
            Some(applied) => results.extend(applied),
            // an event of the run was applied long ago (its marker lives, the state forgot it):
            // one at a time, each finds out for itself
            None => {
                for received in run {
                    let one = apply_run(store, rules, std::slice::from_ref(received)).await?;
                    results.extend(one.unwrap_or_default());
                }
            }
        }
        pending = rest;
    }
    Ok(results)
}

/// One customer's events in one commit, re-read and retried on a conflict. `None` when a
/// marker of a run of several events already exists.
async fn apply_run<S: CustomerStore>(
    store: &S,
    rules: &Rules,
    run: &[Received<'_>],
) -> Result<Option<Vec<Applied>>, ApplyError> {
    let Some((first, _)) = run.first() else {
        return Ok(Some(Vec::new()));
    };
    for attempt in 0..MAX_ATTEMPTS {
        let before = store
            .load(&first.customer_id)
            .await?
            .unwrap_or_else(|| Customer::new(first.customer_id.clone()));
        let outcomes = apply_in_memory(&before, rules, run)?;
        let steps: Vec<Step<'_>> = outcomes
            .iter()
            .zip(run)
            .filter_map(|(outcome, (event, now))| {
                // a dropped event is counted by the caller and leaves nothing in the table
                outcome
                    .as_ref()
                    .filter(|o| o.dropped.is_none())
                    .map(|outcome| Step {
                        event,
                        outcome,
                        now: *now,
                    })
            })
            .collect();
        if steps.is_empty() {
            return collect(store, outcomes, run).await.map(Some);
        }
        let commit = Commit {
            before: &before,
            steps: &steps,
            attempt,
        };
        match store.commit(&commit).await {
            Ok(()) => return collect(store, outcomes, run).await.map(Some),
            Err(StoreError::AlreadyApplied(_)) if run.len() > 1 => return Ok(None),
            Err(StoreError::AlreadyApplied(_)) => {
                return collect(store, vec![None], run).await.map(Some);
            }
            Err(StoreError::VersionConflict(_)) => {
                tracing::debug!(attempt, "version conflict, re-reading");
            }
            Err(StoreError::Unavailable(reason)) if reason.contains("TransactionConflict") => {
                tracing::debug!(attempt, "transaction conflict, retrying");
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApplyError::Contention(first.customer_id.to_string()))
}

/// Each event's outcome on the state the previous one left; `None` for an event already
/// applied (before, or earlier in the run).
fn apply_in_memory(
    before: &Customer,
    rules: &Rules,
    run: &[Received<'_>],
) -> Result<Vec<Option<Outcome>>, ApplyError> {
    let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(run.len());
    for (event, now) in run {
        let state = outcomes.iter().rev().flatten().next();
        let outcome = apply(state.map_or(before, |o| &o.customer), event, rules, *now)?;
        outcomes.push((!outcome.duplicate).then_some(outcome));
    }
    Ok(outcomes)
}

/// The committed outcomes, and for repeats the effects recorded with them.
async fn collect<S: CustomerStore>(
    store: &S,
    outcomes: Vec<Option<Outcome>>,
    run: &[Received<'_>],
) -> Result<Vec<Applied>, ApplyError> {
    let mut applied = Vec::with_capacity(outcomes.len());
    for (outcome, (event, now)) in outcomes.into_iter().zip(run) {
        applied.push(match outcome {
            Some(outcome) => Applied::Fresh(Box::new(outcome)),
            None => recorded_effects(store, event, *now).await?,
        });
    }
    Ok(applied)
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

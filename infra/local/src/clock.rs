//! Simulated time: the local stack's "now", which can be moved to any instant so days of
//! inactivity pass in seconds. It stamps API Gateway's request time and the scheduler's event
//! time — exactly the two places AWS supplies `now` to the functions.

use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Default)]
pub struct SimClock {
    offset: Mutex<Duration>,
    /// Stopped at an instant, moved only by `set` (the fault suite: two runs of one log see
    /// the same times, however long their retries take).
    frozen: Mutex<Option<DateTime<Utc>>>,
}

impl SimClock {
    pub fn now(&self) -> DateTime<Utc> {
        if let Some(at) = *self.frozen.lock().unwrap_or_else(|e| e.into_inner()) {
            return at;
        }
        Utc::now() + *self.offset.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// From now on, time runs on from `at` (or stays there, when frozen).
    pub fn set(&self, at: DateTime<Utc>) {
        let mut frozen = self.frozen.lock().unwrap_or_else(|e| e.into_inner());
        if frozen.is_some() {
            *frozen = Some(at);
        }
        *self.offset.lock().unwrap_or_else(|e| e.into_inner()) = at - Utc::now();
    }

    /// Stops time where it is; only `set` moves it from now on.
    pub fn freeze(&self) {
        let now = self.now();
        *self.frozen.lock().unwrap_or_else(|e| e.into_inner()) = Some(now);
    }

    /// Moves time forward to `at` (never back).
    pub fn advance_to(&self, at: DateTime<Utc>) {
        if at > self.now() {
            self.set(at);
        }
    }
}

impl journey::ports::Clock for SimClock {
    fn now(&self) -> DateTime<Utc> {
        SimClock::now(self)
    }
}

/// The stack's clock, shared with the senders.
#[derive(Clone, Debug, Default)]
pub struct SharedClock(pub std::sync::Arc<SimClock>);

impl journey::ports::Clock for SharedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.now()
    }
}

tokio::task_local! {
    /// Time a redelivery stands for: when the fault suite brings a message back after a second
    /// instead of the queue's visibility timeout, the send ledger sees the time it would have
    /// seen (so a dead sender's lease has run out), while the rest of the handler keeps the
    /// log's time (a report stamped later would run ahead of the log's next events).
    static AGED: Duration;
}

/// Runs `invocation` with the send ledger's clock `by` later.
pub async fn aged<F: std::future::Future>(by: Duration, invocation: F) -> F::Output {
    AGED.scope(by, invocation).await
}

fn aged_now(now: DateTime<Utc>) -> DateTime<Utc> {
    now + AGED.try_with(|d| *d).unwrap_or_default()
}

/// The store with its send ledger on the redelivery's time (`aged`); otherwise the store.
#[derive(Clone, Debug)]
pub struct AgedLedger<S>(pub S);

impl<S: journey::ports::CustomerStore> journey::ports::CustomerStore for AgedLedger<S> {
    async fn load(
        &self,
        id: &journey::domain::CustomerId,
    ) -> Result<Option<journey::domain::Customer>, journey::ports::StoreError> {
        self.0.load(id).await
    }

    async fn commit(
        &self,
        commit: &journey::ports::Commit<'_>,
    ) -> Result<(), journey::ports::StoreError> {
        self.0.commit(commit).await
    }

    async fn applied_effects(
        &self,
        customer: &journey::domain::CustomerId,
        event: &journey::domain::EventId,
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<journey::domain::Effect>>, journey::ports::StoreError> {
        self.0.applied_effects(customer, event, now).await
    }

    async fn erase_records(
        &self,
        customer: &journey::domain::CustomerId,
    ) -> Result<journey::ports::Erasure, journey::ports::StoreError> {
        self.0.erase_records(customer).await
    }
}

impl<S: journey::ports::SendLedger> journey::ports::SendLedger for AgedLedger<S> {
    async fn claim(
        &self,
        intervention: &journey::domain::Intervention,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<journey::ports::Claim, journey::ports::StoreError> {
        self.0.claim(intervention, aged_now(now), lease).await
    }

    async fn decide(
        &self,
        intervention: &journey::domain::Intervention,
        status: journey::ports::SendStatus,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<journey::ports::Claim>, journey::ports::StoreError> {
        self.0
            .decide(intervention, status, detail, aged_now(now))
            .await
    }

    async fn retake(
        &self,
        intervention: &journey::domain::Intervention,
        abandoned: &journey::ports::Lease,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<journey::ports::Claim, journey::ports::StoreError> {
        self.0
            .retake(intervention, abandoned, aged_now(now), lease)
            .await
    }

    async fn finish(
        &self,
        intervention: &journey::domain::Intervention,
        lease: &journey::ports::Lease,
        status: journey::ports::SendStatus,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<(), journey::ports::StoreError> {
        self.0
            .finish(intervention, lease, status, detail, aged_now(now))
            .await
    }
}

impl<S: journey::ports::PendingTexts> journey::ports::PendingTexts for AgedLedger<S> {
    async fn await_report(
        &self,
        text: &journey::ports::PendingText,
    ) -> Result<(), journey::ports::StoreError> {
        self.0.await_report(text).await
    }

    async fn due_texts(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<journey::ports::PendingText>, journey::ports::StoreError> {
        self.0.due_texts(now, limit).await
    }

    async fn repoll(
        &self,
        text: &journey::ports::PendingText,
        due_at: DateTime<Utc>,
    ) -> Result<(), journey::ports::StoreError> {
        self.0.repoll(text, due_at).await
    }

    async fn end_polls(&self, send_id: &str) -> Result<(), journey::ports::StoreError> {
        self.0.end_polls(send_id).await
    }
}

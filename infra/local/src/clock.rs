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
        self.0.now() + AGED.try_with(|d| *d).unwrap_or_default()
    }
}

tokio::task_local! {
    /// Time a redelivery stands for: when the fault suite brings a message back after a second
    /// instead of the queue's visibility timeout, the handler sees the time it would have seen.
    static AGED: Duration;
}

/// Runs `invocation` with the clock `by` later.
pub async fn aged<F: std::future::Future>(by: Duration, invocation: F) -> F::Output {
    AGED.scope(by, invocation).await
}

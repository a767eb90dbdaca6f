//! Simulated time: the local stack's "now", which can be moved to any instant so days of
//! inactivity pass in seconds. It stamps API Gateway's request time and the scheduler's event
//! time — exactly the two places AWS supplies `now` to the functions.

use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Default)]
pub struct SimClock {
    offset: Mutex<Duration>,
}

impl SimClock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + *self.offset.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// From now on, time runs on from `at`.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.offset.lock().unwrap_or_else(|e| e.into_inner()) = at - Utc::now();
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

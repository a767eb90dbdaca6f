//! Helpers for tests of this crate and of the functions (feature `test-util`): event builders
//! and fixed instants.

use chrono::{DateTime, Utc};

use crate::domain::{CustomerId, Event, EventId, EventKind, Money, Profile, Source};

/// Parses an RFC 3339 instant; panics on a typo, which is what a test wants.
pub fn t(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap_or_else(|e| panic!("bad test instant {rfc3339}: {e}"))
        .with_timezone(&Utc)
}

pub fn customer_id(id: &str) -> CustomerId {
    CustomerId::new(id).unwrap_or_else(|e| panic!("bad test customer id: {e}"))
}

pub fn krw(amount: i64) -> Money {
    Money::new(amount, "KRW").unwrap_or_else(|e| panic!("bad test amount: {e}"))
}

/// Builds one customer's events with unique ids.
pub struct Events {
    customer: CustomerId,
    next: u32,
}

impl Events {
    pub fn new(customer: &str) -> Self {
        Events {
            customer: customer_id(customer),
            next: 0,
        }
    }

    pub fn customer(&self) -> &CustomerId {
        &self.customer
    }

    /// An app event of `kind` at `at`.
    pub fn at(&mut self, at: DateTime<Utc>, kind: EventKind) -> Event {
        self.next += 1;
        Event {
            id: EventId::new(format!("test:{}:{}", self.customer, self.next))
                .unwrap_or_else(|e| panic!("{e}")),
            customer_id: self.customer.clone(),
            occurred_at: at,
            source: Source::App,
            kind,
            profile: Profile::default(),
        }
    }

    /// The sweep's tick for this customer at `at`, with the id the sweep gives it.
    pub fn check(&self, at: DateTime<Utc>) -> Event {
        Event::check_due(self.customer.clone(), at, at)
    }
}

/// An in-memory events queue that can be told to fail, for handler tests.
#[derive(Default)]
pub struct MemoryQueue {
    pub messages: std::sync::Mutex<Vec<crate::messages::EventMessage>>,
    /// When set, every enqueue fails this way (`true`: unavailable, `false`: rejected).
    pub fail: std::sync::Mutex<Option<bool>>,
    /// When set, the next enqueue queues this many messages, then fails (unavailable): a batch
    /// cut off between two SQS requests.
    pub fail_after: std::sync::Mutex<Option<usize>>,
}

impl MemoryQueue {
    pub fn taken(&self) -> Vec<crate::messages::EventMessage> {
        std::mem::take(&mut *self.messages.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl crate::ports::EventQueue for MemoryQueue {
    async fn enqueue(
        &self,
        messages: &[crate::messages::EventMessage],
    ) -> Result<(), crate::ports::QueueError> {
        if let Some(kept) = self
            .fail_after
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            self.messages
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(&messages[..kept.min(messages.len())]);
            return Err(crate::ports::QueueError::Unavailable(
                "test: down after the first requests".into(),
            ));
        }
        match *self.fail.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(true) => Err(crate::ports::QueueError::Unavailable("test: down".into())),
            Some(false) => Err(crate::ports::QueueError::Rejected("test: refused".into())),
            None => {
                self.messages
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend_from_slice(messages);
                Ok(())
            }
        }
    }
}

/// A clock a test sets.
#[derive(Clone, Debug)]
pub struct TestClock(std::sync::Arc<std::sync::Mutex<DateTime<Utc>>>);

impl TestClock {
    pub fn at(now: DateTime<Utc>) -> Self {
        TestClock(std::sync::Arc::new(std::sync::Mutex::new(now)))
    }

    pub fn set(&self, now: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = now;
    }
}

impl crate::ports::Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Records the back-off a sender asked for instead of touching a queue.
#[derive(Default)]
pub struct RecordedDelays(pub std::sync::Mutex<Vec<std::time::Duration>>);

impl crate::ports::Redelivery for RecordedDelays {
    async fn delay(
        &self,
        _receipt_handle: &str,
        by: std::time::Duration,
    ) -> Result<(), crate::ports::QueueError> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(by);
        Ok(())
    }
}

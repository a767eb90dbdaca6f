//! Helpers for tests of this crate and of the functions (feature `test-util`): the domain's
//! event builders and fixed instants, in-memory stand-ins for the store and ledger, the queue,
//! the clock and the redelivery delays, and the store's contract both sides are held to.

pub mod contract;
mod log;
mod memory;

pub use log::MemoryLog;
pub use memory::MemoryStore;

pub use crate::domain::testing::{Events, active_customer, customer_id, krw, t};

use chrono::{DateTime, Utc};

/// `intervention` as a sender's SQS event source hands it over, delivered `receives` times.
pub fn delivery(
    intervention: &crate::domain::Intervention,
    receives: u32,
) -> aws_lambda_events::sqs::SqsEvent {
    let mut m = aws_lambda_events::sqs::SqsMessage::default();
    m.message_id = Some(format!("msg-{receives}"));
    m.receipt_handle = Some(format!("receipt-{receives}"));
    m.body = serde_json::to_string(intervention).ok();
    m.attributes
        .insert("ApproximateReceiveCount".into(), receives.to_string());
    let mut event = aws_lambda_events::sqs::SqsEvent::default();
    event.records = vec![m];
    event
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

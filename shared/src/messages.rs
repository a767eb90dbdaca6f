//! What travels on the queues between functions. Ingestion, the sweep and the senders write
//! `EventMessage`s to the events FIFO queue; the transition worker reads them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::Event;

/// One canonical event with the moment Journey received it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventMessage {
    /// When Journey received it — API Gateway's request time, or the sweep's tick. The
    /// transition applies the event as of this instant, never the wall clock, so replays and
    /// simulated time give the same result.
    pub received_at: DateTime<Utc>,
    pub event: Event,
}

impl EventMessage {
    /// FIFO message group: one customer's events are delivered in order, customers in parallel.
    pub fn group_id(&self) -> &str {
        self.event.customer_id.as_str()
    }

    /// FIFO deduplication id: the event id hashed into SQS's 128-character alphabet, so a
    /// provider's retry within SQS's 5-minute window is dropped before it costs a transaction.
    pub fn dedup_id(&self) -> String {
        hex::encode(Sha256::digest(self.event.id.as_str().as_bytes()))
    }
}

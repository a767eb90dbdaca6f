//! Helpers for tests of the domain and of the crates above it (feature `test-util`): event
//! builders and fixed instants.

use chrono::{DateTime, Utc};

use crate::{CustomerId, Event, EventId, EventKind, Money, Profile, Source};

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

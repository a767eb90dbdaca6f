//! Event builders for the harness's synthetic customers (the library's test helpers are not
//! built into the harness).

use chrono::{DateTime, Utc};
use journey::domain::{CustomerId, Event, EventId, EventKind, Money, Profile, Source};

pub fn t(s: &str) -> DateTime<Utc> {
    s.parse().expect("a time")
}

pub fn krw(amount: i64) -> Money {
    Money::new(amount, "KRW").expect("an amount")
}

pub fn customer_id(id: &str) -> CustomerId {
    CustomerId::new(id).expect("an id")
}

/// One customer's app events, numbered.
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

    pub fn at(&mut self, at: DateTime<Utc>, kind: EventKind) -> Event {
        self.next += 1;
        Event {
            id: EventId::new(format!("bench:{}:{}", self.customer, self.next)).expect("an id"),
            customer_id: self.customer.clone(),
            occurred_at: at,
            source: Source::App,
            kind,
            profile: Profile::default(),
        }
    }

    pub fn check(&self, at: DateTime<Utc>) -> Event {
        Event::check_due(self.customer.clone(), at, at)
    }
}

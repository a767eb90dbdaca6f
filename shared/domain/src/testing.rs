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

/// A customer who paid, then logged in, read for a quarter of an hour and (every third day)
/// handed in work, every day for `days` days from 2026-08-01, with a long e-mail address and
/// the app's UUID-like event ids: the item-size tests' and the cost harness's customer.
pub fn active_customer(rules: &crate::Rules, days: i64) -> (Events, crate::Customer) {
    use chrono::Duration;
    let apply = |c: &crate::Customer, e: &Event| {
        crate::apply(c, e, rules, e.occurred_at)
            .unwrap_or_else(|err| panic!("applying {}: {err}", e.id))
            .customer
    };
    let mut events = Events::new("customer-0000000001");
    let start = t("2026-08-01T09:00:00Z");
    let mut paid = events.at(
        start,
        EventKind::PaymentSucceeded {
            amount: krw(99_000),
            renews_at: None,
        },
    );
    paid.profile.email = Some("someone.with.a.long.name@example-company.co.kr".into());
    paid.profile.program = Some("pilates-advanced".into());
    paid.profile.locale = Some("ko-KR".into());
    paid.profile.time_zone = Some("Asia/Seoul".into());
    let mut c = apply(&crate::Customer::new(events.customer().clone()), &paid);
    c.version = 1;
    for day in 0..days {
        let at = start + Duration::days(day) + Duration::hours(1);
        let mut kinds = vec![EventKind::Login, EventKind::ContentViewed { seconds: 900 }];
        if day % 3 == 0 {
            kinds.push(EventKind::AssignmentSubmitted);
        }
        for (n, kind) in kinds.into_iter().enumerate() {
            let mut e = events.at(at + Duration::minutes(n as i64), kind);
            e.id = EventId::new(format!(
                "app:0b5e6a3c-6f0e-4c1a-9d7e-{:012}",
                day * 10 + n as i64
            ))
            .unwrap_or_else(|err| panic!("{err}"));
            let version = c.version;
            c = apply(&c, &e);
            c.version = version + 1;
        }
    }
    (events, c)
}

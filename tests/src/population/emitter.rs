//! What every world's customer shares: an id, numbered events at a day and hour from
//! 2026-01-01, the first payment's profile, and the churn label.

use chrono::{DateTime, Duration, TimeZone, Utc};
use journey::backtest::Label;
use journey::domain::{
    CustomerId, Event, EventId, EventKind, Money, NpsScore, Owner, Profile, Source,
};

use rand::RngExt;
use rand_pcg::Pcg64;

use super::Population;

pub struct Emitter {
    pub id: CustomerId,
    prefix: &'static str,
    seq: u32,
}

/// How a churner left, as the label says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Way {
    Cancelled,
    Refunded,
    /// Stopped using it and let the renewal lapse: the business labels it inactivity.
    Lapsed,
}

pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

impl Emitter {
    /// Customer `n` of a world whose ids start with `prefix`.
    pub fn new(prefix: &'static str, n: usize) -> Emitter {
        Emitter {
            id: CustomerId::new(format!("{prefix}-{n:05}")).unwrap_or_else(|e| panic!("{e}")),
            prefix,
            seq: 0,
        }
    }

    pub fn emit(
        &mut self,
        out: &mut Population,
        day: i64,
        hour: i64,
        kind: EventKind,
    ) -> DateTime<Utc> {
        self.seq += 1;
        let at = start()
            + Duration::days(day)
            + Duration::hours(hour)
            + Duration::minutes(i64::from(self.seq % 60));
        let source = match kind {
            EventKind::PaymentSucceeded { .. } | EventKind::PaymentFailed { .. } => Source::Stripe,
            _ => Source::App,
        };
        out.events.push(Event {
            id: EventId::new(format!("{}:{}:{}", self.prefix, self.id, self.seq))
                .unwrap_or_else(|e| panic!("{e}")),
            customer_id: self.id.clone(),
            occurred_at: at,
            source,
            kind,
            profile: Profile::default(),
        });
        at
    }

    /// The first payment, carrying who they are: an address, Korean, and one of five owners
    /// (`owner`: Tutor, Coach …).
    pub fn join(&mut self, out: &mut Population, day: i64, owner: &str) {
        self.emit(out, day, 9, EventKind::paid(won()));
        let profile = self.profile(owner);
        if let Some(first) = out.events.last_mut() {
            first.profile = profile;
        }
    }

    /// Who they are: an address, Korean, and one of five owners (`owner`: Tutor, Coach …).
    pub fn profile(&self, owner: &str) -> Profile {
        let n = self.id.as_str().bytes().map(u32::from).sum::<u32>() % 5;
        Profile {
            email: Some(format!("{}@example.com", self.id)),
            locale: Some("ko".into()),
            time_zone: Some("Asia/Seoul".into()),
            owner: Some(Owner {
                id: format!("{}-{n}", owner.to_lowercase()),
                name: Some(format!("{owner} {n}")),
                email: Some(format!("{}-{n}@example.com", owner.to_lowercase())),
                slack_id: Some(format!("U0{}{n}", owner.to_uppercase())),
            }),
            phone: Some(self.phone()),
            // agreed to marketing at sign-up, as the apps modelled here ask (§50: the offers need it)
            consent: Some(journey::domain::consent::ConsentChange {
                marketing: Some(true),
                night: None,
                via: Some("sign_up".into()),
            }),
            ..Profile::default()
        }
    }

    /// A Korean mobile number of their own (`010-5…`: none of the Solapi stand-in's scripted
    /// numbers, which start `010-0000`).
    fn phone(&self) -> String {
        let hash = self
            .id
            .as_str()
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
        format!("+82105{:07}", hash % 10_000_000)
    }

    /// The last event of a churner and its label: a cancellation, a refund request, or the
    /// renewal that fails because they no longer pay.
    pub fn leave(&mut self, out: &mut Population, day: i64, way: Way) {
        let (kind, how) = match way {
            Way::Cancelled => (
                EventKind::SubscriptionCancelled { reason: None },
                "subscription_cancelled",
            ),
            Way::Refunded => (
                EventKind::RefundRequested { reason: None },
                "refund_requested",
            ),
            Way::Lapsed => (
                EventKind::PaymentFailed {
                    amount: Some(won()),
                },
                "inactivity",
            ),
        };
        let at = self.emit(out, day, 11, kind);
        out.labels.push(Label {
            customer_id: self.id.clone(),
            churned_at: at,
            how: Some(how.into()),
        });
    }

    /// A payment for the `term` days from `day`, naming their end (`renews_at`), as Stripe's
    /// subscription invoices and the app do.
    pub fn pay_for(&mut self, out: &mut Population, day: i64, hour: i64, term: i64) {
        let renews_at = start() + Duration::days(day + term);
        let kind = EventKind::PaymentSucceeded {
            amount: won(),
            renews_at: Some(renews_at),
        };
        self.emit(out, day, hour, kind);
    }

    /// A monthly renewal: paid, or (for a late payer, half the time) failed and paid the next
    /// day.
    pub fn renew(&mut self, out: &mut Population, day: i64, late: bool) {
        if late {
            self.emit(out, day, 6, failed());
            self.emit(out, day + 1, 6, EventKind::paid(won()));
        } else {
            self.emit(out, day, 6, EventKind::paid(won()));
        }
    }
}

pub fn won() -> Money {
    Money::new(49_000, "KRW").unwrap_or_else(|e| panic!("{e}"))
}

pub fn failed() -> EventKind {
    EventKind::PaymentFailed {
        amount: Some(won()),
    }
}

pub fn nps(score: u8) -> EventKind {
    EventKind::NpsResponse {
        score: NpsScore::new(score).unwrap_or_else(|e| panic!("{e}")),
    }
}

/// When and how a leaver goes: a cancellation with probability `cancelled`, a refund request up
/// to `requested`, else a lapse. A request falls on any day after their fifth week; a lapse on a
/// renewal day (a request when no renewal is left in the history).
pub fn leaving(
    rng: &mut Pcg64,
    joined: i64,
    days: i64,
    cancelled: f64,
    requested: f64,
) -> (i64, Way) {
    let way = match rng.random::<f64>() {
        x if x < cancelled => Way::Cancelled,
        x if x < requested => Way::Refunded,
        _ => Way::Lapsed,
    };
    let renewals: Vec<i64> = (2..)
        .map(|k| joined + 30 * k)
        .take_while(|d| *d < days - 3)
        .collect();
    match (way, renewals.len()) {
        (Way::Lapsed, 0) => (rng.random_range(joined + 35..days - 3), Way::Cancelled),
        (Way::Lapsed, n) => (renewals[rng.random_range(0..n)], way),
        _ => (rng.random_range(joined + 35..days - 3), way),
    }
}

/// A customer's last active day: the end of the history for a stayer; for a leaver, a gap
/// drawn from `lapse_gap` before a lapse, or from `request_gap` before a request.
pub fn last_active(
    rng: &mut Pcg64,
    leaves: Option<(i64, Way)>,
    days: i64,
    lapse_gap: std::ops::Range<i64>,
    request_gap: std::ops::Range<i64>,
) -> i64 {
    match leaves {
        Some((day, Way::Lapsed)) => day - rng.random_range(lapse_gap),
        Some((day, _)) => day - rng.random_range(request_gap),
        None => days,
    }
}

/// How far into a fade of `days` days ending at `stop` a leaver is on `day`: 0 before it
/// starts, 1 at its end.
pub fn fade(day: i64, stop: i64, days: i64) -> f64 {
    ((day - (stop - days)) as f64 / days as f64).clamp(0.0, 1.0)
}

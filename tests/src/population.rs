//! A synthetic population for the backtest and calibration: customers who stay, and customers
//! who leave after weeks of the precursors PRODUCT.md names (falling activity, missed
//! assignments, support tickets, low NPS, failed payments). Deterministic for a seed.
//!
//! Stayers have their own noise, so a rule that flags every wobble pays in false alarms: a
//! holiday of 8–9 days, a ticket, a lukewarm NPS answer, a failed payment paid the next day.

use chrono::{DateTime, Duration, TimeZone, Utc};
use journey::backtest::Label;
use journey::domain::{
    CustomerId, Event, EventId, EventKind, Money, NpsScore, Owner, Profile, Source,
};
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;

pub struct Population {
    pub events: Vec<Event>,
    pub labels: Vec<Label>,
}

/// `customers` customers over `days` days from 2026-01-01.
pub fn generate(customers: usize, days: i64, seed: u64) -> Population {
    let mut population = Population {
        events: Vec::new(),
        labels: Vec::new(),
    };
    for n in 0..customers {
        let mut rng = Pcg64::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(n as u64));
        Customer::new(n, days, &mut rng).live(&mut rng, &mut population);
    }
    population
}

struct Customer {
    id: CustomerId,
    seq: u32,
    joined: i64,
    until: i64,
    /// `(day, silent)`: the day they leave, and whether they stop everything before it.
    churn: Option<(i64, bool)>,
    /// The precursors start this many days before leaving.
    precursor_days: i64,
    login_rate: f64,
    holiday: Option<i64>,
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

impl Customer {
    fn new(n: usize, days: i64, rng: &mut Pcg64) -> Customer {
        let joined = rng.random_range(0..20);
        let churn = (rng.random::<f64>() < 0.3).then(|| {
            (
                rng.random_range(joined + 35..days - 3),
                rng.random::<f64>() < 0.2,
            )
        });
        Customer {
            id: CustomerId::new(format!("syn-{n:05}")).unwrap_or_else(|e| panic!("{e}")),
            seq: 0,
            joined,
            until: churn.map_or(days, |(d, _)| d),
            churn,
            precursor_days: rng.random_range(8..21),
            login_rate: rng.random_range(0.55..0.9),
            holiday: (rng.random::<f64>() < 0.12).then(|| rng.random_range(joined + 20..days - 10)),
        }
    }

    fn live(mut self, rng: &mut Pcg64, out: &mut Population) {
        self.emit(
            out,
            self.joined,
            9,
            EventKind::PaymentSucceeded { amount: won() },
        );
        if let Some(first) = out.events.last_mut() {
            first.profile = self.profile();
        }
        self.emit(out, self.joined + 1, 10, EventKind::OnboardingCompleted);
        let retained_ticket =
            (rng.random::<f64>() < 0.3).then(|| rng.random_range(self.joined..self.until));
        let late_payment = rng.random::<f64>() < 0.06;
        let churner_ticket = rng.random::<f64>() < 0.25;
        let churner_nps = rng.random::<f64>() < 0.2;
        let churner_billing = rng.random::<f64>() < 0.15;
        let slump = rng.random_range(0.15..0.4);
        for day in self.joined + 1..self.until {
            let phase = self
                .churn
                .map(|(d, silent)| (d - day <= self.precursor_days, silent));
            let (fading, silent) = phase.unwrap_or((false, false));
            let on_holiday = self
                .holiday
                .is_some_and(|h| (h..h + 8 + (h % 2)).contains(&day));
            let rate = if fading {
                self.login_rate * slump
            } else {
                self.login_rate
            };
            if !(on_holiday || fading && silent) {
                self.active_day(rng, out, day, rate, fading);
            }
            if (day - self.joined) % 30 == 0 {
                self.billing(rng, out, day, fading && churner_billing, late_payment);
            }
            if day - self.joined == 30 && !fading {
                let score = if rng.random::<f64>() < 0.25 {
                    rng.random_range(3..7)
                } else {
                    rng.random_range(7..11)
                };
                self.emit(out, day, 20, nps(score));
            }
            if retained_ticket.is_some_and(|t| day == t || day == t + 3) && self.churn.is_none() {
                self.emit(out, day, 15, EventKind::SupportTicket);
            }
            if fading && !silent {
                let into = self.precursor_days - (self.churn.map_or(0, |c| c.0) - day);
                if churner_ticket && (into == 2 || into == 6) {
                    self.emit(out, day, 15, EventKind::SupportTicket);
                }
                if churner_nps && into == 4 {
                    let score = rng.random_range(1..6);
                    self.emit(out, day, 21, nps(score));
                }
            }
        }
        if let Some((day, _)) = self.churn {
            let (kind, how) = if rng.random::<f64>() < 0.65 {
                (
                    EventKind::SubscriptionCancelled { reason: None },
                    "subscription_cancelled",
                )
            } else {
                (
                    EventKind::RefundRequested { reason: None },
                    "refund_requested",
                )
            };
            let at = self.emit(out, day, 11, kind);
            out.labels.push(Label {
                customer_id: self.id.clone(),
                churned_at: at,
                how: Some(how.into()),
            });
        }
    }

    /// Logins, content and the week's assignment, at the day's rate of activity.
    fn active_day(
        &mut self,
        rng: &mut Pcg64,
        out: &mut Population,
        day: i64,
        rate: f64,
        fading: bool,
    ) {
        if rng.random::<f64>() < rate {
            let hour = rng.random_range(7..22);
            self.emit(out, day, hour, EventKind::Login);
            if rng.random::<f64>() < 0.8 {
                let seconds = rng.random_range(300..1800);
                self.emit(out, day, hour, EventKind::ContentViewed { seconds });
            }
        }
        if (day - self.joined) % 7 == 3 {
            let submits = if fading { 0.15 } else { 0.85 };
            let kind = if rng.random::<f64>() < submits {
                EventKind::AssignmentSubmitted
            } else {
                EventKind::AssignmentMissed
            };
            self.emit(out, day, 18, kind);
        }
    }

    /// The monthly renewal: paid, or failed (and paid the next day, for a stayer).
    fn billing(
        &mut self,
        rng: &mut Pcg64,
        out: &mut Population,
        day: i64,
        fails: bool,
        late: bool,
    ) {
        if fails {
            self.emit(
                out,
                day,
                6,
                EventKind::PaymentFailed {
                    amount: Some(won()),
                },
            );
        } else if late && rng.random::<f64>() < 0.5 {
            self.emit(
                out,
                day,
                6,
                EventKind::PaymentFailed {
                    amount: Some(won()),
                },
            );
            self.emit(
                out,
                day + 1,
                6,
                EventKind::PaymentSucceeded { amount: won() },
            );
        } else {
            self.emit(out, day, 6, EventKind::PaymentSucceeded { amount: won() });
        }
    }

    /// Who they are, as the first payment and the app name them: an address, Korean, and one
    /// of five tutors.
    fn profile(&self) -> Profile {
        let tutor = self.id.as_str().bytes().map(u32::from).sum::<u32>() % 5;
        Profile {
            email: Some(format!("{}@example.com", self.id)),
            locale: Some("ko".into()),
            time_zone: Some("Asia/Seoul".into()),
            owner: Some(Owner {
                id: format!("tutor-{tutor}"),
                name: Some(format!("Tutor {tutor}")),
                email: Some(format!("tutor-{tutor}@example.com")),
                slack_id: Some(format!("U0TUTOR{tutor}")),
            }),
            ..Profile::default()
        }
    }

    fn emit(
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
            id: EventId::new(format!("syn:{}:{}", self.id, self.seq))
                .unwrap_or_else(|e| panic!("{e}")),
            customer_id: self.id.clone(),
            occurred_at: at,
            source,
            kind,
            profile: Profile::default(),
        });
        at
    }
}

fn won() -> Money {
    Money::new(49_000, "KRW").unwrap_or_else(|e| panic!("{e}"))
}

fn nps(score: u8) -> EventKind {
    EventKind::NpsResponse {
        score: NpsScore::new(score).unwrap_or_else(|e| panic!("{e}")),
    }
}

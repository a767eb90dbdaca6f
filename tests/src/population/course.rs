//! The course business: customers who stay, and customers who leave after weeks of the
//! precursors docs/product.md names (falling activity, missed assignments, support tickets, low NPS,
//! failed payments).
//!
//! Stayers have their own noise, so a rule that flags every wobble pays in false alarms: a
//! holiday of 8–9 days, a ticket, a lukewarm NPS answer, a failed payment paid the next day.

use journey::domain::EventKind;
use rand::RngExt;
use rand_pcg::Pcg64;

use super::Population;
use super::emitter::{Emitter, Way, failed, nps};

struct Customer {
    e: Emitter,
    joined: i64,
    until: i64,
    /// `(day, silent)`: the day they leave, and whether they stop everything before it.
    churn: Option<(i64, bool)>,
    /// The precursors start this many days before leaving.
    precursor_days: i64,
    login_rate: f64,
    holiday: Option<i64>,
}

pub fn live(n: usize, days: i64, rng: &mut Pcg64, out: &mut Population) {
    Customer::new(n, days, rng).live(rng, out);
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
            e: Emitter::new("syn", n),
            joined,
            until: churn.map_or(days, |(d, _)| d),
            churn,
            precursor_days: rng.random_range(8..21),
            login_rate: rng.random_range(0.55..0.9),
            holiday: (rng.random::<f64>() < 0.12).then(|| rng.random_range(joined + 20..days - 10)),
        }
    }

    fn live(mut self, rng: &mut Pcg64, out: &mut Population) {
        self.e.join(out, self.joined, "Tutor");
        self.e
            .emit(out, self.joined + 1, 10, EventKind::OnboardingCompleted);
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
                self.e.emit(out, day, 20, nps(score));
            }
            if retained_ticket.is_some_and(|t| day == t || day == t + 3) && self.churn.is_none() {
                self.e.emit(out, day, 15, EventKind::SupportTicket);
            }
            if fading && !silent {
                let into = self.precursor_days - (self.churn.map_or(0, |c| c.0) - day);
                if churner_ticket && (into == 2 || into == 6) {
                    self.e.emit(out, day, 15, EventKind::SupportTicket);
                }
                if churner_nps && into == 4 {
                    let score = rng.random_range(1..6);
                    self.e.emit(out, day, 21, nps(score));
                }
            }
        }
        if let Some((day, _)) = self.churn {
            let way = if rng.random::<f64>() < 0.65 {
                Way::Cancelled
            } else {
                Way::Refunded
            };
            self.e.leave(out, day, way);
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
            self.e.emit(out, day, hour, EventKind::Login);
            if rng.random::<f64>() < 0.8 {
                let seconds = rng.random_range(300..1800);
                self.e
                    .emit(out, day, hour, EventKind::ContentViewed { seconds });
            }
        }
        if (day - self.joined) % 7 == 3 {
            let submits = if fading { 0.15 } else { 0.85 };
            let kind = if rng.random::<f64>() < submits {
                EventKind::AssignmentSubmitted
            } else {
                EventKind::AssignmentMissed
            };
            self.e.emit(out, day, 18, kind);
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
            self.e.emit(out, day, 6, failed());
        } else {
            self.e.renew(out, day, late && rng.random::<f64>() < 0.5);
        }
    }
}

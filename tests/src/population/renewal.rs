//! A consumer subscription with renewal churn (the KKBox and SaaS cohort findings in
//! `../shared/reference/churn-evidence.md`): each subscriber uses it at their own constant
//! rate from the first week, and at every renewal decides whether to go on; the less they use
//! it compared with the others, the likelier they leave. Leavers never go quiet and never drop
//! against their own baseline: they cancel, effective at the renewal date, while still using it
//! as they always did. Every payment names the date it pays up to (`renews_at`).
//!
//! Noise: most pay monthly and some yearly (no renewal within the history), heavy users file
//! tickets too, NPS answers say little, a few renewals fail once and are paid the next day.

use journey::domain::EventKind;
use rand::RngExt;
use rand_pcg::Pcg64;

use super::Population;
use super::emitter::{Emitter, Way, failed, nps};

struct Subscriber {
    e: Emitter,
    joined: i64,
    /// Days between renewals.
    term: i64,
    /// The chance of being active on a day, constant for life.
    use_rate: f64,
    tickets_per_day: f64,
}

pub fn live(n: usize, days: i64, rng: &mut Pcg64, out: &mut Population) {
    Subscriber::new(n, rng).live(days, rng, out);
}

impl Subscriber {
    fn new(n: usize, rng: &mut Pcg64) -> Subscriber {
        // skewed: many light users, fewer heavy ones
        let u: f64 = rng.random();
        Subscriber {
            e: Emitter::new("rn", n),
            joined: rng.random_range(0..30),
            term: if rng.random::<f64>() < 0.85 { 30 } else { 365 },
            use_rate: 0.04 + 0.9 * u * u,
            tickets_per_day: rng.random_range(0.0..1.0) / 30.0,
        }
    }

    /// The chance of cancelling at a renewal: high for the lightest users, low for the rest.
    fn leaves_at_renewal(&self) -> f64 {
        match self.use_rate {
            r if r < 0.12 => 0.45,
            r if r < 0.25 => 0.25,
            r if r < 0.45 => 0.08,
            _ => 0.03,
        }
    }

    fn live(mut self, days: i64, rng: &mut Pcg64, out: &mut Population) {
        self.pay(out, self.joined, 9);
        if let Some(first) = out.events.last_mut() {
            first.profile = self.e.profile("Manager");
        }
        let mut renewal = self.joined + self.term;
        for day in self.joined + 1..days {
            if day == renewal {
                if rng.random::<f64>() < self.leaves_at_renewal() {
                    return self.e.leave(out, day, Way::Cancelled);
                }
                if rng.random::<f64>() < 0.05 {
                    self.e.emit(out, day, 5, failed());
                }
                self.pay(out, day, 6);
                renewal += self.term;
            }
            self.use_it(rng, out, day);
            if rng.random::<f64>() < self.tickets_per_day * (0.5 + self.use_rate) {
                self.e.emit(out, day, 14, EventKind::SupportTicket);
            }
            if (day - self.joined) % 60 == 20 {
                self.e.emit(out, day, 21, nps(rng.random_range(4..11)));
            }
        }
    }

    /// A payment for the next term, naming its end.
    fn pay(&mut self, out: &mut Population, day: i64, hour: i64) {
        self.e.pay_for(out, day, hour, self.term);
    }

    /// A day's use at the subscriber's own rate: a login, and mostly something watched.
    fn use_it(&mut self, rng: &mut Pcg64, out: &mut Population, day: i64) {
        if rng.random::<f64>() >= self.use_rate {
            return;
        }
        let hour = rng.random_range(7..23);
        self.e.emit(out, day, hour, EventKind::Login);
        if rng.random::<f64>() < 0.85 {
            let seconds = rng.random_range(120..3600);
            self.e
                .emit(out, day, hour, EventKind::ContentViewed { seconds });
        }
    }
}

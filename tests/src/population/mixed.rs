//! A business with three programs used at different rates (basic, pro, team), a holiday season
//! when everyone uses it less, and three ways to leave, in about equal parts: a slow fade into
//! silence then a cancellation or a lapsed renewal; a light user's cancellation at the renewal
//! (renewal churn, no fade); and dunning, a renewal that fails three times over a week and is
//! cancelled. Stayers' renewals fail too, and are paid on a retry. Every payment names the date
//! it pays up to.

use journey::domain::EventKind;
use rand::RngExt;
use rand_pcg::Pcg64;

use super::Population;
use super::emitter::{Emitter, Way, fade, failed, nps};

/// The holiday weeks (days from 2026-01-01): use halves.
const SEASON: std::ops::Range<i64> = 45..60;

const PROGRAMS: [(&str, f64); 3] = [("basic", 0.35), ("pro", 0.6), ("team", 0.8)];

#[derive(Clone, Copy, PartialEq)]
enum Leaving {
    Fade { stop: i64, days: i64, way: Way },
    AtRenewal,
    Dunning,
}

struct Member {
    e: Emitter,
    joined: i64,
    program: &'static str,
    use_rate: f64,
    leaving: Option<Leaving>,
}

pub fn live(n: usize, days: i64, rng: &mut Pcg64, out: &mut Population) {
    Member::new(n, days, rng).live(days, rng, out);
}

impl Member {
    fn new(n: usize, days: i64, rng: &mut Pcg64) -> Member {
        let (program, base) = PROGRAMS[rng.random_range(0..PROGRAMS.len())];
        let joined = rng.random_range(0..25);
        let use_rate = (base * rng.random_range(0.3..1.4)).min(0.95);
        let light = use_rate < base * 0.6;
        let leaving = match rng.random::<f64>() {
            x if x < 0.10 => {
                let stop = rng.random_range(joined + 30..days.max(joined + 31));
                let way = if rng.random::<f64>() < 0.5 {
                    Way::Cancelled
                } else {
                    Way::Lapsed
                };
                Some(Leaving::Fade {
                    stop,
                    days: rng.random_range(14..40),
                    way,
                })
            }
            x if x < 0.10 + if light { 0.25 } else { 0.02 } => Some(Leaving::AtRenewal),
            x if x < 0.30 && rng.random::<f64>() < 0.3 => Some(Leaving::Dunning),
            _ => None,
        };
        Member {
            e: Emitter::new("mx", n),
            joined,
            program,
            use_rate,
            leaving,
        }
    }

    fn live(mut self, days: i64, rng: &mut Pcg64, out: &mut Population) {
        self.pay(out, self.joined);
        if let Some(first) = out.events.last_mut() {
            first.profile = self.e.profile("Manager");
            first.profile.program = Some(self.program.into());
        }
        // the renewal a renewal churner or a dunned member leaves at: the second or a later one
        let renewals: Vec<i64> = (1..)
            .map(|k| self.joined + 30 * k)
            .take_while(|d| *d < days - 3)
            .collect();
        let last = match self.leaving {
            Some(Leaving::AtRenewal | Leaving::Dunning) if renewals.len() > 1 => {
                Some(renewals[rng.random_range(1..renewals.len())])
            }
            _ => None,
        };
        for day in self.joined + 1..days {
            if let Some(Leaving::Fade { stop, way, .. }) = self.leaving
                && way == Way::Cancelled
                && day == stop + 3
            {
                return self.e.leave(out, day, way);
            }
            if renewals.contains(&day) {
                match (self.leaving, last) {
                    (Some(Leaving::AtRenewal), Some(d)) if d == day => {
                        return self.e.leave(out, day, Way::Cancelled);
                    }
                    (Some(Leaving::Dunning), Some(d)) if d == day => {
                        return self.dunned(out, day);
                    }
                    (Some(Leaving::Fade { stop, way, .. }), _)
                        if day > stop && way == Way::Lapsed =>
                    {
                        return self.e.leave(out, day, way);
                    }
                    _ => {}
                }
                if rng.random::<f64>() < 0.08 {
                    self.e.emit(out, day, 5, failed());
                    self.pay(out, day + 2);
                } else {
                    self.pay(out, day);
                }
            }
            self.use_it(rng, out, day);
            if rng.random::<f64>() < 0.02 {
                self.e.emit(out, day, 15, EventKind::SupportTicket);
            }
            if (day - self.joined) % 45 == 25 {
                self.e.emit(out, day, 20, nps(rng.random_range(3..11)));
            }
        }
    }

    /// Three failed attempts over a week, then the subscription is cancelled for non-payment.
    fn dunned(&mut self, out: &mut Population, day: i64) {
        for retry in [0, 3, 6] {
            self.e.emit(out, day + retry, 5, failed());
        }
        self.e.leave(out, day + 7, Way::Cancelled);
    }

    fn pay(&mut self, out: &mut Population, day: i64) {
        self.e.pay_for(out, day, 6, 30);
    }

    fn use_it(&mut self, rng: &mut Pcg64, out: &mut Population, day: i64) {
        let mut rate = self.use_rate;
        if let Some(Leaving::Fade { stop, days, .. }) = self.leaving {
            if day >= stop {
                return;
            }
            rate *= 1.0 - 0.8 * fade(day, stop, days);
        }
        if SEASON.contains(&day) {
            rate *= 0.5;
        }
        if rng.random::<f64>() >= rate {
            return;
        }
        let hour = rng.random_range(8..22);
        self.e.emit(out, day, hour, EventKind::Login);
        if rng.random::<f64>() < 0.7 {
            let seconds = rng.random_range(60..2400);
            self.e
                .emit(out, day, hour, EventKind::ContentViewed { seconds });
        }
        if self.program != "basic" && rng.random::<f64>() < 0.3 {
            self.e
                .emit(out, day, hour + 1, EventKind::AssignmentSubmitted);
        }
    }
}

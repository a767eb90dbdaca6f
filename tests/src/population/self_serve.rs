//! A self-serve subscription (a tool used on working days): no assignments, no owner calls.
//!
//! Leavers fade slowly, over one to two months, to a sixth of their usual use, then cancel,
//! ask for a refund, or stop and let the renewal fail. Stayers are noisy: many take a holiday
//! of one to two and a half weeks, most of them in the same summer weeks; they file tickets
//! for anything (leavers no more than stayers); NPS answers say little; some pay late.

use journey::domain::EventKind;
use rand::RngExt;
use rand_pcg::Pcg64;

use super::Population;
use super::emitter::{Emitter, Way, fade, last_active, leaving, nps};

/// The summer weeks most holidays start in (days from 2026-01-01).
const SEASON: std::ops::Range<i64> = 75..90;

struct User {
    e: Emitter,
    joined: i64,
    stop: i64,
    leaves: Option<(i64, Way)>,
    fade_days: i64,
    use_rate: f64,
    holiday: Option<(i64, i64)>,
    tickets_per_day: f64,
    late_payer: bool,
}

pub fn live(n: usize, days: i64, rng: &mut Pcg64, out: &mut Population) {
    User::new(n, days, rng).live(rng, out);
}

impl User {
    fn new(n: usize, days: i64, rng: &mut Pcg64) -> User {
        let joined = rng.random_range(0..20);
        let leaves = (rng.random::<f64>() < 0.3).then(|| leaving(rng, joined, days, 0.5, 0.6));
        let stop = last_active(rng, leaves, days, 5..25, 0..3);
        let holiday = (rng.random::<f64>() < 0.4).then(|| {
            let start = if rng.random::<f64>() < 0.6 && SEASON.end < days {
                rng.random_range(SEASON)
            } else {
                rng.random_range(joined + 10..days - 10)
            };
            (start, rng.random_range(7..18))
        });
        User {
            e: Emitter::new("ss", n),
            joined,
            stop,
            leaves,
            fade_days: rng.random_range(25..60),
            use_rate: rng.random_range(0.4..0.9),
            holiday,
            tickets_per_day: rng.random_range(0.0..2.0) / 30.0,
            late_payer: rng.random::<f64>() < 0.1,
        }
    }

    fn live(mut self, rng: &mut Pcg64, out: &mut Population) {
        self.e.join(out, self.joined, "Manager");
        self.e
            .emit(out, self.joined + 1, 10, EventKind::OnboardingCompleted);
        let end = self.leaves.map_or(self.stop, |(day, _)| day);
        for day in self.joined + 1..end {
            let away = self
                .holiday
                .is_some_and(|(h, len)| (h..h + len).contains(&day));
            if day < self.stop && !away {
                self.session(rng, out, day);
            }
            if (day - self.joined) % 30 == 0 {
                self.e
                    .renew(out, day, self.late_payer && rng.random::<f64>() < 0.5);
            }
            if rng.random::<f64>() < self.tickets_per_day {
                self.e.emit(out, day, 14, EventKind::SupportTicket);
            }
            if (day - self.joined) % 90 == 30 && day < self.stop {
                let score = rng.random_range(3..11);
                self.e.emit(out, day, 20, nps(score));
            }
        }
        if let Some((day, way)) = self.leaves {
            self.e.leave(out, day, way);
        }
    }

    /// A working day's use (weekends at a fifth of it): a login and, mostly, time in the tool.
    fn session(&mut self, rng: &mut Pcg64, out: &mut Population, day: i64) {
        let weekend = matches!(day.rem_euclid(7), 2 | 3);
        let mut rate = self.use_rate * (1.0 - 0.85 * self.fading(day));
        if weekend {
            rate *= 0.2;
        }
        if rng.random::<f64>() < rate {
            let hour = rng.random_range(8..20);
            self.e.emit(out, day, hour, EventKind::Login);
            if rng.random::<f64>() < 0.8 {
                let seconds = rng.random_range(60..2400);
                self.e
                    .emit(out, day, hour, EventKind::ContentViewed { seconds });
            }
        }
    }

    fn fading(&self, day: i64) -> f64 {
        match self.leaves {
            Some(_) => fade(day, self.stop, self.fade_days),
            None => 0.0,
        }
    }
}

//! An online fitness club, the seed's case: members log in most days, watch workout videos and
//! do the programme's three scheduled workouts a week. The club runs the seed's clock: caution
//! after 3 days without a visit, warning after 7, the trainer alerted after 10.
//!
//! Leavers come less and less and skip their workouts, then cancel, ask for a refund, or simply
//! stop and let the next renewal fail. Stayers have sick weeks, busy fortnights at half their
//! usual rhythm, late payments and lukewarm NPS answers.

use journey::domain::EventKind;
use rand::RngExt;
use rand_pcg::Pcg64;

use super::Population;
use super::emitter::{Emitter, Way, fade, last_active, leaving, nps};

/// The club's rules before calibration: the seed's 3 / 7 / 10 days.
pub const RULES_OVERLAY: &str = "\
[inactivity]
caution_days = 3
warning_days = 7
danger_days = 10
churn_days = 21

[score.signals]
inactivity_full_days = 10
";

struct Member {
    e: Emitter,
    joined: i64,
    /// The last day they are active and, for a leaver, the day and way they leave.
    stop: i64,
    leaves: Option<(i64, Way)>,
    fade_days: i64,
    visit_rate: f64,
    sick: Option<(i64, i64)>,
    busy: Option<i64>,
    late_payer: bool,
}

pub fn live(n: usize, days: i64, rng: &mut Pcg64, out: &mut Population) {
    Member::new(n, days, rng).live(rng, out);
}

impl Member {
    fn new(n: usize, days: i64, rng: &mut Pcg64) -> Member {
        let joined = rng.random_range(0..20);
        let leaves = (rng.random::<f64>() < 0.35).then(|| leaving(rng, joined, days, 0.45, 0.6));
        let stop = last_active(rng, leaves, days, 3..20, 0..4);
        Member {
            e: Emitter::new("fit", n),
            joined,
            stop,
            leaves,
            fade_days: rng.random_range(10..35),
            visit_rate: rng.random_range(0.6..0.95),
            sick: (rng.random::<f64>() < 0.2).then(|| {
                (
                    rng.random_range(joined + 10..days - 10),
                    rng.random_range(4..10),
                )
            }),
            busy: (rng.random::<f64>() < 0.15).then(|| rng.random_range(joined + 10..days - 14)),
            late_payer: rng.random::<f64>() < 0.08,
        }
    }

    fn live(mut self, rng: &mut Pcg64, out: &mut Population) {
        self.e.join(out, self.joined, "Coach");
        self.e
            .emit(out, self.joined + 1, 10, EventKind::OnboardingCompleted);
        let end = self.leaves.map_or(self.stop, |(day, _)| day);
        for day in self.joined + 1..end {
            if day < self.stop {
                self.visit(rng, out, day);
            }
            if (day - self.joined) % 30 == 0 {
                self.e
                    .renew(out, day, self.late_payer && rng.random::<f64>() < 0.5);
            }
            if day - self.joined == 30 && day < self.stop {
                let score = if rng.random::<f64>() < 0.3 {
                    rng.random_range(4..7)
                } else {
                    rng.random_range(7..11)
                };
                self.e.emit(out, day, 20, nps(score));
            }
        }
        if let Some((day, way)) = self.leaves {
            self.e.leave(out, day, way);
        }
    }

    /// A day's login, workout video and, on a scheduled day, the workout done or skipped.
    fn visit(&mut self, rng: &mut Pcg64, out: &mut Population, day: i64) {
        let fading = self.fading(day);
        let mut rate = self.visit_rate * (1.0 - 0.85 * fading);
        if self.busy.is_some_and(|b| (b..b + 14).contains(&day)) {
            rate *= 0.5;
        }
        let sick = self
            .sick
            .is_some_and(|(s, len)| (s..s + len).contains(&day));
        let came = !sick && rng.random::<f64>() < rate;
        let works_out = came && rng.random::<f64>() < 0.8 - 0.5 * fading;
        if came {
            let hour = rng.random_range(6..22);
            self.e.emit(out, day, hour, EventKind::Login);
            if works_out {
                let seconds = rng.random_range(1200..3600);
                self.e
                    .emit(out, day, hour, EventKind::ContentViewed { seconds });
            }
        }
        if matches!((day - self.joined) % 7, 1 | 3 | 5) {
            let kind = if works_out {
                EventKind::AssignmentSubmitted
            } else {
                EventKind::AssignmentMissed
            };
            self.e.emit(out, day, 21, kind);
        }
    }

    fn fading(&self, day: i64) -> f64 {
        match self.leaves {
            Some(_) => fade(day, self.stop, self.fade_days),
            None => 0.0,
        }
    }
}

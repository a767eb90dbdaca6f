//! The risk level: the due check, what escalates (the inactivity clock, the score, a failed
//! payment), the score's inputs, and recovery when the customer comes back.

use chrono::{DateTime, Duration, Utc};

use crate::activity::{Count, Mark, Tallies};
use crate::customer::{ChurnReason, Customer};
use crate::event::NpsScore;
use crate::experiment::Resolution;
use crate::intervention::Trigger;
use crate::occasion::Occasion;
use crate::rules::Policy;
use crate::score::{Inputs, NpsAnswer, score};
use crate::stage::{RiskLevel, Stage};

use super::{Milestone, Transition};

impl Transition<'_> {
    pub(super) fn support_ticket(&mut self) {
        self.c.activity.record(self.at, Mark::Ticket);
        if !self.is_customer() {
            return;
        }
        let support = &self.policy.support;
        let tickets =
            Tallies::of(&self.c.activity).sum(self.at, support.window_days.into(), Count::Tickets);
        if tickets == u64::from(support.alert_tickets) {
            self.plan(Trigger::SupportTickets, &self.this_event());
        }
    }

    pub(super) fn nps(&mut self, answer: NpsScore) {
        let newer = self.c.last_nps.is_none_or(|last| self.at >= last.at);
        if newer {
            self.c.last_nps = Some(NpsAnswer {
                score: answer.value(),
                at: self.at,
            });
        }
        if !self.is_customer() {
            return;
        }
        let occasion = self.this_event();
        if answer.value() <= self.policy.nps.detractor_max {
            self.plan(Trigger::NpsDetractor, &occasion);
        } else if answer.value() >= self.policy.nps.promoter_min {
            self.plan(Trigger::NpsPromoter, &occasion);
        }
    }

    /// The sweep's tick: send what is due, then escalate by the clock and the score.
    pub(super) fn check(&mut self) {
        let Some(stage) = self.c.stage else { return };
        let days = self.days_inactive();
        if !stage.is_terminal() && days >= f64::from(self.policy.inactivity.churn_days) {
            // churning cancels whatever was scheduled and registers the win-back instead
            self.churn(ChurnReason::Inactivity, None);
            return;
        }
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.c.scheduled)
            .into_iter()
            .partition(|s| s.due_at <= self.now);
        self.c.scheduled = later;
        for s in due {
            match s.intervention {
                // a deferred message goes out as it was planned, under the same id
                Some(intervention) => self.interventions.push(intervention),
                None => self.plan(s.trigger, &s.occasion),
            }
        }
        if stage.is_terminal() {
            return;
        }
        self.rescore();
        if let Some((level, why)) = self.escalation(days) {
            self.escalate(level, &why);
        }
        if stage == Stage::Engaged {
            let e = &self.policy.engagement;
            let active = self.c.activity.active_days(self.now, e.window_days.into());
            if active < e.min_active_days {
                let why = format!("active on {active} of the last {} days", e.window_days);
                self.set_stage(Stage::Active, &why);
            }
        }
    }

    /// The highest level the clock, the score or a failed payment calls for, if above the
    /// current one, with the reason.
    pub(super) fn escalation(&self, days: f64) -> Option<(RiskLevel, String)> {
        let by_clock = self.policy.inactivity.level_after(days);
        let by_score = self.policy.score.thresholds.level_for(self.c.score.total);
        let by_billing = if self.c.open_failed_payments > 0 {
            self.policy.billing.failed_payment_level
        } else {
            RiskLevel::None
        };
        // the reasons are only written for the level chosen: most ticks escalate nothing
        let (level, cause) = [
            (by_clock, Escalation::Clock),
            (by_score, Escalation::Score),
            (by_billing, Escalation::Billing),
        ]
        .into_iter()
        .filter(|(level, _)| *level > self.c.risk)
        .max_by_key(|(level, _)| *level)?;
        let why = match cause {
            Escalation::Clock => format!("no activity for {} days", days.floor()),
            Escalation::Score => format!("risk score {}", self.c.score.total),
            Escalation::Billing => "payment failed".to_string(),
        };
        Some((level, why))
    }

    /// Raises the risk to `level`. A flag soon after a recovery continues the episode that
    /// recovery ended (`fatigue.continue_days`): only a level above the episode's peak plans
    /// its message, so a customer who logs in once and goes quiet again is not told twice.
    pub(super) fn escalate(&mut self, level: RiskLevel, why: &str) {
        if self.c.risk == RiskLevel::None && !self.continues_episode() {
            self.c.risk_episode += 1;
            self.c.episode_peak = RiskLevel::None;
        }
        self.c.recovered_at = None;
        self.set_risk(level, why);
        if level <= self.c.episode_peak {
            return;
        }
        self.c.episode_peak = level;
        let trigger = match level {
            RiskLevel::Caution => Trigger::RiskCaution,
            RiskLevel::Warning => Trigger::RiskWarning,
            RiskLevel::Danger | RiskLevel::None => Trigger::RiskDanger,
        };
        self.plan(trigger, &Occasion::Episode(self.c.risk_episode));
    }

    /// The customer recovered less than `fatigue.continue_days` ago: this flag is the same
    /// episode going on.
    fn continues_episode(&self) -> bool {
        let within = Duration::days(self.policy.fatigue.continue_days.into());
        self.c.risk_episode > 0
            && self
                .c
                .recovered_at
                .is_some_and(|at| self.at >= at && self.at - at < within)
    }

    /// Activity while at risk: back to `none`, and the last intervention gets the credit if it
    /// was planned within the attribution window.
    pub(super) fn recover(&mut self) {
        self.set_risk(RiskLevel::None, "recovered: active again");
        self.c.recovered_at = Some(self.at);
        self.milestones.push(Milestone::Recovered { at: self.at });
        self.credit_last_intervention(|_| true);
        self.resolve(Trigger::is_risk, Resolution::Recovered);
        // reminders still held back by quiet hours are moot now
        self.c
            .scheduled
            .retain(|s| !(s.intervention.is_some() && s.trigger.is_risk()));
    }

    pub(super) fn start_clock(&mut self) {
        self.c.created_at.get_or_insert(self.at);
        self.c.clock_started_at = Some(self.at);
    }

    pub(super) fn days_inactive(&self) -> f64 {
        let start = self.c.clock_started_at.unwrap_or(self.at);
        self.c.activity.days_inactive(start, self.now)
    }

    pub(super) fn rescore(&mut self) {
        self.c.score = score(&score_inputs(&self.c, self.at), self.policy, self.now);
        self.scored = true;
    }
}

/// What calls for a higher risk level at a check, named in the history entry's reason.
#[derive(Clone, Copy)]
enum Escalation {
    /// The inactivity clock's step.
    Clock,
    /// The score's threshold.
    Score,
    /// An open failed payment (`[billing]`).
    Billing,
}

/// What a customer's score is computed from; the clock starts at `fallback` if it never did.
pub(super) fn score_inputs(c: &Customer, fallback: DateTime<Utc>) -> Inputs<'_> {
    Inputs {
        activity: &c.activity,
        clock_start: c.clock_started_at.or(c.created_at).unwrap_or(fallback),
        open_failed_payments: c.open_failed_payments,
        last_nps: c.last_nps,
        since: c.created_at.unwrap_or(fallback),
        renews_at: c.renews_at,
    }
}

/// Every signal's measure for `c` as of `now` (see [`crate::score::measures`]).
pub fn signal_measures(
    c: &Customer,
    policy: &Policy,
    now: DateTime<Utc>,
) -> [f64; crate::score::Signal::COUNT] {
    crate::score::measures(&score_inputs(c, now), policy, now)
}

/// What `c`'s signals against peers are measured from as of `now` (see
/// [`crate::score::context`]).
pub fn signal_context(c: &Customer, policy: &Policy, now: DateTime<Utc>) -> crate::peers::Context {
    crate::score::context(&score_inputs(c, now), policy, now)
}

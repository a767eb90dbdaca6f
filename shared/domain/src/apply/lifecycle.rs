//! The lifecycle: sign-up, payment, onboarding, activity and engagement, completion, churn
//! and the win-back.

use chrono::{DateTime, Utc};

use crate::activity::Mark;
use crate::customer::{Churn, ChurnReason};
use crate::event::{EventKind, Money};
use crate::experiment::Resolution;
use crate::intervention::Trigger;
use crate::occasion::Occasion;
use crate::stage::{RiskLevel, Stage};

use super::{Change, Milestone, Transition};

impl Transition<'_> {
    pub(super) fn sign_up(&mut self) {
        if self.c.stage.is_none() {
            self.start_clock();
            self.set_stage(Stage::Trial, "signed up before paying");
            self.plan(Trigger::TrialStarted, &Occasion::SignUp);
        }
    }

    pub(super) fn payment_succeeded(&mut self) {
        match self.c.stage {
            None | Some(Stage::Trial) => {
                self.start_clock();
                self.set_stage(Stage::Paid, "payment succeeded");
                self.start_onboarding();
            }
            Some(Stage::Churned) if !self.is_stale() => self.win_back(),
            _ => {}
        }
    }

    pub(super) fn start_onboarding(&mut self) {
        self.set_stage(Stage::Onboarding, "payment succeeded");
        self.plan(Trigger::OnboardingStarted, &self.this_event());
        let days = self.policy.schedule.nps_after_onboarding_days;
        let occasion = Occasion::Onboarding(self.event.id.clone());
        self.schedule(Trigger::NpsSurvey, days, occasion);
        if self.c.progress.has_started() {
            self.set_stage(Stage::Active, "onboarding already under way");
        }
    }

    /// A new payment after churn: the customer is back.
    pub(super) fn win_back(&mut self) {
        self.credit_last_intervention(|iv| iv.trigger == Trigger::WinBack);
        self.resolve(|t| t == Trigger::WinBack, Resolution::Recovered);
        self.c.churn = None;
        self.c
            .scheduled
            .retain(|s| s.trigger == Trigger::ConsentReconfirm);
        self.start_clock();
        self.set_stage(Stage::Paid, "paid again after churning");
        if self.c.progress.has_started() {
            self.set_stage(Stage::Active, "returning customer");
        } else {
            self.start_onboarding();
        }
    }

    pub(super) fn payment_failed(&mut self) {
        self.c.open_failed_payments = self.c.open_failed_payments.saturating_add(1);
        if self.is_customer() {
            self.plan(Trigger::PaymentFailed, &self.this_event());
        }
    }

    /// The revenue shrinks (never below zero, never wrapping) and the history says by how much;
    /// the stage stays. The free-text reason is not copied into the history.
    pub(super) fn partial_refund(&mut self, amount: Option<&Money>) {
        let note = match amount {
            Some(m) => {
                let revenue = self.c.revenue.entry(m.currency.clone()).or_default();
                *revenue = revenue.saturating_sub(m.amount).max(0);
                format!("partial refund of {} {}", m.amount, m.currency)
            }
            None => "partial refund".to_string(),
        };
        self.record(Change::Note { note: note.clone() }, &note);
    }

    /// A renewal date a payment or a notice named: the latest one counts, whatever order
    /// they arrive in (a late retry of an old payment does not move it back).
    pub(super) fn renews_at(&mut self, at: Option<DateTime<Utc>>) {
        if let Some(at) = at {
            self.c.renews_at = Some(self.c.renews_at.map_or(at, |t| t.max(at)));
        }
    }

    pub(super) fn billing_notice(&mut self, trigger: Trigger) {
        if self.is_customer() {
            self.plan(trigger, &self.this_event());
        }
    }

    pub(super) fn churn(&mut self, reason: ChurnReason, detail: Option<String>) {
        let Some(stage) = self.c.stage else { return };
        if stage == Stage::Churned || self.is_stale() {
            return;
        }
        let words = match reason {
            ChurnReason::Inactivity => {
                format!("no activity for {} days", self.policy.inactivity.churn_days)
            }
            other => other.as_str().replace('_', " "),
        };
        self.set_stage(Stage::Churned, &words);
        self.resolve(|t| t != Trigger::WinBack, Resolution::Churned);
        self.milestones.push(Milestone::Churned {
            reason,
            at: self.at,
        });
        self.c.churn = Some(Churn {
            reason,
            at: self.at,
            detail,
        });
        if self.c.risk != RiskLevel::None {
            self.set_risk(RiskLevel::None, "churned");
        }
        self.c.recovered_at = None;
        self.c
            .scheduled
            .retain(|s| s.trigger == Trigger::ConsentReconfirm);
        let steps = self.policy.schedule.win_back_after_churn_days.clone();
        for (step, days) in (1..).zip(steps) {
            let occasion = Occasion::WinBack {
                churned: self.at,
                step,
            };
            self.schedule(Trigger::WinBack, days, occasion);
        }
    }

    pub(super) fn activity(&mut self, mark: Mark) {
        self.c.activity.record(self.at, mark);
        let Some(stage) = self.c.stage else { return };
        if stage.is_terminal() {
            return; // a late login does not revive a churned customer
        }
        let responded = self.c.risk_changed_at.is_none_or(|t| self.at >= t);
        if self.c.risk != RiskLevel::None && responded {
            self.recover();
        }
        if self.is_stale() {
            return;
        }
        match (&self.event.kind, stage) {
            (EventKind::ProgramCompleted, _) => self.complete(),
            (
                EventKind::OnboardingCompleted | EventKind::AssignmentSubmitted,
                Stage::Onboarding,
            ) => {
                let why = if matches!(self.event.kind, EventKind::AssignmentSubmitted) {
                    "first assignment submitted"
                } else {
                    "onboarding completed"
                };
                self.set_stage(Stage::Active, why);
                self.maybe_engage();
            }
            (_, Stage::Active) => self.maybe_engage(),
            _ => {}
        }
    }

    /// Engaged when active on enough days of the window ending with the newest activity seen
    /// (not this event's day: a late event must not hide the days after it).
    pub(super) fn maybe_engage(&mut self) {
        let e = &self.policy.engagement;
        let end = self.c.activity.last_at.unwrap_or(self.at).max(self.at);
        let days = self.c.activity.active_days(end, e.window_days.into());
        if days >= e.min_active_days {
            let why = format!("active on {days} of the last {} days", e.window_days);
            self.set_stage(Stage::Engaged, &why);
        }
    }

    pub(super) fn complete(&mut self) {
        self.set_stage(Stage::Completed, "program completed");
        if self.c.risk != RiskLevel::None {
            self.set_risk(RiskLevel::None, "program completed");
        }
        self.c.recovered_at = None;
        self.c.scheduled.retain(|s| s.trigger != Trigger::NpsSurvey);
        let s = self.policy.schedule.clone();
        let follow_ups = [
            (
                Trigger::ReviewRequest,
                s.review_request_after_completion_days,
            ),
            (Trigger::ReferralCode, s.referral_code_after_completion_days),
            (Trigger::RelatedOffer, s.related_offer_after_completion_days),
            (Trigger::NpsSurvey, s.nps_after_completion_days),
        ];
        for (trigger, days) in follow_ups {
            self.schedule(trigger, days, Occasion::Completed(self.at));
        }
    }
}

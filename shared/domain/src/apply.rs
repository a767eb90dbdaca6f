//! `apply`: the one function that decides what an event does to a customer. Pure: the new
//! state, the history entries and the effects follow from (state, event, rules, now) alone.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::DomainError;
use super::activity::{Count, Mark, Tallies};
use super::customer::{Churn, ChurnReason, Customer, Scheduled};
use super::event::{Event, EventKind, Money, NpsScore, Source};
use super::ids::{CustomerId, EventId, InterventionId};
use super::intervention::{
    Channel, Delivery, DeliveryStatus, IfUnknown, Intervention, InterventionRef, Trigger,
};
use super::rules::{Policy, Rules};
use super::score::{Inputs, NpsAnswer, score};
use super::stage::{RiskLevel, Stage};

/// What applying one event produced. The store writes `customer`, `history` and `tallies`
/// together; `effects` are delivered after that write.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub customer: Customer,
    pub history: Vec<HistoryEntry>,
    pub effects: Vec<Effect>,
    pub tallies: Vec<Tally>,
    /// Churns and recoveries, for the monthly trend counters.
    pub milestones: Vec<Milestone>,
    /// The event had already been applied: nothing changed.
    pub duplicate: bool,
    /// The event was dropped unapplied and is not stored: nothing changed.
    pub dropped: Option<Dropped>,
}

/// Why an event changes nothing and is not stored (the caller counts it; nothing is kept).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dropped {
    /// The customer was erased: nothing about them is kept, not even that they came back.
    Erased,
    /// From outside and older than `inactivity.max_event_age_days`: a stale replay (a
    /// provider's old webhook re-posted after its dedup marker expired) or a wrong clock.
    TooOld,
}

impl Dropped {
    pub fn as_str(self) -> &'static str {
        match self {
            Dropped::Erased => "customer_erased",
            Dropped::TooOld => "too_old",
        }
    }
}

/// A recorded change of stage or risk: the customer's journey, replayable and auditable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub change: Change,
    pub cause: Cause,
    /// The risk score right after the change.
    pub score: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    Stage {
        from: Option<Stage>,
        to: Stage,
    },
    Risk {
        from: RiskLevel,
        to: RiskLevel,
    },
    /// Not a change of state, but part of the journey: staff contact, erasure, ignored events.
    Note {
        note: String,
    },
}

/// A moment the dashboard's trend counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Milestone {
    Churned {
        reason: ChurnReason,
        at: DateTime<Utc>,
    },
    Recovered {
        at: DateTime<Utc>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cause {
    pub event_id: EventId,
    pub event_type: String,
    /// Why, in words an operator reads: "no activity for 7 days", "refund requested".
    pub reason: String,
}

/// Something to do once the new state is stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// Send a message (e-mail or Slack).
    Send(Intervention),
    /// Publish a domain event on the bus.
    Publish(DomainEvent),
    /// Remove the erased customer's personal data from every record of theirs the store keeps
    /// beside the state (logged events, send details); idempotent, so a redelivery repeats it.
    Erase,
}

/// A fact other systems may subscribe to. `id` is deterministic, for consumers' dedup.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DomainEvent {
    pub id: String,
    pub customer_id: CustomerId,
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub detail: DomainEventDetail,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DomainEventDetail {
    StageChanged {
        from: Option<Stage>,
        to: Stage,
        reason: String,
    },
    RiskChanged {
        from: RiskLevel,
        to: RiskLevel,
        reason: String,
    },
    InterventionPlanned {
        intervention_id: InterventionId,
        trigger: Trigger,
        channel: Channel,
        template: String,
        variant: Option<String>,
    },
    InterventionRecovered {
        intervention_id: InterventionId,
        template: String,
        variant: Option<String>,
    },
}

impl DomainEventDetail {
    pub fn name(&self) -> &'static str {
        match self {
            DomainEventDetail::StageChanged { .. } => "stage_changed",
            DomainEventDetail::RiskChanged { .. } => "risk_changed",
            DomainEventDetail::InterventionPlanned { .. } => "intervention_planned",
            DomainEventDetail::InterventionRecovered { .. } => "intervention_recovered",
        }
    }
}

/// A count to add to the per-template × variant outcome counters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub template: String,
    pub variant: Option<String>,
    pub metric: TallyMetric,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TallyMetric {
    Sent,
    Recovered,
    Failed,
    Skipped,
    /// Sent or not: the provider's answer was lost (see `docs/reliability.md`).
    Unknown,
}

impl TallyMetric {
    pub fn as_str(self) -> &'static str {
        match self {
            TallyMetric::Sent => "sent",
            TallyMetric::Recovered => "recovered",
            TallyMetric::Failed => "failed",
            TallyMetric::Skipped => "skipped",
            TallyMetric::Unknown => "unknown",
        }
    }
}

/// Applies `event` to `state` as of `now` (the time the system received it, or the sweep's time
/// for `check_due`). An event already applied returns the state unchanged.
pub fn apply(
    state: &Customer,
    event: &Event,
    rules: &Rules,
    now: DateTime<Utc>,
) -> Result<Outcome, DomainError> {
    if event.customer_id != state.id {
        return Err(DomainError::WrongCustomer {
            event: event.id.clone(),
            customer: state.id.clone(),
        });
    }
    if state.has_applied(&event.id) {
        return Ok(Outcome::unchanged(state, true, None));
    }
    if let Some(reason) = dropped(state, event, rules, now) {
        return Ok(Outcome::unchanged(state, false, Some(reason)));
    }
    let mut t = Transition::new(state, event, rules, now);
    t.handle();
    Ok(t.finish())
}

/// Whether `event` is dropped before it is applied.
fn dropped(state: &Customer, event: &Event, rules: &Rules, now: DateTime<Utc>) -> Option<Dropped> {
    // a repeated erasure request runs the cleaning again (the first may have failed for good)
    if state.erased && !matches!(event.kind, EventKind::Erased { .. }) {
        return Some(Dropped::Erased);
    }
    let outside = matches!(
        event.source,
        Source::App | Source::Stripe | Source::Toss | Source::Portone
    );
    let policy = rules.policy(state.profile.program.as_deref());
    let limit = Duration::days(policy.inactivity.max_event_age_days.into());
    (outside && now - event.occurred_at > limit).then_some(Dropped::TooOld)
}

impl Outcome {
    fn unchanged(state: &Customer, duplicate: bool, dropped: Option<Dropped>) -> Self {
        Outcome {
            customer: state.clone(),
            history: Vec::new(),
            effects: Vec::new(),
            tallies: Vec::new(),
            milestones: Vec::new(),
            duplicate,
            dropped,
        }
    }
}

/// One application in progress: the new state and what it has produced so far.
struct Transition<'a> {
    c: Customer,
    event: &'a Event,
    policy: &'a Policy,
    /// When the changes happen: the event's time, or `now` for a due check.
    at: DateTime<Utc>,
    now: DateTime<Utc>,
    history: Vec<HistoryEntry>,
    interventions: Vec<Intervention>,
    published: Vec<DomainEventDetail>,
    tallies: Vec<Tally>,
    milestones: Vec<Milestone>,
    /// The score is up to date with the state's inputs.
    scored: bool,
    /// The customer was erased by this event: the store cleans their other records.
    erase_effect: bool,
}

impl<'a> Transition<'a> {
    fn new(state: &Customer, event: &'a Event, rules: &'a Rules, now: DateTime<Utc>) -> Self {
        let mut c = state.clone();
        c.profile.merge(&event.profile);
        let policy = rules.policy(c.profile.program.as_deref());
        let at = match event.kind {
            EventKind::CheckDue => now,
            _ => event.occurred_at,
        };
        Transition {
            c,
            event,
            policy,
            at,
            now,
            history: Vec::new(),
            interventions: Vec::new(),
            published: Vec::new(),
            tallies: Vec::new(),
            milestones: Vec::new(),
            scored: false,
            erase_effect: false,
        }
    }

    fn handle(&mut self) {
        match &self.event.kind {
            EventKind::SignedUp { .. } => self.sign_up(),
            EventKind::PaymentSucceeded { amount } => {
                let revenue = self.c.revenue.entry(amount.currency.clone()).or_default();
                *revenue = revenue.saturating_add(amount.amount);
                self.c.open_failed_payments = 0;
                self.payment_succeeded();
            }
            EventKind::PaymentFailed { .. } => self.payment_failed(),
            EventKind::RefundRequested { reason } => {
                self.churn(ChurnReason::RefundRequested, reason.clone())
            }
            EventKind::PartialRefund { amount, .. } => self.partial_refund(amount.as_ref()),
            EventKind::SubscriptionCancelled { reason } => {
                self.churn(ChurnReason::SubscriptionCancelled, reason.clone())
            }
            EventKind::RenewalUpcoming { .. } => self.billing_notice(Trigger::RenewalUpcoming),
            EventKind::TrialEnding { .. } => self.billing_notice(Trigger::TrialEnding),
            EventKind::Login => self.activity(Mark::Login),
            EventKind::OnboardingCompleted => {
                let first = &mut self.c.progress.onboarding_completed_at;
                *first = Some(first.map_or(self.at, |t| t.min(self.at)));
                self.activity(Mark::Other);
            }
            EventKind::AssignmentSubmitted => {
                let first = &mut self.c.progress.first_submission_at;
                *first = Some(first.map_or(self.at, |t| t.min(self.at)));
                self.activity(Mark::Submission);
            }
            EventKind::ContentViewed { seconds } => self.activity(Mark::Content(*seconds)),
            EventKind::ProgramCompleted => self.activity(Mark::Other),
            EventKind::AssignmentMissed => self.c.activity.record(self.at, Mark::Missed),
            EventKind::SupportTicket => self.support_ticket(),
            EventKind::NpsResponse { score } => self.nps(*score),
            EventKind::ProfileUpdated => {}
            EventKind::CheckDue => self.check(),
            EventKind::Unsubscribed => self.c.profile.unsubscribed = true,
            EventKind::InterventionSent { delivery } => {
                self.report(delivery, DeliveryStatus::Sent, TallyMetric::Sent)
            }
            EventKind::InterventionSkipped { delivery, .. } => {
                self.report(delivery, DeliveryStatus::Skipped, TallyMetric::Skipped)
            }
            EventKind::InterventionFailed { delivery, .. } => {
                self.report(delivery, DeliveryStatus::Failed, TallyMetric::Failed)
            }
            EventKind::InterventionUnknown { delivery, .. } => {
                self.report(delivery, DeliveryStatus::Unknown, TallyMetric::Unknown)
            }
            EventKind::InterventionDeferred {
                intervention,
                until,
            } => self.defer(intervention, *until),
            EventKind::StaffNote { author, channel } => {
                let note = format!("contacted by {author} ({})", channel.as_str());
                self.record(Change::Note { note: note.clone() }, &note);
            }
            EventKind::Erased { by } => self.erase(by.as_deref()),
        }
    }

    /// Erasure: personal data (contact details, owner, behaviour) removed; the stage and risk
    /// stay, so the anonymised counters stay right; nothing is scheduled any more.
    /// The state keeps only what the anonymous counters need (stage, risk, revenue, churn
    /// reason); the store's other records are cleaned by the `Erase` effect.
    fn erase(&mut self, by: Option<&str>) {
        self.c.profile = erased_profile();
        self.c.activity = Default::default();
        self.c.progress = Default::default();
        self.c.last_nps = None;
        self.c.scheduled.clear();
        self.c.last_intervention = None;
        if let Some(churn) = self.c.churn.as_mut() {
            churn.detail = None;
        }
        self.c.erased = true;
        let note = match by {
            Some(by) => format!("erased on request of {by}"),
            None => "erased on request".to_string(),
        };
        self.record(Change::Note { note: note.clone() }, &note);
        self.erase_effect = true;
    }

    /// A sender's report: counted for its template × variant, and kept on the last
    /// intervention so only messages that went out are credited with a recovery.
    fn report(&mut self, delivery: &Delivery, status: DeliveryStatus, metric: TallyMetric) {
        self.tallies.push(Tally {
            template: delivery.template.clone(),
            variant: delivery.variant.clone(),
            metric,
        });
        if let Some(last) = self
            .c
            .last_intervention
            .as_mut()
            .filter(|l| l.id == delivery.intervention_id)
        {
            last.status = status;
        }
    }

    /// Quiet hours held a message back: it goes out, unchanged, when due.
    fn defer(&mut self, intervention: &Intervention, until: DateTime<Utc>) {
        let known = self.c.scheduled.iter().any(|s| {
            s.intervention
                .as_ref()
                .is_some_and(|i| i.id == intervention.id)
        });
        if !known {
            self.c.scheduled.push(Scheduled {
                due_at: until,
                trigger: intervention.trigger,
                occasion: format!("deferred:{}", intervention.id),
                intervention: Some(intervention.clone()),
            });
        }
        if let Some(last) = self
            .c
            .last_intervention
            .as_mut()
            .filter(|l| l.id == intervention.id)
        {
            last.status = DeliveryStatus::Deferred;
        }
    }

    // ---- handlers ------------------------------------------------------------------------

    fn sign_up(&mut self) {
        if self.c.stage.is_none() {
            self.start_clock();
            self.set_stage(Stage::Trial, "signed up before paying");
            self.plan(Trigger::TrialStarted, "signup");
        }
    }

    fn payment_succeeded(&mut self) {
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

    fn start_onboarding(&mut self) {
        self.set_stage(Stage::Onboarding, "payment succeeded");
        let occasion = self.event.id.to_string();
        self.plan(Trigger::OnboardingStarted, &occasion);
        let days = self.policy.schedule.nps_after_onboarding_days;
        self.schedule(Trigger::NpsSurvey, days, &format!("onboarding:{occasion}"));
        if self.c.progress.has_started() {
            self.set_stage(Stage::Active, "onboarding already under way");
        }
    }

    /// A new payment after churn: the customer is back.
    fn win_back(&mut self) {
        self.credit_last_intervention(|iv| iv.trigger == Trigger::WinBack);
        self.c.churn = None;
        self.c.scheduled.clear();
        self.start_clock();
        self.set_stage(Stage::Paid, "paid again after churning");
        if self.c.progress.has_started() {
            self.set_stage(Stage::Active, "returning customer");
        } else {
            self.start_onboarding();
        }
    }

    fn payment_failed(&mut self) {
        self.c.open_failed_payments = self.c.open_failed_payments.saturating_add(1);
        if self.is_customer() {
            let occasion = self.event.id.to_string();
            self.plan(Trigger::PaymentFailed, &occasion);
        }
    }

    /// The revenue shrinks (never below zero, never wrapping) and the history says by how much;
    /// the stage stays. The free-text reason is not copied into the history.
    fn partial_refund(&mut self, amount: Option<&Money>) {
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

    fn billing_notice(&mut self, trigger: Trigger) {
        if self.is_customer() {
            let occasion = self.event.id.to_string();
            self.plan(trigger, &occasion);
        }
    }

    fn churn(&mut self, reason: ChurnReason, detail: Option<String>) {
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
        self.c.scheduled.clear();
        let steps = self.policy.schedule.win_back_after_churn_days.clone();
        let churned = self.at.to_rfc3339();
        for (n, days) in steps.into_iter().enumerate() {
            self.schedule(
                Trigger::WinBack,
                days,
                &format!("churn:{churned}:{}", n + 1),
            );
        }
    }

    fn activity(&mut self, mark: Mark) {
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
    fn maybe_engage(&mut self) {
        let e = &self.policy.engagement;
        let end = self.c.activity.last_at.unwrap_or(self.at).max(self.at);
        let days = self.c.activity.active_days(end, e.window_days.into());
        if days >= e.min_active_days {
            let why = format!("active on {days} of the last {} days", e.window_days);
            self.set_stage(Stage::Engaged, &why);
        }
    }

    fn complete(&mut self) {
        self.set_stage(Stage::Completed, "program completed");
        if self.c.risk != RiskLevel::None {
            self.set_risk(RiskLevel::None, "program completed");
        }
        self.c.scheduled.retain(|s| s.trigger != Trigger::NpsSurvey);
        let s = self.policy.schedule.clone();
        let occasion = format!("completed:{}", self.at.to_rfc3339());
        self.schedule(
            Trigger::ReviewRequest,
            s.review_request_after_completion_days,
            &occasion,
        );
        self.schedule(
            Trigger::ReferralCode,
            s.referral_code_after_completion_days,
            &occasion,
        );
        self.schedule(
            Trigger::RelatedOffer,
            s.related_offer_after_completion_days,
            &occasion,
        );
        self.schedule(Trigger::NpsSurvey, s.nps_after_completion_days, &occasion);
    }

    fn support_ticket(&mut self) {
        self.c.activity.record(self.at, Mark::Ticket);
        if !self.is_customer() {
            return;
        }
        let support = &self.policy.support;
        let tickets =
            Tallies::of(&self.c.activity).sum(self.at, support.window_days.into(), Count::Tickets);
        if tickets == u64::from(support.alert_tickets) {
            let occasion = self.event.id.to_string();
            self.plan(Trigger::SupportTickets, &occasion);
        }
    }

    fn nps(&mut self, answer: NpsScore) {
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
        let occasion = self.event.id.to_string();
        if answer.value() <= self.policy.nps.detractor_max {
            self.plan(Trigger::NpsDetractor, &occasion);
        } else if answer.value() >= self.policy.nps.promoter_min {
            self.plan(Trigger::NpsPromoter, &occasion);
        }
    }

    /// The sweep's tick: send what is due, then escalate by the clock and the score.
    fn check(&mut self) {
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
    fn escalation(&self, days: f64) -> Option<(RiskLevel, String)> {
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

    fn escalate(&mut self, level: RiskLevel, why: &str) {
        if self.c.risk == RiskLevel::None {
            self.c.risk_episode += 1;
        }
        self.set_risk(level, why);
        let trigger = match level {
            RiskLevel::Caution => Trigger::RiskCaution,
            RiskLevel::Warning => Trigger::RiskWarning,
            RiskLevel::Danger | RiskLevel::None => Trigger::RiskDanger,
        };
        let occasion = format!("episode:{}", self.c.risk_episode);
        self.plan(trigger, &occasion);
    }

    /// Activity while at risk: back to `none`, and the last intervention gets the credit if it
    /// was planned within the attribution window.
    fn recover(&mut self) {
        self.set_risk(RiskLevel::None, "recovered: active again");
        self.milestones.push(Milestone::Recovered { at: self.at });
        self.credit_last_intervention(|_| true);
        // reminders still held back by quiet hours are moot now
        self.c.scheduled.retain(|s| {
            !(s.intervention.is_some()
                && matches!(
                    s.trigger,
                    Trigger::RiskCaution | Trigger::RiskWarning | Trigger::RiskDanger
                ))
        });
    }

    fn credit_last_intervention(&mut self, eligible: impl Fn(&InterventionRef) -> bool) {
        let window = Duration::days(self.policy.attribution.window_days.into());
        let at = self.at;
        let Some(iv) = self.c.last_intervention.as_mut() else {
            return;
        };
        let in_window = iv.planned_at <= at && at - iv.planned_at <= window;
        if iv.credited || !in_window || !iv.status.may_have_reached() || !eligible(iv) {
            return;
        }
        iv.credited = true;
        self.tallies.push(Tally {
            template: iv.template.clone(),
            variant: iv.variant.clone(),
            metric: TallyMetric::Recovered,
        });
        self.published
            .push(DomainEventDetail::InterventionRecovered {
                intervention_id: iv.id.clone(),
                template: iv.template.clone(),
                variant: iv.variant.clone(),
            });
    }

    // ---- building blocks -----------------------------------------------------------------

    /// Known and not churned: someone we send notices and alerts about.
    fn is_customer(&self) -> bool {
        self.c.stage.is_some_and(|s| s != Stage::Churned)
    }

    /// An event older than the last stage change changes data, never the stage.
    fn is_stale(&self) -> bool {
        self.c.stage_changed_at.is_some_and(|t| self.at < t)
    }

    fn start_clock(&mut self) {
        self.c.created_at.get_or_insert(self.at);
        self.c.clock_started_at = Some(self.at);
    }

    fn days_inactive(&self) -> f64 {
        let start = self.c.clock_started_at.unwrap_or(self.at);
        self.c.activity.days_inactive(start, self.now)
    }

    fn set_stage(&mut self, to: Stage, why: &str) {
        let from = self.c.stage;
        if from == Some(to) {
            return;
        }
        self.c.stage = Some(to);
        self.c.stage_changed_at = Some(self.at);
        self.record(Change::Stage { from, to }, why);
        self.published.push(DomainEventDetail::StageChanged {
            from,
            to,
            reason: why.to_string(),
        });
    }

    fn set_risk(&mut self, to: RiskLevel, why: &str) {
        let from = self.c.risk;
        if from == to {
            return;
        }
        self.c.risk = to;
        self.c.risk_changed_at = Some(self.at);
        self.record(Change::Risk { from, to }, why);
        self.published.push(DomainEventDetail::RiskChanged {
            from,
            to,
            reason: why.to_string(),
        });
    }

    fn record(&mut self, change: Change, why: &str) {
        self.history.push(HistoryEntry {
            at: self.at,
            change,
            cause: Cause {
                event_id: self.event.id.clone(),
                event_type: self.event.kind.name().to_string(),
                reason: why.to_string(),
            },
            score: 0.0, // filled in by `finish`, once the score is final
        });
    }

    fn schedule(&mut self, trigger: Trigger, after_days: u32, occasion: &str) {
        self.c.scheduled.push(Scheduled {
            due_at: self.at + Duration::days(after_days.into()),
            trigger,
            occasion: occasion.to_string(),
            intervention: None,
        });
    }

    /// Plans the messages the rules give `trigger`, with ids derived from `occasion`.
    fn plan(&mut self, trigger: Trigger, occasion: &str) {
        let Some(plan) = self.policy.interventions.get(&trigger) else {
            return;
        };
        let channels = [
            (Channel::Email, plan.email.as_ref()),
            (Channel::Slack, plan.slack.as_ref()),
            (
                Channel::OwnerEmail,
                plan.slack.as_ref().filter(|_| plan.owner_email),
            ),
        ];
        let mut first = None;
        for (channel, template) in channels {
            let Some(template) = template else { continue };
            let variant = match channel {
                Channel::Email => plan.variant_for(&self.c.id, trigger),
                _ => None,
            };
            let id =
                InterventionId::derive(&self.c.id, trigger.as_str(), occasion, channel.as_str());
            let intervention = Intervention {
                id,
                customer_id: self.c.id.clone(),
                trigger,
                channel,
                template: template.clone(),
                variant,
                transactional: plan.transactional,
                if_unknown: match channel {
                    Channel::Email => plan.if_unknown,
                    _ => IfUnknown::GiveUp,
                },
                planned_at: self.at,
                cause: self.event.id.clone(),
            };
            first.get_or_insert_with(|| InterventionRef::from(&intervention));
            self.published.push(DomainEventDetail::InterventionPlanned {
                intervention_id: intervention.id.clone(),
                trigger,
                channel,
                template: intervention.template.clone(),
                variant: intervention.variant.clone(),
            });
            self.interventions.push(intervention);
        }
        if first.is_some() {
            self.c.last_intervention = first;
        }
    }

    fn rescore(&mut self) {
        self.c.score = score(&score_inputs(&self.c, self.at), self.policy, self.now);
        self.scored = true;
    }

    fn finish(mut self) -> Outcome {
        // a due check scores before it escalates and changes no input after: once is enough
        if self.c.stage.is_some() && !self.scored {
            self.rescore();
        }
        for entry in &mut self.history {
            entry.score = self.c.score.total;
        }
        self.c.next_check_at = if self.c.erased {
            None
        } else {
            next_check_at(&self.c, self.policy, self.now)
        };
        self.c.remember(self.event.id.clone());
        let mut effects: Vec<Effect> = self.interventions.into_iter().map(Effect::Send).collect();
        if self.erase_effect {
            effects.push(Effect::Erase);
        }
        for (n, detail) in self.published.into_iter().enumerate() {
            effects.push(Effect::Publish(DomainEvent {
                id: format!("{}#{n}", self.event.id),
                customer_id: self.c.id.clone(),
                at: self.at,
                detail,
            }));
        }
        Outcome {
            customer: self.c,
            history: self.history,
            effects,
            tallies: self.tallies,
            milestones: self.milestones,
            duplicate: false,
            dropped: None,
        }
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
fn score_inputs(c: &Customer, fallback: DateTime<Utc>) -> Inputs<'_> {
    Inputs {
        activity: &c.activity,
        clock_start: c.clock_started_at.or(c.created_at).unwrap_or(fallback),
        open_failed_payments: c.open_failed_payments,
        last_nps: c.last_nps,
        since: c.created_at.unwrap_or(fallback),
    }
}

/// Every signal's measure for `c` as of `now` (see [`super::score::measures`]).
pub fn signal_measures(
    c: &Customer,
    policy: &Policy,
    now: DateTime<Utc>,
) -> [f64; super::score::Signal::COUNT] {
    super::score::measures(&score_inputs(c, now), policy, now)
}

/// What is left of a profile after erasure: nothing but the opt-out (nothing is sent anyway).
fn erased_profile() -> super::customer::ProfileState {
    super::customer::ProfileState {
        unsubscribed: true,
        ..Default::default()
    }
}

/// When the next time-based rule may fire for `c`: the earliest scheduled follow-up, the next
/// inactivity step, the end of sustained activity, the moment the score will call for a higher
/// level by time alone, or now when the score or a failed payment already does. `None` keeps
/// the customer out of the due index.
pub fn next_check_at(c: &Customer, policy: &Policy, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let scheduled = c.scheduled.iter().map(|s| s.due_at).min();
    let Some(stage) = c.stage.filter(|s| !s.is_terminal()) else {
        return scheduled;
    };
    let clock = c
        .activity
        .last_at
        .into_iter()
        .chain(c.clock_started_at)
        .max();
    let step =
        clock.map(|from| from + Duration::days(policy.inactivity.next_step_days(c.risk).into()));
    let by_score = policy.score.thresholds.level_for(c.score.total) > c.risk;
    let by_billing = c.open_failed_payments > 0 && policy.billing.failed_payment_level > c.risk;
    if by_score || by_billing {
        return Some(now);
    }
    let lapse = (stage == Stage::Engaged)
        .then(|| {
            let e = &policy.engagement;
            c.activity
                .engagement_lapses_at(e.window_days.into(), e.min_active_days)
        })
        .flatten();
    let other = [scheduled, step, lapse].into_iter().flatten().min();
    // a later check looks again: the score need only be followed up to the next one
    let until = other.unwrap_or(now + Duration::days(SCORE_LOOKAHEAD_DAYS));
    let by_time = super::score::rises_at(&score_inputs(c, now), policy, c.risk, now, until);
    other.into_iter().chain(by_time).min()
}

/// How far ahead the score is followed for a customer with no other check coming: past the
/// longest inactivity step, after which a check is always scheduled.
const SCORE_LOOKAHEAD_DAYS: i64 = 35;

#[cfg(test)]
mod tests;

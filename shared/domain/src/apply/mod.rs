//! `apply`: the one function that decides what an event does to a customer. Pure: the new
//! state, the history entries and the effects follow from (state, event, rules, now) alone.
//!
//! This module dispatches each event and holds the building blocks (stage and risk changes,
//! history entries); each concern has its own module: [`lifecycle`], [`risk`], [`feedback`]
//! (the senders' reports), [`scheduling`] (interventions and the next check) and [`privacy`]
//! (erasure). What an application produces is in [`outcome`].

mod experiment;
mod feedback;
mod lifecycle;
mod outcome;
mod privacy;
mod risk;
mod scheduling;
mod staff;

pub use outcome::{
    Cause, Change, DomainEvent, DomainEventDetail, Dropped, Effect, HistoryEntry, Milestone,
    Outcome, TEXTS, Tally, TallyMetric,
};
pub use risk::{signal_context, signal_measures};
pub use scheduling::next_check_at;

use chrono::{DateTime, Duration, Utc};

use super::DomainError;
use super::event::{Event, EventKind, Source};
use super::intervention::{DeliveryStatus, Intervention, Trigger};
use super::rules::{Policy, Rules};
use super::stage::{RiskLevel, Stage};
use crate::activity::Mark;
use crate::customer::{ChurnReason, Customer};

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
    // SES's word on a message to someone we never stored (a test send, a store restored from
    // a backup): nothing to attach it to, and no customer is created from it
    if event.source == Source::Ses && state.stage.is_none() {
        return Some(Dropped::UnknownCustomer);
    }
    let outside = matches!(
        event.source,
        Source::App | Source::Stripe | Source::Toss | Source::Portone
    );
    if !outside {
        return None;
    }
    let i = &rules.policy(state.profile.program.as_deref()).inactivity;
    if event.occurred_at - now > Duration::minutes(i.max_event_lead_minutes.into()) {
        return Some(Dropped::FromTheFuture);
    }
    (now - event.occurred_at > Duration::days(i.max_event_age_days.into()))
        .then_some(Dropped::TooOld)
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
    /// Texts' final reports, for their send records.
    text_notes: Vec<crate::text::TextNote>,
    /// When the marketing consent the event found was given (its change reschedules the
    /// re-confirmation notice).
    consent_before: Option<DateTime<Utc>>,
    /// The score is up to date with the state's inputs.
    scored: bool,
    /// The customer was erased by this event: the store cleans their other records.
    erase_effect: bool,
}

impl<'a> Transition<'a> {
    fn new(state: &Customer, event: &'a Event, rules: &'a Rules, now: DateTime<Utc>) -> Self {
        let mut c = state.clone();
        let consent_before = c.profile.consents.marketing.as_ref().map(|c| c.at);
        c.profile.merge(&event.profile, event.occurred_at);
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
            text_notes: Vec::new(),
            consent_before,
            scored: false,
            erase_effect: false,
        }
    }

    fn handle(&mut self) {
        let at = self.at;
        self.c.text_fallbacks.retain(|f| f.until > at);
        self.consent_changed(self.consent_before);
        match &self.event.kind {
            EventKind::SignedUp { .. } => self.sign_up(),
            EventKind::PaymentSucceeded { amount, renews_at } => {
                self.renews_at(*renews_at);
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
            EventKind::RenewalUpcoming { renews_at } => {
                self.renews_at(*renews_at);
                self.billing_notice(Trigger::RenewalUpcoming)
            }
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
            EventKind::MailFeedback {
                delivery,
                feedback,
                recipient,
            } => self.mail_feedback(delivery, *feedback, recipient.as_deref()),
            EventKind::TextReported {
                intervention_id,
                code,
                status,
                fallback,
            } => self.text_reported(intervention_id, code, status, *fallback),
            EventKind::InterventionDeferred {
                intervention,
                until,
            } => self.defer(intervention, *until),
            EventKind::StaffNote {
                author,
                channel,
                outcome,
            } => self.staff_note(author, *channel, *outcome),
            EventKind::Erased { by } => self.erase(by.as_deref()),
        }
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
        if to > from {
            self.c.risk_rose_at = Some(self.at);
        }
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
        effects.extend(self.text_notes.into_iter().map(Effect::NoteText));
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

#[cfg(test)]
mod tests;

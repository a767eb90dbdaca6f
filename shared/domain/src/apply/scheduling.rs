//! Interventions planned and scheduled, messages deferred by quiet hours, and the next
//! moment a time-based rule may fire for a customer (the due index).

use chrono::{DateTime, Duration, Utc};

use crate::customer::{Customer, Scheduled, TextFallback};
use crate::ids::InterventionId;
use crate::intervention::{
    Channel, DeliveryStatus, IfUnknown, Intervention, InterventionRef, Trigger,
};
use crate::occasion::Occasion;
use crate::rules::Policy;
use crate::stage::Stage;

use super::{DomainEventDetail, Tally, TallyMetric, Transition};

/// How long an e-mail held back for its text waits: the providers report up to two days after
/// sending (a fallback SMS/LMS last), and a day more for the report to come through.
const TEXT_REPORT_DAYS: i64 = 3;

impl Transition<'_> {
    pub(super) fn schedule(&mut self, trigger: Trigger, after_days: u32, occasion: Occasion) {
        self.c.scheduled.push(Scheduled {
            due_at: self.at + Duration::days(after_days.into()),
            trigger,
            occasion,
            intervention: None,
        });
    }

    /// The marketing consent changed (`before`: when the one it replaces was given): its
    /// re-confirmation notice is scheduled anew, once per consent, or dropped with it.
    pub(super) fn consent_changed(&mut self, before: Option<DateTime<Utc>>) {
        let now = self.c.profile.consents.marketing.as_ref().map(|c| c.at);
        if now == before {
            return;
        }
        self.c
            .scheduled
            .retain(|s| s.trigger != Trigger::ConsentReconfirm);
        let due =
            crate::consent::reconfirmation_due(&self.c.profile.consents, &self.policy.advertising);
        if let (Some(due_at), Some(given)) = (due, now) {
            self.c.scheduled.push(Scheduled {
                due_at,
                trigger: Trigger::ConsentReconfirm,
                occasion: Occasion::Consent(given),
                intervention: None,
            });
        }
    }

    /// The event being applied, as the occasion of what it plans.
    pub(super) fn this_event(&self) -> Occasion {
        Occasion::Event(self.event.id.clone())
    }

    /// Plans the messages the rules give `trigger`, with ids derived from `occasion`. A
    /// customer in the trigger's control group gets no e-mail (nor, with `holdout_staff`, a
    /// staff alert), and the assignment either way is counted.
    pub(super) fn plan(&mut self, trigger: Trigger, occasion: &Occasion) {
        let Some(plan) = self.policy.interventions.get(&trigger) else {
            return;
        };
        let held_out = plan.holds_out(&self.c.id, trigger);
        let floor = self.policy.experiments.adaptive_floor();
        let variant = plan.variant_for(&self.c.id, trigger, floor);
        // the customer's messages (e-mail and text) count once against the fatigue limit
        let allowed = match plan.email.as_ref().or(plan.text.as_ref()) {
            Some(template) if !plan.transactional && self.policy.fatigue.counts(trigger) => {
                self.within_fatigue(template)
            }
            _ => true,
        };
        let email = plan.email.as_ref().filter(|_| allowed);
        let text = plan.text.as_ref().filter(|_| allowed);
        // `email_fallback`: the text first where it can go, the e-mail held back for its failure;
        // where it cannot, the e-mail alone
        let fallback = plan.email_fallback && email.is_some() && text.is_some();
        let textable = self.c.profile.reachable_by_text();
        if !plan.transactional && trigger.seeks_recovery() {
            // each channel's experiment apart: the control group is split by the same
            // reachability as the treated, so each channel's uplift compares like with like
            let by_text = text.is_some() && (email.is_none() || (fallback && textable));
            let key = if by_text {
                text.map(|t| crate::experiment::text_key(t))
            } else {
                email.cloned()
            };
            if let Some(key) = key {
                let shown = variant.clone().filter(|_| !held_out && !by_text);
                self.assign(trigger, &key, shown, held_out);
            }
        }
        let staff_held = held_out && plan.holdout_staff;
        let channels = [
            (Channel::Email, email.filter(|_| !held_out)),
            (Channel::Text, text.filter(|_| !held_out)),
            (Channel::Slack, plan.slack.as_ref().filter(|_| !staff_held)),
            (
                Channel::OwnerEmail,
                plan.slack
                    .as_ref()
                    .filter(|_| plan.owner_email && !staff_held),
            ),
        ];
        let text_id = InterventionId::derive(&self.c.id, trigger, occasion, Channel::Text);
        let mut first = None;
        for (channel, template) in channels {
            let Some(template) = template else { continue };
            if fallback && channel == Channel::Text && !textable {
                continue;
            }
            let id = InterventionId::derive(&self.c.id, trigger, occasion, channel);
            let intervention = Intervention {
                id,
                customer_id: self.c.id.clone(),
                trigger,
                channel,
                template: template.clone(),
                variant: variant.clone().filter(|_| channel == Channel::Email),
                transactional: plan.transactional,
                if_unknown: match channel {
                    Channel::Email | Channel::Text => plan.if_unknown,
                    _ => IfUnknown::GiveUp,
                },
                planned_at: self.at,
                cause: self.event.id.clone(),
            };
            if channel == Channel::Slack {
                self.alerted(template);
            }
            if fallback && channel == Channel::Email && textable {
                self.c.text_fallbacks.push(TextFallback {
                    text: text_id.clone(),
                    email: intervention,
                    until: self.at + Duration::days(TEXT_REPORT_DAYS),
                });
                continue;
            }
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
        if held_out {
            // nothing the customer saw may be credited with what they do next
            self.c.last_intervention = None;
        } else if first.is_some() {
            self.c.last_intervention = first;
        }
    }

    /// Whether one more retention message fits `fatigue.max_messages` within its window;
    /// if so it is counted (held out or not, so an experiment's groups meet the same limit),
    /// if not the withheld message is tallied under its template.
    fn within_fatigue(&mut self, template: &str) -> bool {
        let f = &self.policy.fatigue;
        let since = self.at - Duration::days(f.window_days.into());
        self.c.risk_messages.retain(|t| *t > since);
        if self.c.risk_messages.len() >= f.max_messages as usize {
            self.tallies
                .push(Tally::count(template, None, TallyMetric::Fatigued));
            return false;
        }
        self.c.risk_messages.push(self.at);
        true
    }

    /// Quiet hours held a message back: it goes out, unchanged, when due.
    pub(super) fn defer(&mut self, intervention: &Intervention, until: DateTime<Utc>) {
        let held = self.c.scheduled.iter_mut().find(|s| {
            s.intervention
                .as_ref()
                .is_some_and(|i| i.id == intervention.id)
        });
        // still held (a deferral reported before the last one came due): the later time wins,
        // whatever order the reports arrive in
        if let Some(held) = held {
            held.due_at = held.due_at.max(until);
        } else {
            self.c.scheduled.push(Scheduled {
                due_at: until,
                trigger: intervention.trigger,
                occasion: Occasion::Deferred(intervention.id.clone()),
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
    let by_time = crate::score::rises_at(
        &super::risk::score_inputs(c, now),
        policy,
        c.risk,
        now,
        until,
    );
    other.into_iter().chain(by_time).min()
}

/// How far ahead the score is followed for a customer with no other check coming: past the
/// longest inactivity step, after which a check is always scheduled.
const SCORE_LOOKAHEAD_DAYS: i64 = 35;

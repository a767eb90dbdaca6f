//! What the senders and SES report back: sends, failures and skips tallied once; bounces,
//! complaints, opens and clicks; and the credit a recovery gives the intervention that came
//! before it.

use chrono::Duration;

use crate::activity::Mark;
use crate::event::MailFeedback;
use crate::intervention::{Channel, Delivery, DeliveryStatus, InterventionRef};

use super::{Change, DomainEventDetail, Tally, TallyMetric, Transition};

impl Transition<'_> {
    /// A sender's report: counted for its template × variant, and kept on the last
    /// intervention so only messages that went out are credited with a recovery.
    pub(super) fn report(
        &mut self,
        delivery: &Delivery,
        status: DeliveryStatus,
        metric: TallyMetric,
    ) {
        self.tallies.push(Tally::count(
            &delivery.template,
            delivery.variant.as_deref(),
            metric,
        ));
        if let Some(last) = self
            .c
            .last_intervention
            .as_mut()
            .filter(|l| l.id == delivery.intervention_id)
        {
            last.status = status;
        }
    }

    /// SES's feedback on an e-mail: counted for its template × variant. On the customer's own
    /// address (not their owner's), an open or click is engagement the score may weigh, and a
    /// hard bounce or complaint suppresses the address, once, in the history.
    pub(super) fn mail_feedback(&mut self, delivery: &Delivery, feedback: MailFeedback) {
        self.tallies.push(Tally::count(
            &delivery.template,
            delivery.variant.as_deref(),
            feedback.into(),
        ));
        if delivery.channel != Channel::Email {
            return;
        }
        if feedback.is_engagement() {
            self.c.activity.record(self.at, Mark::Engaged);
        }
        let profile = &mut self.c.profile;
        if feedback.suppresses() && profile.suppressed.is_none() && profile.email.is_some() {
            profile.suppressed = Some(feedback);
            let why = match feedback {
                MailFeedback::Complaint => "the customer marked an e-mail as spam",
                _ => "the address does not exist (hard bounce)",
            };
            let note = format!("e-mail suppressed: {why}");
            self.record(Change::Note { note: note.clone() }, &note);
        }
    }

    pub(super) fn credit_last_intervention(&mut self, eligible: impl Fn(&InterventionRef) -> bool) {
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
        self.tallies.push(Tally::count(
            &iv.template,
            iv.variant.as_deref(),
            TallyMetric::Recovered,
        ));
        self.published
            .push(DomainEventDetail::InterventionRecovered {
                intervention_id: iv.id.clone(),
                template: iv.template.clone(),
                variant: iv.variant.clone(),
            });
    }
}

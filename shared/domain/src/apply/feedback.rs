//! What the senders report back: sends, failures and skips tallied once, and the credit a
//! recovery gives the intervention that came before it.

use chrono::Duration;

use crate::intervention::{Delivery, DeliveryStatus, InterventionRef};

use super::{DomainEventDetail, Tally, TallyMetric, Transition};

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

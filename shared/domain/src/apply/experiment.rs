//! The control groups and the staff alerts' follow-up: who was assigned to a message or held
//! out of it, and what became of them; which owner was alerted, whether they got in touch and
//! how soon. Counted per month of assignment (see `crate::experiment`).

use crate::customer::OpenAlert;
use crate::event::ContactOutcome;
use crate::experiment::{Exposure, Resolution, month, within};
use crate::intervention::Trigger;

use super::{Change, Tally, TallyMetric, Transition};

impl Transition<'_> {
    /// Assigns the customer to `template` (in `variant`) or to its control group. While an
    /// assignment to the same trigger is still open (the win-back's second step within the
    /// first's window), it stands: the customer is counted once, with one outcome.
    pub(super) fn assign(
        &mut self,
        trigger: Trigger,
        template: &str,
        variant: Option<String>,
        held_out: bool,
    ) {
        self.expire_exposures();
        if self.c.exposures.iter().any(|e| e.trigger == trigger) {
            return;
        }
        let exposure = Exposure {
            trigger,
            template: template.to_string(),
            variant,
            held_out,
            at: self.at,
        };
        self.tallies.push(exposure.assigned());
        if held_out {
            let note = format!("held out of {template} (control group)");
            self.record(Change::Note { note: note.clone() }, &note);
        } else if let Some((currency, amount)) = self.c.monthly_revenue(self.at) {
            self.tallies.push(Tally {
                cohort: Some(exposure.cohort()),
                by: Some(currency.to_string()),
                amount,
                ..Tally::count(
                    template,
                    exposure.variant.as_deref(),
                    TallyMetric::TreatedValue,
                )
            });
        }
        self.c.exposures.push(exposure);
    }

    /// Counts `resolution` for every open assignment `which` selects, and closes them.
    pub(super) fn resolve(&mut self, which: impl Fn(Trigger) -> bool, resolution: Resolution) {
        self.expire_exposures();
        let at = self.at;
        let (done, open): (Vec<Exposure>, Vec<Exposure>) = std::mem::take(&mut self.c.exposures)
            .into_iter()
            .partition(|e| which(e.trigger) && e.at <= at);
        self.c.exposures = open;
        self.tallies
            .extend(done.iter().map(|e| e.resolved(resolution)));
        self.close_alert(resolution);
    }

    /// Assignments past their window leave without an outcome (their count stays).
    fn expire_exposures(&mut self) {
        let (at, days) = (self.at, self.policy.experiments.outcome_days);
        self.c
            .exposures
            .retain(|e| e.open_at(at, days) || e.at > at);
    }

    /// A staff alert went out about the customer: it waits for a contact and an outcome.
    pub(super) fn alerted(&mut self, template: &str) {
        let owner = self
            .c
            .profile
            .owner
            .as_ref()
            .map_or_else(|| UNASSIGNED.to_string(), |o| o.id.clone());
        let alert = OpenAlert {
            template: template.to_string(),
            owner,
            at: self.at,
            contacted: false,
            outcomes: Vec::new(),
        };
        self.tallies
            .push(alert_tally(&alert, TallyMetric::Alerted, 1));
        self.c.open_alert = Some(alert);
    }

    /// Staff recorded a contact: the first one after an open alert counts, with how long it
    /// took, and whether the alert's owner recorded it (the note's author is their id).
    /// A contact recorded after an open alert counts toward it: the first contact (how soon,
    /// by whom) and each outcome once.
    pub(super) fn contacted(&mut self, author: &str, outcome: Option<ContactOutcome>) {
        let (at, days) = (self.at, self.policy.experiments.outcome_days);
        let Some(alert) = self
            .c
            .open_alert
            .as_mut()
            .filter(|a| in_window(a, at, days))
        else {
            return;
        };
        let first = !alert.contacted;
        alert.contacted = true;
        let new_outcome = outcome.filter(|o| !alert.outcomes.contains(o));
        if let Some(o) = new_outcome {
            alert.outcomes.push(o);
        }
        let minutes = (at - alert.at).num_minutes().max(0);
        let alert = alert.clone();
        if first {
            self.tallies
                .push(alert_tally(&alert, TallyMetric::Contacted, 1));
            self.tallies
                .push(alert_tally(&alert, TallyMetric::ContactMinutes, minutes));
            if author == alert.owner {
                self.tallies
                    .push(alert_tally(&alert, TallyMetric::ContactedByOwner, 1));
            }
        }
        if let Some(o) = new_outcome {
            self.tallies.push(alert_tally(&alert, o.into(), 1));
        }
    }

    fn close_alert(&mut self, resolution: Resolution) {
        let (at, days) = (self.at, self.policy.experiments.outcome_days);
        // an event from before the alert leaves it open
        if self.c.open_alert.as_ref().is_none_or(|a| a.at > at) {
            return;
        }
        let Some(alert) = self.c.open_alert.take() else {
            return;
        };
        if !in_window(&alert, at, days) {
            return;
        }
        let metric = match resolution {
            Resolution::Recovered => TallyMetric::AlertRecovered,
            Resolution::Churned => TallyMetric::AlertChurned,
        };
        self.tallies.push(alert_tally(&alert, metric, 1));
    }
}

/// The owner an alert about a customer without one is counted under.
pub const UNASSIGNED: &str = "unassigned";

fn in_window(alert: &OpenAlert, at: chrono::DateTime<chrono::Utc>, days: u32) -> bool {
    within(alert.at, at, days)
}

fn alert_tally(alert: &OpenAlert, metric: TallyMetric, amount: i64) -> Tally {
    Tally {
        cohort: Some(month(alert.at)),
        by: Some(alert.owner.clone()),
        amount,
        ..Tally::count(&alert.template, None, metric)
    }
}

//! Erasure: the customer's personal data removed from the state, and the store told to clean
//! the rest of their records.

use super::{Change, Transition};

impl Transition<'_> {
    /// Erasure: personal data (contact details, owner, behaviour) removed; the stage and risk
    /// stay, so the anonymised counters stay right; nothing is scheduled any more.
    /// The state keeps only what the anonymous counters need (stage, risk, revenue, churn
    /// reason); the store's other records are cleaned by the `Erase` effect.
    pub(super) fn erase(&mut self, by: Option<&str>) {
        self.c.profile = erased_profile();
        self.c.activity = Default::default();
        self.c.progress = Default::default();
        self.c.last_nps = None;
        self.c.renews_at = None;
        self.c.scheduled.clear();
        self.c.text_fallbacks.clear();
        self.c.last_intervention = None;
        self.c.exposures.clear();
        self.c.open_alert = None;
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
}

/// What is left of a profile after erasure: nothing but the opt-out (nothing is sent anyway).
pub(super) fn erased_profile() -> crate::customer::ProfileState {
    crate::customer::ProfileState {
        unsubscribed: true,
        ..Default::default()
    }
}

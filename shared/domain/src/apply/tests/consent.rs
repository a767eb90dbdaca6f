//! The marketing consent's re-confirmation notice (정보통신망법 §50⑧), scheduled from the
//! consent and sent by the sweep's check.

use super::*;
use crate::consent::ConsentChange;
use crate::intervention::Trigger;

fn consent(marketing: bool) -> Option<ConsentChange> {
    Some(ConsentChange {
        marketing: Some(marketing),
        night: None,
        via: Some("app_settings".into()),
    })
}

fn agreed(j: &mut Journey, at: &str, marketing: bool) -> Outcome {
    let mut e = j.events.at(t(at), EventKind::ProfileUpdated);
    e.profile.consent = consent(marketing);
    j.apply(e, t(at))
}

fn reconfirmations(j: &Journey) -> Vec<DateTime<Utc>> {
    j.customer
        .scheduled
        .iter()
        .filter(|s| s.trigger == Trigger::ConsentReconfirm)
        .map(|s| s.due_at)
        .collect()
}

#[test]
fn the_notice_is_due_before_the_consent_lapses_and_goes_once() {
    let mut j = Journey::new();
    j.paid_with_email("2026-01-10T01:00:00Z", "kim@example.com");
    agreed(&mut j, "2026-01-10T02:00:00Z", true);
    let rules = &j.rules.default_policy().advertising;
    let due = t("2026-01-10T02:00:00Z")
        + Duration::days(rules.consent_days - rules.reconfirm_before_days);
    assert_eq!(reconfirmations(&j), vec![due]);
    assert!(j.customer.next_check_at.is_some_and(|at| at <= due));

    // the customer still studies; the notice goes at the first check after it is due
    j.on(&(due - Duration::days(1)).to_rfc3339(), EventKind::Login);
    let o = j.check(&(due + Duration::hours(1)).to_rfc3339());
    let sent: Vec<_> = Journey::templates(&o)
        .into_iter()
        .filter(|(_, t)| t == "consent_reconfirm")
        .collect();
    assert_eq!(
        sent,
        vec![(Channel::Email, "consent_reconfirm".to_string())]
    );
    assert!(reconfirmations(&j).is_empty());
    let again = j.check(&(due + Duration::days(1)).to_rfc3339());
    assert!(
        !Journey::templates(&again)
            .iter()
            .any(|(_, t)| t == "consent_reconfirm")
    );
}

#[test]
fn a_renewed_consent_moves_the_notice_and_a_withdrawn_one_drops_it() {
    let mut j = Journey::new();
    j.paid("2026-01-10T01:00:00Z");
    agreed(&mut j, "2026-01-10T02:00:00Z", true);
    let first = reconfirmations(&j);
    agreed(&mut j, "2026-06-01T02:00:00Z", true);
    let renewed = reconfirmations(&j);
    assert_eq!(renewed.len(), 1, "one notice per consent");
    assert!(renewed[0] > first[0]);
    // the same consent sent again changes nothing
    agreed(&mut j, "2026-06-02T02:00:00Z", true);
    assert_eq!(reconfirmations(&j).len(), 1);
    agreed(&mut j, "2026-07-01T02:00:00Z", false);
    assert!(
        reconfirmations(&j).is_empty(),
        "withdrawn: nothing to re-confirm"
    );
}

#[test]
fn a_churn_keeps_the_notice_the_law_asks_for() {
    let mut j = Journey::new();
    j.paid("2026-01-10T01:00:00Z");
    agreed(&mut j, "2026-01-10T02:00:00Z", true);
    j.on(
        "2026-02-01T00:00:00Z",
        EventKind::SubscriptionCancelled { reason: None },
    );
    assert_eq!(j.customer.stage, Some(crate::Stage::Churned));
    assert_eq!(reconfirmations(&j).len(), 1);
}

//! What any event goes through first: duplicates, the wrong customer, events too old.

use super::*;

#[test]
fn the_same_event_twice_changes_nothing_the_second_time() {
    let mut j = Journey::new();
    let e = j
        .events
        .at(t("2026-11-01T09:00:00Z"), EventKind::paid(krw(1000)));
    let first = j.apply(e.clone(), t("2026-11-01T09:00:00Z"));
    let second = j.apply(e, t("2026-11-01T09:05:00Z"));
    assert!(second.duplicate && !first.duplicate);
    assert_eq!(second.customer, first.customer);
    assert!(second.effects.is_empty() && second.history.is_empty());
}

#[test]
fn an_event_for_another_customer_is_refused() {
    let rules = Rules::embedded().unwrap();
    let mut other = Events::new("c2");
    let e = other.at(t("2026-11-01T09:00:00Z"), EventKind::Login);
    let err = apply(&Customer::new(customer_id("c1")), &e, &rules, e.occurred_at).unwrap_err();
    assert!(matches!(err, DomainError::WrongCustomer { .. }));
}

#[test]
fn an_event_from_outside_stamped_ahead_of_its_arrival_is_dropped() {
    let now = t("2026-11-20T09:00:00Z");
    let mut j = Journey::new();
    j.paid("2026-11-01T09:00:00Z");
    let lead = j.rules.policy(None).inactivity.max_event_lead_minutes;
    for source in [Source::App, Source::Stripe, Source::Toss, Source::Portone] {
        // a year ahead would push calibration's later period past every real event
        let mut ahead = j.events.at(now + Duration::days(365), EventKind::Login);
        ahead.source = source;
        let o = j.apply(ahead, now);
        assert_eq!(o.dropped, Some(Dropped::FromTheFuture), "{source:?}");
        assert!(o.history.is_empty());
    }
    let mut skewed = j
        .events
        .at(now + Duration::minutes(lead.into()), EventKind::Login);
    skewed.source = Source::App;
    assert_eq!(
        j.apply(skewed, now).dropped,
        None,
        "a clock just ahead counts"
    );
    let mut past = j.events.at(
        now + Duration::minutes(lead.into()) + Duration::seconds(1),
        EventKind::Login,
    );
    past.source = Source::App;
    assert_eq!(j.apply(past, now).dropped, Some(Dropped::FromTheFuture));
}

#[test]
fn an_event_from_outside_older_than_the_bound_is_dropped() {
    let now = t("2026-11-20T09:00:00Z");
    let mut j = Journey::new();
    let mut epoch = j.events.at(
        t("1970-01-01T00:00:00Z"),
        EventKind::SignedUp {
            plan: SignUpPlan::Trial,
        },
    );
    epoch.source = Source::App;
    let o = j.apply(epoch, now);
    assert_eq!(o.dropped, Some(Dropped::TooOld));
    assert_eq!(j.stage(), None, "no sign-up at epoch 0");
    let o = j.check("2026-11-20T09:15:00Z");
    assert!(o.history.is_empty() && j.stage() != Some(Stage::Churned));

    let limit = j.rules.policy(None).inactivity.max_event_age_days;
    let mut old = j
        .events
        .at(now - Duration::days(limit.into()), EventKind::paid(krw(1)));
    old.source = Source::Toss;
    let o = j.apply(old, now);
    assert_eq!(o.dropped, None, "exactly at the bound it counts");
    let mut older = j.events.at(
        now - Duration::days(limit.into()) - Duration::seconds(1),
        EventKind::Login,
    );
    older.source = Source::Stripe;
    assert_eq!(j.apply(older, now).dropped, Some(Dropped::TooOld));
    let mut report = j.events.at(now - Duration::days(40), EventKind::Login);
    report.source = Source::Sweep;
    assert_eq!(
        j.apply(report, now).dropped,
        None,
        "our own events are not bounded"
    );
}

/// Security review L6: a provider's late retry carries the address the customer had then; the
/// newer one, from a later event, stays.
#[test]
fn a_late_event_does_not_bring_back_an_older_profile_field() {
    let mut j = Journey::new();
    j.paid_with_email("2026-11-01T09:00:00Z", "old@example.com");
    let mut change = j
        .events
        .at(t("2026-11-05T09:00:00Z"), EventKind::ProfileUpdated);
    change.profile.email = Some("new@example.com".into());
    j.apply(change, t("2026-11-05T09:00:00Z"));
    // Stripe retries the first payment's webhook a day later, with the address of then
    let mut retry = j.events.at(t("2026-11-01T09:30:00Z"), EventKind::Login);
    retry.profile.email = Some("old@example.com".into());
    retry.profile.locale = Some("en".into());
    j.apply(retry, t("2026-11-06T09:00:00Z"));
    assert_eq!(j.customer.profile.email.as_deref(), Some("new@example.com"));
    assert_eq!(
        j.customer.profile.locale.as_deref(),
        Some("en"),
        "a field no later event set is still taken"
    );
}

//! Erasure.

use super::*;

#[test]
fn erasure_removes_personal_data_and_later_events_are_ignored_and_recorded() {
    let mut j = Journey::new();
    j.paid_with_email("2026-11-01T09:00:00Z", "kim@example.com");
    j.on("2026-11-02T09:00:00Z", EventKind::Login);
    let o = j.on(
        "2026-11-03T09:00:00Z",
        EventKind::Erased {
            by: Some("key:ab12cd34".into()),
        },
    );
    assert!(j.customer.erased);
    assert_eq!(j.customer.profile.email, None);
    assert!(j.customer.activity.days.is_empty() && j.customer.scheduled.is_empty());
    assert_eq!(j.customer.next_check_at, None, "out of the due index");
    assert_eq!(
        j.stage(),
        Some(Stage::Onboarding),
        "the anonymised counters stay right"
    );
    assert!(
        matches!(&o.history[0].change, Change::Note { note } if note == "erased on request of key:ab12cd34")
    );
    assert!(
        o.effects.contains(&Effect::Erase),
        "the store cleans the other records"
    );

    let mut login = j.events.at(t("2026-11-04T09:00:00Z"), EventKind::Login);
    login.profile.email = Some("kim@example.com".into());
    let o = j.apply(login, t("2026-11-04T09:00:00Z"));
    assert!(o.effects.is_empty());
    assert_eq!(
        j.customer.profile.email, None,
        "no personal data comes back"
    );
    assert_eq!(o.dropped, Some(Dropped::Erased));
    assert!(
        o.history.is_empty(),
        "later events are counted, not kept one by one"
    );
    let o = j.check("2026-11-20T09:00:00Z");
    assert!(o.effects.is_empty() && j.customer.risk == RiskLevel::None);
}

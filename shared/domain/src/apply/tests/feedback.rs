//! The senders' reports: tallies and the credit for a recovery.

use super::*;

#[test]
fn a_recovery_outside_the_attribution_window_is_not_credited() {
    let mut j = Journey::new();
    j.paid("2026-11-01T09:00:00Z");
    j.check("2026-11-08T09:00:00Z"); // caution + reminder
    j.check("2026-11-11T09:00:00Z"); // warning + offer
    let o = j.on("2026-11-19T09:00:00Z", EventKind::Login);
    assert_eq!(j.customer.risk, RiskLevel::None);
    assert!(
        reports(&o.tallies).is_empty(),
        "offer was planned 8 days earlier"
    );
}

#[test]
fn sender_reports_are_tallied_once_and_a_skipped_message_earns_no_credit() {
    let mut j = Journey::new();
    j.paid("2026-11-01T09:00:00Z");
    j.check("2026-11-08T09:00:00Z");
    let reminder = j.sent.last().cloned().unwrap();
    let delivery = crate::Delivery::from(&reminder);
    let o = report(
        &mut j,
        "2026-11-08T09:01:00Z",
        &reminder,
        EventKind::InterventionSkipped {
            delivery,
            reason: "unsubscribed".into(),
        },
    );
    assert_eq!(o.tallies[0].metric, TallyMetric::Skipped);
    let o = j.on("2026-11-09T09:00:00Z", EventKind::Login);
    assert_eq!(j.customer.risk, RiskLevel::None);
    assert!(
        reports(&o.tallies).is_empty(),
        "a skipped reminder cannot have brought them back"
    );
}

#[test]
fn a_sent_message_is_counted_and_credited() {
    let mut j = Journey::new();
    j.paid("2026-11-01T09:00:00Z");
    j.check("2026-11-08T09:00:00Z");
    let reminder = j.sent.last().cloned().unwrap();
    let sent = EventKind::InterventionSent {
        delivery: crate::Delivery::from(&reminder),
    };
    let o = report(&mut j, "2026-11-08T09:01:00Z", &reminder, sent);
    assert_eq!(o.tallies[0].metric, TallyMetric::Sent);
    let o = j.on("2026-11-09T09:00:00Z", EventKind::Login);
    assert_eq!(reports(&o.tallies)[0].metric, TallyMetric::Recovered);
}

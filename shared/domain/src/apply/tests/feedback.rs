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

// ---- SES's feedback ---------------------------------------------------------------------

use crate::MailFeedback;

/// A paying customer with an address who was sent the caution reminder.
fn reminded() -> (Journey, Intervention) {
    let mut j = Journey::new();
    j.paid_with_email("2026-11-01T09:00:00Z", "kim@example.com");
    j.check("2026-11-08T09:00:00Z");
    let reminder = j
        .sent
        .iter()
        .rev()
        .find(|i| i.channel == Channel::Email)
        .cloned()
        .unwrap();
    (j, reminder)
}

fn ses(j: &mut Journey, at: &str, to: &Intervention, feedback: MailFeedback) -> Outcome {
    ses_about(j, at, to, feedback, Some("kim@example.com"))
}

/// SES's `feedback` about `recipient` (`None`: a notification that names no recipient).
fn ses_about(
    j: &mut Journey,
    at: &str,
    to: &Intervention,
    feedback: MailFeedback,
    recipient: Option<&str>,
) -> Outcome {
    let e = Event::mail_feedback(
        j.customer.id.clone(),
        "0100019a-msg",
        crate::Delivery::from(to),
        feedback,
        recipient,
        t(at),
    )
    .unwrap();
    j.apply(e, t(at))
}

fn new_address(j: &mut Journey, at: &str, email: &str) {
    let mut update = j.events.at(t(at), EventKind::ProfileUpdated);
    update.profile.email = Some(email.into());
    j.apply(update, t(at));
}

fn notes(o: &Outcome) -> Vec<&str> {
    o.history
        .iter()
        .filter_map(|h| match &h.change {
            Change::Note { note } => Some(note.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_hard_bounce_suppresses_the_address_once_and_a_new_address_is_not_suppressed() {
    let (mut j, reminder) = reminded();
    let o = ses(
        &mut j,
        "2026-11-08T09:02:00Z",
        &reminder,
        MailFeedback::HardBounce,
    );
    assert_eq!(
        j.customer.profile.suppression(),
        Some(MailFeedback::HardBounce)
    );
    assert_eq!(
        notes(&o),
        ["e-mail suppressed: the address does not exist (hard bounce)"]
    );
    let metrics: Vec<_> = o.tallies.iter().map(|t| t.metric).collect();
    assert_eq!(metrics, [TallyMetric::Bounced, TallyMetric::Suppressed]);
    assert_eq!(o.tallies[0].template, reminder.template);

    // SES repeats itself: the same notification applies once
    let again = ses(
        &mut j,
        "2026-11-08T09:02:00Z",
        &reminder,
        MailFeedback::HardBounce,
    );
    assert!(again.duplicate && again.tallies.is_empty());

    // the same address, however written, stays suppressed; a new one is not
    new_address(&mut j, "2026-11-09T09:00:00Z", " KIM@example.com");
    assert!(j.customer.profile.suppression().is_some());
    new_address(&mut j, "2026-11-10T09:00:00Z", "kim@new.example.com");
    assert_eq!(j.customer.profile.suppression(), None);
    // and the bounced one is suppressed again if it comes back
    new_address(&mut j, "2026-11-11T09:00:00Z", "kim@example.com");
    assert_eq!(
        j.customer.profile.suppression(),
        Some(MailFeedback::HardBounce)
    );
}

#[test]
fn a_late_bounce_of_a_former_address_suppresses_nothing() {
    let (mut j, reminder) = reminded();
    new_address(&mut j, "2026-11-08T10:00:00Z", "kim@new.example.com");
    let o = ses(
        &mut j,
        "2026-11-09T09:00:00Z",
        &reminder,
        MailFeedback::Complaint,
    );
    assert_eq!(j.customer.profile.suppression(), None);
    assert!(notes(&o).is_empty());
    assert_eq!(
        o.tallies.iter().map(|t| t.metric).collect::<Vec<_>>(),
        [TallyMetric::Complained],
        "counted for the message, nothing suppressed"
    );
    // one that names no recipient is taken to be about the current address
    let o = ses_about(
        &mut j,
        "2026-11-09T10:00:00Z",
        &reminder,
        MailFeedback::HardBounce,
        None,
    );
    assert_eq!(
        j.customer.profile.suppression(),
        Some(MailFeedback::HardBounce)
    );
    assert_eq!(notes(&o).len(), 1);
}

#[test]
fn a_complaint_suppresses_and_a_soft_bounce_does_not() {
    let (mut j, reminder) = reminded();
    let o = ses(
        &mut j,
        "2026-11-08T09:02:00Z",
        &reminder,
        MailFeedback::SoftBounce,
    );
    assert_eq!(j.customer.profile.suppressed, None);
    assert!(notes(&o).is_empty());
    assert_eq!(o.tallies[0].metric, TallyMetric::SoftBounced);
    let o = ses(
        &mut j,
        "2026-11-09T09:02:00Z",
        &reminder,
        MailFeedback::Complaint,
    );
    assert_eq!(
        j.customer.profile.suppression(),
        Some(MailFeedback::Complaint)
    );
    assert_eq!(
        notes(&o),
        ["e-mail suppressed: the customer marked an e-mail as spam"]
    );
}

#[test]
fn feedback_on_the_owners_alert_never_suppresses_the_customer() {
    let (mut j, reminder) = reminded();
    let alert = Intervention {
        channel: Channel::OwnerEmail,
        ..reminder
    };
    let o = ses(
        &mut j,
        "2026-11-08T09:02:00Z",
        &alert,
        MailFeedback::HardBounce,
    );
    assert_eq!(j.customer.profile.suppressed, None);
    assert_eq!(o.tallies[0].metric, TallyMetric::Bounced, "still counted");
}

#[test]
fn opens_and_clicks_are_counted_and_are_engagement_not_activity() {
    let (mut j, reminder) = reminded();
    let last_active = j.customer.activity.last_at;
    let o = ses(
        &mut j,
        "2026-11-08T10:00:00Z",
        &reminder,
        MailFeedback::Opened,
    );
    assert_eq!(o.tallies[0].metric, TallyMetric::Opened);
    ses(
        &mut j,
        "2026-11-08T10:01:00Z",
        &reminder,
        MailFeedback::Clicked,
    );
    let day = crate::activity::day_of(t("2026-11-08T10:00:00Z"));
    assert_eq!(j.customer.activity.days[&day].engaged, 2);
    assert_eq!(
        j.customer.activity.last_at, last_active,
        "reading an e-mail is not using the program: the inactivity clock runs on"
    );
    assert_ne!(j.customer.risk, RiskLevel::None, "and the risk stays");
}

#[test]
fn engagement_lowers_the_score_once_calibration_weighs_it() {
    let text = crate::rules::DEFAULT_RULES_TOML
        .replace("email_engagement = 0.0", "email_engagement = 20.0");
    let rules = Rules::from_toml(&text).unwrap();
    let (mut base, reminder) = reminded();
    base.rules = rules.clone();
    let before = base.check("2026-11-08T12:00:00Z").customer.score.total;
    ses(
        &mut base,
        "2026-11-08T12:01:00Z",
        &reminder,
        MailFeedback::Clicked,
    );
    let after = base.customer.score.clone();
    assert!(after.total < before, "{before} → {}", after.total);
    assert!(
        after
            .contributions
            .iter()
            .any(|c| c.signal == Signal::EmailEngagement && c.points < 0.0)
    );
}

#[test]
fn feedback_for_a_customer_never_stored_is_dropped_not_created() {
    let mut j = Journey::new();
    let stranger = Intervention {
        id: crate::InterventionId::new("iv_0").unwrap(),
        customer_id: j.customer.id.clone(),
        trigger: crate::Trigger::RiskCaution,
        channel: Channel::Email,
        template: "gentle_reminder".into(),
        variant: None,
        transactional: false,
        if_unknown: Default::default(),
        planned_at: t("2026-11-01T09:00:00Z"),
        cause: crate::EventId::new("x").unwrap(),
    };
    let o = ses(
        &mut j,
        "2026-11-08T09:02:00Z",
        &stranger,
        MailFeedback::Delivered,
    );
    assert_eq!(o.dropped, Some(Dropped::UnknownCustomer));
    assert!(o.history.is_empty() && o.tallies.is_empty());
}

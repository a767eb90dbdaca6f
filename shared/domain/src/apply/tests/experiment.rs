//! Control groups and the staff alerts' follow-up.

use super::*;
use crate::intervention::Trigger;

/// A customer the default rules hold out of `trigger` (`held`) or not.
fn someone(trigger: Trigger, held: bool) -> String {
    let rules = Rules::embedded().unwrap();
    let plan = &rules.default_policy().interventions[&trigger];
    (0..1000)
        .map(|n| format!("c{n}"))
        .find(|id| plan.holds_out(&customer_id(id), trigger) == held)
        .unwrap()
}

fn of(metric: TallyMetric, tallies: &[Tally]) -> Vec<&Tally> {
    tallies.iter().filter(|t| t.metric == metric).collect()
}

fn at_caution(id: &str) -> (Journey, Outcome) {
    let mut j = Journey::of(id, Rules::embedded().unwrap());
    j.paid("2026-11-01T09:00:00Z");
    let o = j.check("2026-11-08T09:00:00Z");
    assert_eq!(j.customer.risk, RiskLevel::Caution);
    (j, o)
}

#[test]
fn a_held_out_customer_gets_no_email_and_is_counted_and_recorded() {
    let (mut j, o) = at_caution(&someone(Trigger::RiskCaution, true));
    assert!(
        Journey::templates(&o).is_empty(),
        "{:?}",
        Journey::templates(&o)
    );
    let held = of(TallyMetric::HeldOut, &o.tallies);
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].template, "gentle_reminder");
    assert_eq!(held[0].variant, None, "the control group has no variant");
    assert_eq!(held[0].cohort.as_deref(), Some("2026-11"));
    assert!(o.history.iter().any(|h| h.change
        == Change::Note {
            note: "held out of gentle_reminder (control group)".into()
        }));
    let back = j.on("2026-11-10T09:00:00Z", EventKind::Login);
    assert_eq!(of(TallyMetric::HeldOutRecovered, &back.tallies).len(), 1);
    assert!(
        of(TallyMetric::Recovered, &back.tallies).is_empty(),
        "no message to credit"
    );
}

#[test]
fn a_treated_customer_is_counted_with_their_variant_and_value() {
    let (mut j, o) = at_caution(&someone(Trigger::RiskCaution, false));
    let sent = &j.sent[j.sent.len() - 1];
    assert_eq!(sent.template, "gentle_reminder");
    let treated = of(TallyMetric::Treated, &o.tallies);
    assert_eq!(treated[0].variant, sent.variant);
    let value = of(TallyMetric::TreatedValue, &o.tallies);
    assert_eq!(value[0].by.as_deref(), Some("KRW"));
    assert_eq!(value[0].amount, 99_000, "one month's payment");
    // churned within the window: counted as such, once
    let o = j.on(
        "2026-11-20T09:00:00Z",
        EventKind::SubscriptionCancelled { reason: None },
    );
    assert_eq!(of(TallyMetric::TreatedChurned, &o.tallies).len(), 1);
    assert!(j.customer.exposures.is_empty());
}

#[test]
fn an_outcome_after_the_window_is_not_counted() {
    let (mut j, _) = at_caution(&someone(Trigger::RiskCaution, false));
    j.on("2026-11-09T09:00:00Z", EventKind::Login);
    j.check("2026-11-16T09:00:00Z"); // a new episode, a new assignment
    let cancelled = j.on(
        "2026-12-31T09:00:00Z",
        EventKind::SubscriptionCancelled { reason: None },
    );
    assert!(of(TallyMetric::TreatedChurned, &cancelled.tallies).is_empty());
}

#[test]
fn changing_the_variants_later_never_relabels_an_assignment() {
    let (mut j, _) = at_caution(&someone(Trigger::RiskCaution, false));
    let variant = j.sent.last().unwrap().variant.clone();
    assert!(variant.is_some());
    let text = crate::rules::DEFAULT_RULES_TOML.replace(
        "email = \"gentle_reminder\"\nvariants = [\"a\", \"b\"]",
        "email = \"gentle_reminder\"\nvariants = [\"x\", \"y\"]",
    );
    j.rules = Rules::from_toml(&text).unwrap();
    let o = j.on("2026-11-10T09:00:00Z", EventKind::Login);
    let recovered = of(TallyMetric::TreatedRecovered, &o.tallies);
    assert_eq!(recovered[0].variant, variant);
    assert_eq!(of(TallyMetric::Recovered, &o.tallies)[0].variant, variant);
}

#[test]
fn staff_are_still_alerted_about_a_held_out_customer_unless_the_rules_say() {
    let id = someone(Trigger::RiskDanger, true);
    let to_danger = |rules: Rules| {
        let mut j = Journey::of(&id, rules);
        j.paid("2026-11-01T09:00:00Z");
        j.check("2026-11-08T09:00:00Z");
        j.check("2026-11-11T09:00:00Z");
        j.check("2026-11-15T09:00:00Z");
        assert_eq!(j.customer.risk, RiskLevel::Danger);
        j
    };
    let j = to_danger(Rules::embedded().unwrap());
    let danger: Vec<_> = j
        .sent
        .iter()
        .filter(|i| i.trigger == Trigger::RiskDanger)
        .collect();
    assert_eq!(
        danger.iter().map(|i| i.channel).collect::<Vec<_>>(),
        vec![Channel::Slack, Channel::OwnerEmail]
    );
    let text = crate::rules::DEFAULT_RULES_TOML.replace(
        "owner_email = true\nholdout = 0.1",
        "owner_email = true\nholdout = 0.1\nholdout_staff = true",
    );
    let j = to_danger(Rules::from_toml(&text).unwrap());
    assert!(!j.sent.iter().any(|i| i.trigger == Trigger::RiskDanger));
}

#[test]
fn a_staff_alert_counts_its_contact_how_soon_and_the_outcome_per_owner() {
    let mut j = Journey::new();
    j.paid("2026-11-01T09:00:00Z");
    j.check("2026-11-08T09:00:00Z");
    j.check("2026-11-11T09:00:00Z");
    let o = j.check("2026-11-15T09:00:00Z");
    let alerted = of(TallyMetric::Alerted, &o.tallies);
    assert_eq!(alerted[0].template, "danger_alert");
    assert_eq!(alerted[0].by.as_deref(), Some("unassigned"));
    let note = EventKind::StaffNote {
        author: "tutor-7".into(),
        channel: crate::ContactChannel::Phone,
        outcome: None,
    };
    let o = j.on("2026-11-15T10:30:00Z", note.clone());
    assert_eq!(of(TallyMetric::Contacted, &o.tallies).len(), 1);
    assert_eq!(of(TallyMetric::ContactMinutes, &o.tallies)[0].amount, 90);
    assert!(
        of(TallyMetric::ContactedByOwner, &o.tallies).is_empty(),
        "tutor-7 is not the owner (there is none)"
    );
    let again = j.on("2026-11-15T11:00:00Z", note);
    assert!(
        of(TallyMetric::Contacted, &again.tallies).is_empty(),
        "the first contact counts"
    );
    let o = j.on("2026-11-16T09:00:00Z", EventKind::Login);
    assert_eq!(of(TallyMetric::AlertRecovered, &o.tallies).len(), 1);
    assert!(j.customer.open_alert.is_none());
}

#[test]
fn the_win_backs_second_step_within_the_first_ones_window_is_one_assignment() {
    let mut j = Journey::new();
    j.paid("2026-11-01T09:00:00Z");
    j.on(
        "2026-11-02T09:00:00Z",
        EventKind::RefundRequested { reason: None },
    );
    j.check("2026-11-09T09:00:00Z"); // step 1
    j.check("2026-12-02T09:00:00Z"); // step 2, 23 days later
    let win_back = j
        .sent
        .iter()
        .filter(|i| i.trigger == Trigger::WinBack)
        .count();
    let assigned = j
        .tallies
        .iter()
        .filter(|t| t.template == "win_back")
        .filter(|t| matches!(t.metric, TallyMetric::Treated | TallyMetric::HeldOut))
        .count();
    assert_eq!((win_back, assigned), (2, 1), "two e-mails, one assignment");
}

#[test]
fn a_held_out_customer_credits_no_earlier_message_and_erasure_clears_the_assignments() {
    let (mut j, _) = at_caution(&someone(Trigger::RiskCaution, true));
    assert_eq!(j.customer.last_intervention, None, "nothing they saw");
    assert_eq!(j.customer.exposures.len(), 1);
    j.on("2026-11-09T09:00:00Z", EventKind::Erased { by: None });
    assert!(j.customer.exposures.is_empty() && j.customer.open_alert.is_none());
}

#[test]
fn an_event_from_before_an_alert_leaves_it_open() {
    let mut j = Journey::new();
    j.paid("2026-11-01T09:00:00Z");
    j.check("2026-11-08T09:00:00Z");
    j.check("2026-11-11T09:00:00Z");
    j.check("2026-11-15T09:00:00Z");
    assert!(j.customer.open_alert.is_some());
    // a login stamped before the alert arrives late: it recovers nothing of the alert's
    j.on("2026-11-14T09:00:00Z", EventKind::Login);
    assert!(j.customer.open_alert.is_some());
}

#[test]
fn a_contact_by_the_alerts_owner_is_counted_as_such() {
    let mut j = Journey::new();
    let mut paid = j.events.at(
        t("2026-11-01T09:00:00Z"),
        EventKind::PaymentSucceeded {
            amount: krw(99_000),
            renews_at: None,
        },
    );
    paid.profile.owner = Some(crate::event::Owner {
        id: "tutor-7".into(),
        name: None,
        email: None,
        slack_id: None,
    });
    j.apply(paid, t("2026-11-01T09:00:00Z"));
    j.check("2026-11-08T09:00:00Z");
    j.check("2026-11-11T09:00:00Z");
    let o = j.check("2026-11-15T09:00:00Z");
    assert_eq!(
        of(TallyMetric::Alerted, &o.tallies)[0].by.as_deref(),
        Some("tutor-7")
    );
    let note = EventKind::StaffNote {
        author: "tutor-7".into(),
        channel: crate::ContactChannel::Phone,
        outcome: None,
    };
    let o = j.on("2026-11-16T09:00:00Z", note);
    assert_eq!(of(TallyMetric::ContactedByOwner, &o.tallies).len(), 1);
}

#[test]
fn staff_outcomes_count_once_per_alert_and_take_the_customer_off_todays_list() {
    let mut j = Journey::new();
    j.paid("2026-11-01T09:00:00Z");
    j.check("2026-11-08T09:00:00Z");
    j.check("2026-11-11T09:00:00Z");
    j.check("2026-11-15T09:00:00Z");
    assert!(j.customer.risk >= RiskLevel::Warning);
    assert!(j.customer.needs_contact(RiskLevel::Warning));
    let note = |outcome| EventKind::StaffNote {
        author: "tutor-7".into(),
        channel: crate::ContactChannel::Phone,
        outcome: Some(outcome),
    };
    use crate::ContactOutcome::{NoAnswer, Reached, Saved};
    let o = j.on("2026-11-15T10:00:00Z", note(NoAnswer));
    assert_eq!(of(TallyMetric::Contacted, &o.tallies).len(), 1);
    assert_eq!(of(TallyMetric::OutcomeNoAnswer, &o.tallies).len(), 1);
    assert!(
        j.customer.needs_contact(RiskLevel::Warning),
        "not reached: still on today's list"
    );
    let o = j.on("2026-11-15T11:00:00Z", note(NoAnswer));
    assert!(o.tallies.is_empty(), "an outcome counts once per alert");
    let o = j.on("2026-11-15T12:00:00Z", note(Reached));
    assert_eq!(of(TallyMetric::OutcomeReached, &o.tallies).len(), 1);
    assert!(of(TallyMetric::Contacted, &o.tallies).is_empty());
    assert!(!j.customer.needs_contact(RiskLevel::Warning));
    assert!(j.customer.contacted_since_risk_rose());
    let o = j.on("2026-11-15T13:00:00Z", note(Saved));
    assert_eq!(of(TallyMetric::OutcomeSaved, &o.tallies).len(), 1);
    let contact = j.customer.last_contact.clone().expect("a contact");
    assert_eq!(
        (contact.by.as_str(), contact.outcome),
        ("tutor-7", Some(Saved))
    );
    // a note stamped earlier, arriving late, does not replace the latest contact
    j.on("2026-11-15T09:30:00Z", note(NoAnswer));
    assert_eq!(j.customer.last_contact, Some(contact));
    assert!(
        j.history
            .iter()
            .any(|h| matches!(&h.change, Change::Note { note } if note.ends_with(": saved"))),
    );
}

#[test]
fn a_risk_change_after_the_contact_puts_the_customer_back_on_todays_list() {
    let mut j = Journey::new();
    j.paid("2026-11-01T09:00:00Z");
    j.check("2026-11-08T09:00:00Z");
    j.check("2026-11-11T09:00:00Z");
    let level = j.customer.risk;
    assert!(level >= RiskLevel::Warning);
    j.on(
        "2026-11-11T10:00:00Z",
        EventKind::StaffNote {
            author: "tutor-7".into(),
            channel: crate::ContactChannel::Phone,
            outcome: Some(crate::ContactOutcome::Reached),
        },
    );
    assert!(!j.customer.needs_contact(RiskLevel::Warning));
    j.check("2026-11-15T09:00:00Z");
    assert!(j.customer.risk > level, "escalated");
    assert!(j.customer.needs_contact(RiskLevel::Warning));
    assert!(!j.customer.needs_contact(RiskLevel::Danger) || j.customer.risk == RiskLevel::Danger);
}

#[test]
fn an_improvement_after_the_contact_keeps_the_customer_off_todays_list() {
    let mut c = Customer::new(customer_id("c1"));
    c.stage = Some(crate::Stage::Active);
    c.risk = RiskLevel::Warning;
    c.risk_rose_at = Some(t("2026-11-10T09:00:00Z"));
    c.risk_changed_at = Some(t("2026-11-14T09:00:00Z")); // down from danger
    c.last_contact = Some(crate::StaffContact {
        at: t("2026-11-12T09:00:00Z"),
        by: "tutor-7".into(),
        channel: crate::ContactChannel::Phone,
        outcome: Some(crate::ContactOutcome::Reached),
    });
    assert!(!c.needs_contact(RiskLevel::Warning));
    c.risk_rose_at = Some(t("2026-11-13T09:00:00Z"));
    assert!(
        c.needs_contact(RiskLevel::Warning),
        "it rose after the contact"
    );
    // a customer written before the rise was recorded: the last change stands in for it
    c.risk_rose_at = None;
    assert!(c.needs_contact(RiskLevel::Warning));
}

/// The caution nudge by text, with its e-mail as the fallback.
fn text_first() -> Rules {
    let text = crate::rules::DEFAULT_RULES_TOML.replace(
        "email = \"gentle_reminder\"\nvariants = [\"a\", \"b\"]",
        "email = \"gentle_reminder\"\ntext = \"gentle_reminder\"\nemail_fallback = true\nvariants = [\"a\", \"b\"]",
    );
    Rules::from_toml(&text).unwrap()
}

/// The experiment `id` is assigned to at caution, under [`text_first`], with or without a phone.
fn assigned_under(id: &str, phone: bool) -> Tally {
    let mut j = Journey::of(id, text_first());
    j.paid("2026-11-01T09:00:00Z");
    if phone {
        j.customer.profile.phone = Some("+821012345678".into());
    }
    let o = j.check("2026-11-08T09:00:00Z");
    let assigned: Vec<&Tally> = o
        .tallies
        .iter()
        .filter(|t| matches!(t.metric, TallyMetric::Treated | TallyMetric::HeldOut))
        .collect();
    assert_eq!(assigned.len(), 1, "{:?}", o.tallies);
    assigned[0].clone()
}

#[test]
fn each_channel_has_its_own_experiment_split_alike_in_both_groups() {
    let (treated, held) = (
        someone(Trigger::RiskCaution, false),
        someone(Trigger::RiskCaution, true),
    );
    // reachable by text: the text carries the message, and its experiment is the text's
    let by_text = assigned_under(&treated, true);
    assert_eq!(
        (by_text.template.as_str(), by_text.metric),
        ("text:gentle_reminder", TallyMetric::Treated)
    );
    assert_eq!(by_text.variant, None, "a text has no e-mail variant");
    let control = assigned_under(&held, true);
    assert_eq!(
        (control.template.as_str(), control.metric),
        ("text:gentle_reminder", TallyMetric::HeldOut)
    );
    // no phone: the e-mail carries it, and both groups count under the e-mail's experiment
    let by_email = assigned_under(&treated, false);
    assert_eq!(by_email.template, "gentle_reminder");
    assert!(by_email.variant.is_some());
    let control = assigned_under(&held, false);
    assert_eq!(
        (control.template.as_str(), control.metric),
        ("gentle_reminder", TallyMetric::HeldOut)
    );
}

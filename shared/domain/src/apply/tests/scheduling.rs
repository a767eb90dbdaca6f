//! Planned, scheduled and deferred interventions, and the next check.

use super::*;

#[test]
fn intervention_ids_repeat_for_a_repeated_cause() {
    let rules = Rules::embedded().unwrap();
    let mut events = Events::new("c1");
    let pay = events.at(t("2026-11-01T09:00:00Z"), EventKind::paid(krw(1000)));
    let fresh = Customer::new(customer_id("c1"));
    let a = apply(&fresh, &pay, &rules, t("2026-11-01T09:00:00Z")).unwrap();
    let b = apply(&fresh, &pay, &rules, t("2026-11-01T09:03:00Z")).unwrap();
    let ids = |o: &Outcome| {
        o.effects
            .iter()
            .map(|e| match e {
                Effect::Send(i) => i.id.to_string(),
                Effect::Publish(p) => p.id.clone(),
                Effect::Erase => "erase".into(),
                Effect::NoteText(n) => format!("note {}", n.intervention_id),
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&a), ids(&b));
}

#[test]
fn a_deferred_message_goes_out_unchanged_when_due_unless_the_customer_came_back() {
    let mut j = Journey::new();
    j.paid("2026-11-01T12:00:00Z");
    j.check("2026-11-08T12:00:00Z"); // 21:00 in Seoul
    let reminder = j.sent.last().cloned().unwrap();
    let until = t("2026-11-08T23:00:00Z"); // 08:00 in Seoul
    let deferred = EventKind::InterventionDeferred {
        intervention: reminder.clone(),
        until,
    };
    report(&mut j, "2026-11-08T12:00:30Z", &reminder, deferred.clone());
    report(&mut j, "2026-11-08T12:00:40Z", &reminder, deferred); // a repeated report
    assert_eq!(
        j.customer
            .scheduled
            .iter()
            .filter(|s| s.intervention.is_some())
            .count(),
        1
    );
    assert_eq!(j.customer.next_check_at, Some(until));
    let o = j.check("2026-11-08T23:00:00Z");
    let resent: Vec<&Intervention> = o
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send(i) => Some(i),
            Effect::Publish(_) | Effect::Erase | Effect::NoteText(_) => None,
        })
        .collect();
    assert_eq!(resent, vec![&reminder], "same message, same id");

    // and when the customer comes back first, the held reminder is dropped
    let mut k = Journey::new();
    k.paid("2026-11-01T12:00:00Z");
    k.check("2026-11-08T12:00:00Z");
    let reminder = k.sent.last().cloned().unwrap();
    let deferred = EventKind::InterventionDeferred {
        intervention: reminder.clone(),
        until,
    };
    report(&mut k, "2026-11-08T12:00:30Z", &reminder, deferred);
    k.on("2026-11-08T13:00:00Z", EventKind::Login);
    assert!(
        k.customer
            .scheduled
            .iter()
            .all(|s| s.intervention.is_none())
    );
    let o = k.check("2026-11-08T23:00:00Z");
    assert!(Journey::templates(&o).is_empty());
}

/// Security review R1: a message deferred by quiet hours, due again, and deferred once more
/// (the backlog carried it past 08:00 into the next night) was held for good, because the second
/// report had the first one's id and was dropped as already applied.
#[test]
fn a_message_deferred_twice_is_rescheduled_twice_and_goes_out() {
    let mut j = Journey::new();
    j.paid("2026-11-01T12:00:00Z");
    j.check("2026-11-08T12:00:00Z");
    let reminder = j.sent.last().cloned().unwrap();
    let deferral = |until: &str| EventKind::InterventionDeferred {
        intervention: reminder.clone(),
        until: t(until),
    };
    report(
        &mut j,
        "2026-11-08T12:00:30Z",
        &reminder,
        deferral("2026-11-08T23:00:00Z"),
    );
    let o = j.check("2026-11-08T23:00:00Z");
    assert_eq!(o.effects.len(), 1, "due again: {o:?}");
    // handled again only at 22:00 in Seoul, deferred to the next morning
    let second = report(
        &mut j,
        "2026-11-09T13:00:00Z",
        &reminder,
        deferral("2026-11-09T23:00:00Z"),
    );
    assert!(
        !second.duplicate,
        "the second deferral is not a repeat of the first"
    );
    // a late redelivery of the first report changes nothing
    report(
        &mut j,
        "2026-11-09T13:00:10Z",
        &reminder,
        deferral("2026-11-08T23:00:00Z"),
    );
    assert_eq!(j.customer.next_check_at, Some(t("2026-11-09T23:00:00Z")));
    let o = j.check("2026-11-09T23:00:00Z");
    let resent = o
        .effects
        .iter()
        .any(|e| matches!(e, Effect::Send(i) if i.id == reminder.id));
    assert!(resent, "the same message goes out: {o:?}");
}

proptest::proptest! {
    /// Any number of deferrals of one message, each reported once or more (a lost answer makes
    /// the sender report again) and in any order among the earlier ones' redeliveries: the
    /// schedule always holds the message until the latest time, it goes out when that comes,
    /// and once reported sent nothing of it is held.
    #[test]
    fn a_deferred_message_is_never_held_for_good(
        steps in proptest::collection::vec((1_i64..60, 0_usize..4), 1..6)
    ) {
        let mut j = Journey::new();
        j.paid("2026-11-01T12:00:00Z");
        j.check("2026-11-08T12:00:00Z");
        let reminder = j.sent.last().cloned().unwrap();
        let mut now = t("2026-11-08T12:00:30Z");
        let mut reports = Vec::new();
        for (hours, redeliveries) in steps {
            let until = now + chrono::Duration::hours(hours);
            let deferral = EventKind::InterventionDeferred {
                intervention: reminder.clone(),
                until,
            };
            reports.push(Event::report(&reminder, deferral, now));
            // the new report, then earlier ones again (lost answers, SQS redeliveries)
            let last = reports.len() - 1;
            for k in std::iter::once(last).chain((0..redeliveries).map(|r| r % reports.len())) {
                now += chrono::Duration::seconds(10);
                j.apply(reports[k].clone(), now);
            }
            let held = j.customer.scheduled.iter().filter(|s| {
                s.intervention.as_ref().is_some_and(|i| i.id == reminder.id)
            });
            proptest::prop_assert_eq!(held.map(|s| s.due_at).collect::<Vec<_>>(), vec![until]);
            proptest::prop_assert!(j.customer.next_check_at.is_some_and(|at| at <= until));
            let due = j.check(&until.to_rfc3339());
            let resent = due
                .effects
                .iter()
                .any(|e| matches!(e, Effect::Send(i) if i.id == reminder.id));
            proptest::prop_assert!(resent, "not sent when due at {}", until);
            now = until + chrono::Duration::minutes(5);
        }
        let sent = EventKind::InterventionSent { delivery: crate::intervention::Delivery::from(&reminder) };
        j.apply(Event::report(&reminder, sent, now), now);
        proptest::prop_assert!(j.customer.scheduled.iter().all(|s| s.intervention.is_none()));
    }
}

#[test]
fn a_score_that_time_alone_lifts_is_checked_when_it_crosses_not_at_the_next_step() {
    let text = include_str!("../../../../../infra/rules.toml")
        .replace("login_drop = 15.0", "login_drop = 40.0");
    let mut j = Journey::with_rules(Rules::from_toml(&text).unwrap());
    j.paid("2026-11-01T09:00:00Z");
    for day in 1..=21 {
        j.on(&format!("2026-11-{day:02}T10:00:00Z"), EventKind::Login);
    }
    // Nothing more happens. At midnight on Nov 26 the recent week holds 2 logins against a
    // baseline of 19 in 21 days: login drop 0.68 × 40 + 4.6 days of inactivity × 40 / 14 ≈ 40.
    assert_eq!(j.customer.next_check_at, Some(t("2026-11-26T00:00:00Z")));
    let o = j.check("2026-11-26T00:00:00Z");
    assert_eq!(j.customer.risk, RiskLevel::Caution);
    assert!(
        o.history[0].cause.reason.contains("risk score"),
        "{:?}",
        o.history
    );
    // no login the whole recent week: 40 + 6.9 days × 40 / 14 reaches warning's 60 on Nov 28,
    // before the clock's 10 days are up (Dec 1)
    assert_eq!(j.customer.next_check_at, Some(t("2026-11-28T08:20:00Z")));
    j.check("2026-11-28T08:20:00Z");
    assert_eq!(j.customer.risk, RiskLevel::Warning);
}

#[test]
fn a_customer_the_score_will_not_lift_keeps_the_clock_s_step() {
    let mut j = Journey::new();
    j.paid("2026-11-01T09:00:00Z");
    for day in 1..=21 {
        j.on(&format!("2026-11-{day:02}T10:00:00Z"), EventKind::Login);
    }
    // default weights: the score stays under caution until the 7 days are up
    assert_eq!(j.customer.next_check_at, Some(t("2026-11-28T10:00:00Z")));
}

//! The risk level: the clock, the score, failed payments, recovery.

use super::*;

#[test]
fn inactivity_escalates_caution_warning_danger_then_churns() {
    let mut j = Journey::new();
    j.customer.profile.owner = Some(Owner {
        id: "tutor-7".into(),
        name: None,
        email: Some("tutor@example.com".into()),
        slack_id: None,
    });
    j.paid("2026-11-01T09:00:00Z");
    j.on("2026-11-01T10:00:00Z", EventKind::AssignmentSubmitted);
    assert_eq!(j.customer.next_check_at, Some(t("2026-11-08T10:00:00Z")));

    let o = j.check("2026-11-08T10:00:00Z");
    assert_eq!(j.customer.risk, RiskLevel::Caution);
    assert_eq!(Journey::templates(&o), vec![email("gentle_reminder")]);
    assert!(
        o.history[0].cause.reason.contains("7 days"),
        "{:?}",
        o.history
    );
    assert_eq!(j.customer.next_check_at, Some(t("2026-11-11T10:00:00Z")));

    let o = j.check("2026-11-11T10:00:00Z");
    assert_eq!(j.customer.risk, RiskLevel::Warning);
    assert_eq!(Journey::templates(&o), vec![email("special_offer")]);

    let o = j.check("2026-11-15T10:00:00Z");
    assert_eq!(j.customer.risk, RiskLevel::Danger);
    assert_eq!(
        Journey::templates(&o),
        vec![
            email("consultation_invite"),
            slack("danger_alert"),
            (Channel::OwnerEmail, "danger_alert".into())
        ]
    );

    let o = j.check("2026-12-01T10:00:00Z");
    assert_eq!(j.stage(), Some(Stage::Churned));
    assert_eq!(j.customer.risk, RiskLevel::None);
    let churn = j.customer.churn.clone().unwrap();
    assert_eq!(churn.reason, ChurnReason::Inactivity);
    assert!(o.history[0].cause.reason.contains("30 days"));
    // win-back registered at +7 and +30 days
    let due: Vec<_> = j.customer.scheduled.iter().map(|s| s.due_at).collect();
    assert_eq!(
        due,
        vec![t("2026-12-08T10:00:00Z"), t("2026-12-31T10:00:00Z")]
    );
    let o = j.check("2026-12-08T10:00:00Z");
    assert_eq!(Journey::templates(&o), vec![email("win_back")]);
    assert_eq!(
        j.risks(),
        vec![
            RiskLevel::Caution,
            RiskLevel::Warning,
            RiskLevel::Danger,
            RiskLevel::None
        ]
    );
}

#[test]
fn a_check_that_finds_nothing_due_changes_nothing() {
    let mut j = Journey::new();
    j.paid("2026-11-01T09:00:00Z");
    let o = j.check("2026-11-03T09:00:00Z");
    assert!(o.history.is_empty() && o.effects.is_empty());
    assert_eq!(j.customer.risk, RiskLevel::None);
}

#[test]
fn activity_while_at_risk_recovers_and_credits_the_last_intervention() {
    let mut j = Journey::new();
    j.paid("2026-11-01T09:00:00Z");
    j.on("2026-11-01T10:00:00Z", EventKind::AssignmentSubmitted);
    j.check("2026-11-08T10:00:00Z");
    let reminder = j.sent.last().cloned().unwrap();
    let o = j.on("2026-11-09T08:00:00Z", EventKind::Login);
    assert_eq!(j.customer.risk, RiskLevel::None);
    assert_eq!(o.history[0].cause.reason, "recovered: active again");
    let credited: Vec<&Tally> = o
        .tallies
        .iter()
        .filter(|t| t.metric == TallyMetric::Recovered)
        .collect();
    assert_eq!(
        credited,
        vec![&Tally::count(
            "gentle_reminder",
            reminder.variant.as_deref(),
            TallyMetric::Recovered
        )]
    );
    let assigned = o
        .tallies
        .iter()
        .find(|t| t.metric == TallyMetric::TreatedRecovered);
    assert_eq!(
        assigned.map(|t| (t.template.as_str(), t.cohort.as_deref())),
        Some(("gentle_reminder", Some("2026-11"))),
        "the assignment's outcome counts in its month"
    );
    assert!(o.effects.iter().any(|e| matches!(e,
        Effect::Publish(DomainEvent { detail: DomainEventDetail::InterventionRecovered { intervention_id, .. }, .. })
            if *intervention_id == reminder.id)));
    // quiet again within fatigue.continue_days (14) of the recovery: the same episode goes
    // on, and its caution is not sent twice
    j.check("2026-11-16T08:00:00Z");
    assert_eq!(j.customer.risk, RiskLevel::Caution);
    assert_eq!(j.customer.risk_episode, 1);
    assert_eq!(
        j.sent.last().map(|i| &i.id),
        Some(&reminder.id),
        "nothing sent"
    );
    j.on("2026-11-17T08:00:00Z", EventKind::Login);
    let credits = reports(&j.tallies).len();
    // active for a week, then quiet past continue_days: a new episode, new intervention ids;
    // its recovery credits the new one
    j.on("2026-11-25T08:00:00Z", EventKind::Login);
    j.check("2026-12-02T09:00:00Z");
    let second = j.sent.last().cloned().unwrap();
    assert_eq!(j.customer.risk_episode, 2);
    assert_ne!(second.id, reminder.id);
    j.on("2026-12-03T08:00:00Z", EventKind::Login);
    assert_eq!(reports(&j.tallies).len(), credits + 1);
}

#[test]
fn payment_failure_sends_a_billing_notice_and_makes_a_check_due_at_once() {
    let mut j = Journey::new();
    j.paid("2026-11-01T09:00:00Z");
    j.on("2026-11-01T10:00:00Z", EventKind::Login);
    let o = j.on(
        "2026-11-03T09:00:00Z",
        EventKind::PaymentFailed { amount: None },
    );
    assert_eq!(Journey::templates(&o), vec![email("billing_failed")]);
    let billing = j.sent.last().unwrap();
    assert!(billing.transactional);
    assert_eq!(
        j.customer.risk,
        RiskLevel::None,
        "escalation waits for the check"
    );
    assert_eq!(j.customer.next_check_at, Some(t("2026-11-03T09:00:00Z")));
    let o = j.check("2026-11-03T09:15:00Z");
    assert_eq!(j.customer.risk, RiskLevel::Caution);
    assert_eq!(o.history[0].cause.reason, "payment failed");
    j.paid("2026-11-04T09:00:00Z");
    assert_eq!(j.customer.open_failed_payments, 0);
    assert_eq!(j.customer.revenue["KRW"], 198_000);
}

/// The level a failed payment calls for is a rules key: a business whose customers often pay
/// a day late may leave it to the score, another may want the owner told at once.
#[test]
fn the_level_a_failed_payment_calls_for_is_the_rules() {
    for (level, expected) in [("warning", RiskLevel::Warning), ("none", RiskLevel::None)] {
        let overlay = format!("[billing]\nfailed_payment_level = \"{level}\"\n");
        let rules =
            Rules::from_toml_with_overlay(crate::rules::DEFAULT_RULES_TOML, &overlay).unwrap();
        let mut j = Journey::with_rules(rules);
        j.paid("2026-11-01T09:00:00Z");
        j.on("2026-11-01T10:00:00Z", EventKind::Login);
        let o = j.on(
            "2026-11-03T09:00:00Z",
            EventKind::PaymentFailed { amount: None },
        );
        assert_eq!(Journey::templates(&o), vec![email("billing_failed")]);
        j.check("2026-11-03T09:15:00Z");
        assert_eq!(j.customer.risk, expected, "{level}");
    }
}

#[test]
fn nps_detractors_alert_cs_and_promoters_get_a_review_request() {
    let mut j = Journey::new();
    j.paid("2026-11-01T09:00:00Z");
    let low = j.on(
        "2026-11-02T09:00:00Z",
        EventKind::NpsResponse {
            score: NpsScore::new(3).unwrap(),
        },
    );
    assert_eq!(Journey::templates(&low), vec![slack("nps_detractor_alert")]);
    let detractor_score = j.customer.score.total;
    let high = j.on(
        "2026-11-03T09:00:00Z",
        EventKind::NpsResponse {
            score: NpsScore::new(10).unwrap(),
        },
    );
    assert_eq!(Journey::templates(&high), vec![email("review_request")]);
    assert!(j.customer.score.total < detractor_score);
    let passive = j.on(
        "2026-11-04T09:00:00Z",
        EventKind::NpsResponse {
            score: NpsScore::new(7).unwrap(),
        },
    );
    assert!(Journey::templates(&passive).is_empty());
}

#[test]
fn two_support_tickets_in_14_days_raise_one_task_and_the_score() {
    let mut j = Journey::new();
    j.paid("2026-11-01T09:00:00Z");
    let first = j.on("2026-11-02T09:00:00Z", EventKind::SupportTicket);
    assert!(Journey::templates(&first).is_empty());
    let before = j.customer.score.total;
    let second = j.on("2026-11-10T09:00:00Z", EventKind::SupportTicket);
    assert_eq!(
        Journey::templates(&second),
        vec![slack("support_tickets_task")]
    );
    assert!(j.customer.score.total > before);
    let third = j.on("2026-11-11T09:00:00Z", EventKind::SupportTicket);
    assert!(
        Journey::templates(&third).is_empty(),
        "one task per crossing"
    );
}

#[test]
fn the_score_escalates_before_the_inactivity_clock() {
    let mut j = Journey::new();
    j.paid("2026-11-01T09:00:00Z");
    j.on("2026-11-01T09:30:00Z", EventKind::AssignmentSubmitted);
    j.on("2026-11-02T09:00:00Z", EventKind::SupportTicket);
    j.on("2026-11-02T10:00:00Z", EventKind::SupportTicket);
    j.on(
        "2026-11-02T11:00:00Z",
        EventKind::NpsResponse {
            score: NpsScore::new(2).unwrap(),
        },
    );
    j.on(
        "2026-11-02T12:00:00Z",
        EventKind::PaymentFailed { amount: None },
    );
    j.on(
        "2026-11-02T13:00:00Z",
        EventKind::PaymentFailed { amount: None },
    );
    for hour in 14..17 {
        j.on(
            &format!("2026-11-02T{hour}:00:00Z"),
            EventKind::AssignmentMissed,
        );
    }
    assert!(j.customer.score.total >= 60.0, "{:?}", j.customer.score);
    assert_eq!(j.customer.next_check_at, Some(t("2026-11-02T16:00:00Z")));
    let o = j.check("2026-11-02T16:10:00Z");
    assert_eq!(j.customer.risk, RiskLevel::Warning);
    assert!(o.history[0].cause.reason.starts_with("risk score"));
    let top: Vec<Signal> = j.customer.score.top(3).map(|c| c.signal).collect();
    assert!(top.contains(&Signal::FailedPayments), "{top:?}");
}

#[test]
fn a_program_override_changes_the_clock() {
    let text = format!(
        "{}\n[programs.fitness.inactivity]\ncaution_days = 3\nwarning_days = 7\ndanger_days = 10\n",
        crate::rules::DEFAULT_RULES_TOML
    );
    let mut j = Journey::with_rules(Rules::from_toml(&text).unwrap());
    let mut e = j
        .events
        .at(t("2026-11-01T09:00:00Z"), EventKind::paid(krw(1000)));
    e.profile.program = Some("fitness".into());
    j.apply(e, t("2026-11-01T09:00:00Z"));
    assert_eq!(j.customer.next_check_at, Some(t("2026-11-04T09:00:00Z")));
    j.check("2026-11-04T09:00:00Z");
    assert_eq!(j.customer.risk, RiskLevel::Caution);
}

#[test]
fn history_records_the_score_at_the_moment() {
    let mut j = Journey::new();
    j.paid("2026-11-01T09:00:00Z");
    let o = j.check("2026-11-08T09:00:00Z");
    assert!(o.history[0].score > 0.0);
    assert_eq!(o.history[0].score, j.customer.score.total);
    let _ = Duration::zero();
}

#[test]
fn a_login_from_before_the_escalation_is_not_a_recovery() {
    let mut j = Journey::new();
    j.paid("2026-11-01T09:00:00Z");
    j.check("2026-11-08T09:00:00Z");
    let o = j.on("2026-11-07T09:00:00Z", EventKind::Login); // arrives late
    assert_eq!(j.customer.risk, RiskLevel::Caution);
    assert!(o.history.is_empty() && o.tallies.is_empty());
}

#[test]
fn a_check_that_churns_sends_nothing_that_was_scheduled_for_the_customer() {
    let mut j = Journey::new();
    j.paid("2026-11-01T09:00:00Z"); // NPS survey scheduled for Dec 1
    let o = j.check("2026-12-02T09:00:00Z"); // 31 days quiet: churned first
    assert_eq!(j.stage(), Some(Stage::Churned));
    assert!(
        Journey::templates(&o).is_empty(),
        "{:?}",
        Journey::templates(&o)
    );
    assert!(
        j.customer
            .scheduled
            .iter()
            .all(|s| s.trigger == Trigger::WinBack)
    );
}

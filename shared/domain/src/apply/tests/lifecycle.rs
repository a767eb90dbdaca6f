//! The lifecycle: sign-up, payment, onboarding, engagement, completion, churn and win-back.

use super::*;

#[test]
fn sign_up_creates_a_trial_with_welcome_and_sales_notice() {
    let mut j = Journey::new();
    let o = j.on(
        "2026-11-01T09:00:00Z",
        EventKind::SignedUp {
            plan: SignUpPlan::Lead,
        },
    );
    assert_eq!(j.stage(), Some(Stage::Trial));
    assert_eq!(
        Journey::templates(&o),
        vec![email("trial_welcome"), slack("sales_new_trial")]
    );
    let h = &o.history[0];
    assert_eq!(
        h.change,
        Change::Stage {
            from: None,
            to: Stage::Trial
        }
    );
    assert_eq!(h.at, t("2026-11-01T09:00:00Z"));
    assert_eq!(h.cause.event_type, "signed_up");
}

#[test]
fn payment_moves_an_unknown_or_trial_customer_to_onboarding_with_the_setup_guide() {
    for trial_first in [false, true] {
        let mut j = Journey::new();
        if trial_first {
            j.on(
                "2026-11-01T09:00:00Z",
                EventKind::SignedUp {
                    plan: SignUpPlan::Trial,
                },
            );
        }
        let o = j.paid("2026-11-02T09:00:00Z");
        assert_eq!(j.stage(), Some(Stage::Onboarding));
        let stages: Vec<_> = o.history.iter().map(|h| h.change.clone()).collect();
        assert_eq!(
            stages[0],
            Change::Stage {
                from: trial_first.then_some(Stage::Trial),
                to: Stage::Paid
            }
        );
        assert_eq!(
            stages[1],
            Change::Stage {
                from: Some(Stage::Paid),
                to: Stage::Onboarding
            }
        );
        assert_eq!(Journey::templates(&o), vec![email("welcome_setup_guide")]);
        assert_eq!(j.customer.revenue["KRW"], 99_000);
    }
}

#[test]
fn first_submission_or_finished_onboarding_makes_the_customer_active() {
    for kind in [
        EventKind::AssignmentSubmitted,
        EventKind::OnboardingCompleted,
    ] {
        let mut j = Journey::new();
        j.paid("2026-11-01T09:00:00Z");
        let o = j.on("2026-11-02T09:00:00Z", kind);
        assert_eq!(j.stage(), Some(Stage::Active));
        assert!(Journey::templates(&o).is_empty());
    }
}

#[test]
fn sustained_activity_engages_and_a_lapse_returns_to_active() {
    let mut j = Journey::new();
    j.paid("2026-11-01T09:00:00Z");
    j.on("2026-11-01T10:00:00Z", EventKind::AssignmentSubmitted);
    for day in 2..=6 {
        j.on(&format!("2026-11-{day:02}T10:00:00Z"), EventKind::Login);
    }
    assert_eq!(j.stage(), Some(Stage::Engaged), "active 6 of 14 days");
    assert_eq!(j.customer.next_check_at, Some(t("2026-11-13T10:00:00Z")));
    j.check("2026-11-13T10:00:00Z"); // 7 days quiet: caution, still engaged
    assert_eq!(j.customer.risk, RiskLevel::Caution);
    assert_eq!(j.stage(), Some(Stage::Engaged));
    j.on("2026-11-14T10:00:00Z", EventKind::Login);
    // the 6th newest active day (Nov 2) leaves the 14-day window at the start of Nov 16
    assert_eq!(j.customer.next_check_at, Some(t("2026-11-16T00:00:00Z")));
    j.check("2026-11-16T00:00:00Z");
    assert_eq!(j.stage(), Some(Stage::Active));
    assert_eq!(
        j.stages(),
        vec![
            Stage::Paid,
            Stage::Onboarding,
            Stage::Active,
            Stage::Engaged,
            Stage::Active
        ]
    );
}

#[test]
fn refund_or_cancellation_churns_with_the_reason_and_registers_win_back() {
    for (kind, reason) in [
        (
            EventKind::RefundRequested {
                reason: Some("too busy".into()),
            },
            ChurnReason::RefundRequested,
        ),
        (
            EventKind::SubscriptionCancelled { reason: None },
            ChurnReason::SubscriptionCancelled,
        ),
    ] {
        let mut j = Journey::new();
        j.paid("2026-11-01T09:00:00Z");
        let o = j.on("2026-11-03T09:00:00Z", kind);
        assert_eq!(j.stage(), Some(Stage::Churned));
        assert_eq!(j.customer.churn.as_ref().map(|c| c.reason), Some(reason));
        assert_eq!(o.history[0].cause.reason, reason.as_str().replace('_', " "));
        assert_eq!(j.customer.scheduled.len(), 2);
        assert_eq!(j.customer.next_check_at, Some(t("2026-11-10T09:00:00Z")));
    }
}

#[test]
fn a_partial_refund_shrinks_the_revenue_and_the_customer_stays() {
    let mut j = Journey::new();
    j.paid("2026-11-01T09:00:00Z");
    let paid = j.customer.revenue["KRW"];
    let stage = j.stage();
    let o = j.on(
        "2026-11-03T09:00:00Z",
        EventKind::PartialRefund {
            amount: Some(krw(10_000)),
            reason: Some("one course dropped".into()),
        },
    );
    assert_eq!(j.stage(), stage);
    assert!(j.customer.churn.is_none());
    assert_eq!(j.customer.revenue["KRW"], paid - 10_000);
    assert_eq!(o.history.len(), 1);
    assert_eq!(o.history[0].cause.reason, "partial refund of 10000 KRW");
    assert!(
        !o.history[0].cause.reason.contains("course"),
        "free text stays out"
    );
    j.on(
        "2026-11-04T09:00:00Z",
        EventKind::PartialRefund {
            amount: Some(krw(i64::MAX)),
            reason: None,
        },
    );
    assert_eq!(j.customer.revenue["KRW"], 0, "never below zero");
}

#[test]
fn revenue_saturates_instead_of_wrapping() {
    let mut j = Journey::new();
    j.on(
        "2026-11-01T09:00:00Z",
        EventKind::PaymentSucceeded {
            amount: krw(i64::MAX),
            renews_at: None,
        },
    );
    j.on(
        "2026-11-02T09:00:00Z",
        EventKind::PaymentSucceeded {
            amount: krw(i64::MAX),
            renews_at: None,
        },
    );
    assert_eq!(j.customer.revenue["KRW"], i64::MAX);
}

#[test]
fn the_latest_renewal_date_named_is_kept_whatever_order_it_arrives_in() {
    let mut j = Journey::new();
    let renewal = |s: &str| Some(s.parse().unwrap());
    j.on(
        "2026-11-01T09:00:00Z",
        EventKind::PaymentSucceeded {
            amount: krw(9_900),
            renews_at: renewal("2026-12-01T09:00:00Z"),
        },
    );
    assert_eq!(j.customer.renews_at, renewal("2026-12-01T09:00:00Z"));
    j.on(
        "2026-11-25T09:00:00Z",
        EventKind::RenewalUpcoming {
            renews_at: renewal("2027-01-01T09:00:00Z"),
        },
    );
    // a late retry of the first payment's webhook does not move it back
    j.on(
        "2026-11-26T09:00:00Z",
        EventKind::PaymentSucceeded {
            amount: krw(9_900),
            renews_at: renewal("2026-12-01T09:00:00Z"),
        },
    );
    assert_eq!(j.customer.renews_at, renewal("2027-01-01T09:00:00Z"));
}

#[test]
fn renewal_and_trial_end_send_an_advance_notice() {
    let mut j = Journey::new();
    j.on(
        "2026-11-01T09:00:00Z",
        EventKind::SignedUp {
            plan: SignUpPlan::Trial,
        },
    );
    let o = j.on(
        "2026-11-11T09:00:00Z",
        EventKind::TrialEnding { ends_at: None },
    );
    assert_eq!(Journey::templates(&o), vec![email("renewal_notice")]);
    j.paid("2026-11-14T09:00:00Z");
    let o = j.on(
        "2026-12-11T09:00:00Z",
        EventKind::RenewalUpcoming { renews_at: None },
    );
    assert_eq!(Journey::templates(&o), vec![email("renewal_notice")]);
}

#[test]
fn nps_survey_goes_out_30_days_after_onboarding_and_after_completion() {
    let mut j = Journey::new();
    j.paid("2026-11-01T09:00:00Z");
    let nps_due = j
        .customer
        .scheduled
        .iter()
        .find(|s| s.trigger == Trigger::NpsSurvey)
        .map(|s| s.due_at);
    assert_eq!(nps_due, Some(t("2026-12-01T09:00:00Z")));
    // stay active so the clock does not churn the customer first
    for day in [7, 14, 21, 28] {
        j.on(&format!("2026-11-{day:02}T09:00:00Z"), EventKind::Login);
    }
    let o = j.check("2026-12-01T09:00:00Z");
    assert!(Journey::templates(&o).contains(&email("nps_survey")));
    let o = j.on("2026-12-02T09:00:00Z", EventKind::ProgramCompleted);
    assert_eq!(j.stage(), Some(Stage::Completed));
    assert!(Journey::templates(&o).is_empty());
    let follow_ups: Vec<_> = j
        .customer
        .scheduled
        .iter()
        .map(|s| (s.trigger, s.due_at))
        .collect();
    assert_eq!(
        follow_ups,
        vec![
            (Trigger::ReviewRequest, t("2026-12-05T09:00:00Z")),
            (Trigger::ReferralCode, t("2026-12-16T09:00:00Z")),
            (Trigger::RelatedOffer, t("2027-01-01T09:00:00Z")),
            (Trigger::NpsSurvey, t("2026-12-03T09:00:00Z")),
        ]
    );
    assert_eq!(j.customer.next_check_at, Some(t("2026-12-03T09:00:00Z")));
    let mut sent = Vec::new();
    for at in [
        "2026-12-03T09:00:00Z",
        "2026-12-05T09:00:00Z",
        "2026-12-16T09:00:00Z",
        "2027-01-01T09:00:00Z",
    ] {
        sent.extend(Journey::templates(&j.check(at)));
    }
    assert_eq!(
        sent,
        vec![
            email("nps_survey"),
            email("review_request"),
            email("referral_code"),
            email("related_offer")
        ]
    );
    assert_eq!(j.customer.next_check_at, None, "out of the due index");
}

#[test]
fn a_new_payment_wins_a_churned_customer_back_and_credits_the_win_back_message() {
    let mut j = Journey::new();
    j.paid("2026-11-01T09:00:00Z");
    j.on("2026-11-02T09:00:00Z", EventKind::AssignmentSubmitted);
    j.on(
        "2026-11-05T09:00:00Z",
        EventKind::RefundRequested { reason: None },
    );
    j.check("2026-11-12T09:00:00Z"); // win-back e-mail
    let o = j.paid("2026-11-14T09:00:00Z");
    assert_eq!(j.stage(), Some(Stage::Active), "onboarded before");
    assert!(j.customer.churn.is_none());
    assert_eq!(reports(&o.tallies).len(), 1);
    assert_eq!(reports(&o.tallies)[0].template, "win_back");
    assert!(
        j.customer.scheduled.is_empty(),
        "the rest of the win-back is cancelled"
    );
}

#[test]
fn a_late_login_from_before_a_refund_does_not_revive_a_churned_customer() {
    let mut j = Journey::new();
    j.paid("2026-11-01T09:00:00Z");
    j.on(
        "2026-11-05T09:00:00Z",
        EventKind::RefundRequested { reason: None },
    );
    let o = j.on("2026-11-04T09:00:00Z", EventKind::Login);
    assert_eq!(j.stage(), Some(Stage::Churned));
    assert!(o.history.is_empty());
    assert_eq!(j.customer.activity.last_at, Some(t("2026-11-04T09:00:00Z")));
    let o = j.on("2026-11-06T09:00:00Z", EventKind::Login);
    assert_eq!(
        j.stage(),
        Some(Stage::Churned),
        "only a payment brings them back"
    );
    assert!(o.history.is_empty());
}

#[test]
fn events_before_the_customer_appears_are_kept_and_count_when_they_do() {
    let mut j = Journey::new();
    let o = j.on("2026-11-01T08:00:00Z", EventKind::AssignmentSubmitted);
    assert_eq!(j.stage(), None);
    assert!(o.history.is_empty() && o.effects.is_empty());
    assert_eq!(j.customer.next_check_at, None);
    j.paid("2026-11-01T09:00:00Z");
    assert_eq!(j.stage(), Some(Stage::Active));
    assert_eq!(
        j.stages(),
        vec![Stage::Paid, Stage::Onboarding, Stage::Active]
    );
    assert_eq!(
        j.customer
            .activity
            .active_days(t("2026-11-01T09:00:00Z"), 1),
        1
    );
}

#[test]
fn unsubscribing_sets_the_flag() {
    let mut j = Journey::new();
    j.paid("2026-11-01T09:00:00Z");
    let o = j.on("2026-11-02T09:00:00Z", EventKind::Unsubscribed);
    assert!(j.customer.profile.unsubscribed);
    assert!(o.history.is_empty());
}

#[test]
fn staff_contact_is_recorded_in_the_history() {
    let mut j = Journey::new();
    j.paid("2026-11-01T09:00:00Z");
    let o = j.on(
        "2026-11-02T09:00:00Z",
        EventKind::StaffNote {
            author: "tutor-7".into(),
            channel: crate::ContactChannel::Phone,
            outcome: None,
        },
    );
    assert_eq!(
        o.history[0].change,
        Change::Note {
            note: "contacted by tutor-7 (phone)".into()
        }
    );
    assert_eq!(j.stage(), Some(Stage::Onboarding));
}

#[test]
fn churns_and_recoveries_are_milestones() {
    let mut j = Journey::new();
    j.paid("2026-11-01T09:00:00Z");
    j.check("2026-11-08T09:00:00Z");
    let o = j.on("2026-11-09T09:00:00Z", EventKind::Login);
    assert_eq!(
        o.milestones,
        vec![Milestone::Recovered {
            at: t("2026-11-09T09:00:00Z")
        }]
    );
    let o = j.on(
        "2026-11-10T09:00:00Z",
        EventKind::RefundRequested { reason: None },
    );
    assert_eq!(
        o.milestones,
        vec![Milestone::Churned {
            reason: ChurnReason::RefundRequested,
            at: t("2026-11-10T09:00:00Z")
        }]
    );
}

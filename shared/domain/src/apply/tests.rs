//! Every row of PRODUCT.md's transition table, as a journey through `apply`.

use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::event::{EventKind, Owner, SignUpPlan};
use crate::testing::{Events, customer_id, krw, t};
use crate::{Customer, NpsScore, Signal};

struct Journey {
    rules: Rules,
    customer: Customer,
    events: Events,
    history: Vec<HistoryEntry>,
    sent: Vec<Intervention>,
    tallies: Vec<Tally>,
}

impl Journey {
    fn new() -> Self {
        Self::with_rules(Rules::embedded().unwrap())
    }

    fn with_rules(rules: Rules) -> Self {
        Journey {
            rules,
            customer: Customer::new(customer_id("c1")),
            events: Events::new("c1"),
            history: Vec::new(),
            sent: Vec::new(),
            tallies: Vec::new(),
        }
    }

    fn apply(&mut self, event: Event, now: DateTime<Utc>) -> Outcome {
        let outcome = apply(&self.customer, &event, &self.rules, now).unwrap();
        self.customer = outcome.customer.clone();
        self.history.extend(outcome.history.iter().cloned());
        self.tallies.extend(outcome.tallies.iter().cloned());
        for effect in &outcome.effects {
            if let Effect::Send(i) = effect {
                self.sent.push(i.clone());
            }
        }
        outcome
    }

    fn on(&mut self, at: &str, kind: EventKind) -> Outcome {
        let e = self.events.at(t(at), kind);
        self.apply(e, t(at))
    }

    fn check(&mut self, at: &str) -> Outcome {
        let e = self.events.check(t(at));
        self.apply(e, t(at))
    }

    fn paid(&mut self, at: &str) -> Outcome {
        self.on(
            at,
            EventKind::PaymentSucceeded {
                amount: krw(99_000),
            },
        )
    }

    fn templates(outcome: &Outcome) -> Vec<(Channel, String)> {
        outcome
            .effects
            .iter()
            .filter_map(|e| match e {
                Effect::Send(i) => Some((i.channel, i.template.clone())),
                Effect::Publish(_) | Effect::Erase => None,
            })
            .collect()
    }

    fn stages(&self) -> Vec<Stage> {
        self.history
            .iter()
            .filter_map(|h| match h.change {
                Change::Stage { to, .. } => Some(to),
                _ => None,
            })
            .collect()
    }

    fn risks(&self) -> Vec<RiskLevel> {
        self.history
            .iter()
            .filter_map(|h| match h.change {
                Change::Risk { to, .. } => Some(to),
                _ => None,
            })
            .collect()
    }

    fn stage(&self) -> Option<Stage> {
        self.customer.stage
    }
}

fn email(template: &str) -> (Channel, String) {
    (Channel::Email, template.to_string())
}

fn slack(template: &str) -> (Channel, String) {
    (Channel::Slack, template.to_string())
}

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
        },
    );
    j.on(
        "2026-11-02T09:00:00Z",
        EventKind::PaymentSucceeded {
            amount: krw(i64::MAX),
        },
    );
    assert_eq!(j.customer.revenue["KRW"], i64::MAX);
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
    assert_eq!(
        o.tallies,
        vec![Tally {
            template: "gentle_reminder".into(),
            variant: reminder.variant.clone(),
            metric: TallyMetric::Recovered
        }]
    );
    assert!(o.effects.iter().any(|e| matches!(e,
        Effect::Publish(DomainEvent { detail: DomainEventDetail::InterventionRecovered { intervention_id, .. }, .. })
            if *intervention_id == reminder.id)));
    // quiet again: a new episode, new intervention ids; a second recovery credits the new one
    j.check("2026-11-16T08:00:00Z");
    let second = j.sent.last().cloned().unwrap();
    assert_ne!(second.id, reminder.id);
    j.on("2026-11-20T08:00:00Z", EventKind::Login);
    assert_eq!(j.tallies.len(), 2);
}

#[test]
fn a_recovery_outside_the_attribution_window_is_not_credited() {
    let mut j = Journey::new();
    j.paid("2026-11-01T09:00:00Z");
    j.check("2026-11-08T09:00:00Z"); // caution + reminder
    j.check("2026-11-11T09:00:00Z"); // warning + offer
    let o = j.on("2026-11-19T09:00:00Z", EventKind::Login);
    assert_eq!(j.customer.risk, RiskLevel::None);
    assert!(o.tallies.is_empty(), "offer was planned 8 days earlier");
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
    assert_eq!(o.tallies.len(), 1);
    assert_eq!(o.tallies[0].template, "win_back");
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
fn the_same_event_twice_changes_nothing_the_second_time() {
    let mut j = Journey::new();
    let e = j.events.at(
        t("2026-11-01T09:00:00Z"),
        EventKind::PaymentSucceeded { amount: krw(1000) },
    );
    let first = j.apply(e.clone(), t("2026-11-01T09:00:00Z"));
    let second = j.apply(e, t("2026-11-01T09:05:00Z"));
    assert!(second.duplicate && !first.duplicate);
    assert_eq!(second.customer, first.customer);
    assert!(second.effects.is_empty() && second.history.is_empty());
}

#[test]
fn intervention_ids_repeat_for_a_repeated_cause() {
    let rules = Rules::embedded().unwrap();
    let mut events = Events::new("c1");
    let pay = events.at(
        t("2026-11-01T09:00:00Z"),
        EventKind::PaymentSucceeded { amount: krw(1000) },
    );
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
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&a), ids(&b));
}

#[test]
fn a_program_override_changes_the_clock() {
    let text = format!(
        "{}\n[programs.fitness.inactivity]\ncaution_days = 3\nwarning_days = 7\ndanger_days = 10\n",
        crate::rules::DEFAULT_RULES_TOML
    );
    let mut j = Journey::with_rules(Rules::from_toml(&text).unwrap());
    let mut e = j.events.at(
        t("2026-11-01T09:00:00Z"),
        EventKind::PaymentSucceeded { amount: krw(1000) },
    );
    e.profile.program = Some("fitness".into());
    j.apply(e, t("2026-11-01T09:00:00Z"));
    assert_eq!(j.customer.next_check_at, Some(t("2026-11-04T09:00:00Z")));
    j.check("2026-11-04T09:00:00Z");
    assert_eq!(j.customer.risk, RiskLevel::Caution);
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

fn report(j: &mut Journey, at: &str, intervention: &Intervention, kind: EventKind) -> Outcome {
    let e = Event::report(intervention, kind, t(at));
    j.apply(e, t(at))
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
        o.tallies.is_empty(),
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
    assert_eq!(o.tallies[0].metric, TallyMetric::Recovered);
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
            Effect::Publish(_) | Effect::Erase => None,
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
fn erasure_removes_personal_data_and_later_events_are_ignored_and_recorded() {
    let mut j = Journey::new();
    let mut pay = j.events.at(
        t("2026-11-01T09:00:00Z"),
        EventKind::PaymentSucceeded { amount: krw(1000) },
    );
    pay.profile.email = Some("kim@example.com".into());
    j.apply(pay, t("2026-11-01T09:00:00Z"));
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
    let mut old = j.events.at(
        now - Duration::days(limit.into()),
        EventKind::PaymentSucceeded { amount: krw(1) },
    );
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

#[test]
fn a_score_that_time_alone_lifts_is_checked_when_it_crosses_not_at_the_next_step() {
    let text = include_str!("../../../../infra/rules.toml")
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

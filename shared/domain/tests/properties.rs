//! The invariants of the journey, stated as properties over random event histories.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test: a panic is its failure report"
)]

use chrono::{DateTime, Duration, Utc};
use journey_domain::testing::{Events, customer_id, t};
use journey_domain::{
    Change, Customer, Event, EventKind, Money, NpsScore, Outcome, RiskLevel, Rules, SignUpPlan,
    Stage, apply,
};
use proptest::prelude::*;

fn rules() -> Rules {
    Rules::embedded().expect("shipped rules load")
}

/// One step of a random history: when (minutes after the start) and what.
#[derive(Clone, Debug)]
enum Step {
    SignUp,
    Pay(i64),
    PayFailed,
    Refund,
    Cancel,
    Renewal,
    TrialEnding,
    Login,
    OnboardingDone,
    Submitted,
    Missed,
    Content(u32),
    Completed,
    Ticket,
    Nps(u8),
    Profile,
    Check,
}

impl Step {
    fn kind(&self) -> EventKind {
        match self {
            Step::SignUp => EventKind::SignedUp {
                plan: SignUpPlan::Trial,
            },
            Step::Pay(a) => EventKind::PaymentSucceeded {
                amount: Money::new(*a, "KRW").expect("valid amount"),
                renews_at: None,
            },
            Step::PayFailed => EventKind::PaymentFailed { amount: None },
            Step::Refund => EventKind::RefundRequested { reason: None },
            Step::Cancel => EventKind::SubscriptionCancelled { reason: None },
            Step::Renewal => EventKind::RenewalUpcoming { renews_at: None },
            Step::TrialEnding => EventKind::TrialEnding { ends_at: None },
            Step::Login => EventKind::Login,
            Step::OnboardingDone => EventKind::OnboardingCompleted,
            Step::Submitted => EventKind::AssignmentSubmitted,
            Step::Missed => EventKind::AssignmentMissed,
            Step::Content(s) => EventKind::ContentViewed { seconds: *s },
            Step::Completed => EventKind::ProgramCompleted,
            Step::Ticket => EventKind::SupportTicket,
            Step::Nps(s) => EventKind::NpsResponse {
                score: NpsScore::new(*s).expect("0..=10"),
            },
            Step::Profile => EventKind::ProfileUpdated,
            Step::Check => EventKind::CheckDue,
        }
    }
}

fn any_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        2 => Just(Step::SignUp),
        3 => (1_000i64..200_000).prop_map(Step::Pay),
        2 => Just(Step::PayFailed),
        1 => Just(Step::Refund),
        1 => Just(Step::Cancel),
        1 => Just(Step::Renewal),
        1 => Just(Step::TrialEnding),
        6 => Just(Step::Login),
        2 => Just(Step::OnboardingDone),
        3 => Just(Step::Submitted),
        2 => Just(Step::Missed),
        3 => (1u32..7_200).prop_map(Step::Content),
        1 => Just(Step::Completed),
        2 => Just(Step::Ticket),
        2 => (0u8..=10).prop_map(Step::Nps),
        1 => Just(Step::Profile),
        8 => Just(Step::Check),
    ]
}

/// Activity-side events only: the ones whose arrival order must not matter.
fn activity_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        Just(Step::Login),
        Just(Step::OnboardingDone),
        Just(Step::Submitted),
        Just(Step::Missed),
        (1u32..7_200).prop_map(Step::Content),
        Just(Step::Ticket),
    ]
}

const START: &str = "2026-09-01T00:00:00Z";
/// Events spread over 60 days, in minutes.
const SPAN_MINUTES: i64 = 60 * 24 * 60;

/// The rules' `inactivity.max_event_age_days` (14), in minutes: activity this recent is never
/// dropped, whatever order it arrives in.
const RECENT_MINUTES: i64 = journey_domain::rules::DEFAULT_MAX_EVENT_AGE_DAYS as i64 * 24 * 60;

fn history() -> impl Strategy<Value = Vec<(i64, Step)>> {
    prop::collection::vec((0..SPAN_MINUTES, any_step()), 1..60)
}

fn events_of(script: &[(i64, Step)], events: &mut Events) -> Vec<Event> {
    script
        .iter()
        .map(|(minute, step)| {
            let at = t(START) + Duration::minutes(*minute);
            match step {
                Step::Check => events.check(at),
                other => events.at(at, other.kind()),
            }
        })
        .collect()
}

/// Applies events in the order given, the system's clock moving forward only; yields each
/// (state before, event, outcome).
fn replay(rules: &Rules, start: Customer, events: &[Event]) -> Vec<(Customer, Event, Outcome)> {
    let mut state = start;
    let mut clock: DateTime<Utc> = t(START);
    let mut steps = Vec::new();
    for e in events {
        clock = clock.max(e.occurred_at);
        let now = if e.kind == EventKind::CheckDue {
            e.occurred_at
        } else {
            clock
        };
        let outcome = apply(&state, e, rules, now).expect("event for this customer");
        steps.push((state.clone(), e.clone(), outcome.clone()));
        state = outcome.customer;
    }
    steps
}

fn final_state(rules: &Rules, start: Customer, events: &[Event]) -> Customer {
    replay(rules, start.clone(), events)
        .pop()
        .map_or(start, |(_, _, o)| o.customer)
}

/// Lifecycle order; moving to a lower rank is moving backwards, and leaving `churned` is too.
fn rank(stage: Option<Stage>) -> i32 {
    match stage {
        None => -1,
        Some(Stage::Trial) => 0,
        Some(Stage::Paid) => 1,
        Some(Stage::Onboarding) => 2,
        Some(Stage::Active) => 3,
        Some(Stage::Engaged) => 4,
        Some(Stage::Completed) => 5,
        Some(Stage::Churned) => 6,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_same_event_applied_twice_changes_nothing_the_second_time(
        script in history(),
        pick in any::<prop::sample::Index>(),
        delay in 0i64..10_000,
    ) {
        let rules = rules();
        let mut builder = Events::new("p1");
        let events = events_of(&script, &mut builder);
        let steps = replay(&rules, Customer::new(customer_id("p1")), &events);
        let last = steps.last().expect("at least one event").2.customer.clone();
        // any of the recent events, delivered again, later
        let recent = &events[events.len().saturating_sub(journey_domain::customer::RECENT_EVENTS)..];
        let again = &recent[pick.index(recent.len())];
        // delivered again after the system had seen every event (a redelivery comes later)
        let seen = events.iter().map(|e| e.occurred_at).max().expect("events");
        let now = seen.max(again.occurred_at) + Duration::minutes(delay);
        let outcome = apply(&last, again, &rules, now).expect("same customer");
        // applied before (a duplicate), or older than the bound both times (dropped, unkept)
        prop_assert!(outcome.duplicate || outcome.dropped.is_some());
        prop_assert_eq!(&outcome.customer, &last);
        prop_assert!(outcome.effects.is_empty() && outcome.history.is_empty() && outcome.tallies.is_empty());
    }

    #[test]
    fn shuffled_activity_gives_the_same_activity_data_and_risk(
        prefix in history(),
        // shuffled within the last RECENT_MINUTES of the span: within the age bound, so no
        // order drops one and not the other
        (activity, order) in prop::collection::vec((SPAN_MINUTES - RECENT_MINUTES..SPAN_MINUTES, activity_step()), 1..30)
            .prop_flat_map(|v| {
                let order: Vec<usize> = (0..v.len()).collect();
                (Just(v), Just(order).prop_shuffle())
            }),
    ) {
        let rules = rules();
        prop_assert!(i64::from(rules.policy(None).inactivity.max_event_age_days) * 24 * 60 >= RECENT_MINUTES);
        let mut builder = Events::new("p1");
        let before = final_state(&rules, Customer::new(customer_id("p1")), &events_of(&prefix, &mut builder));
        let in_order = events_of(&activity, &mut builder);
        let shuffled: Vec<Event> = order.iter().map(|&i| in_order[i].clone()).collect();
        let a = final_state(&rules, before.clone(), &in_order);
        let b = final_state(&rules, before, &shuffled);
        prop_assert_eq!(&a.activity, &b.activity);
        prop_assert_eq!(a.risk, b.risk);
        prop_assert_eq!(&a.progress, &b.progress);
    }

    #[test]
    fn an_event_older_than_the_last_stage_change_never_moves_the_stage_backwards(script in history()) {
        let rules = rules();
        let mut builder = Events::new("p1");
        let events = events_of(&script, &mut builder);
        for (before, event, outcome) in replay(&rules, Customer::new(customer_id("p1")), &events) {
            let stale = event.kind != EventKind::CheckDue
                && before.stage_changed_at.is_some_and(|t| event.occurred_at < t);
            if stale {
                let after = outcome.customer.stage;
                prop_assert!(
                    rank(after) >= rank(before.stage) && before.stage != Some(Stage::Churned) || after == before.stage,
                    "{:?} moved {:?} -> {:?}", event.kind, before.stage, after
                );
            }
        }
    }

    #[test]
    fn risk_escalates_only_through_due_checks_and_resets_only_on_activity(script in history()) {
        let rules = rules();
        let mut builder = Events::new("p1");
        let events = events_of(&script, &mut builder);
        for (before, event, outcome) in replay(&rules, Customer::new(customer_id("p1")), &events) {
            let after = &outcome.customer;
            if after.risk > before.risk {
                prop_assert_eq!(&event.kind, &EventKind::CheckDue);
            }
            if after.risk < before.risk {
                let terminal = after.stage.is_some_and(Stage::is_terminal);
                prop_assert!(
                    event.kind.is_activity() || terminal,
                    "{:?} lowered risk {:?} -> {:?}", event.kind, before.risk, after.risk
                );
                prop_assert!(after.risk == RiskLevel::None);
            }
        }
    }

    #[test]
    fn churned_is_left_only_by_a_new_successful_payment(script in history()) {
        let rules = rules();
        let mut builder = Events::new("p1");
        let events = events_of(&script, &mut builder);
        for (before, event, outcome) in replay(&rules, Customer::new(customer_id("p1")), &events) {
            if before.stage == Some(Stage::Churned) && outcome.customer.stage != Some(Stage::Churned) {
                let is_payment = matches!(event.kind, EventKind::PaymentSucceeded { .. });
                prop_assert!(is_payment, "{:?} revived a churned customer", event.kind);
                prop_assert!(before.stage_changed_at.is_some_and(|t| event.occurred_at >= t));
            }
        }
    }

    #[test]
    fn every_stage_or_risk_change_is_in_the_history(script in history()) {
        let rules = rules();
        let mut builder = Events::new("p1");
        let events = events_of(&script, &mut builder);
        for (before, _, outcome) in replay(&rules, Customer::new(customer_id("p1")), &events) {
            let after = &outcome.customer;
            let (mut stage, mut risk) = (before.stage, before.risk);
            for entry in &outcome.history {
                match &entry.change {
                    Change::Stage { from, to } => {
                        prop_assert_eq!(*from, stage);
                        stage = Some(*to);
                    }
                    Change::Risk { from, to } => {
                        prop_assert_eq!(*from, risk);
                        risk = *to;
                    }
                    Change::Note { .. } => {}
                }
            }
            prop_assert_eq!((stage, risk), (after.stage, after.risk));
        }
    }
}

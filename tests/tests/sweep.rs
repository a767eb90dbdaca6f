//! The sweep against the emulator: day-by-day simulated sweeps escalate exactly as the rules
//! say, only due customers are read, repeated sweeps plan nothing twice, and a run cut short by
//! its deadline leaves nobody behind.

use std::collections::BTreeMap;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use journey::domain::{EventKind, RiskLevel, Rules, Stage, Trigger};
use journey::messages::EventMessage;
use journey::ports::CustomerStore;
use journey::testing::{Events, customer_id, krw, t};
use journey_tests::stack::Stack;

const START: &str = "2026-11-01T09:00:00Z";

/// A customer paid on day 0 and last active on day `last_active`.
fn customer(n: u32, last_active: i64) -> Vec<EventMessage> {
    let mut events = Events::new(&format!("sweep-{n}"));
    let paid = t(START);
    let active = paid + Duration::days(last_active);
    vec![
        events.at(
            paid,
            EventKind::PaymentSucceeded {
                amount: krw(50_000),
                renews_at: None,
            },
        ),
        events.at(active, EventKind::AssignmentSubmitted),
    ]
    .into_iter()
    .map(|event| EventMessage {
        received_at: event.occurred_at,
        event,
    })
    .collect()
}

/// What the rules say after `days` of inactivity.
fn expected(days: i64) -> (Stage, RiskLevel) {
    let rules = Rules::embedded().expect("rules");
    let i = &rules.default_policy().inactivity;
    if days >= i64::from(i.churn_days) {
        (Stage::Churned, RiskLevel::None)
    } else {
        (Stage::Active, i.level_after(days as f64))
    }
}

async fn sweep_at(stack: &Stack, now: DateTime<Utc>) -> sweep::SweepReport {
    stack
        .sweep()
        .run(now, Instant::now() + StdDuration::from_secs(60))
        .await
        .expect("sweep")
}

#[tokio::test]
async fn daily_sweeps_escalate_exactly_as_the_rules_say() {
    let stack = Stack::new().await;
    let worker = stack.worker();
    let last_active: BTreeMap<u32, i64> = (0..6).map(|n| (n, i64::from(n))).collect();
    for (n, day) in &last_active {
        for m in customer(*n, *day) {
            let response = worker
                .handle_batch(journey_tests::stack::sqs_event(&[m]))
                .await;
            assert!(response.batch_item_failures.is_empty());
        }
    }
    for day in 1..=38 {
        let now = t(START) + Duration::days(day);
        let report = sweep_at(&stack, now).await;
        assert_eq!(
            report.items_read, report.customers_due,
            "only due customers are read"
        );
        assert!(report.complete);
        stack.settle(&worker).await;
        for (n, active_day) in &last_active {
            let c = stack
                .store
                .load(&customer_id(&format!("sweep-{n}")))
                .await
                .expect("load")
                .expect("exists");
            let quiet = (day - active_day).max(0);
            assert_eq!(
                (c.stage.expect("stage"), c.risk),
                expected(quiet),
                "customer {n} on day {day} ({quiet} days quiet)"
            );
        }
    }
    // one reminder, one offer, one consultation (+ alerts), one churn per customer: never twice
    let sent = stack.sent().await;
    let mut per_template: BTreeMap<String, usize> = BTreeMap::new();
    for i in &sent {
        *per_template
            .entry(format!("{}:{}", i.channel.as_str(), i.template))
            .or_default() += 1;
    }
    // … except to the customers in a message's control group (staff are alerted regardless)
    let rules = Rules::embedded().expect("rules");
    let reached = |trigger: Trigger| {
        let plan = &rules.default_policy().interventions[&trigger];
        (0..6)
            .filter(|n| !plan.holds_out(&customer_id(&format!("sweep-{n}")), trigger))
            .count()
    };
    for (template, expected) in [
        ("email:gentle_reminder", reached(Trigger::RiskCaution)),
        ("email:special_offer", reached(Trigger::RiskWarning)),
        ("email:consultation_invite", reached(Trigger::RiskDanger)),
        ("slack:danger_alert", 6),
    ] {
        assert_eq!(
            per_template.get(template),
            Some(&expected),
            "{template}: {per_template:?}"
        );
    }
    // the win-back registered at churn goes out 7 days later, for those churned early enough
    assert!(per_template.get("email:win_back").is_some_and(|n| *n >= 1));
}

#[tokio::test]
async fn a_repeated_sweep_for_the_same_time_plans_each_intervention_once() {
    let stack = Stack::new().await;
    let worker = stack.worker();
    for m in customer(1, 0) {
        worker
            .handle_batch(journey_tests::stack::sqs_event(&[m]))
            .await;
    }
    stack.sent().await; // the welcome e-mail
    let now = t(START) + Duration::days(7);
    let first = sweep_at(&stack, now).await;
    let second = sweep_at(&stack, now).await; // overlapping run, before any check is applied
    assert_eq!((first.checks_emitted, second.checks_emitted), (1, 1));
    stack.settle(&worker).await;
    let third = sweep_at(&stack, now).await; // replayed after the checks were applied
    assert_eq!(third.customers_due, 0, "the customer left the due index");
    stack.settle(&worker).await;
    let sent = stack.sent().await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].template, "gentle_reminder");
}

#[tokio::test]
async fn a_run_stopped_by_its_deadline_leaves_nobody_behind() {
    let stack = Stack::new().await;
    let worker = stack.worker();
    for n in 0..5 {
        for m in customer(n, 0) {
            worker
                .handle_batch(journey_tests::stack::sqs_event(&[m]))
                .await;
        }
    }
    let now = t(START) + Duration::days(8);
    let cut = stack.sweep().run(now, Instant::now()).await.expect("sweep");
    assert!(!cut.complete);
    assert_eq!(cut.checks_emitted, 0);
    let next = sweep_at(&stack, now + Duration::minutes(15)).await;
    assert!(next.complete);
    assert_eq!(next.checks_emitted, 5, "the next run continues");
    stack.settle(&worker).await;
    for n in 0..5 {
        let c = stack
            .store
            .load(&customer_id(&format!("sweep-{n}")))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(c.risk, RiskLevel::Caution);
    }
}

#[tokio::test]
async fn a_customer_active_again_during_the_sweep_is_not_escalated() {
    let stack = Stack::new().await;
    let worker = stack.worker();
    let mut events = Events::new("busy");
    for m in customer(9, 0) {
        worker
            .handle_batch(journey_tests::stack::sqs_event(&[m]))
            .await;
    }
    let now = t(START) + Duration::days(7);
    sweep_at(&stack, now).await; // the check is queued ...
    // ... and a login from just before the sweep is applied first
    let login = events.at(now - Duration::minutes(1), EventKind::Login);
    let login = journey::domain::Event {
        customer_id: customer_id("sweep-9"),
        ..login
    };
    let direct = worker
        .handle_batch(journey_tests::stack::sqs_event(&[EventMessage {
            received_at: now,
            event: login,
        }]))
        .await;
    assert!(direct.batch_item_failures.is_empty());
    stack.settle(&worker).await;
    let c = stack
        .store
        .load(&customer_id("sweep-9"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        c.risk,
        RiskLevel::None,
        "the check re-evaluated against fresh state"
    );
}

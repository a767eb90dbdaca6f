//! Winners chosen by the data, through the real write path: customers reach the warning e-mail
//! through the worker and the sweep, those who got variant `a` come back, and the calibration
//! job's allocation step reads the counters from the emulator and stores a rules version that
//! gives `a` the larger share, once.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use std::time::{Duration as StdDuration, Instant};

use calibrate::allocate::allocate;
use chrono::{DateTime, Duration, Utc};
use journey::domain::rules::DEFAULT_RULES_TOML;
use journey::domain::{Channel, EventKind, Trigger};
use journey::messages::EventMessage;
use journey::ports::RulesRegistry;
use journey::rules_versions::Origin;
use journey::testing::{Events, krw, t};
use journey_tests::stack::{Stack, sqs_event};

const START: &str = "2026-11-01T09:00:00Z";
const CUSTOMERS: u32 = 40;

fn message(event: journey::domain::Event) -> EventMessage {
    EventMessage {
        received_at: event.occurred_at,
        event,
    }
}

async fn sweep_at(stack: &Stack, now: DateTime<Utc>) {
    stack
        .sweep()
        .run(now, Instant::now() + StdDuration::from_secs(60))
        .await
        .expect("sweep");
}

#[tokio::test]
async fn the_calibration_job_allocates_the_variants_by_their_outcomes() {
    let stack = Stack::new().await;
    let worker = stack.worker();
    let mut customers: Vec<Events> = (0..CUSTOMERS)
        .map(|n| Events::new(&format!("alloc-{n}")))
        .collect();
    for events in &mut customers {
        let paid = events.at(
            t(START),
            EventKind::PaymentSucceeded {
                amount: krw(50_000),
                renews_at: None,
            },
        );
        let failures = worker.handle_batch(sqs_event(&[message(paid)])).await;
        assert!(failures.batch_item_failures.is_empty());
    }
    // quiet for 7 days (caution), then 10 (warning)
    for day in [7, 10] {
        sweep_at(&stack, t(START) + Duration::days(day) + Duration::hours(1)).await;
        stack.settle(&worker).await;
    }
    let offers: Vec<_> = stack
        .sent()
        .await
        .into_iter()
        .filter(|i| i.trigger == Trigger::RiskWarning && i.channel == Channel::Email)
        .collect();
    assert!(
        offers.len() >= 30,
        "most customers got the offer: {}",
        offers.len()
    );
    // whoever got variant `a` comes back the next day; `b` does not
    let back = t(START) + Duration::days(11);
    for offer in offers.iter().filter(|i| i.variant.as_deref() == Some("a")) {
        let n: usize = offer.customer_id.as_str()["alloc-".len()..]
            .parse()
            .unwrap();
        let login = customers[n].at(back, EventKind::Login);
        worker.handle_batch(sqs_event(&[message(login)])).await;
    }
    stack.settle(&worker).await;

    // once November's assignments have all had their 30 days
    let now = t("2027-01-01T00:00:00Z");
    let done = allocate(&stack.store, DEFAULT_RULES_TOML, now, false)
        .await
        .expect("allocate");
    let number = done.stored.expect("a version stored");
    let active = stack.store.active_rules().await.unwrap().expect("active");
    assert_eq!(active.version.number, number);
    assert_eq!(active.version.origin, Origin::Allocated);
    assert!(
        active.version.note.contains("special_offer a"),
        "{}",
        done.message
    );
    let rules = active.version.rules(DEFAULT_RULES_TOML).expect("rules");
    let plan = &rules.default_policy().interventions[&Trigger::RiskWarning];
    assert!(plan.allocation["a"] > 0.99, "{:?}", plan.allocation);
    assert!(
        plan.shares(0.1).unwrap()[1] >= 0.1,
        "b keeps the exploration floor"
    );

    // nothing new since: no new version
    let again = allocate(&stack.store, DEFAULT_RULES_TOML, now, false)
        .await
        .expect("allocate");
    assert_eq!(again.stored, None, "{}", again.message);
    // switched off by the rules
    let off = DEFAULT_RULES_TOML.replace("adaptive = true", "adaptive = false");
    let never = allocate(&stack.store, &off, now, false)
        .await
        .expect("allocate");
    assert_eq!(never.stored, None);
    assert!(never.message.contains("off"), "{}", never.message);
}

//! Fuzzed queue message bodies: what the transition worker (an `EventMessage`) and the
//! senders (an `Intervention`) decode. Never a panic; what decodes is valid (ids checked) and
//! round-trips; what does not is a decode error, which the workers report as permanent (the
//! message goes to the DLQ after its receives, and its batch's other messages go on).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test: a panic is its failure report"
)]

use journey::domain::{Effect, EventKind, Intervention, Rules, apply};
use journey::fuzz::{config, mutated, raw_body};
use journey::messages::EventMessage;
use journey::testing::{Events, krw, t};
use proptest::prelude::*;
use serde_json::Value;

fn message() -> Value {
    let mut events = Events::new("cust-1");
    let mut e = events.at(t("2026-11-02T09:00:00Z"), EventKind::paid(krw(9_900)));
    e.profile.email = Some("a@example.com".into());
    e.profile.time_zone = Some("Asia/Seoul".into());
    serde_json::to_value(EventMessage {
        received_at: e.occurred_at,
        event: e,
    })
    .unwrap()
}

fn intervention() -> Value {
    let mut events = Events::new("cust-1");
    let pay = events.at(t("2026-11-02T09:00:00Z"), EventKind::paid(krw(9_900)));
    let rules = Rules::embedded().unwrap();
    let outcome = apply(
        &journey::domain::Customer::new(pay.customer_id.clone()),
        &pay,
        &rules,
        pay.occurred_at,
    )
    .unwrap();
    let sent = outcome
        .effects
        .into_iter()
        .find_map(|e| match e {
            Effect::Send(i) => Some(i),
            _ => None,
        })
        .expect("a welcome message");
    serde_json::to_value(sent).unwrap()
}

fn body(valid: Value) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => raw_body(),
        4 => mutated(valid).prop_map(|v| v.to_string().into_bytes()),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn event_messages(body in body(message())) {
        if let Ok(m) = serde_json::from_slice::<EventMessage>(&body) {
            let again: EventMessage = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
            prop_assert_eq!(again, m);
        }
    }

    #[test]
    fn intervention_messages(body in body(intervention())) {
        if let Ok(i) = serde_json::from_slice::<Intervention>(&body) {
            let again: Intervention = serde_json::from_str(&serde_json::to_string(&i).unwrap()).unwrap();
            prop_assert_eq!(again, i);
        }
    }
}

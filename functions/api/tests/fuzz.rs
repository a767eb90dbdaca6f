//! Fuzzed read-API parameters: the list's filters, numbers and cursors, the history's page,
//! customer ids in the path. Never a panic; a refusal is a 400 naming the parameter.

use api::caller::{Caller, Staff};
use api::query::{customer_id, history_query, list_query, note, search_text};
use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use journey::fuzz::{config, is_clear_refusal, mutated, nasty_string, raw_body};
use journey::http::Incoming;
use journey::testing::t;
use proptest::prelude::*;

const NAMES: &[&str] = &[
    "risk",
    "stage",
    "order",
    "limit",
    "cursor",
    "program",
    "owner",
    "history_limit",
    "history_cursor",
    "q",
    "x",
];

fn callers() -> [Caller; 2] {
    [
        Caller::Key {
            id: "key:0123abcd".into(),
            scope: api::roles::KeyScope::Read,
        },
        Caller::Staff(Staff {
            id: "mina@example.com".into(),
            name: None,
            role: Some(api::roles::Role::Agent),
        }),
    ]
}

fn query() -> impl Strategy<Value = String> {
    prop::collection::vec((prop::sample::select(NAMES), nasty_string()), 0..6).prop_map(|pairs| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (name, value) in pairs {
            q.append_pair(name, &value);
        }
        q.finish()
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn list_and_history_parameters(q in prop_oneof![query(), nasty_string()]) {
        let mut r = ApiGatewayV2httpRequest::default();
        r.raw_query_string = Some(q);
        let incoming = Incoming::from_request(&r, t("2026-11-02T09:00:00Z")).unwrap();
        let [key, staff] = callers();
        for result in [
            list_query(&incoming, &key).map(|_| ()),
            list_query(&incoming, &staff).map(|_| ()),
            history_query(&incoming).map(|_| ()),
            search_text(&incoming).map(|_| ()),
        ] {
            if let Err(e) = result {
                prop_assert!(is_clear_refusal(&e).is_ok(), "{:?}", is_clear_refusal(&e));
                let field = e.field.clone().unwrap_or_default();
                prop_assert!(NAMES.contains(&field.as_str()), "{field}");
            }
        }
    }

    #[test]
    fn staff_notes(body in prop_oneof![
        raw_body(),
        mutated(serde_json::json!({"author": "tutor-7", "channel": "phone", "outcome": "saved"}))
            .prop_map(|v| v.to_string().into_bytes()),
    ]) {
        for caller in callers() {
            match note(&body, caller.staff()) {
                Ok(journey::domain::EventKind::StaffNote { author, .. }) => {
                    prop_assert!(!author.is_empty() && author.chars().count() <= 128);
                    if let Some(staff) = caller.staff() {
                        prop_assert_eq!(&author, &staff.id, "staff write as themselves");
                    }
                }
                Ok(other) => prop_assert!(false, "{other:?}"),
                Err(e) => prop_assert!(is_clear_refusal(&e).is_ok(), "{:?}", is_clear_refusal(&e)),
            }
        }
    }

    #[test]
    fn customer_ids_in_the_path(id in nasty_string()) {
        if let Err(e) = customer_id(&id) {
            prop_assert!(is_clear_refusal(&e).is_ok(), "{:?}", is_clear_refusal(&e));
            prop_assert_eq!(e.field.as_deref(), Some("id"));
        }
    }
}

//! The app's event types are named once: the domain's `EventKind` names them, the app's
//! `type` field is the same name, and the OpenAPI document lists exactly those.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test: a panic is its failure report"
)]

use ingest::app::{AppType, parse};
use journey::testing::t;
use serde_json::json;
use strum::VariantNames;

#[test]
fn each_app_type_becomes_the_domain_event_of_the_same_name() {
    for name in AppType::VARIANTS {
        let body = json!({
            "type": name,
            "customer_id": "cust-1",
            "occurred_at": "2026-11-02T08:59:30Z",
            "seconds": (*name == "content_viewed").then_some(60),
            "score": (*name == "nps_response").then_some(9),
        });
        let body = serde_json::to_vec(&body).unwrap();
        let events = parse(&body, "msg_1", t("2026-11-02T09:00:00Z"))
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(events[0].kind.name(), *name);
    }
}

#[test]
fn the_openapi_document_lists_exactly_the_app_types() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/openapi.yaml"
    ))
    .unwrap();
    let doc: serde_json::Value = serde_norway::from_str(&text).unwrap();
    let listed = &doc["components"]["schemas"]["AppType"]["enum"];
    assert_eq!(listed, &json!(AppType::VARIANTS));
}

//! Fuzzed parsers of everything ingestion takes from outside: Stripe, Toss, PortOne and app
//! bodies (from nothing and from a valid body with a part broken), the providers' payments
//! read back, the signature headers and the unsubscribe link. Never a panic; a refusal is a
//! 4xx with a code, naming the field when a field is wrong; in an app batch, only the broken
//! event is named and nothing valid is lost. `FUZZ_CASES` cases each (`make fuzz`: 100,000).

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use chrono::{DateTime, Utc};
use http::{HeaderName, HeaderValue};
use ingest::signature::{StandardKeys, StripeSecrets, verify_standard, verify_stripe};
use ingest::{app, portone, stripe, toss, unsubscribe};
use journey::fuzz::{config, is_clear_refusal, json_value, mutated_any, nasty_string, raw_body};
use journey::http::Incoming;
use journey::testing::t;
use proptest::prelude::*;
use serde_json::{Value, json};

const NOW: &str = "2026-11-02T09:00:00Z";

fn now() -> DateTime<Utc> {
    t(NOW)
}

/// One valid Stripe event of every type the mapping reads.
fn stripe_bodies() -> Vec<Value> {
    let object = json!({
        "object": "invoice", "customer": "cus_1", "customer_email": "kim@example.com",
        "amount_paid": 37_400, "amount_due": 37_400, "amount_total": 37_400, "currency": "krw",
        "metadata": {"customer_id": "cust-1"}, "client_reference_id": "cust-1",
        "mode": "subscription", "payment_status": "paid",
        "refunds": {"data": [{"reason": "requested_by_customer", "amount": 100}]},
        "amount": 5_000, "amount_refunded": 100, "refunded": false,
        "cancellation_details": {"feedback": "too_expensive", "reason": "cancellation_requested"},
        "trial_end": 1_794_000_000, "next_payment_attempt": 1_794_000_000,
        "parent": {"subscription_details": {"metadata": {"customer_id": "cust-1"}}}
    });
    [
        "invoice.paid",
        "invoice.payment_failed",
        "charge.refunded",
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "customer.subscription.deleted",
        "customer.subscription.trial_will_end",
        "invoice.upcoming",
        "customer.created",
    ]
    .iter()
    .map(|kind| {
        json!({"id": "evt_1", "object": "event", "type": kind, "created": 1_793_000_000,
               "data": {"object": object, "previous_attributes": {"amount_refunded": 0}}})
    })
    .collect()
}

/// A status change and a virtual-account deposit callback.
fn toss_webhooks() -> Vec<Value> {
    let mut out: Vec<Value> = [
        "DONE",
        "CANCELED",
        "PARTIAL_CANCELED",
        "ABORTED",
        "WAITING_FOR_DEPOSIT",
    ]
    .iter()
    .map(|status| {
        json!({"eventType": "PAYMENT_STATUS_CHANGED", "createdAt": "2026-11-02T18:00:01.000000",
                   "data": {"paymentKey": "tgen_20261102abc", "status": status}})
    })
    .collect();
    out.push(
        json!({"createdAt": "2026-11-02T18:00:01.000000", "secret": "ps_x",
                    "status": "DONE", "transactionKey": "tx", "orderId": "order-1"}),
    );
    out
}

fn toss_payments() -> Vec<Value> {
    ["DONE", "CANCELED", "PARTIAL_CANCELED", "ABORTED", "EXPIRED", "READY"]
        .iter()
        .map(|status| {
            json!({
                "paymentKey": "tgen_20261102abc", "orderId": "order-1", "status": status,
                "lastTransactionKey": "txrd_1", "currency": "KRW", "totalAmount": 49_000,
                "approvedAt": "2026-11-02T18:00:00+09:00", "secret": "ps_x", "customerKey": "ck-1",
                "metadata": {"customer_id": "cust-7", "email": "a@example.com", "locale": "ko"},
                "cancels": [{"cancelReason": "변심", "cancelAmount": 9_000, "canceledAt": "2026-11-03T10:00:00+09:00"}]
            })
        })
        .collect()
}

fn portone_webhooks() -> Vec<Value> {
    ["Transaction.Paid", "Transaction.Cancelled", "Transaction.PartialCancelled", "Transaction.Failed", "Transaction.Ready"]
        .iter()
        .map(|kind| {
            json!({"type": kind, "timestamp": "2026-11-02T09:00:00Z",
                   "data": {"paymentId": "pay-1", "storeId": "store-x", "transactionId": "tx-1", "cancellationId": "c-1"}})
        })
        .collect()
}

fn portone_payments() -> Vec<Value> {
    ["PAID", "CANCELLED", "PARTIAL_CANCELLED", "FAILED"]
        .iter()
        .map(|status| {
            json!({
                "status": status, "id": "pay-1", "transactionId": "tx-1", "storeId": "store-x",
                "amount": {"total": 59_000, "paid": 59_000, "cancelled": 0}, "currency": "KRW",
                "customer": {"id": "portone-cust", "email": "b@example.com"},
                "customData": "{\"customer_id\":\"cust-8\"}", "paidAt": "2026-11-02T09:00:00Z",
                "cancelledAt": "2026-11-05T09:00:00Z", "failedAt": "2026-11-02T08:00:00Z",
                "cancellations": [{"id": "c-1", "reason": "불만족", "totalAmount": 1_000, "cancelledAt": "2026-11-05T09:00:00Z"}]
            })
        })
        .collect()
}

/// Every app event type, with its own fields and a full profile.
fn app_events(i: usize) -> Vec<Value> {
    let profile = json!({"customer_id": format!("cust-{i}"), "occurred_at": NOW,
        "email": "a@example.com", "locale": "ko", "time_zone": "Asia/Seoul", "program": "piano",
        "owner": {"id": "tutor-7", "name": "박서연", "slack_id": "U0T7"}});
    [
        json!({"type": "signed_up", "plan": "trial"}),
        json!({"type": "login"}),
        json!({"type": "onboarding_completed"}),
        json!({"type": "assignment_submitted"}),
        json!({"type": "assignment_missed"}),
        json!({"type": "content_viewed", "seconds": 60}),
        json!({"type": "program_completed"}),
        json!({"type": "support_ticket"}),
        json!({"type": "nps_response", "score": 4}),
        json!({"type": "refund_requested", "reason": "busy"}),
        json!({"type": "profile_updated", "id": "own-1"}),
    ]
    .into_iter()
    .map(|mut v| {
        for (k, value) in profile.as_object().into_iter().flatten() {
            v[k] = value.clone();
        }
        v
    })
    .collect()
}

fn app_event(i: usize) -> Value {
    app_events(i).swap_remove(i % 11)
}

fn bytes(v: &Value) -> Vec<u8> {
    v.to_string().into_bytes()
}

/// A body: nothing like JSON, any JSON, or a valid one with a part broken.
fn body_from(valid: Vec<Value>) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => raw_body(),
        4 => mutated_any(valid).prop_map(|v| bytes(&v)),
    ]
}

fn request(
    headers: &[(String, String)],
    query: &str,
    body: &[u8],
) -> Option<ApiGatewayV2httpRequest> {
    let mut r = ApiGatewayV2httpRequest::default();
    r.raw_query_string = Some(query.to_string());
    r.request_context.time_epoch = now().timestamp_millis();
    for (name, value) in headers {
        r.headers.insert(
            HeaderName::from_bytes(name.as_bytes()).ok()?,
            HeaderValue::from_str(value).ok()?,
        );
    }
    r.body = Some(String::from_utf8(body.to_vec()).ok()?);
    Some(r)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn stripe_events(body in body_from(stripe_bodies())) {
        if let Err(e) = stripe::map(&body) {
            prop_assert!(is_clear_refusal(&e).is_ok(), "{:?}", is_clear_refusal(&e));
        }
    }

    #[test]
    fn toss_webhooks_and_payments(body in body_from(toss_webhooks()), payment in mutated_any(toss_payments())) {
        match toss::parse(&body) {
            Err(e) => prop_assert!(is_clear_refusal(&e).is_ok(), "{:?}", is_clear_refusal(&e)),
            Ok(Err(_ignored)) => {}
            Ok(Ok(claim)) => {
                for segment in claim.path() {
                    prop_assert!(!segment.contains("..") && !segment.contains('/'), "{segment}");
                }
                if let Err(e) = toss::confirm(&claim, &payment, now()) {
                    prop_assert!(is_clear_refusal(&e).is_ok(), "{:?}", is_clear_refusal(&e));
                }
            }
        }
    }

    #[test]
    fn portone_webhooks_and_payments(body in body_from(portone_webhooks()), payment in mutated_any(portone_payments())) {
        match portone::parse(&body) {
            Err(e) => prop_assert!(is_clear_refusal(&e).is_ok(), "{:?}", is_clear_refusal(&e)),
            Ok(Err(_ignored)) => {}
            Ok(Ok(claim)) => {
                prop_assert!(!claim.payment_id.contains("..") && !claim.payment_id.contains('/'));
                if let Err(e) = portone::confirm(&claim, &payment, now()) {
                    prop_assert!(is_clear_refusal(&e).is_ok(), "{:?}", is_clear_refusal(&e));
                }
            }
        }
    }

    #[test]
    fn app_bodies(body in body_from(app_events(0)), webhook_id in nasty_string()) {
        if let Err(e) = app::parse(&body, &webhook_id, now()) {
            prop_assert!(is_clear_refusal(&e).is_ok(), "{:?}", is_clear_refusal(&e));
        }
    }

    /// A batch with one broken event: refused naming that event (`[k].…`), or accepted whole;
    /// never a valid event named, never one lost.
    #[test]
    fn app_batches_name_only_the_broken_event(
        size in 1usize..20,
        broken in any::<prop::sample::Index>(),
        replacement in mutated_any(app_events(0)),
    ) {
        let k = broken.index(size);
        let mut batch: Vec<Value> = (0..size).map(app_event).collect();
        batch[k] = replacement;
        match app::parse(&bytes(&Value::Array(batch)), "msg_1", now()) {
            Ok(events) => prop_assert_eq!(events.len(), size),
            Err(e) => {
                prop_assert!(is_clear_refusal(&e).is_ok(), "{:?}", is_clear_refusal(&e));
                if let Some(field) = &e.field {
                    prop_assert!(field.starts_with(&format!("[{k}]")), "{field} for event {k}");
                }
            }
        }
    }

    #[test]
    fn stripe_signature_headers(header in nasty_string(), body in raw_body()) {
        let secrets = StripeSecrets::new(&["whsec_dGhpcyBpcyBhIHRlc3Qgc2VjcmV0IGtleQ==".to_string()]).unwrap();
        let headers = [("stripe-signature".to_string(), header)];
        if let Some(r) = request(&headers, "", &body) {
            let incoming = Incoming::from_request(&r, now()).unwrap();
            let e = verify_stripe(&incoming, &secrets).expect_err("nothing here is signed");
            prop_assert!(is_clear_refusal(&e).is_ok(), "{:?}", is_clear_refusal(&e));
        }
    }

    #[test]
    fn standard_webhook_headers(
        id in nasty_string(),
        timestamp in prop_oneof![nasty_string(), any::<i64>().prop_map(|n| n.to_string())],
        signature in nasty_string(),
        body in raw_body(),
    ) {
        let keys = StandardKeys::new(&["whsec_dGhpcyBpcyBhIHRlc3Qgc2VjcmV0IGtleQ==".to_string()]).unwrap();
        let headers = [
            ("webhook-id".to_string(), id),
            ("webhook-timestamp".to_string(), timestamp),
            ("webhook-signature".to_string(), signature),
        ];
        if let Some(r) = request(&headers, "", &body) {
            let incoming = Incoming::from_request(&r, now()).unwrap();
            let e = verify_standard(&incoming, &keys).expect_err("nothing here is signed");
            prop_assert!(is_clear_refusal(&e).is_ok(), "{:?}", is_clear_refusal(&e));
        }
    }

    #[test]
    fn unsubscribe_links(c in nasty_string(), token in nasty_string(), extra in json_value()) {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("c", &c)
            .append_pair("t", &token)
            .append_pair("x", &extra.to_string())
            .finish();
        if let Some(r) = request(&[], &query, b"") {
            let incoming = Incoming::from_request(&r, now()).unwrap();
            let e = unsubscribe::verify(&incoming, &[b"a key".to_vec()]).expect_err("no valid token");
            prop_assert!(is_clear_refusal(&e).is_ok(), "{:?}", is_clear_refusal(&e));
        }
    }
}

/// The fuzzing reaches the mappings, not only their first check: of broken valid bodies, a
/// good share still becomes an event (and the rest is refused or ignored).
#[test]
fn broken_valid_bodies_still_reach_the_mappings() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = mutated_any(stripe_bodies());
    let mapped = (0..500)
        .filter(|_| {
            let body = bytes(&strategy.new_tree(&mut runner).unwrap().current());
            matches!(stripe::map(&body), Ok(ingest::mapping::Mapped::Event(_)))
        })
        .count();
    assert!(mapped > 100, "only {mapped} of 500 became events");
    let strategy = mutated_any(app_events(0));
    let parsed = (0..500)
        .filter(|_| {
            let body = bytes(&strategy.new_tree(&mut runner).unwrap().current());
            app::parse(&body, "msg", now()).is_ok()
        })
        .count();
    assert!(parsed > 100, "only {parsed} of 500 parsed");
}

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
use journey::fuzz::{config, is_clear_refusal, json_value, mutated, nasty_string, raw_body};
use journey::http::Incoming;
use journey::testing::t;
use proptest::prelude::*;
use serde_json::{Value, json};

const NOW: &str = "2026-11-02T09:00:00Z";

fn now() -> DateTime<Utc> {
    t(NOW)
}

fn stripe_body() -> Value {
    json!({
        "id": "evt_1", "object": "event", "type": "invoice.paid", "created": 1_793_000_000,
        "data": {"object": {
            "object": "invoice", "customer": "cus_1", "customer_email": "kim@example.com",
            "amount_paid": 37_400, "currency": "krw", "metadata": {"customer_id": "cust-1"},
            "refunds": {"data": [{"reason": "requested_by_customer", "amount": 100}]},
            "amount": 5_000, "amount_refunded": 100, "refunded": false
        }, "previous_attributes": {"amount_refunded": 0}}
    })
}

fn toss_webhook() -> Value {
    json!({"eventType": "PAYMENT_STATUS_CHANGED", "createdAt": "2026-11-02T18:00:01.000000",
           "data": {"paymentKey": "tgen_20261102abc", "status": "DONE"}})
}

fn toss_payment() -> Value {
    json!({
        "paymentKey": "tgen_20261102abc", "orderId": "order-1", "status": "DONE",
        "lastTransactionKey": "txrd_1", "currency": "KRW", "totalAmount": 49_000,
        "approvedAt": "2026-11-02T18:00:00+09:00", "secret": "ps_x",
        "metadata": {"customer_id": "cust-7", "email": "a@example.com"},
        "cancels": [{"cancelReason": "변심", "cancelAmount": 9_000, "canceledAt": "2026-11-03T10:00:00+09:00"}]
    })
}

fn portone_webhook() -> Value {
    json!({"type": "Transaction.Paid", "timestamp": "2026-11-02T09:00:00Z",
           "data": {"paymentId": "pay-1", "storeId": "store-x", "transactionId": "tx-1"}})
}

fn portone_payment() -> Value {
    json!({
        "status": "PAID", "id": "pay-1", "transactionId": "tx-1", "storeId": "store-x",
        "amount": {"total": 59_000, "paid": 59_000, "cancelled": 0}, "currency": "KRW",
        "customer": {"id": "portone-cust", "email": "b@example.com"},
        "customData": "{\"customer_id\":\"cust-8\"}", "paidAt": "2026-11-02T09:00:00Z",
        "cancellations": [{"id": "c-1", "reason": "불만족", "totalAmount": 1_000, "cancelledAt": "2026-11-05T09:00:00Z"}]
    })
}

fn app_event(i: usize) -> Value {
    json!({"type": "content_viewed", "customer_id": format!("cust-{i}"), "occurred_at": NOW,
           "seconds": 60, "email": "a@example.com", "locale": "ko", "time_zone": "Asia/Seoul",
           "program": "piano", "owner": {"id": "tutor-7", "name": "박서연", "slack_id": "U0T7"}})
}

fn bytes(v: &Value) -> Vec<u8> {
    v.to_string().into_bytes()
}

/// A body: nothing like JSON, any JSON, or the valid one with a part broken.
fn body_from(valid: Value) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => raw_body(),
        4 => mutated(valid).prop_map(|v| bytes(&v)),
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
    fn stripe_bodies(body in body_from(stripe_body())) {
        if let Err(e) = stripe::map(&body) {
            prop_assert!(is_clear_refusal(&e).is_ok(), "{:?}", is_clear_refusal(&e));
        }
    }

    #[test]
    fn toss_webhooks_and_payments(body in body_from(toss_webhook()), payment in mutated(toss_payment())) {
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
    fn portone_webhooks_and_payments(body in body_from(portone_webhook()), payment in mutated(portone_payment())) {
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
    fn app_bodies(body in body_from(app_event(0)), webhook_id in nasty_string()) {
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
        replacement in mutated(app_event(0)),
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

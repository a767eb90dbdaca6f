//! The ingestion handler end to end over an in-memory queue: the published vectors, signatures
//! made by a third-party signer, every error response, and the `events/` fixtures.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test: a panic is its failure report"
)]

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use http::{HeaderName, HeaderValue, Method};
use ingest::signature::{StandardKeys, StripeSecrets};
use ingest::{Ingest, WebhookKeys};
use journey::domain::{EventKind, Source};
use journey::testing::{MemoryQueue, t};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const NOW: &str = "2026-11-02T09:00:00Z";

/// A fresh `whsec_` secret for one test: no secret lives in the repository.
fn generated_secret(label: &str) -> String {
    let seed = format!("{label}/{:?}", std::time::SystemTime::now());
    format!(
        "whsec_{}",
        STANDARD.encode(&Sha256::digest(seed.as_bytes())[..24])
    )
}

/// Our own Stripe signer, checked against Stripe's published vector below.
fn stripe_header(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

fn standard_signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    standardwebhooks::Webhook::new(secret)
        .expect("valid secret")
        .sign(id, timestamp, body)
        .expect("utf-8 body")
}

fn request(
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    now: DateTime<Utc>,
) -> ApiGatewayV2httpRequest {
    let mut r = ApiGatewayV2httpRequest::default();
    r.raw_path = Some(path.to_string());
    r.route_key = Some(format!("POST {path}"));
    r.request_context.http.method = Method::POST;
    r.request_context.time_epoch = now.timestamp_millis();
    r.request_context.request_id = Some("test-request".into());
    for (name, value) in headers {
        r.headers.insert(
            HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_str(value).expect("header value"),
        );
    }
    r.body = Some(String::from_utf8(body.to_vec()).expect("utf-8 body"));
    r
}

struct Harness {
    ingest: Ingest<MemoryQueue>,
    stripe_secret: String,
    app_secret: String,
}

impl Harness {
    fn new() -> Self {
        let stripe_secret = generated_secret("stripe");
        let app_secret = generated_secret("app");
        Self::with(
            vec![generated_secret("old-stripe"), stripe_secret.clone()],
            vec![app_secret.clone()],
            stripe_secret,
            app_secret,
        )
    }

    fn with(
        stripe: Vec<String>,
        app: Vec<String>,
        stripe_secret: String,
        app_secret: String,
    ) -> Self {
        let keys = WebhookKeys::new(
            Some(StripeSecrets::new(&stripe).expect("stripe secrets")),
            Some(StandardKeys::new(&app).expect("app keys")),
        );
        Harness {
            ingest: Ingest::new(MemoryQueue::default(), keys),
            stripe_secret,
            app_secret,
        }
    }

    fn queue(&self) -> &MemoryQueue {
        self.ingest.queue()
    }

    async fn stripe(
        &self,
        body: &[u8],
        signed_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> (u16, Value) {
        let header = stripe_header(&self.stripe_secret, signed_at.timestamp(), body);
        self.send(request(
            "/webhooks/stripe",
            &[
                ("content-type", "application/json; charset=utf-8"),
                ("stripe-signature", &header),
            ],
            body,
            now,
        ))
        .await
    }

    async fn app(
        &self,
        body: &[u8],
        id: &str,
        signed_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> (u16, Value) {
        let signature = standard_signature(&self.app_secret, id, signed_at.timestamp(), body);
        let ts = signed_at.timestamp().to_string();
        self.send(request(
            "/events",
            &[
                ("content-type", "application/json"),
                ("webhook-id", id),
                ("webhook-timestamp", &ts),
                ("webhook-signature", &signature),
            ],
            body,
            now,
        ))
        .await
    }

    async fn send(&self, request: ApiGatewayV2httpRequest) -> (u16, Value) {
        parse(self.ingest.handle(request).await)
    }
}

fn parse(response: ApiGatewayV2httpResponse) -> (u16, Value) {
    let body = match response.body {
        Some(Body::Text(text)) => serde_json::from_str(&text).expect("JSON body"),
        other => panic!("unexpected body {other:?}"),
    };
    (response.status_code as u16, body)
}

fn error_of(body: &Value) -> (&str, Option<&str>) {
    (
        body["error"]["code"].as_str().unwrap_or_default(),
        body["error"]["field"].as_str(),
    )
}

fn stripe_event(kind: &str, object: Value) -> Vec<u8> {
    json!({
        "id": "evt_1Pgc76B7WZ01zgkWwyRHS12y",
        "object": "event",
        "type": kind,
        "created": t(NOW).timestamp() - 30,
        "data": {"object": object},
    })
    .to_string()
    .into_bytes()
}

fn paid_invoice() -> Value {
    json!({
        "object": "invoice", "customer": "cus_QXg1o8vcGmoR32", "customer_email": "kim@example.com",
        "amount_paid": 37400, "amount_due": 37400, "currency": "krw",
        "metadata": {"customer_id": "cust-1001"}
    })
}

// ---- vectors ----------------------------------------------------------------------------

#[test]
fn our_stripe_signer_reproduces_stripes_published_vector() {
    let header = stripe_header(
        "whsec_test_secret",
        1_700_000_000,
        br#"{"id":"evt_test_webhook","object":"event"}"#,
    );
    assert_eq!(
        header,
        "t=1700000000,v1=d95c6b7477fbd7e9f90b1b0ef5f9c7ac25abca5382460e0d988c2b2a5b71b990"
    );
}

#[tokio::test]
async fn stripes_published_vector_verifies() {
    let h = Harness::with(
        vec!["whsec_test_secret".into()],
        vec![generated_secret("app")],
        "whsec_test_secret".into(),
        String::new(),
    );
    let body = br#"{"id":"evt_test_webhook","object":"event"}"#;
    let now = DateTime::from_timestamp(1_700_000_100, 0).unwrap();
    let (status, body) = h
        .send(request(
            "/webhooks/stripe",
            &[
                ("content-type", "application/json"),
                ("stripe-signature", "t=1700000000,v1=d95c6b7477fbd7e9f90b1b0ef5f9c7ac25abca5382460e0d988c2b2a5b71b990"),
            ],
            body,
            now,
        ))
        .await;
    // verified; the body has no type or data, so it is malformed for mapping, not for signing
    assert_eq!(status, 400, "{body}");
    assert_eq!(error_of(&body).0, "malformed_json");
}

#[tokio::test]
async fn standard_webhooks_published_vectors_verify() {
    let vectors = [
        (
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330_i64,
            r#"{"test": 2432232314}"#,
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ),
        (
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1_649_367_553,
            r#"{"email":"test@example.com","username":"test_user"}"#,
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=",
        ),
    ];
    for (secret, id, ts, body, signature) in vectors {
        let h = Harness::with(
            vec![generated_secret("s")],
            vec![secret.into()],
            String::new(),
            secret.into(),
        );
        let now = DateTime::from_timestamp(ts + 10, 0).unwrap();
        let (status, response) = h
            .send(request(
                "/events",
                &[
                    ("content-type", "application/json"),
                    ("webhook-id", id),
                    ("webhook-timestamp", &ts.to_string()),
                    ("webhook-signature", &format!("v1,bm90LWl0 {signature}")),
                ],
                body.as_bytes(),
                now,
            ))
            .await;
        // the signature is accepted; the vector bodies are not Journey events
        assert_eq!(status, 400, "{response}");
        assert_ne!(error_of(&response).0, "bad_signature");
    }
}

// ---- Stripe ----------------------------------------------------------------------------

#[tokio::test]
async fn a_paid_invoice_is_queued_as_a_payment_for_the_metadata_customer() {
    let h = Harness::new();
    let (status, body) = h
        .stripe(
            &stripe_event("invoice.paid", paid_invoice()),
            t(NOW),
            t(NOW),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["queued"],
        json!(["stripe:evt_1Pgc76B7WZ01zgkWwyRHS12y"])
    );
    let messages = h.queue().taken();
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m.event.customer_id.as_str(), "cust-1001");
    assert_eq!(m.event.source, Source::Stripe);
    assert_eq!(m.received_at, t(NOW));
    assert_eq!(m.event.profile.email.as_deref(), Some("kim@example.com"));
    match &m.event.kind {
        EventKind::PaymentSucceeded { amount, .. } => {
            assert_eq!((amount.amount, amount.currency.as_str()), (37400, "KRW"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(m.group_id(), "cust-1001");
}

#[tokio::test]
async fn a_subscription_invoice_names_the_renewal_date_and_a_one_off_invoice_none() {
    let period_end = 1_796_000_000;
    let mut renewal = paid_invoice();
    renewal["billing_reason"] = json!("subscription_cycle");
    renewal["lines"] = json!({"data": [{"period": {"start": 1_793_400_000, "end": period_end}}]});
    let mut one_off = renewal.clone();
    one_off["billing_reason"] = json!("manual");
    let h = Harness::new();
    for (invoice, expected) in [
        (renewal, DateTime::from_timestamp(period_end, 0)),
        (one_off, None),
    ] {
        let (status, body) = h
            .stripe(&stripe_event("invoice.paid", invoice), t(NOW), t(NOW))
            .await;
        assert_eq!(status, 200, "{body}");
        let messages = h.queue().taken();
        match &messages[0].event.kind {
            EventKind::PaymentSucceeded { renews_at, .. } => assert_eq!(*renews_at, expected),
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn every_mapped_stripe_type_becomes_its_canonical_event() {
    let cases = [
        (
            "checkout.session.completed",
            json!({"mode": "payment", "payment_status": "paid", "amount_total": 5000, "currency": "usd", "client_reference_id": "cust-1", "customer_details": {"email": "a@example.com"}, "locale": "ko"}),
            "payment_succeeded",
        ),
        (
            "checkout.session.completed",
            json!({"mode": "subscription", "payment_status": "no_payment_required", "currency": "usd", "client_reference_id": "cust-1"}),
            "signed_up",
        ),
        (
            "invoice.payment_failed",
            json!({"customer": "cus_1", "amount_due": 5000, "currency": "usd"}),
            "payment_failed",
        ),
        (
            "charge.refunded",
            json!({"customer": "cus_1", "currency": "usd", "refunds": {"data": [{"reason": "requested_by_customer"}]}}),
            "refund_requested",
        ),
        (
            "charge.refunded",
            json!({"customer": "cus_1", "currency": "usd", "amount": 5000, "amount_refunded": 5000, "refunded": true}),
            "refund_requested",
        ),
        (
            "charge.refunded",
            json!({"customer": "cus_1", "currency": "usd", "amount": 5000, "amount_refunded": 1500, "refunded": false}),
            "partial_refund",
        ),
        (
            "customer.subscription.deleted",
            json!({"customer": "cus_1", "cancellation_details": {"feedback": "too_expensive"}}),
            "subscription_cancelled",
        ),
        (
            "customer.subscription.trial_will_end",
            json!({"customer": "cus_1", "trial_end": 1_794_000_000}),
            "trial_ending",
        ),
        (
            "invoice.upcoming",
            json!({"customer": "cus_1", "next_payment_attempt": 1_794_000_000, "currency": "usd"}),
            "renewal_upcoming",
        ),
    ];
    for (kind, object, expected) in cases {
        let h = Harness::new();
        let (status, body) = h.stripe(&stripe_event(kind, object), t(NOW), t(NOW)).await;
        assert_eq!(status, 200, "{kind}: {body}");
        let messages = h.queue().taken();
        assert_eq!(messages.len(), 1, "{kind}");
        assert_eq!(messages[0].event.kind.name(), expected, "{kind}");
    }
}

#[tokio::test]
async fn the_customer_id_follows_the_documented_order() {
    let cases = [
        (
            json!({"metadata": {"customer_id": "m"}, "client_reference_id": "r", "customer": "cus_1"}),
            "m",
        ),
        (
            json!({"client_reference_id": "r", "customer": "cus_1"}),
            "r",
        ),
        (
            json!({"parent": {"subscription_details": {"metadata": {"customer_id": "s"}}}, "customer": "cus_1"}),
            "s",
        ),
        (json!({"customer": "cus_1"}), "cus_1"),
    ];
    for (mut object, expected) in cases {
        object["amount_due"] = json!(100);
        object["currency"] = json!("usd");
        let h = Harness::new();
        h.stripe(
            &stripe_event("invoice.payment_failed", object),
            t(NOW),
            t(NOW),
        )
        .await;
        assert_eq!(h.queue().taken()[0].event.customer_id.as_str(), expected);
    }
}

#[tokio::test]
async fn unknown_and_unusable_stripe_events_are_acknowledged_and_ignored() {
    let cases = [
        stripe_event("customer.created", json!({"id": "cus_1"})),
        stripe_event(
            "invoice.paid",
            json!({"customer": "cus_1", "amount_paid": 0, "currency": "usd"}),
        ),
        stripe_event(
            "checkout.session.completed",
            json!({"mode": "payment", "payment_status": "unpaid", "currency": "usd", "customer": "cus_1"}),
        ),
        stripe_event(
            "invoice.payment_failed",
            json!({"amount_due": 1, "currency": "usd"}),
        ),
    ];
    for body in cases {
        let h = Harness::new();
        let (status, response) = h.stripe(&body, t(NOW), t(NOW)).await;
        assert_eq!(status, 200, "{response}");
        assert!(response["ignored"].is_string(), "{response}");
        assert!(h.queue().taken().is_empty());
    }
}

#[tokio::test]
async fn any_rotated_stripe_secret_and_any_v1_value_verify() {
    let h = Harness::new();
    let body = stripe_event("invoice.paid", paid_invoice());
    let ts = t(NOW).timestamp();
    let good = stripe_header(&h.stripe_secret, ts, &body);
    let v1 = good.split_once(",v1=").unwrap().1;
    let header = format!("t={ts},v1={},v0=abc,v1={v1}", "00".repeat(32));
    let (status, _) = h
        .send(request(
            "/webhooks/stripe",
            &[
                ("content-type", "application/json"),
                ("stripe-signature", &header),
            ],
            &body,
            t(NOW),
        ))
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_base64_encoded_body_is_verified_on_its_decoded_bytes() {
    let h = Harness::new();
    let body = stripe_event("invoice.paid", paid_invoice());
    let header = stripe_header(&h.stripe_secret, t(NOW).timestamp(), &body);
    let mut r = request(
        "/webhooks/stripe",
        &[
            ("content-type", "application/json"),
            ("stripe-signature", &header),
        ],
        &body,
        t(NOW),
    );
    r.body = Some(STANDARD.encode(&body));
    r.is_base64_encoded = true;
    let (status, response) = h.send(r).await;
    assert_eq!(status, 200, "{response}");
}

// ---- error responses --------------------------------------------------------------------

#[tokio::test]
async fn signature_errors_are_401_and_stale_timestamps_400() {
    let h = Harness::new();
    let body = stripe_event("invoice.paid", paid_invoice());
    let missing = h
        .send(request(
            "/webhooks/stripe",
            &[("content-type", "application/json")],
            &body,
            t(NOW),
        ))
        .await;
    assert_eq!(
        (missing.0, error_of(&missing.1)),
        (401, ("missing_signature", Some("stripe-signature")))
    );

    let forged = stripe_header(&generated_secret("attacker"), t(NOW).timestamp(), &body);
    let bad = h
        .send(request(
            "/webhooks/stripe",
            &[
                ("content-type", "application/json"),
                ("stripe-signature", &forged),
            ],
            &body,
            t(NOW),
        ))
        .await;
    assert_eq!(
        (bad.0, error_of(&bad.1)),
        (401, ("bad_signature", Some("stripe-signature")))
    );

    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    let header = stripe_header(&h.stripe_secret, t(NOW).timestamp(), &body);
    let changed = h
        .send(request(
            "/webhooks/stripe",
            &[
                ("content-type", "application/json"),
                ("stripe-signature", &header),
            ],
            &tampered,
            t(NOW),
        ))
        .await;
    assert_eq!(changed.0, 401, "the signature covers the raw bytes");

    for skew in [-301, 301] {
        let stale = h
            .stripe(&body, t(NOW) + Duration::seconds(skew), t(NOW))
            .await;
        assert_eq!(
            (stale.0, error_of(&stale.1)),
            (400, ("stale_timestamp", Some("stripe-signature")))
        );
        let stale = h
            .app(b"{}", "msg_1", t(NOW) + Duration::seconds(skew), t(NOW))
            .await;
        assert_eq!(
            (stale.0, error_of(&stale.1)),
            (400, ("stale_timestamp", Some("webhook-timestamp")))
        );
    }
    let edge = h
        .stripe(&body, t(NOW) - Duration::seconds(300), t(NOW))
        .await;
    assert_eq!(edge.0, 200);

    let no_id = h
        .send(request(
            "/events",
            &[
                ("content-type", "application/json"),
                ("webhook-timestamp", "1"),
                ("webhook-signature", "v1,AAAA"),
            ],
            b"{}",
            t(NOW),
        ))
        .await;
    assert_eq!(
        (no_id.0, error_of(&no_id.1)),
        (401, ("missing_signature", Some("webhook-id")))
    );
    let wrong = standard_signature(
        &generated_secret("attacker"),
        "msg_1",
        t(NOW).timestamp(),
        b"{}",
    );
    let forged = h
        .send(request(
            "/events",
            &[
                ("content-type", "application/json"),
                ("webhook-id", "msg_1"),
                ("webhook-timestamp", &t(NOW).timestamp().to_string()),
                ("webhook-signature", &wrong),
            ],
            b"{}",
            t(NOW),
        ))
        .await;
    assert_eq!(
        (forged.0, error_of(&forged.1)),
        (401, ("bad_signature", Some("webhook-signature")))
    );
    assert!(
        h.queue().taken().len() == 1,
        "only the in-tolerance edge case was queued"
    );
}

#[tokio::test]
async fn malformed_json_schema_violations_size_and_content_type_are_refused() {
    let h = Harness::new();
    let malformed = h.app(b"{not json", "msg_1", t(NOW), t(NOW)).await;
    assert_eq!(
        (malformed.0, error_of(&malformed.1).0),
        (400, "malformed_json")
    );

    let cases = [
        (json!({"type": "login", "occurred_at": NOW}), "customer_id"),
        (
            json!({"type": "login", "customer_id": "c", "occurred_at": "yesterday"}),
            "occurred_at",
        ),
        (
            json!({"type": "teleported", "customer_id": "c", "occurred_at": NOW}),
            "type",
        ),
        (
            json!({"type": "nps_response", "customer_id": "c", "occurred_at": NOW}),
            "score",
        ),
        (
            json!({"type": "nps_response", "customer_id": "c", "occurred_at": NOW, "score": 11}),
            "score",
        ),
        (
            json!({"type": "content_viewed", "customer_id": "c", "occurred_at": NOW}),
            "seconds",
        ),
        (
            json!({"type": "login", "customer_id": "c", "occurred_at": NOW, "score": 3}),
            "score",
        ),
        (
            json!({"type": "login", "customer_id": "c", "occurred_at": NOW, "colour": "red"}),
            "colour",
        ),
        (
            json!({"type": "login", "customer_id": "c d", "occurred_at": NOW}),
            "customer_id",
        ),
        (
            json!({"type": "login", "customer_id": "c", "occurred_at": NOW, "email": "nope"}),
            "email",
        ),
        (
            json!({"type": "login", "customer_id": "c", "occurred_at": NOW, "time_zone": "Mars/Olympus"}),
            "time_zone",
        ),
        (
            json!({"type": "login", "customer_id": "c", "occurred_at": NOW, "phone": "010-12"}),
            "phone",
        ),
        (
            json!({"type": "login", "customer_id": "c", "occurred_at": NOW, "consent": {"marketing": "yes"}}),
            "consent.marketing",
        ),
        (
            json!({"type": "refund_requested", "customer_id": "c", "occurred_at": NOW, "reason": "x".repeat(501)}),
            "reason",
        ),
        (
            json!({"type": "signed_up", "customer_id": "c", "occurred_at": "1970-01-01T00:00:00Z"}),
            "occurred_at",
        ),
        (
            json!({"type": "login", "customer_id": "c", "occurred_at": NOW, "owner": {"id": "o", "name": "가".repeat(101)}}),
            "owner.name",
        ),
        (
            json!({"type": "login", "customer_id": "c", "occurred_at": NOW, "owner": {"id": "o", "slack_id": "U".repeat(33)}}),
            "owner.slack_id",
        ),
        (
            json!({"type": "login", "customer_id": "c", "occurred_at": NOW, "owner": {"id": "o".repeat(129)}}),
            "owner.id",
        ),
        (
            json!({"type": "login", "customer_id": "c", "occurred_at": NOW, "program": "p".repeat(101)}),
            "program",
        ),
        (
            json!({"type": "login", "customer_id": "c", "occurred_at": NOW, "locale": "en-aaaaaaaa-bbbbbbbb-cccccccc-dddddddd"}),
            "locale",
        ),
        (
            json!({"type": "login", "customer_id": "c".repeat(129), "occurred_at": NOW}),
            "customer_id",
        ),
        (
            json!({"type": "login", "customer_id": "c", "occurred_at": "2026-11-03T09:00:00Z"}),
            "occurred_at",
        ),
        (
            json!({"type": "check_due", "customer_id": "c", "occurred_at": NOW}),
            "type",
        ),
    ];
    for (event, field) in cases {
        let (status, body) = h
            .app(event.to_string().as_bytes(), "msg_2", t(NOW), t(NOW))
            .await;
        assert_eq!(status, 400, "{event}: {body}");
        assert_eq!(
            error_of(&body),
            ("invalid_field", Some(field)),
            "{event}: {body}"
        );
    }

    let big = format!(
        "[{}]",
        vec![
            json!({"type": "login", "customer_id": "c", "occurred_at": NOW, "id": "x".repeat(100)})
                .to_string();
            2000
        ]
        .join(",")
    );
    let (status, body) = h.app(big.as_bytes(), "msg_3", t(NOW), t(NOW)).await;
    assert_eq!((status, error_of(&body).0), (413, "payload_too_large"));

    let header = stripe_header(&h.stripe_secret, t(NOW).timestamp(), b"a=b");
    let (status, body) = h
        .send(request(
            "/webhooks/stripe",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("stripe-signature", &header),
            ],
            b"a=b",
            t(NOW),
        ))
        .await;
    assert_eq!(
        (status, error_of(&body)),
        (415, ("unsupported_media_type", Some("content-type")))
    );

    let (status, body) = h.send(request("/nowhere", &[], b"", t(NOW))).await;
    assert_eq!((status, error_of(&body).0), (404, "not_found"));
    assert!(h.queue().taken().is_empty());
}

#[tokio::test]
async fn a_batch_is_accepted_whole_or_refused_whole_naming_the_bad_index() {
    let h = Harness::new();
    let mut batch: Vec<Value> = (0..100)
        .map(|i| json!({"type": "login", "customer_id": format!("c{}", i % 7), "occurred_at": NOW}))
        .collect();
    let (status, body) = h
        .app(
            json!(batch).to_string().as_bytes(),
            "msg_batch",
            t(NOW),
            t(NOW),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["accepted"], 100);
    let messages = h.queue().taken();
    assert_eq!(messages.len(), 100);
    assert_eq!(messages[42].event.id.as_str(), "app:msg_batch:42");

    batch[57] =
        json!({"type": "nps_response", "customer_id": "c", "occurred_at": NOW, "score": 12});
    let (status, body) = h
        .app(
            json!(batch).to_string().as_bytes(),
            "msg_bad",
            t(NOW),
            t(NOW),
        )
        .await;
    assert_eq!(
        (status, error_of(&body)),
        (400, ("invalid_field", Some("[57].score")))
    );
    assert!(h.queue().taken().is_empty(), "nothing half-accepted");

    batch.push(json!({"type": "login", "customer_id": "c", "occurred_at": NOW}));
    let (status, body) = h
        .app(
            json!(batch).to_string().as_bytes(),
            "msg_101",
            t(NOW),
            t(NOW),
        )
        .await;
    assert_eq!((status, error_of(&body).0), (400, "invalid_batch"));
    let (status, _) = h.app(b"[]", "msg_empty", t(NOW), t(NOW)).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn an_unreachable_queue_answers_503_so_the_sender_retries() {
    let h = Harness::new();
    *h.queue().fail.lock().unwrap() = Some(true);
    let (status, body) = h
        .stripe(
            &stripe_event("invoice.paid", paid_invoice()),
            t(NOW),
            t(NOW),
        )
        .await;
    assert_eq!((status, error_of(&body).0), (503, "queue_unavailable"));
    let login = json!({"type": "login", "customer_id": "c", "occurred_at": NOW});
    let (status, _) = h
        .app(login.to_string().as_bytes(), "msg_1", t(NOW), t(NOW))
        .await;
    assert_eq!(status, 503);
}

#[tokio::test]
async fn a_batch_cut_off_between_queue_requests_answers_503_and_its_retry_is_safe() {
    let h = Harness::new();
    let batch: Vec<Value> = (0..100)
        .map(|i| json!({"type": "login", "customer_id": format!("c{}", i % 7), "occurred_at": NOW}))
        .collect();
    let body = json!(batch).to_string();
    for (kept, refused) in [(0, Some(true)), (0, Some(false)), (10, None)] {
        *h.queue().fail.lock().unwrap() = refused;
        *h.queue().fail_after.lock().unwrap() = refused.is_none().then_some(kept);
        let (status, answer) = h.app(body.as_bytes(), "msg_cut", t(NOW), t(NOW)).await;
        assert_eq!(
            (status, error_of(&answer).0),
            (503, "queue_unavailable"),
            "retry, whether nothing or part was queued: {answer}"
        );
        let partial = h.queue().taken();
        assert_eq!(partial.len(), kept);
        *h.queue().fail.lock().unwrap() = None;
        let (status, _) = h.app(body.as_bytes(), "msg_cut", t(NOW), t(NOW)).await;
        assert_eq!(status, 202, "the same request again");
        let retried = h.queue().taken();
        assert_eq!(retried.len(), 100);
        // the same ids both times: the queued part's markers make its second copy a no-op
        for (first, again) in partial.iter().zip(&retried) {
            assert_eq!(first.event.id, again.event.id);
        }
    }
}

#[tokio::test]
async fn a_route_without_its_secret_answers_503_not_configured() {
    let ingest = Ingest::new(MemoryQueue::default(), WebhookKeys::default());
    let (status, body) = parse(
        ingest
            .handle(request(
                "/webhooks/stripe",
                &[("content-type", "application/json")],
                b"{}",
                t(NOW),
            ))
            .await,
    );
    assert_eq!((status, error_of(&body).0), (503, "not_configured"));
}

#[tokio::test]
async fn app_events_carry_their_own_ids_or_the_webhook_id_and_profile_fields() {
    let h = Harness::new();
    let event = json!({
        "type": "signed_up", "customer_id": "cust-9", "occurred_at": NOW, "plan": "lead",
        "email": "lee@example.com", "locale": "ko", "time_zone": "Asia/Seoul", "program": "english-12w",
        "owner": {"id": "tutor-7", "name": "박서연", "slack_id": "U0TUTOR7"}
    });
    let (status, body) = h
        .app(event.to_string().as_bytes(), "msg_abc", t(NOW), t(NOW))
        .await;
    assert_eq!(status, 202, "{body}");
    let m = &h.queue().taken()[0];
    assert_eq!(m.event.id.as_str(), "app:msg_abc");
    assert_eq!(m.event.profile.program.as_deref(), Some("english-12w"));
    assert_eq!(
        m.event
            .profile
            .owner
            .as_ref()
            .and_then(|o| o.slack_id.as_deref()),
        Some("U0TUTOR7")
    );

    let own =
        json!({"type": "login", "customer_id": "cust-9", "occurred_at": NOW, "id": "login-77"});
    h.app(own.to_string().as_bytes(), "msg_def", t(NOW), t(NOW))
        .await;
    assert_eq!(h.queue().taken()[0].event.id.as_str(), "app:login-77");
}

#[tokio::test]
async fn app_events_carry_a_phone_in_e164_and_consent_with_where_it_was_given() {
    let h = Harness::new();
    let event = json!({
        "type": "signed_up", "customer_id": "cust-9", "occurred_at": NOW,
        "phone": "010-1234-5678",
        "consent": {"marketing": true, "night": false, "via": "sign_up"}
    });
    let (status, body) = h
        .app(event.to_string().as_bytes(), "msg_phone", t(NOW), t(NOW))
        .await;
    assert_eq!(status, 202, "{body}");
    let profile = &h.queue().taken()[0].event.profile;
    assert_eq!(profile.phone.as_deref(), Some("+821012345678"));
    let consent = profile.consent.as_ref().unwrap();
    assert_eq!(
        (consent.marketing, consent.night, consent.via.as_deref()),
        (Some(true), Some(false), Some("sign_up"))
    );
}

// ---- fixtures ---------------------------------------------------------------------------

#[tokio::test]
async fn the_api_gateway_fixtures_in_events_get_their_documented_status() {
    // The fixtures are signed with the public test vectors' keys (see events/README.md).
    let h = Harness::with(
        vec!["whsec_test_secret".into()],
        vec!["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()],
        String::new(),
        String::new(),
    );
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/ingest");
    let expected = [
        ("stripe-invoice-paid", 200, 1),
        ("stripe-payment-failed", 200, 1),
        ("stripe-charge-refunded-base64", 200, 1),
        ("stripe-bad-signature", 401, 0),
        ("stripe-stale", 400, 0),
        ("app-login", 202, 1),
        ("app-batch", 202, 5),
        ("app-batch-invalid", 400, 0),
        ("app-bad-signature", 401, 0),
        ("app-stale", 400, 0),
    ];
    for (name, status, queued) in expected {
        let text = std::fs::read_to_string(dir.join(format!("{name}.json"))).expect("fixture");
        let request: ApiGatewayV2httpRequest =
            serde_json::from_str(&text).expect("an API Gateway v2 event");
        let (got, body) = h.send(request).await;
        assert_eq!(got, status, "{name}: {body}");
        assert_eq!(h.queue().taken().len(), queued, "{name}");
    }
}

// ---- unsubscribe --------------------------------------------------------------------------

fn get_or_post(method: Method, query: &str, body: &[u8]) -> ApiGatewayV2httpRequest {
    let mut r = request(
        "/unsubscribe",
        &[("content-type", "application/x-www-form-urlencoded")],
        body,
        t(NOW),
    );
    r.request_context.http.method = method;
    r.raw_query_string = Some(query.to_string());
    r
}

#[tokio::test]
async fn one_click_unsubscribe_records_the_opt_out_and_a_get_only_asks() {
    let key = b"generated-for-this-test".to_vec();
    let ingest = Ingest::new(
        MemoryQueue::default(),
        WebhookKeys::default().with_unsubscribe_key(key.clone()),
    );
    let customer = journey::testing::customer_id("cust-7");
    let link = journey::unsubscribe::link("https://api.example.com", &key, &customer);
    let query = link.split_once('?').unwrap().1.to_string();

    let page = ingest.handle(get_or_post(Method::GET, &query, b"")).await;
    assert_eq!(page.status_code, 200);
    assert!(
        ingest.queue().taken().is_empty(),
        "a GET (or a link scanner) unsubscribes nobody"
    );

    for _ in 0..2 {
        let done = ingest
            .handle(get_or_post(
                Method::POST,
                &query,
                b"List-Unsubscribe=One-Click",
            ))
            .await;
        assert_eq!(done.status_code, 200);
    }
    let messages = ingest.queue().taken();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].event.kind, EventKind::Unsubscribed);
    assert_eq!(
        messages[0].event.id, messages[1].event.id,
        "one id per customer: applied once"
    );
    assert_eq!(messages[0].event.customer_id, customer);

    let forged = query.replace("t=", "t=x");
    let refused = ingest.handle(get_or_post(Method::POST, &forged, b"")).await;
    assert_eq!(refused.status_code, 400);
    let other = query.replace("c=cust-7", "c=cust-8");
    assert_eq!(
        ingest
            .handle(get_or_post(Method::POST, &other, b""))
            .await
            .status_code,
        400
    );
    assert!(ingest.queue().taken().is_empty());
}

/// A second partial refund of a charge counts only its own share (`amount_refunded` now minus
/// before); the customer stays.
#[tokio::test]
async fn a_partial_stripe_refund_counts_its_own_share() {
    let body = json!({
        "id": "evt_partial_2", "object": "event", "type": "charge.refunded",
        "created": t(NOW).timestamp() - 30,
        "data": {
            "object": {"customer": "cus_1", "currency": "krw", "amount": 50_000, "amount_refunded": 30_000, "refunded": false},
            "previous_attributes": {"amount_refunded": 10_000}
        }
    })
    .to_string()
    .into_bytes();
    let h = Harness::new();
    let (status, body) = h.stripe(&body, t(NOW), t(NOW)).await;
    assert_eq!(status, 200, "{body}");
    let messages = h.queue().taken();
    match &messages[0].event.kind {
        EventKind::PartialRefund { amount, .. } => {
            assert_eq!(
                amount.as_ref().map(|m| (m.amount, m.currency.as_str())),
                Some((20_000, "KRW"))
            );
        }
        other => panic!("{other:?}"),
    }
}

/// An id the system cannot use (here with spaces) is acknowledged and counted, not refused:
/// Stripe would retry a 4xx for days and then disable the endpoint.
#[tokio::test]
async fn a_stripe_event_naming_an_unusable_customer_is_acknowledged_and_ignored() {
    let h = Harness::new();
    let object =
        json!({"metadata": {"customer_id": "no such id"}, "amount_paid": 100, "currency": "usd"});
    let (status, body) = h
        .stripe(&stripe_event("invoice.paid", object), t(NOW), t(NOW))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["ignored"]
            .as_str()
            .is_some_and(|r| r.contains("customer_id")),
        "{body}"
    );
    assert!(h.queue().taken().is_empty());
}

/// A batch with one event older than the rules' `max_event_age_days` is refused naming it,
/// so the app learns at once; nothing of the batch is queued.
#[tokio::test]
async fn an_app_event_older_than_the_bound_is_refused_naming_it() {
    let h = Harness::new();
    let batch = json!([
        {"type": "login", "customer_id": "c1", "occurred_at": NOW},
        {"type": "login", "customer_id": "c2", "occurred_at": "2026-10-01T09:00:00Z"},
    ]);
    let (status, body) = h
        .app(batch.to_string().as_bytes(), "msg_old", t(NOW), t(NOW))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(error_of(&body), ("invalid_field", Some("[1].occurred_at")));
    assert!(h.queue().taken().is_empty());
    let recent =
        json!([{"type": "login", "customer_id": "c2", "occurred_at": "2026-10-20T09:00:00Z"}]);
    let (status, body) = h
        .app(recent.to_string().as_bytes(), "msg_recent", t(NOW), t(NOW))
        .await;
    assert_eq!(status, 202, "13 days old is within the bound: {body}");
}

// ---- text delivery reports ----------------------------------------------------------------

/// Solapi's report webhook as it posts one: an array, our ids in `customFields`.
fn solapi_reports(code: &str, kind: &str) -> Vec<u8> {
    json!([{
        "eventDataId": "65a1b2c3d4e5f60718293a4b", "retryCount": 0,
        "data": {"messageId": "M4V20261102", "groupId": "G4V1", "type": kind,
            "to": "01012345678", "from": "0212345678", "statusCode": code,
            "statusMessage": "", "dateReported": "2026-11-02T01:00:05.000Z",
            "customFields": {"send_id": "iv_0123456789abcdef0123", "customer_id": "cust-9"}}
    }, {
        "eventDataId": "65a1b2c3d4e5f60718293a4c", "retryCount": 0,
        "data": {"messageId": "M4V-other", "type": "SMS", "statusCode": "4000",
            "dateReported": "2026-11-02T01:00:05.000Z", "customFields": {}}
    }])
    .to_string()
    .into_bytes()
}

fn solapi_request(token: &str, body: &[u8]) -> ApiGatewayV2httpRequest {
    let mut r = request(
        "/webhooks/solapi",
        &[("content-type", "application/json")],
        body,
        t(NOW),
    );
    r.raw_query_string = Some(format!("token={token}"));
    r
}

#[tokio::test]
async fn solapi_reports_become_events_for_their_customers_once_each() {
    let keys = WebhookKeys::default().with_solapi_token("tok_0123456789abcdef0123456789abcdef");
    let ingest = Ingest::new(MemoryQueue::default(), keys);
    let body = solapi_reports("2061", "SMS");
    // a wrong or missing token: 401, nothing queued
    for token in ["", "tok_wrong"] {
        let (status, answer) = parse(ingest.handle(solapi_request(token, &body)).await);
        assert_eq!((status, error_of(&answer).0), (401, "invalid_token"));
    }
    assert!(ingest.queue().taken().is_empty());
    // the same report posted twice (Solapi retries): the same event id, deduplicated downstream
    for _ in 0..2 {
        let request = solapi_request("tok_0123456789abcdef0123456789abcdef", &body);
        let (status, answer) = parse(ingest.handle(request).await);
        assert_eq!(status, 200, "{answer}");
    }
    let taken = ingest.queue().taken();
    assert_eq!(
        taken.len(),
        2,
        "one per post; the other sender's report is left out"
    );
    assert_eq!(taken[0].event.id, taken[1].event.id);
    let event = &taken[0].event;
    assert_eq!(event.id.as_str(), "solapi:M4V20261102:2061");
    assert_eq!(event.customer_id.as_str(), "cust-9");
    let journey::domain::EventKind::TextReported { status, .. } = &event.kind else {
        panic!("{:?}", event.kind);
    };
    assert_eq!(
        status,
        &journey::domain::text::TextStatus::Failed {
            permanent: true,
            block: Some(journey::domain::text::Block::OptOut)
        }
    );
}

/// NHN's `MESSAGE_RESULT_UPDATE` hook as it posts one: only our send id names the text.
fn nhn_hook(app_key: &str, send_id: &str, code: &str) -> Vec<u8> {
    json!({
        "hooksId": "20261102090000hooks", "webhookConfigId": "cfg",
        "productName": "KakaoTalk Bizmessage", "appKey": app_key,
        "event": "MESSAGE_RESULT_UPDATE",
        "hooks": [{
            "kakaoMessageType": "ALIMTALK_NORMAL", "requestId": "20261102R1", "recipientSeq": 1,
            "createDate": "2026-11-02 08:59:00", "receiveDate": "2026-11-02 08:59:05",
            "resultCode": code, "recipientGroupingKey": send_id, "hookId": "h1"
        }, {
            "kakaoMessageType": "ALIMTALK_NORMAL", "requestId": "20261102R2", "recipientSeq": 1,
            "createDate": "2026-11-02 08:59:00", "resultCode": "1000",
            "recipientGroupingKey": "another-senders-key", "hookId": "h2"
        }]
    })
    .to_string()
    .into_bytes()
}

fn nhn_request(signature: &str, body: &[u8]) -> ApiGatewayV2httpRequest {
    let mut headers = vec![("content-type", "application/json")];
    if !signature.is_empty() {
        headers.push(("x-toast-webhook-signature", signature));
    }
    request("/webhooks/nhn", &headers, body, t(NOW))
}

/// A text awaiting its report, as the text sender records it.
async fn pending(store: &journey::testing::MemoryStore, send_id: &str, customer: &str) {
    use journey::ports::PendingTexts;
    let text = journey::ports::PendingText {
        send_id: send_id.into(),
        customer_id: journey::domain::CustomerId::new(customer).unwrap(),
        provider_id: "20261102R1/1".into(),
        sent_at: t("2026-11-02T08:59:00Z"),
        due_at: t("2026-11-02T09:29:00Z"),
    };
    store.await_report(&text).await.unwrap();
}

#[tokio::test]
async fn nhn_hooks_are_routed_by_our_send_id_to_the_customer_the_text_went_to() {
    let store = journey::testing::MemoryStore::new(Duration::days(7));
    pending(&store, "iv_nhn_0001", "cust-7").await;
    let keys = WebhookKeys::default().with_nhn("typed-in-the-console-0123456789", "APPKEY");
    let ingest = Ingest::new(MemoryQueue::default(), keys).with_text_owners(store);
    let body = nhn_hook("APPKEY", "iv_nhn_0001", "1000");
    // no signature, or another: 401 naming the header, nothing queued
    for signature in ["", "typed-in-the-console-012345678X"] {
        let (status, answer) = parse(ingest.handle(nhn_request(signature, &body)).await);
        assert_eq!(status, 401, "{answer}");
        assert_eq!(
            error_of(&answer),
            ("invalid_signature", Some("x-toast-webhook-signature"))
        );
    }
    // another app's hook, signed right: refused as malformed, not queued
    let other = nhn_hook("OTHERAPP", "iv_nhn_0001", "1000");
    let (status, _) = parse(
        ingest
            .handle(nhn_request("typed-in-the-console-0123456789", &other))
            .await,
    );
    assert_eq!(status, 400);
    assert!(ingest.queue().taken().is_empty());
    // posted twice: the same event each time; the other sender's hook is left out
    for _ in 0..2 {
        let request = nhn_request("typed-in-the-console-0123456789", &body);
        let (status, answer) = parse(ingest.handle(request).await);
        assert_eq!(status, 200, "{answer}");
    }
    let taken = ingest.queue().taken();
    assert_eq!(taken.len(), 2);
    assert_eq!(taken[0].event.id, taken[1].event.id);
    let event = &taken[0].event;
    assert_eq!(event.customer_id.as_str(), "cust-7");
    let EventKind::TextReported { status, .. } = &event.kind else {
        panic!("{:?}", event.kind);
    };
    assert_eq!(
        *status,
        journey::domain::text::TextStatus::Delivered {
            via: journey::domain::text::TextChannel::Alimtalk
        }
    );
    // a template-review event: acknowledged, nothing queued
    let review = json!({"appKey": "APPKEY", "event": "TEMPLATE_STATUS_UPDATE", "hooks": []});
    let request = nhn_request(
        "typed-in-the-console-0123456789",
        review.to_string().as_bytes(),
    );
    assert_eq!(parse(ingest.handle(request).await).0, 200);
    assert!(ingest.queue().taken().is_empty());
}

#[tokio::test]
async fn nhn_hooks_answer_503_until_the_signature_is_stored() {
    let ingest = Ingest::new(MemoryQueue::default(), WebhookKeys::default());
    let body = nhn_hook("APPKEY", "iv_nhn_0001", "1000");
    let (status, answer) = parse(ingest.handle(nhn_request("anything", &body)).await);
    assert_eq!((status, error_of(&answer).0), (503, "not_configured"));
}

#[tokio::test]
async fn a_solapi_report_without_its_customer_is_routed_by_the_pending_text() {
    let store = journey::testing::MemoryStore::new(Duration::days(7));
    pending(&store, "iv_long_customer_0001", "cust-long").await;
    let token = "tok_0123456789abcdef0123456789abcdef";
    let keys = WebhookKeys::default().with_solapi_token(token);
    let ingest = Ingest::new(MemoryQueue::default(), keys).with_text_owners(store);
    // an id over Solapi's 100 characters was left out of customFields
    let body = json!([{
        "eventDataId": "65a1b2c3d4e5f60718293a4d", "retryCount": 0,
        "data": {"messageId": "M4V20261103", "type": "ATA", "statusCode": "4000",
            "dateReported": "2026-11-02T01:00:05.000Z",
            "customFields": {"send_id": "iv_long_customer_0001"}}
    }])
    .to_string();
    let (status, answer) = parse(ingest.handle(solapi_request(token, body.as_bytes())).await);
    assert_eq!(status, 200, "{answer}");
    let taken = ingest.queue().taken();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].event.customer_id.as_str(), "cust-long");
}

#[tokio::test]
async fn an_unreadable_hook_does_not_hold_back_the_others_posted_with_it() {
    let store = journey::testing::MemoryStore::new(Duration::days(7));
    pending(&store, "iv_nhn_0002", "cust-8").await;
    let keys = WebhookKeys::default().with_nhn("typed-in-the-console-0123456789", "APPKEY");
    let ingest = Ingest::new(MemoryQueue::default(), keys).with_text_owners(store);
    let body = json!({
        "appKey": "APPKEY", "event": "MESSAGE_RESULT_UPDATE",
        "hooks": [
            {"requestId": "R1", "recipientSeq": 1, "recipientGroupingKey": "iv_nhn_0002"},
            {"requestId": "R2", "recipientSeq": 1, "resultCode": "1000",
             "receiveDate": "2026-11-02 08:59:05", "recipientGroupingKey": "iv_nhn_0002"}
        ]
    })
    .to_string();
    let request = nhn_request("typed-in-the-console-0123456789", body.as_bytes());
    let (status, answer) = parse(ingest.handle(request).await);
    assert_eq!(status, 200, "{answer}");
    let taken = ingest.queue().taken();
    assert_eq!(taken.len(), 1, "the readable hook, for its customer");
    assert_eq!(taken[0].event.customer_id.as_str(), "cust-8");
}

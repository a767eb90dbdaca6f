//! Toss Payments and PortOne webhooks against stand-ins of their APIs (paid, cancelled, failed,
//! not found, 500): nothing counts until the provider's API backs the webhook; PortOne's
//! signatures come from the third-party `standardwebhooks` crate. Then, through the emulator,
//! a payment from each creates a customer in onboarding with the welcome e-mail planned, and a
//! cancellation churns them with the reason recorded.

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderName, HeaderValue, Method};
use ingest::providers::ProviderApi;
use ingest::signature::StandardKeys;
use ingest::{Ingest, WebhookKeys};
use journey::domain::{ChurnReason, EventKind, Source, Stage};
use journey::ports::{CustomerStore, EventQueue};
use journey::testing::{MemoryQueue, customer_id, t};
use journey_adapters::sqs::SqsEventQueue;
use journey_local::providers::{Provider, ProviderStandIn};
use journey_tests::stack::Stack;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const NOW: &str = "2026-11-02T09:00:05Z";

/// A fresh secret per test: none lives in the repository.
fn generated(label: &str) -> String {
    let seed = format!("{label}/{:?}", std::time::SystemTime::now());
    STANDARD.encode(&Sha256::digest(seed.as_bytes())[..24])
}

fn request(path: &str, headers: &[(&str, String)], body: &[u8]) -> ApiGatewayV2httpRequest {
    let mut r = ApiGatewayV2httpRequest::default();
    r.raw_path = Some(path.to_string());
    r.route_key = Some(format!("POST {path}"));
    r.request_context.http.method = Method::POST;
    r.request_context.time_epoch = t(NOW).timestamp_millis();
    r.request_context.request_id = Some("test-request".into());
    r.headers.insert(
        HeaderName::from_static("content-type"),
        HeaderValue::from_static("application/json"),
    );
    for (name, value) in headers {
        r.headers.insert(
            HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_str(value).expect("header value"),
        );
    }
    r.body = Some(String::from_utf8(body.to_vec()).expect("utf-8"));
    r
}

fn toss_payment(key: &str, customer: &str, status: &str) -> Value {
    json!({
        "paymentKey": key, "orderId": format!("order-{key}"), "status": status,
        "lastTransactionKey": format!("tx-{status}"), "currency": "KRW", "totalAmount": 49_000,
        "balanceAmount": 49_000, "approvedAt": "2026-11-02T18:00:00+09:00",
        "secret": "ps_generated", "metadata": {"customer_id": customer, "email": "toss@example.com"},
        "cancels": [{"cancelReason": "수업이 맞지 않음", "canceledAt": "2026-11-02T18:00:03+09:00"}]
    })
}

fn toss_webhook(key: &str, status: &str) -> Vec<u8> {
    json!({"eventType": "PAYMENT_STATUS_CHANGED", "createdAt": "2026-11-02T18:00:01.000000",
           "data": {"paymentKey": key, "status": status}})
    .to_string()
    .into_bytes()
}

fn portone_payment(id: &str, customer: &str, status: &str) -> Value {
    json!({
        "status": status, "id": id, "transactionId": format!("tx-{id}"), "storeId": "store-test",
        "amount": {"total": 59_000, "paid": 59_000}, "currency": "KRW",
        "customer": {"id": "portone-customer", "email": "portone@example.com"},
        "customData": json!({"customer_id": customer}).to_string(),
        "paidAt": "2026-11-02T09:00:00Z", "cancelledAt": "2026-11-02T09:00:03Z",
        "cancellations": [{"id": format!("cancel-{id}"), "reason": "서비스 불만족", "cancelledAt": "2026-11-02T09:00:03Z"}]
    })
}

fn portone_webhook(kind: &str, id: &str, cancellation: bool) -> Vec<u8> {
    let mut data =
        json!({"paymentId": id, "storeId": "store-test", "transactionId": format!("tx-{id}")});
    if cancellation {
        data["cancellationId"] = json!(format!("cancel-{id}"));
    }
    json!({"type": kind, "timestamp": "2026-11-02T09:00:01Z", "data": data})
        .to_string()
        .into_bytes()
}

/// The ingestion handler with both providers pointed at one stand-in.
struct Harness<Q> {
    ingest: Ingest<Q>,
    apis: ProviderStandIn,
    portone_secret: String,
}

impl<Q: EventQueue> Harness<Q> {
    async fn new(queue: Q) -> Self {
        Self::with_portone_secret(queue, format!("whsec_{}", generated("portone-webhook"))).await
    }

    async fn with_portone_secret(queue: Q, portone_secret: String) -> Self {
        let apis = ProviderStandIn::default();
        let base = apis.serve().await.expect("stand-in");
        let (toss_key, portone_api) = (generated("toss"), generated("portone-api"));
        apis.expect_toss_key(&toss_key)
            .expect_portone_secret(&portone_api);
        let keys = WebhookKeys::default()
            .with_toss(ProviderApi::toss(&format!("{base}/toss"), &toss_key).expect("toss"))
            .with_portone(
                StandardKeys::new(std::slice::from_ref(&portone_secret)).expect("keys"),
                ProviderApi::portone(&format!("{base}/portone"), &portone_api).expect("portone"),
            );
        Harness {
            ingest: Ingest::new(queue, keys),
            apis,
            portone_secret,
        }
    }

    async fn toss(&self, body: &[u8]) -> (u16, Value) {
        self.send(request("/webhooks/toss", &[], body)).await
    }

    /// Signed by the `standardwebhooks` crate, `age` seconds before now.
    async fn portone(&self, body: &[u8], id: &str, age: i64) -> (u16, Value) {
        let timestamp = t(NOW).timestamp() - age;
        let signature = standardwebhooks::Webhook::new(&self.portone_secret)
            .expect("secret")
            .sign(id, timestamp, body)
            .expect("signed");
        let headers = [
            ("webhook-id", id.to_string()),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", signature),
        ];
        self.send(request("/webhooks/portone", &headers, body))
            .await
    }

    async fn send(&self, r: ApiGatewayV2httpRequest) -> (u16, Value) {
        let response = self.ingest.handle(r).await;
        let body = match response.body {
            Some(aws_lambda_events::encodings::Body::Text(text)) => {
                serde_json::from_str(&text).unwrap_or(Value::Null)
            }
            _ => Value::Null,
        };
        (response.status_code as u16, body)
    }
}

impl Harness<MemoryQueue> {
    fn queued(&self) -> Vec<journey::domain::Event> {
        self.ingest
            .queue()
            .taken()
            .into_iter()
            .map(|m| m.event)
            .collect()
    }
}

#[tokio::test]
async fn a_toss_payment_counts_once_toss_confirms_it() {
    let h = Harness::new(MemoryQueue::default()).await;
    h.apis.put_toss(toss_payment("tpk_1", "cust-toss", "DONE"));
    for _ in 0..2 {
        // Toss delivers again until it sees a 200
        let (status, body) = h.toss(&toss_webhook("tpk_1", "DONE")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["queued"][0], "toss:tpk_1:DONE:tx-DONE");
    }
    let events = h.queued();
    assert_eq!(events.len(), 2, "both deliveries queued under one dedup id");
    assert_eq!(events[0].id, events[1].id);
    let e = &events[0];
    assert_eq!(
        (e.source, e.customer_id.as_str()),
        (Source::Toss, "cust-toss")
    );
    assert_eq!(e.occurred_at, t("2026-11-02T09:00:00Z"));
    assert!(
        matches!(&e.kind, EventKind::PaymentSucceeded { amount, .. } if amount.amount == 49_000)
    );
    let seen = h.apis.seen();
    assert_eq!(seen[0].provider, Provider::Toss);
    assert_eq!(seen[0].path, "/v1/payments/tpk_1");
    assert!(
        seen[0]
            .authorization
            .as_deref()
            .unwrap_or("")
            .starts_with("Basic ")
    );
}

#[tokio::test]
async fn a_forged_or_unknown_toss_webhook_changes_nothing_and_answers_200() {
    let h = Harness::new(MemoryQueue::default()).await;
    // the real payment was aborted; the webhook claims it was paid
    h.apis.put_toss(toss_payment("tpk_2", "cust-x", "ABORTED"));
    let (status, body) = h.toss(&toss_webhook("tpk_2", "DONE")).await;
    assert_eq!(status, 200);
    assert!(
        body["ignored"]
            .as_str()
            .unwrap_or("")
            .contains("stale or forged"),
        "{body}"
    );
    let (status, body) = h.toss(&toss_webhook("tpk_none", "DONE")).await;
    assert_eq!(status, 200);
    assert!(
        body["ignored"].as_str().unwrap_or("").contains("forged"),
        "{body}"
    );
    // the same unknown payment again within a minute: answered without spending the key
    let asked = h.apis.seen().len();
    let (status, _) = h.toss(&toss_webhook("tpk_none", "DONE")).await;
    assert_eq!(status, 200);
    assert_eq!(
        h.apis.seen().len(),
        asked,
        "the not-found answer was reused"
    );
    // a deposit callback with a guessed secret
    let deposit = json!({"createdAt": "2026-11-02T18:00:01.000000", "secret": "guess",
                         "status": "DONE", "transactionKey": "tx", "orderId": "order-tpk_2"});
    h.apis.put_toss(toss_payment("tpk_2", "cust-x", "DONE"));
    let (status, body) = h.toss(deposit.to_string().as_bytes()).await;
    assert_eq!(status, 200);
    assert!(
        body["ignored"]
            .as_str()
            .unwrap_or("")
            .contains("wrong secret"),
        "{body}"
    );
    // an id that tries to reach another endpoint never reaches the provider's API
    let asked = h.apis.seen().len();
    for climbing in ["../../v1/billing/x", "%2E%2E%2Fv1", "..", "a/b"] {
        let (status, body) = h.toss(&toss_webhook(climbing, "DONE")).await;
        assert_eq!(status, 400, "{climbing}: {body}");
        assert_eq!(body["error"]["field"], "data.paymentKey");
    }
    assert_eq!(h.apis.seen().len(), asked, "no request made");
    assert!(h.queued().is_empty(), "nothing queued");
}

#[tokio::test]
async fn a_provider_api_failure_is_retried_a_few_times_then_answers_503() {
    let h = Harness::new(MemoryQueue::default()).await;
    h.apis.put_toss(toss_payment("tpk_3", "cust-3", "DONE"));
    h.apis.fail_next(1);
    let (status, body) = h.toss(&toss_webhook("tpk_3", "DONE")).await;
    assert_eq!(status, 200, "one 500 is retried within the request: {body}");
    assert_eq!(h.apis.seen().len(), 2);

    h.apis.fail_next(10);
    let (status, body) = h.toss(&toss_webhook("tpk_3", "DONE")).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "provider_unavailable");
    assert_eq!(h.apis.seen().len(), 2 + 3, "bounded: three attempts");
    assert_eq!(h.queued().len(), 1, "only the confirmed delivery");

    h.apis
        .put_portone(portone_payment("pay-3", "cust-3", "PAID"));
    h.apis.fail_next(10);
    let (status, _) = h
        .portone(
            &portone_webhook("Transaction.Paid", "pay-3", false),
            "msg-3",
            0,
        )
        .await;
    assert_eq!(status, 503);
    assert!(h.queued().is_empty());
}

#[tokio::test]
async fn portone_transactions_are_verified_then_confirmed() {
    let h = Harness::new(MemoryQueue::default()).await;
    for (kind, status, cancellation) in [
        ("Transaction.Paid", "PAID", false),
        ("Transaction.PartialCancelled", "PARTIAL_CANCELLED", true),
        ("Transaction.Cancelled", "CANCELLED", true),
        ("Transaction.Failed", "FAILED", false),
    ] {
        h.apis
            .put_portone(portone_payment("pay-1", "cust-po", status));
        let (code, body) = h
            .portone(
                &portone_webhook(kind, "pay-1", cancellation),
                &format!("msg-{kind}"),
                10,
            )
            .await;
        assert_eq!(code, 200, "{kind}: {body}");
        let events = h.queued();
        assert_eq!(events.len(), 1, "{kind}");
        let e = &events[0];
        assert_eq!(
            (e.source, e.customer_id.as_str()),
            (Source::Portone, "cust-po")
        );
        match status {
            "PAID" => assert!(
                matches!(&e.kind, EventKind::PaymentSucceeded { amount, .. } if amount.amount == 59_000)
            ),
            "FAILED" => assert!(matches!(e.kind, EventKind::PaymentFailed { .. })),
            "PARTIAL_CANCELLED" => assert_eq!(
                e.kind,
                EventKind::PartialRefund {
                    amount: None,
                    reason: Some("서비스 불만족".into())
                },
                "part of it: the customer stays"
            ),
            _ => assert_eq!(
                e.kind,
                EventKind::RefundRequested {
                    reason: Some("서비스 불만족".into())
                }
            ),
        }
    }
    let seen = h.apis.seen();
    assert_eq!(seen[0].path, "/payments/pay-1");
    assert!(
        seen[0]
            .authorization
            .as_deref()
            .unwrap_or("")
            .starts_with("PortOne ")
    );
}

#[tokio::test]
async fn portone_refuses_bad_signatures_and_ignores_what_it_does_not_use() {
    let h = Harness::new(MemoryQueue::default()).await;
    h.apis
        .put_portone(portone_payment("pay-2", "cust-2", "PAID"));
    let body = portone_webhook("Transaction.Paid", "pay-2", false);
    let other = Harness::new(MemoryQueue::default()).await;
    let (status, _) = other
        .send(request(
            "/webhooks/portone",
            &[
                ("webhook-id", "msg-x".into()),
                ("webhook-timestamp", t(NOW).timestamp().to_string()),
                (
                    "webhook-signature",
                    standardwebhooks::Webhook::new(&h.portone_secret)
                        .unwrap()
                        .sign("msg-x", t(NOW).timestamp(), &body)
                        .unwrap(),
                ),
            ],
            &body,
        ))
        .await;
    assert_eq!(status, 401, "signed with another endpoint's secret");
    assert!(
        other.apis.seen().is_empty(),
        "no lookup before the signature holds"
    );
    let (status, body_json) = h.portone(&body, "msg-old", 301).await;
    assert_eq!(status, 400, "{body_json}");
    assert_eq!(body_json["error"]["code"], "stale_timestamp");

    let billing = json!({"type": "BillingKey.Issued", "timestamp": "2026-11-02T09:00:01Z", "data": {"billingKey": "bk", "storeId": "s"}});
    let (status, answer) = h.portone(billing.to_string().as_bytes(), "msg-b", 0).await;
    assert_eq!(status, 200);
    assert!(answer["ignored"].is_string());
    let (status, answer) = h
        .portone(
            &portone_webhook("Transaction.Paid", "pay-missing", false),
            "msg-m",
            0,
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer["ignored"]
            .as_str()
            .unwrap_or("")
            .contains("no payment")
    );
    // the webhook says paid, the payment was cancelled since: stale
    h.apis
        .put_portone(portone_payment("pay-2", "cust-2", "CANCELLED"));
    let (status, answer) = h.portone(&body, "msg-s", 0).await;
    assert_eq!(status, 200);
    assert!(answer["ignored"].as_str().unwrap_or("").contains("stale"));
    assert!(h.queued().is_empty());
}

#[tokio::test]
async fn unconfigured_providers_answer_503() {
    let ingest = Ingest::new(MemoryQueue::default(), WebhookKeys::default());
    for path in ["/webhooks/toss", "/webhooks/portone"] {
        let response = ingest.handle(request(path, &[], b"{}")).await;
        assert_eq!(response.status_code, 503, "{path}");
    }
}

#[tokio::test]
async fn the_api_gateway_fixtures_in_events_get_their_documented_status() {
    // signed with the Standard Webhooks spec's public test-vector key (see events/README.md)
    let h = Harness::with_portone_secret(
        MemoryQueue::default(),
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
    )
    .await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
    let read = |path: &str| std::fs::read_to_string(root.join(path)).expect(path);
    let payments: Value = serde_json::from_str(&read("providers/payments.json")).expect("json");
    for p in payments["toss"].as_array().expect("toss") {
        h.apis.put_toss(p.clone());
    }
    for p in payments["portone"].as_array().expect("portone") {
        h.apis.put_portone(p.clone());
    }
    for (name, status, queued) in [
        ("toss-payment-done", 200, 1),
        ("toss-deposit-callback", 200, 1),
        ("toss-forged", 200, 0),
        ("portone-transaction-paid", 200, 1),
        ("portone-bad-signature", 401, 0),
    ] {
        let request: ApiGatewayV2httpRequest =
            serde_json::from_str(&read(&format!("ingest/{name}.json"))).expect("API Gateway v2");
        let (got, body) = h.send(request).await;
        assert_eq!(got, status, "{name}: {body}");
        assert_eq!(h.queued().len(), queued, "{name}");
    }
}

/// Through the emulator: the queued events reach the transition worker like Stripe's do.
#[tokio::test]
async fn korean_payments_create_onboarding_customers_and_cancellations_churn_them() {
    let stack = Stack::new().await;
    let queue = SqsEventQueue::new(stack.sqs.clone(), &stack.events_url);
    let h = Harness::new(queue).await;
    h.apis
        .put_toss(toss_payment("tpk_e2e", "toss-cust", "DONE"));
    h.apis
        .put_portone(portone_payment("pay-e2e", "portone-cust", "PAID"));
    assert_eq!(h.toss(&toss_webhook("tpk_e2e", "DONE")).await.0, 200);
    assert_eq!(
        h.portone(
            &portone_webhook("Transaction.Paid", "pay-e2e", false),
            "msg-p",
            0
        )
        .await
        .0,
        200
    );
    let worker = stack.worker();
    assert_eq!(stack.settle(&worker).await, 2);

    let planned = stack.sent().await;
    for id in ["toss-cust", "portone-cust"] {
        let c = stack
            .store
            .load(&customer_id(id))
            .await
            .expect("load")
            .expect("created");
        assert_eq!(c.stage, Some(Stage::Onboarding), "{id}");
        assert!(
            planned
                .iter()
                .any(|i| i.customer_id.as_str() == id && i.template == "welcome_setup_guide"),
            "{id}: welcome e-mail planned in {planned:?}"
        );
    }

    h.apis
        .put_toss(toss_payment("tpk_e2e", "toss-cust", "CANCELED"));
    h.apis
        .put_portone(portone_payment("pay-e2e", "portone-cust", "CANCELLED"));
    assert_eq!(h.toss(&toss_webhook("tpk_e2e", "CANCELED")).await.0, 200);
    assert_eq!(
        h.portone(
            &portone_webhook("Transaction.Cancelled", "pay-e2e", true),
            "msg-c",
            0
        )
        .await
        .0,
        200
    );
    assert_eq!(stack.settle(&worker).await, 2);
    for (id, words) in [
        ("toss-cust", "수업이 맞지 않음"),
        ("portone-cust", "서비스 불만족"),
    ] {
        let c = stack
            .store
            .load(&customer_id(id))
            .await
            .expect("load")
            .expect("exists");
        assert_eq!(c.stage, Some(Stage::Churned), "{id}");
        let churn = c.churn.expect("churn recorded");
        assert_eq!(churn.reason, ChurnReason::RefundRequested);
        assert_eq!(churn.detail.as_deref(), Some(words));
    }
}

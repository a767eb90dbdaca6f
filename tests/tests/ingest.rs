//! Ingestion through the real SDK: posted webhooks land on the FIFO queue with the customer as
//! group and the event as dedup id; a provider's retry yields one message.

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use aws_sdk_sqs::types::MessageSystemAttributeName as Attr;
use hmac::{Hmac, Mac};
use http::{HeaderName, HeaderValue, Method};
use ingest::signature::StripeSecrets;
use ingest::{Ingest, WebhookKeys};
use journey::messages::EventMessage;
use journey::testing::t;
use journey_adapters::sqs::SqsEventQueue;
use journey_tests::{drain, fresh_events_queue, sdk_config};
use serde_json::json;
use sha2::Sha256;

const SECRET: &str = "whsec_generated_for_this_test_only";

fn signed_stripe(body: &[u8], now: chrono::DateTime<chrono::Utc>) -> ApiGatewayV2httpRequest {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{}.", now.timestamp()).as_bytes());
    mac.update(body);
    let header = format!(
        "t={},v1={}",
        now.timestamp(),
        hex::encode(mac.finalize().into_bytes())
    );
    let mut r = ApiGatewayV2httpRequest::default();
    r.raw_path = Some("/webhooks/stripe".into());
    r.request_context.http.method = Method::POST;
    r.request_context.time_epoch = now.timestamp_millis();
    for (k, v) in [
        ("content-type", "application/json"),
        ("stripe-signature", header.as_str()),
    ] {
        r.headers.insert(
            HeaderName::from_static(k),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    r.body = Some(String::from_utf8(body.to_vec()).unwrap());
    r
}

fn invoice_paid(event_id: &str, customer: &str) -> Vec<u8> {
    json!({
        "id": event_id, "object": "event", "type": "invoice.paid", "created": 1_793_610_000,
        "data": {"object": {"customer": "cus_x", "amount_paid": 37400, "currency": "krw",
                            "metadata": {"customer_id": customer}}}
    })
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn posted_webhooks_are_queued_by_customer_once_per_event() {
    let urls = fresh_events_queue().await;
    let config = sdk_config().await;
    let queue = SqsEventQueue::new(aws_sdk_sqs::Client::new(&config), &urls.url);
    let keys = WebhookKeys::new(Some(StripeSecrets::new(&[SECRET.into()]).unwrap()), None);
    let ingest = Ingest::new(queue, keys);
    let now = t("2026-11-02T09:00:00Z");

    let first = invoice_paid("evt_A", "cust-1");
    for _ in 0..3 {
        // the provider retries the same event
        let response = ingest.handle(signed_stripe(&first, now)).await;
        assert_eq!(response.status_code, 200);
    }
    let other = invoice_paid("evt_B", "cust-2");
    assert_eq!(
        ingest.handle(signed_stripe(&other, now)).await.status_code,
        200
    );

    let messages = drain(&urls.url).await;
    assert_eq!(
        messages.len(),
        2,
        "one message per event within the dedup window"
    );
    for m in &messages {
        let body: EventMessage = serde_json::from_str(m.body().unwrap()).unwrap();
        let attributes = m.attributes().unwrap();
        assert_eq!(
            attributes[&Attr::MessageGroupId],
            body.event.customer_id.as_str()
        );
        assert_eq!(attributes[&Attr::MessageDeduplicationId], body.dedup_id());
        assert_eq!(body.received_at, now);
    }
    let mut customers: Vec<String> = messages
        .iter()
        .map(|m| {
            serde_json::from_str::<EventMessage>(m.body().unwrap())
                .unwrap()
                .event
                .customer_id
                .to_string()
        })
        .collect();
    customers.sort();
    assert_eq!(customers, vec!["cust-1", "cust-2"]);
}

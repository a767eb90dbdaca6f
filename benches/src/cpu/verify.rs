//! CPU cost of accepting a webhook: signature verification over the raw body plus mapping to
//! canonical events (goal ≤ 20 µs per 2 KB).

use std::hint::black_box;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use criterion::{Criterion, Throughput};
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderValue};
use ingest::http::Incoming;
use ingest::signature::{StandardKeys, StripeSecrets, verify_standard, verify_stripe};
use ingest::{app, stripe};
use serde_json::json;
use sha2::Sha256;

const STRIPE_SECRET: &str = "whsec_bench_only_not_a_real_secret";

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_793_610_000, 0).expect("valid time")
}

fn mac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("any key");
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

/// A realistic `invoice.paid` event of about 2 KB.
fn stripe_body() -> Vec<u8> {
    let lines: Vec<_> = (0..3)
        .map(|i| json!({"id": format!("il_1PgafuB7WZ01zgkW{i:04}"), "object": "line_item", "amount": 12467,
                        "currency": "krw", "description": "1 × 영어 회화 12주 (at ₩12,467 / month)",
                        "period": {"end": 1_796_202_000, "start": 1_793_610_000}, "quantity": 1}))
        .collect();
    json!({
        "id": "evt_1Pgc76B7WZ01zgkWwyRHS12y", "object": "event", "api_version": "2025-10-29.clover",
        "created": 1_793_609_990, "livemode": false, "pending_webhooks": 1, "type": "invoice.paid",
        "request": {"id": null, "idempotency_key": "a1b2c3d4-e5f6-7890-abcd-ef1234567890"},
        "data": {"object": {
            "id": "in_1PgafuB7WZ01zgkWs4g6Hp1z", "object": "invoice", "account_country": "KR",
            "account_name": "Soritune English", "amount_due": 37400, "amount_paid": 37400,
            "amount_remaining": 0, "attempt_count": 1, "attempted": true, "billing_reason": "subscription_cycle",
            "collection_method": "charge_automatically", "currency": "krw", "customer": "cus_QXg1o8vcGmoR32",
            "customer_email": "kim.minji@example.com", "customer_name": "김민지",
            "hosted_invoice_url": "https://invoice.stripe.com/i/acct_1PgafmB7WZ01zgkW/test_YWNjdF8x",
            "lines": {"object": "list", "data": lines, "has_more": false},
            "metadata": {"customer_id": "cust-1001"}, "number": "A1B2C3D4-0001", "status": "paid",
            "parent": {"type": "subscription_details", "subscription_details": {"metadata": {"customer_id": "cust-1001"}, "subscription": "sub_1PgafuB7WZ01zgkW"}},
            "period_end": 1_793_610_000, "period_start": 1_791_018_000, "subtotal": 37400, "total": 37400
        }}
    })
    .to_string()
    .into_bytes()
}

fn app_batch() -> Vec<u8> {
    let kinds = ["login", "assignment_submitted", "content_viewed"];
    let events: Vec<_> = (0..100)
        .map(|i| {
            let mut e = json!({"type": kinds[i % 3], "customer_id": format!("cust-{:04}", i % 37),
                               "occurred_at": "2026-11-02T08:59:00Z"});
            if i % 3 == 2 {
                e["seconds"] = json!(420);
            }
            e
        })
        .collect();
    serde_json::to_vec(&events).expect("json")
}

pub fn webhooks(c: &mut Criterion) {
    let secrets = StripeSecrets::new(&[STRIPE_SECRET.to_string()]).expect("secret");
    let body = stripe_body();
    let t = now().timestamp().to_string();
    let signature = hex::encode(mac(STRIPE_SECRET.as_bytes(), &[t.as_bytes(), b".", &body]));
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert(
        "stripe-signature",
        HeaderValue::from_str(&format!("t={t},v1={signature}")).expect("header"),
    );
    let mut group = c.benchmark_group("ingest");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function(format!("stripe verify+map {} B", body.len()), |b| {
        b.iter(|| {
            let incoming = Incoming {
                route: String::new(),
                headers: &headers,
                body: body.clone(),
                received_at: now(),
                query: Vec::new(),
            };
            verify_stripe(&incoming, &secrets).expect("verifies");
            black_box(stripe::map(&incoming.body).expect("maps"))
        })
    });

    let key = b"bench-only-key-not-a-secret-0000";
    let keys = StandardKeys::new(&[format!("whsec_{}", STANDARD.encode(key))]).expect("key");
    let batch = app_batch();
    let signature = STANDARD.encode(mac(key, &[b"msg_bench.", t.as_bytes(), b".", &batch]));
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("webhook-id", HeaderValue::from_static("msg_bench"));
    headers.insert(
        "webhook-timestamp",
        HeaderValue::from_str(&t).expect("header"),
    );
    headers.insert(
        "webhook-signature",
        HeaderValue::from_str(&format!("v1,{signature}")).expect("header"),
    );
    group.throughput(Throughput::Bytes(batch.len() as u64));
    group.bench_function(
        format!("app batch of 100 verify+parse {} B", batch.len()),
        |b| {
            b.iter(|| {
                let incoming = Incoming {
                    route: String::new(),
                    headers: &headers,
                    body: batch.clone(),
                    received_at: now(),
                    query: Vec::new(),
                };
                let id = verify_standard(&incoming, &keys).expect("verifies");
                black_box(app::parse(&incoming.body, &id, now()).expect("parses"))
            })
        },
    );
    group.finish();
}

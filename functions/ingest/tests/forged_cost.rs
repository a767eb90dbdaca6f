//! A forged webhook costs about what a genuine one does (security review H1): the worst forged
//! request, a 1 MiB body under a 10 KiB header of candidate signatures with a fresh timestamp,
//! is timed against a valid request of the same body. The bound is a ratio of medians, never a
//! wall-clock time, so a slow or busy machine does not fail it. Before the fix each forged
//! request here cost one HMAC per candidate and secret (about 150 times a valid one, and about
//! 1,700 times for the 1-byte candidates).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test: a panic is its failure report"
)]

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderName, HeaderValue};
use ingest::signature::{StandardKeys, StripeSecrets, verify_standard, verify_stripe};
use journey::http::Incoming;
use journey::testing::t;
use sha2::Sha256;

/// Timed runs of each request; the medians are compared.
const RUNS: usize = 7;
/// A forged request may cost at most this many times a valid one.
const MAX_RATIO: f64 = 3.0;
const HEADER_BYTES: usize = 10 * 1024;

fn now() -> DateTime<Utc> {
    t("2026-11-02T09:00:00Z")
}

fn body() -> Vec<u8> {
    let mut body = br#"{"pad":""#.to_vec();
    body.resize(1024 * 1024 - 2, b'a');
    body.extend_from_slice(br#""}"#);
    body
}

fn mac(key: &[u8], content: &[&[u8]]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    for part in content {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

fn headers(pairs: &[(&str, String)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(name, value)| {
            (
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            )
        })
        .collect()
}

fn incoming<'a>(headers: &'a HeaderMap, body: &[u8]) -> Incoming<'a> {
    Incoming {
        route: "POST /webhooks/test".into(),
        headers,
        body: body.to_vec(),
        received_at: now(),
        query: Vec::new(),
    }
}

/// `sep`-joined copies of `item` after `prefix`, up to [`HEADER_BYTES`].
fn flood(prefix: &str, item: &str, sep: &str) -> String {
    let mut header = prefix.to_string();
    while header.len() + sep.len() + item.len() <= HEADER_BYTES {
        header.push_str(sep);
        header.push_str(item);
    }
    header
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Median time of each request, run in turn (interleaved, so a busy spell hits all of them).
fn medians(requests: &[(&str, &dyn Fn() -> bool)]) -> Vec<Duration> {
    let mut times = vec![Vec::new(); requests.len()];
    for (_, run) in requests {
        run(); // warm-up
    }
    for _ in 0..RUNS {
        for (i, (name, run)) in requests.iter().enumerate() {
            let start = Instant::now();
            let accepted = run();
            times[i].push(start.elapsed());
            assert_eq!(accepted, i == 0, "{name}: only the valid request verifies");
        }
    }
    times.into_iter().map(median).collect()
}

fn assert_ratios(scheme: &str, requests: &[(&str, &dyn Fn() -> bool)]) {
    let medians = medians(requests);
    let valid = medians[0].as_secs_f64();
    for ((name, _), forged) in requests.iter().zip(&medians).skip(1) {
        let ratio = forged.as_secs_f64() / valid;
        eprintln!(
            "{scheme}: {name} {forged:?} / valid {:?} = {ratio:.2}",
            medians[0]
        );
        assert!(
            ratio <= MAX_RATIO,
            "{scheme}: {name} costs {ratio:.1}× a valid request (at most {MAX_RATIO}×)"
        );
    }
}

#[test]
fn a_forged_stripe_webhook_costs_about_what_a_valid_one_does() {
    // two secrets, as during a rotation: the valid request is signed with the second
    let secrets = StripeSecrets::new(&["whsec_old".into(), "whsec_new".into()]).unwrap();
    let body = body();
    let ts = now().timestamp().to_string();
    let valid = format!(
        "t={ts},v1={}",
        hex::encode(mac(b"whsec_new", &[ts.as_bytes(), b".", &body]))
    );
    let valid = headers(&[("stripe-signature", valid)]);
    let short = headers(&[("stripe-signature", flood(&format!("t={ts}"), "v1=00", ","))]);
    let full = headers(&[(
        "stripe-signature",
        flood(&format!("t={ts}"), &format!("v1={}", "0".repeat(64)), ","),
    )]);
    let [valid, short, full] = [&valid, &short, &full].map(|h| incoming(h, &body));
    let verify = |request: &Incoming<'_>| verify_stripe(request, &secrets).is_ok();
    assert_ratios(
        "Stripe",
        &[
            ("valid", &|| verify(&valid)),
            ("1-byte candidates", &|| verify(&short)),
            ("32-byte candidates", &|| verify(&full)),
        ],
    );
}

#[test]
fn a_forged_standard_webhook_costs_about_what_a_valid_one_does() {
    let old = format!("whsec_{}", STANDARD.encode([1; 24]));
    let new = [2; 24];
    let keys = StandardKeys::new(&[old, format!("whsec_{}", STANDARD.encode(new))]).unwrap();
    let body = body();
    let ts = now().timestamp().to_string();
    let signed = mac(&new, &[b"msg_1", b".", ts.as_bytes(), b".", &body]);
    let with = |signature: String| {
        headers(&[
            ("webhook-id", "msg_1".into()),
            ("webhook-timestamp", ts.clone()),
            ("webhook-signature", signature),
        ])
    };
    let valid = with(format!("v1,{}", STANDARD.encode(signed)));
    let short = with(flood("v1,AA==", "v1,AA==", " "));
    let full = with(flood(
        "v1,bm90LWl0",
        &format!("v1,{}", STANDARD.encode([0; 32])),
        " ",
    ));
    let [valid, short, full] = [&valid, &short, &full].map(|h| incoming(h, &body));
    let verify = |request: &Incoming<'_>| verify_standard(request, &keys).is_ok();
    assert_ratios(
        "Standard Webhooks",
        &[
            ("valid", &|| verify(&valid)),
            ("1-byte candidates", &|| verify(&short)),
            ("32-byte candidates", &|| verify(&full)),
        ],
    );
}

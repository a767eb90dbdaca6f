//! Webhook signatures, verified over the raw body in constant time: Stripe's
//! `Stripe-Signature` and Standard Webhooks' `webhook-*` headers (the app, PortOne V2).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use journey::http::{ApiError, Incoming};

type HmacSha256 = Hmac<Sha256>;

/// Both schemes reject timestamps more than this far from now, either way.
pub const TOLERANCE_SECONDS: i64 = 300;

/// Stripe's signing secrets (`whsec_…`, used as UTF-8 bytes, several during rotation).
#[derive(Clone)]
pub struct StripeSecrets(Vec<Vec<u8>>);

impl StripeSecrets {
    pub fn new(secrets: &[String]) -> Result<Self, String> {
        if secrets.is_empty() {
            return Err("no Stripe webhook secret".into());
        }
        Ok(StripeSecrets(
            secrets.iter().map(|s| s.as_bytes().to_vec()).collect(),
        ))
    }
}

/// Standard Webhooks keys: `whsec_` + base64 of the key bytes, several during rotation.
#[derive(Clone)]
pub struct StandardKeys(Vec<Vec<u8>>);

impl StandardKeys {
    pub fn new(secrets: &[String]) -> Result<Self, String> {
        if secrets.is_empty() {
            return Err("no Standard Webhooks secret".into());
        }
        secrets
            .iter()
            .map(|s| {
                STANDARD
                    .decode(s.strip_prefix("whsec_").unwrap_or(s))
                    .map_err(|_| "a Standard Webhooks secret is not whsec_ + base64".to_string())
            })
            .collect::<Result<Vec<_>, _>>()
            .map(StandardKeys)
    }
}

/// True when `mac` of `content` under any key equals any of the `signatures`; the comparison is
/// constant-time (`Mac::verify_slice`).
fn any_match(keys: &[Vec<u8>], content: &[&[u8]], signatures: &[Vec<u8>]) -> bool {
    keys.iter().any(|key| {
        signatures.iter().any(|sig| {
            let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
                return false;
            };
            for part in content {
                mac.update(part);
            }
            mac.verify_slice(sig).is_ok()
        })
    })
}

fn check_tolerance(timestamp: i64, now: DateTime<Utc>, field: &str) -> Result<(), ApiError> {
    if (now.timestamp() - timestamp).abs() > TOLERANCE_SECONDS {
        return Err(ApiError::bad_request(
            "stale_timestamp",
            format!("timestamp {timestamp} is more than {TOLERANCE_SECONDS} s from now"),
            Some(field.to_string()),
        ));
    }
    Ok(())
}

/// Verifies `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]` over `"<t>.<body>"`.
pub fn verify_stripe(incoming: &Incoming<'_>, secrets: &StripeSecrets) -> Result<(), ApiError> {
    const HEADER: &str = "stripe-signature";
    let header = incoming.header(HEADER).ok_or_else(|| {
        ApiError::unauthorized("missing_signature", "no Stripe-Signature header", HEADER)
    })?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for (key, value) in header.split(',').filter_map(|kv| kv.trim().split_once('=')) {
        match key {
            "t" => timestamp = value.parse::<i64>().ok(),
            "v1" => signatures.extend(hex::decode(value).ok()),
            _ => {} // v0 and unknown schemes are ignored, as Stripe's libraries do
        }
    }
    let timestamp = timestamp.ok_or_else(|| {
        ApiError::unauthorized("bad_signature", "Stripe-Signature has no timestamp", HEADER)
    })?;
    let t = timestamp.to_string();
    let content: [&[u8]; 3] = [t.as_bytes(), b".", &incoming.body];
    if !any_match(&secrets.0, &content, &signatures) {
        return Err(ApiError::unauthorized(
            "bad_signature",
            "no v1 signature matches the body",
            HEADER,
        ));
    }
    check_tolerance(timestamp, incoming.received_at, HEADER)
}

/// Verifies Standard Webhooks headers over `"<id>.<timestamp>.<body>"`; returns `webhook-id`,
/// the sender's stable id for this message (the same on every retry).
pub fn verify_standard(incoming: &Incoming<'_>, keys: &StandardKeys) -> Result<String, ApiError> {
    let required = |name: &'static str| {
        incoming.header(name).ok_or_else(|| {
            ApiError::unauthorized("missing_signature", format!("no {name} header"), name)
        })
    };
    let id = required("webhook-id")?;
    let timestamp_text = required("webhook-timestamp")?;
    let signature_header = required("webhook-signature")?;
    let signatures: Vec<Vec<u8>> = signature_header
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .filter_map(|b64| STANDARD.decode(b64).ok())
        .collect();
    let content: [&[u8]; 5] = [
        id.as_bytes(),
        b".",
        timestamp_text.as_bytes(),
        b".",
        &incoming.body,
    ];
    if !any_match(&keys.0, &content, &signatures) {
        return Err(ApiError::unauthorized(
            "bad_signature",
            "no v1 signature matches the body",
            "webhook-signature",
        ));
    }
    let timestamp: i64 = timestamp_text.parse().map_err(|_| {
        ApiError::bad_request(
            "bad_timestamp",
            "webhook-timestamp is not a number of seconds",
            Some("webhook-timestamp".into()),
        )
    })?;
    check_tolerance(timestamp, incoming.received_at, "webhook-timestamp")?;
    Ok(id.to_string())
}

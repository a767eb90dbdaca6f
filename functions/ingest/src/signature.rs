//! Webhook signatures, verified over the raw body in constant time: Stripe's
//! `Stripe-Signature` and Standard Webhooks' `webhook-*` headers (the app, PortOne V2).
//!
//! A forged request costs no more than a genuine one. Both schemes carry a timestamp, several
//! candidate signatures and, during a rotation, several secrets; each is verified in this order:
//!
//! 1. the header is parsed and the timestamp checked: a missing, unreadable or stale one is
//!    refused before any MAC is computed;
//! 2. candidates that do not decode to exactly 32 bytes (an HMAC-SHA256) are dropped, and at
//!    most [`MAX_CANDIDATES`] of the rest are kept;
//! 3. the MAC over the body is computed once per configured secret (every secret, whether or
//!    not an earlier one matched) and compared with each kept candidate in constant time.
//!
//! So a 1 MiB body under a 10 KiB header of `v1=` candidates costs one HMAC per secret, as a
//! valid request does, where it used to cost one per candidate (about 1,700).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::{Choice, ConstantTimeEq};
use thiserror::Error;

use journey::http::{ApiError, Incoming};

type HmacSha256 = Hmac<Sha256>;

/// Both schemes reject timestamps more than this far from now, either way.
pub const TOLERANCE_SECONDS: i64 = 300;

/// Candidate signatures kept from one header, at most; further well-formed ones are ignored
/// (not refused). A sender signs once per secret it holds (two during a rotation), so no genuine
/// header comes near five, and ignoring an extra candidate can only take a chance away from a
/// forger, never accept more; refusing instead would make a header's verdict depend on padding
/// that Stripe's and Standard Webhooks' own libraries accept. Cost no longer grows with the
/// candidates (one MAC per secret): the cap bounds the comparisons and what a header allocates.
pub const MAX_CANDIDATES: usize = 5;

/// Bytes of an HMAC-SHA256; a candidate of any other length cannot match and is dropped.
pub const MAC_LEN: usize = 32;

/// One candidate signature, decoded.
type Tag = [u8; MAC_LEN];

/// Why a signature was refused; each becomes the [`ApiError`] the sender sees.
#[derive(Debug, Error, PartialEq)]
pub enum SignatureError {
    /// A required header is absent (401 `missing_signature`).
    #[error("no {0} header")]
    Missing(&'static str),
    /// `Stripe-Signature` has no readable `t=` (401 `bad_signature`).
    #[error("Stripe-Signature has no timestamp")]
    NoTimestamp,
    /// `webhook-timestamp` is not a number (400 `bad_timestamp`).
    #[error("webhook-timestamp is not a number of seconds")]
    BadTimestamp,
    /// The timestamp is outside [`TOLERANCE_SECONDS`] (400 `stale_timestamp`).
    #[error("timestamp {timestamp} is more than {TOLERANCE_SECONDS} s from now")]
    Stale {
        timestamp: i64,
        header: &'static str,
    },
    /// No kept candidate equals the MAC under any secret (401 `bad_signature`).
    #[error("no v1 signature matches the body")]
    NoMatch(&'static str),
}

impl From<SignatureError> for ApiError {
    fn from(e: SignatureError) -> Self {
        let message = e.to_string();
        match e {
            SignatureError::Missing(header) => {
                ApiError::unauthorized("missing_signature", message, header)
            }
            SignatureError::NoTimestamp => {
                ApiError::unauthorized("bad_signature", message, STRIPE_HEADER)
            }
            SignatureError::BadTimestamp => {
                ApiError::bad_request("bad_timestamp", message, Some(TIMESTAMP_HEADER.into()))
            }
            SignatureError::Stale { header, .. } => {
                ApiError::bad_request("stale_timestamp", message, Some(header.into()))
            }
            SignatureError::NoMatch(header) => {
                ApiError::unauthorized("bad_signature", message, header)
            }
        }
    }
}

const STRIPE_HEADER: &str = "stripe-signature";
const ID_HEADER: &str = "webhook-id";
const TIMESTAMP_HEADER: &str = "webhook-timestamp";
const SIGNATURE_HEADER: &str = "webhook-signature";

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

#[cfg(test)]
thread_local! {
    /// MACs computed on this thread: the tests count what a request costs.
    static MACS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// True when the MAC of `content` under any key equals any candidate. One MAC per key, every
/// key (no early exit), each compared with every candidate in constant time; nothing is
/// computed when there is no candidate to compare with.
fn any_match(keys: &[Vec<u8>], content: &[&[u8]], candidates: &[Tag]) -> bool {
    if candidates.is_empty() {
        return false;
    }
    let mut matched = Choice::from(0);
    for key in keys {
        #[cfg(test)]
        MACS.with(|n| n.set(n.get() + 1));
        // HMAC takes a key of any length: this never fails
        let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
            continue;
        };
        for part in content {
            mac.update(part);
        }
        let expected = mac.finalize().into_bytes();
        for candidate in candidates {
            matched |= expected.as_slice().ct_eq(&candidate[..]);
        }
    }
    matched.into()
}

fn check_tolerance(
    timestamp: i64,
    now: DateTime<Utc>,
    header: &'static str,
) -> Result<(), SignatureError> {
    // abs_diff: an i64::MIN timestamp must not overflow into "fresh"
    if now.timestamp().abs_diff(timestamp) > TOLERANCE_SECONDS.unsigned_abs() {
        return Err(SignatureError::Stale { timestamp, header });
    }
    Ok(())
}

/// The first [`MAX_CANDIDATES`] of `values` that decode to exactly [`MAC_LEN`] bytes.
fn candidates<'a>(
    values: impl Iterator<Item = &'a str>,
    decode: impl Fn(&str) -> Option<Tag>,
) -> Vec<Tag> {
    values.filter_map(decode).take(MAX_CANDIDATES).collect()
}

/// 64 hex digits, else nothing (the length is checked before any digit is decoded).
fn hex_tag(value: &str) -> Option<Tag> {
    let mut tag = [0; MAC_LEN];
    hex::decode_to_slice(value, &mut tag).ok().map(|()| tag)
}

/// Padded base64 of 32 bytes (44 characters), else nothing.
fn base64_tag(value: &str) -> Option<Tag> {
    if value.len() != 4 * MAC_LEN.div_ceil(3) {
        return None;
    }
    STANDARD
        .decode(value)
        .ok()
        .and_then(|bytes| Tag::try_from(bytes.as_slice()).ok())
}

/// Verifies `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]` over `"<t>.<body>"`.
pub fn verify_stripe(incoming: &Incoming<'_>, secrets: &StripeSecrets) -> Result<(), ApiError> {
    let header = incoming
        .header(STRIPE_HEADER)
        .ok_or(SignatureError::Missing(STRIPE_HEADER))?;
    check_stripe(header, &incoming.body, incoming.received_at, secrets)?;
    Ok(())
}

fn check_stripe(
    header: &str,
    body: &[u8],
    now: DateTime<Utc>,
    secrets: &StripeSecrets,
) -> Result<(), SignatureError> {
    let pairs = || header.split(',').filter_map(|kv| kv.trim().split_once('='));
    // the last `t=` counts, as before; v0 and unknown schemes are ignored, as Stripe's
    // libraries do
    let timestamp = pairs()
        .rfind(|(key, _)| *key == "t")
        .and_then(|(_, value)| value.parse::<i64>().ok())
        .ok_or(SignatureError::NoTimestamp)?;
    check_tolerance(timestamp, now, STRIPE_HEADER)?;
    let signatures = candidates(
        pairs()
            .filter(|(key, _)| *key == "v1")
            .map(|(_, value)| value),
        hex_tag,
    );
    let t = timestamp.to_string();
    let content: [&[u8]; 3] = [t.as_bytes(), b".", body];
    if !any_match(&secrets.0, &content, &signatures) {
        return Err(SignatureError::NoMatch(STRIPE_HEADER));
    }
    Ok(())
}

/// Verifies Standard Webhooks headers over `"<id>.<timestamp>.<body>"`; returns `webhook-id`,
/// the sender's stable id for this message (the same on every retry).
pub fn verify_standard(incoming: &Incoming<'_>, keys: &StandardKeys) -> Result<String, ApiError> {
    let required = |name: &'static str| incoming.header(name).ok_or(SignatureError::Missing(name));
    let id = required(ID_HEADER)?;
    let timestamp = required(TIMESTAMP_HEADER)?;
    let signatures = required(SIGNATURE_HEADER)?;
    check_standard(
        id,
        timestamp,
        signatures,
        &incoming.body,
        incoming.received_at,
        keys,
    )?;
    Ok(id.to_string())
}

fn check_standard(
    id: &str,
    timestamp_text: &str,
    signature_header: &str,
    body: &[u8],
    now: DateTime<Utc>,
    keys: &StandardKeys,
) -> Result<(), SignatureError> {
    let timestamp: i64 = timestamp_text
        .parse()
        .map_err(|_| SignatureError::BadTimestamp)?;
    check_tolerance(timestamp, now, TIMESTAMP_HEADER)?;
    let signatures = candidates(
        signature_header
            .split(' ')
            .filter_map(|s| s.strip_prefix("v1,")),
        base64_tag,
    );
    let content: [&[u8]; 5] = [id.as_bytes(), b".", timestamp_text.as_bytes(), b".", body];
    if !any_match(&keys.0, &content, &signatures) {
        return Err(SignatureError::NoMatch(SIGNATURE_HEADER));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use journey::testing::t;

    const NOW: &str = "2026-11-02T09:00:00Z";

    fn now() -> DateTime<Utc> {
        t(NOW)
    }

    /// MACs computed on this thread by `f`.
    fn macs<R>(f: impl FnOnce() -> R) -> (R, usize) {
        MACS.with(|n| n.set(0));
        let result = f();
        (result, MACS.with(std::cell::Cell::get))
    }

    fn mac(key: &[u8], content: &[&[u8]]) -> Tag {
        let mut mac = HmacSha256::new_from_slice(key).unwrap();
        for part in content {
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    fn stripe_v1(secret: &str, timestamp: i64, body: &[u8]) -> String {
        let t = timestamp.to_string();
        hex::encode(mac(secret.as_bytes(), &[t.as_bytes(), b".", body]))
    }

    fn stripe_secrets() -> StripeSecrets {
        StripeSecrets::new(&["whsec_old".into(), "whsec_new".into()]).unwrap()
    }

    const KEY_OLD: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const KEY_NEW: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

    fn standard_keys() -> StandardKeys {
        StandardKeys::new(&[KEY_OLD.into(), KEY_NEW.into()]).unwrap()
    }

    fn standard_v1(key: &str, id: &str, timestamp: &str, body: &[u8]) -> String {
        let key = STANDARD.decode(key.trim_start_matches("whsec_")).unwrap();
        let tag = mac(
            &key,
            &[id.as_bytes(), b".", timestamp.as_bytes(), b".", body],
        );
        format!("v1,{}", STANDARD.encode(tag))
    }

    /// `count` well-formed candidates that match nothing.
    fn junk_hex(count: usize) -> Vec<String> {
        (0..count).map(|i| format!("{i:064x}")).collect()
    }

    #[test]
    fn a_stale_or_missing_timestamp_is_refused_before_any_mac() {
        let body = vec![b'x'; 1024 * 1024];
        let flood: String = junk_hex(150).iter().map(|c| format!(",v1={c}")).collect();
        for (header, expected) in [
            (
                format!("t=1{flood}"),
                SignatureError::Stale {
                    timestamp: 1,
                    header: STRIPE_HEADER,
                },
            ),
            (
                format!("t={}{flood}", now().timestamp() + 301),
                SignatureError::Stale {
                    timestamp: now().timestamp() + 301,
                    header: STRIPE_HEADER,
                },
            ),
            (
                format!("t={}{flood}", i64::MIN),
                SignatureError::Stale {
                    timestamp: i64::MIN,
                    header: STRIPE_HEADER,
                },
            ),
            (flood.clone(), SignatureError::NoTimestamp),
            (format!("t=soon{flood}"), SignatureError::NoTimestamp),
        ] {
            let (verdict, count) = macs(|| check_stripe(&header, &body, now(), &stripe_secrets()));
            assert_eq!(verdict, Err(expected));
            assert_eq!(count, 0, "no MAC before the timestamp is checked");
        }
        let signatures = vec!["v1,".to_string() + &STANDARD.encode([7; 32]); 50].join(" ");
        for (timestamp, expected) in [
            (
                "1",
                SignatureError::Stale {
                    timestamp: 1,
                    header: TIMESTAMP_HEADER,
                },
            ),
            (
                "-9223372036854775808",
                SignatureError::Stale {
                    timestamp: i64::MIN,
                    header: TIMESTAMP_HEADER,
                },
            ),
            ("yesterday", SignatureError::BadTimestamp),
        ] {
            let (verdict, count) = macs(|| {
                check_standard(
                    "msg_1",
                    timestamp,
                    &signatures,
                    &body,
                    now(),
                    &standard_keys(),
                )
            });
            assert_eq!(verdict, Err(expected));
            assert_eq!(count, 0, "no MAC before the timestamp is checked");
        }
    }

    #[test]
    fn a_forged_header_costs_one_mac_per_secret_however_many_candidates() {
        let body = br#"{"id":"evt_1"}"#;
        let ts = now().timestamp();
        let forged = format!("t={ts},v1={}", junk_hex(150).join(",v1="));
        let (verdict, count) = macs(|| check_stripe(&forged, body, now(), &stripe_secrets()));
        assert_eq!(verdict, Err(SignatureError::NoMatch(STRIPE_HEADER)));
        assert_eq!(count, 2, "one MAC per secret");
        let valid = format!("t={ts},v1={}", stripe_v1("whsec_old", ts, body));
        let (verdict, count) = macs(|| check_stripe(&valid, body, now(), &stripe_secrets()));
        assert_eq!(verdict, Ok(()));
        assert_eq!(count, 2, "every secret, even after the first matched");

        let ts = ts.to_string();
        let forged = vec!["v1,".to_string() + &STANDARD.encode([7; 32]); 150].join(" ");
        let (verdict, count) =
            macs(|| check_standard("msg_1", &ts, &forged, body, now(), &standard_keys()));
        assert_eq!(verdict, Err(SignatureError::NoMatch(SIGNATURE_HEADER)));
        assert_eq!(count, 2, "one MAC per secret");
    }

    proptest::proptest! {
        /// Security review H1, as a property: whatever the signature header holds (any number
        /// of candidates of any shape, or any text at all), a check costs at most one MAC of
        /// the body per secret: linear in the body, independent of the header.
        #[test]
        fn a_check_costs_at_most_one_mac_per_secret_whatever_the_header(
            candidates in proptest::collection::vec("[!-~]{0,90}", 0..300),
            raw in "[ -~]{0,400}",
        ) {
            let body = br#"{"id":"evt_1"}"#;
            let ts = now().timestamp();
            let listed: Vec<String> = candidates.iter().map(|c| format!("v1={c}")).collect();
            for header in [format!("t={ts},{}", listed.join(",")), format!("t={ts},{raw}"), raw.clone()] {
                let (_, count) = macs(|| check_stripe(&header, body, now(), &stripe_secrets()));
                proptest::prop_assert!(count <= 2, "{count} MACs for a Stripe header");
            }
            let listed: Vec<String> = candidates.iter().map(|c| format!("v1,{c}")).collect();
            for header in [listed.join(" "), raw.clone()] {
                let (_, count) = macs(|| {
                    check_standard("msg_1", &ts.to_string(), &header, body, now(), &standard_keys())
                });
                proptest::prop_assert!(count <= 2, "{count} MACs for a Standard Webhooks header");
            }
        }
    }

    #[test]
    fn candidates_of_the_wrong_length_are_dropped_and_at_most_five_kept() {
        let good = "ab".repeat(32);
        let values = [
            "00",
            &"ab".repeat(31),
            &"ab".repeat(33),
            &"zz".repeat(32),
            &good,
        ];
        assert_eq!(candidates(values.into_iter(), hex_tag), vec![[0xab; 32]]);
        let b64 = |n: usize| STANDARD.encode(vec![1; n]);
        let values = [b64(6), b64(31), b64(33), "!".repeat(44), b64(32)];
        assert_eq!(
            candidates(values.iter().map(String::as_str), base64_tag),
            vec![[1; 32]]
        );
        let many = junk_hex(100);
        let kept = candidates(many.iter().map(String::as_str), hex_tag);
        assert_eq!(kept.len(), MAX_CANDIDATES);
        assert_eq!(
            kept[4],
            hex_tag(&many[4]).unwrap(),
            "the first five, in order"
        );

        // only short candidates: nothing to compare, so no MAC at all
        let ts = now().timestamp();
        let short = format!("t={ts}{}", ",v1=00".repeat(1700));
        let (verdict, count) = macs(|| check_stripe(&short, b"{}", now(), &stripe_secrets()));
        assert_eq!(verdict, Err(SignatureError::NoMatch(STRIPE_HEADER)));
        assert_eq!(count, 0);

        // a valid signature after five well-formed ones is ignored; fifth, it counts
        let body = b"{}";
        let valid = stripe_v1("whsec_new", ts, body);
        let header = |junk: usize| {
            let mut all = junk_hex(junk);
            all.push(valid.clone());
            format!("t={ts},v1={}", all.join(",v1="))
        };
        assert_eq!(
            check_stripe(&header(4), body, now(), &stripe_secrets()),
            Ok(())
        );
        assert_eq!(
            check_stripe(&header(5), body, now(), &stripe_secrets()),
            Err(SignatureError::NoMatch(STRIPE_HEADER))
        );
        // malformed ones do not count towards the five
        let padded = format!("t={ts}{},v1={valid}", ",v1=00".repeat(20));
        assert_eq!(
            check_stripe(&padded, body, now(), &stripe_secrets()),
            Ok(())
        );
    }

    #[test]
    fn a_valid_signature_among_candidates_verifies_under_either_secret_of_a_rotation() {
        let body = br#"{"id":"evt_1"}"#;
        let ts = now().timestamp();
        for secret in ["whsec_old", "whsec_new"] {
            let v1 = stripe_v1(secret, ts, body);
            let header = format!("t={ts},v0=ignored,v1={},v1={v1}", "cd".repeat(32));
            assert_eq!(
                check_stripe(&header, body, now(), &stripe_secrets()),
                Ok(())
            );
        }
        // Stripe during a rotation: one signature per secret
        let both = format!(
            "t={ts},v1={},v1={}",
            stripe_v1("whsec_old", ts, body),
            stripe_v1("whsec_new", ts, body)
        );
        assert_eq!(check_stripe(&both, body, now(), &stripe_secrets()), Ok(()));
        let other = format!("t={ts},v1={}", stripe_v1("whsec_other", ts, body));
        assert_eq!(
            check_stripe(&other, body, now(), &stripe_secrets()),
            Err(SignatureError::NoMatch(STRIPE_HEADER))
        );
        assert_eq!(
            check_stripe(&both, b"{} ", now(), &stripe_secrets()),
            Err(SignatureError::NoMatch(STRIPE_HEADER)),
            "the signature covers the raw bytes"
        );

        let ts = ts.to_string();
        for key in [KEY_OLD, KEY_NEW] {
            let header = format!(
                "v1,bm90LWl0 v1a,xyz {}",
                standard_v1(key, "msg_1", &ts, body)
            );
            assert_eq!(
                check_standard("msg_1", &ts, &header, body, now(), &standard_keys()),
                Ok(())
            );
            assert_eq!(
                check_standard("msg_2", &ts, &header, body, now(), &standard_keys()),
                Err(SignatureError::NoMatch(SIGNATURE_HEADER)),
                "the id is signed"
            );
        }
    }

    #[test]
    fn refusals_keep_their_status_code_and_field() {
        let e = ApiError::from(SignatureError::Stale {
            timestamp: 1,
            header: STRIPE_HEADER,
        });
        assert_eq!(
            (e.status, e.code, e.field.as_deref()),
            (400, "stale_timestamp", Some(STRIPE_HEADER))
        );
        let e = ApiError::from(SignatureError::BadTimestamp);
        assert_eq!(
            (e.status, e.code, e.field.as_deref()),
            (400, "bad_timestamp", Some(TIMESTAMP_HEADER))
        );
        let e = ApiError::from(SignatureError::NoTimestamp);
        assert_eq!(
            (e.status, e.code, e.field.as_deref()),
            (401, "bad_signature", Some(STRIPE_HEADER))
        );
        let e = ApiError::from(SignatureError::Missing(ID_HEADER));
        assert_eq!(
            (e.status, e.code, e.field.as_deref()),
            (401, "missing_signature", Some(ID_HEADER))
        );
        let e = ApiError::from(SignatureError::NoMatch(SIGNATURE_HEADER));
        assert_eq!(
            (e.status, e.code, e.field.as_deref()),
            (401, "bad_signature", Some(SIGNATURE_HEADER))
        );
    }
}

//! Solapi's API-key authentication, as its server checks it:
//! `Authorization: HMAC-SHA256 apiKey=<key>, date=<ISO 8601>, salt=<salt>, signature=<hex>`,
//! where the signature is `hex(HMAC-SHA256(key = secret, data = date + salt))`. The parameter
//! names are matched whatever their case (the Python SDK writes `ApiKey=`, the Node and Go SDKs
//! `apiKey=`). A date more than 15 minutes from the server's clock is refused, and so is a
//! signature already used: every request, retries included, needs a fresh salt.

use std::collections::HashMap;

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How far the request's `date` may be from the server's clock, either way.
pub const SKEW: Duration = Duration::minutes(15);
/// A salt's length: "12 ~ 64바이트의 불규칙적이고 랜덤한 문자열".
const SALT_BYTES: std::ops::RangeInclusive<usize> = 12..=64;

/// `hex(HMAC-SHA256(secret, date + salt))`, lower case.
pub fn signature(secret: &str, date: &str, salt: &str) -> String {
    mac(secret, date, salt)
        .map(|mac| hex::encode(mac.finalize().into_bytes()))
        .unwrap_or_default()
}

/// The `Authorization` header a client sends (the Node and Go SDKs' spelling).
pub fn authorization(api_key: &str, secret: &str, date: &str, salt: &str) -> String {
    format!(
        "HMAC-SHA256 apiKey={api_key}, date={date}, salt={salt}, signature={}",
        signature(secret, date, salt)
    )
}

fn mac(secret: &str, date: &str, salt: &str) -> Option<HmacSha256> {
    // HMAC takes a key of any length: this never fails
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(date.as_bytes());
    mac.update(salt.as_bytes());
    Some(mac)
}

/// Why a request was refused, with Solapi's error code (`authentication/api-key.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No header, another scheme than `HMAC-SHA256`, a parameter missing, or a salt outside
    /// 12–64 bytes.
    Malformed,
    InvalidApiKey,
    SignatureDoesNotMatch,
    RequestTimeTooSkewed,
    DuplicatedSignature,
}

impl Refusal {
    pub fn status(self) -> StatusCode {
        match self {
            // the documents give no code for a missing or unreadable header
            Refusal::Malformed => StatusCode::UNAUTHORIZED,
            _ => StatusCode::FORBIDDEN,
        }
    }

    pub fn error_code(self) -> &'static str {
        match self {
            Refusal::Malformed => "InvalidAuthorization",
            Refusal::InvalidApiKey => "InvalidAPIKey",
            Refusal::SignatureDoesNotMatch => "SignatureDoesNotMatch",
            Refusal::RequestTimeTooSkewed => "RequestTimeTooSkewed",
            Refusal::DuplicatedSignature => "DuplicatedSignature",
        }
    }

    pub fn error_message(self) -> &'static str {
        match self {
            Refusal::Malformed => {
                "Authorization: HMAC-SHA256 apiKey=…, date=…, salt=…, signature=… is required"
            }
            Refusal::InvalidApiKey => "유효한 API Key가 아님",
            Refusal::SignatureDoesNotMatch => "생성한 Signature가 일치하지 않음",
            Refusal::RequestTimeTooSkewed => "시간 값이 서버 시간을 15분 이상 벗어남",
            Refusal::DuplicatedSignature => "15분 안에 동일한 signature 값",
        }
    }
}

/// The header's parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub api_key: String,
    pub date: String,
    pub salt: String,
    pub signature: String,
}

/// Reads `HMAC-SHA256 apiKey=…, date=…, salt=…, signature=…` (names in any case, in any order).
pub fn parse(header: &str) -> Option<Credentials> {
    let (scheme, params) = header.trim().split_once(char::is_whitespace)?;
    if !scheme.eq_ignore_ascii_case("HMAC-SHA256") {
        return None;
    }
    let (mut api_key, mut date, mut salt, mut signature) = (None, None, None, None);
    for param in params.split(',') {
        let (name, value) = param.trim().split_once('=')?;
        let value = Some(value.trim().to_string());
        match name.trim().to_ascii_lowercase().as_str() {
            "apikey" => api_key = value,
            "date" => date = value,
            "salt" => salt = value,
            "signature" => signature = value,
            _ => {}
        }
    }
    Some(Credentials {
        api_key: api_key?,
        date: date?,
        salt: salt?,
        signature: signature?,
    })
}

/// Checks requests against one API key and remembers the signatures it accepted.
pub(super) struct Verifier {
    api_key: String,
    secret: String,
    /// Signatures accepted, with when they were (kept for twice the skew window: an older
    /// signature's date is refused as skewed anyway).
    seen: HashMap<String, DateTime<Utc>>,
}

impl Verifier {
    pub(super) fn new(api_key: &str, secret: &str) -> Verifier {
        Verifier {
            api_key: api_key.to_string(),
            secret: secret.to_string(),
            seen: HashMap::new(),
        }
    }

    /// Accepts the request (and spends its signature) or says why not.
    pub(super) fn check(
        &mut self,
        header: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), Refusal> {
        let credentials = header
            .and_then(parse)
            .filter(|c| SALT_BYTES.contains(&c.salt.len()))
            .ok_or(Refusal::Malformed)?;
        if credentials.api_key != self.api_key {
            return Err(Refusal::InvalidApiKey);
        }
        let claimed =
            hex::decode(&credentials.signature).map_err(|_| Refusal::SignatureDoesNotMatch)?;
        let mac = mac(&self.secret, &credentials.date, &credentials.salt)
            .ok_or(Refusal::SignatureDoesNotMatch)?;
        // constant time: `verify_slice` compares through `subtle`
        mac.verify_slice(&claimed)
            .map_err(|_| Refusal::SignatureDoesNotMatch)?;
        let date = DateTime::parse_from_rfc3339(&credentials.date)
            .map_err(|_| Refusal::RequestTimeTooSkewed)?
            .with_timezone(&Utc);
        if (now - date).abs() > SKEW {
            return Err(Refusal::RequestTimeTooSkewed);
        }
        self.seen.retain(|_, at| now - *at <= SKEW * 2);
        let key = credentials.signature.to_ascii_lowercase();
        if self.seen.contains_key(&key) {
            return Err(Refusal::DuplicatedSignature);
        }
        self.seen.insert(key, now);
        Ok(())
    }
}

//! What the payment providers' mappings share: their verdict on a webhook and the small readers
//! of provider JSON.

use chrono::{DateTime, Utc};
use journey::domain::event::limits;
use journey::domain::{Event, Profile};
use journey::http::ApiError;
use serde_json::Value;

/// What a provider's webhook becomes.
#[derive(Debug, PartialEq)]
pub enum Mapped {
    Event(Box<Event>),
    /// Acknowledged (200) but not used, with the reason logged.
    Ignored(String),
}

/// A non-empty string field.
pub fn text(v: &Value) -> Option<String> {
    v.as_str().filter(|s| !s.is_empty()).map(str::to_string)
}

/// A provider's free-text reason, cut to [`limits::REASON`] characters: a provider's text
/// is never a reason to refuse its webhook.
pub fn reason(v: &Value) -> Option<String> {
    text(v).map(|r| r.chars().take(limits::REASON).collect())
}

/// An RFC 3339 time field (Toss's and PortOne's payments).
pub fn rfc3339(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// A 400 naming the provider's field.
pub fn field_error(field: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request("invalid_field", e.to_string(), Some(field.to_string()))
}

/// The profile if it is valid: a malformed e-mail from a provider is dropped rather than
/// failing the payment.
pub fn valid_or_empty(candidate: Profile) -> Profile {
    if candidate.validate().is_ok() {
        candidate
    } else {
        Profile::default()
    }
}

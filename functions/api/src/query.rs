//! The read API's parameters and bodies: ids, filters, numbers, opaque cursors and staff
//! notes, each refused with a 400 naming the parameter or field (fuzzed in `tests/fuzz.rs`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use journey::domain::{ContactChannel, CustomerId, EventKind, RiskLevel, Stage};
use journey::http::{ApiError, Incoming};
use journey::ports::{ListOrder, ListQuery};
use serde::Deserialize;

pub fn customer_id(id: &str) -> Result<CustomerId, ApiError> {
    CustomerId::new(id)
        .map_err(|e| ApiError::bad_request("invalid_field", e.to_string(), Some("id".into())))
}

/// `GET /customers`: risk, stage, program, owner, order, limit and cursor.
pub fn list_query(incoming: &Incoming<'_>) -> Result<ListQuery, ApiError> {
    let invalid = |field: &str, message: String| {
        ApiError::bad_request("invalid_field", message, Some(field.into()))
    };
    let risk = match incoming.param("risk") {
        None | Some("") => None,
        Some(r) => match r.parse::<RiskLevel>() {
            Ok(RiskLevel::None) | Err(_) => {
                return Err(invalid("risk", "risk is caution, warning or danger".into()));
            }
            Ok(level) => Some(level),
        },
    };
    let stage = match incoming.param("stage") {
        None | Some("") => None,
        Some(s) => Some(
            s.parse::<Stage>()
                .map_err(|e| invalid("stage", e.to_string()))?,
        ),
    };
    let order = match incoming.param("order") {
        None | Some("") | Some("value") => ListOrder::Value,
        Some("score") => ListOrder::Score,
        Some(other) => {
            return Err(invalid(
                "order",
                format!("order is score or value, not `{other}`"),
            ));
        }
    };
    let text = |name| {
        incoming
            .param(name)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    Ok(ListQuery {
        risk,
        stage,
        program: text("program"),
        owner: text("owner"),
        order,
        limit: number(incoming, "limit", 20, 1..=100)?,
        after: incoming
            .param("cursor")
            .filter(|c| !c.is_empty())
            .map(|c| decode("cursor", c))
            .transpose()?,
    })
}

/// A number parameter within `range`, else 400 naming it.
pub fn number(
    incoming: &Incoming<'_>,
    name: &str,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
) -> Result<usize, ApiError> {
    match incoming.param(name) {
        None | Some("") => Ok(default),
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_field",
                    format!(
                        "{name} is a number from {} to {}",
                        range.start(),
                        range.end()
                    ),
                    Some(name.into()),
                )
            }),
    }
}

/// Cursors are opaque to clients: base64url of the store's key.
pub fn encode(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key.as_bytes())
}

/// The store's key from the `field` parameter's cursor, or 400 naming it.
pub fn decode(field: &str, cursor: &str) -> Result<String, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| bad_cursor(field))
}

/// `GET /customers/{id}`'s history page: `history_limit` and `history_cursor`.
pub fn history_query(incoming: &Incoming<'_>) -> Result<(usize, Option<String>), ApiError> {
    let limit = number(incoming, "history_limit", 50, 1..=200)?;
    let cursor = incoming
        .param("history_cursor")
        .filter(|c| !c.is_empty())
        .map(|c| decode("history_cursor", c))
        .transpose()?;
    Ok((limit, cursor))
}

pub fn bad_cursor(field: &str) -> ApiError {
    ApiError::bad_request(
        "invalid_cursor",
        "this cursor was not given by this API",
        Some(field.into()),
    )
}

/// A staff note's body: `{"author", "channel"}`, nothing else (no free text about customers).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    /// The staff member's id (1 to 128 characters).
    author: String,
    channel: ContactChannel,
}

/// The note `body` asks to record.
pub fn note(body: &[u8]) -> Result<EventKind, ApiError> {
    let note: NoteRequest = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("invalid_body", e.to_string(), None))?;
    let author = note.author.trim();
    if author.is_empty() || author.chars().count() > 128 {
        return Err(ApiError::bad_request(
            "invalid_field",
            "author must be 1 to 128 characters",
            Some("author".into()),
        ));
    }
    Ok(EventKind::StaffNote {
        author: author.to_string(),
        channel: note.channel,
    })
}

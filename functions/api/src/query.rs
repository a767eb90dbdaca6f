//! The read API's parameters and bodies: ids, filters, numbers, opaque cursors and staff
//! notes, each refused with a 400 naming the parameter or field (fuzzed in `tests/fuzz.rs`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use journey::domain::{ContactChannel, ContactOutcome, CustomerId, EventKind, RiskLevel, Stage};
use journey::http::{ApiError, Incoming};
use journey::ports::{ListOrder, ListQuery};
use serde::Deserialize;

use crate::caller::{Caller, Staff};

pub fn customer_id(id: &str) -> Result<CustomerId, ApiError> {
    CustomerId::new(id)
        .map_err(|e| ApiError::bad_request("invalid_field", e.to_string(), Some("id".into())))
}

/// `GET /customers`: risk, stage, program, owner (`me`: the signed-in staff member), order,
/// limit and cursor.
pub fn list_query(incoming: &Incoming<'_>, caller: &Caller) -> Result<ListQuery, ApiError> {
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
    let owner = match text("owner").as_deref() {
        Some("me") => match caller.staff() {
            Some(staff) => Some(staff.id.clone()),
            None => {
                return Err(invalid(
                    "owner",
                    "owner=me needs a staff sign-in (the /staff routes)".into(),
                ));
            }
        },
        other => other.map(str::to_string),
    };
    Ok(ListQuery {
        risk,
        needing_contact_from: None,
        stage,
        program: text("program"),
        owner,
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

/// A UTC day, `YYYY-MM-DD`.
pub fn day(incoming: &Incoming<'_>, name: &str) -> Result<chrono::NaiveDate, ApiError> {
    incoming
        .param(name)
        .and_then(|v| chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").ok())
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_field",
                format!("{name} is a day, YYYY-MM-DD (UTC)"),
                Some(name.into()),
            )
        })
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

/// `GET /search`'s `q`: 1 to 254 characters.
pub fn search_text(incoming: &Incoming<'_>) -> Result<String, ApiError> {
    let q = incoming.param("q").map(str::trim).unwrap_or_default();
    if q.is_empty() || q.chars().count() > 254 {
        return Err(ApiError::bad_request(
            "invalid_field",
            "q is an id or the start of an e-mail address (1 to 254 characters)",
            Some("q".into()),
        ));
    }
    Ok(q.to_string())
}

/// A staff note's body: `{"author", "channel", "outcome"}`, nothing else (no free text about
/// customers). A signed-in staff member is the author; a machine names one.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    /// The staff member's id (1 to 128 characters); with a staff sign-in, omitted or theirs.
    #[serde(default)]
    author: Option<String>,
    channel: ContactChannel,
    /// What came of it: `reached` or `no_answer` (contacted), `saved` or `lost` (resolved).
    #[serde(default)]
    outcome: Option<ContactOutcome>,
}

/// The note `body` asks to record, by `staff` when signed in.
pub fn note(body: &[u8], staff: Option<&Staff>) -> Result<EventKind, ApiError> {
    let note: NoteRequest = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("invalid_body", e.to_string(), None))?;
    let invalid =
        |message: &str| ApiError::bad_request("invalid_field", message, Some("author".into()));
    let given = note.author.as_deref().map(str::trim);
    let author = match (staff, given) {
        (Some(s), None) => s.id.clone(),
        (Some(s), Some(a)) if a == s.id => s.id.clone(),
        (Some(_), Some(_)) => return Err(invalid("a signed-in staff member writes as themselves")),
        (None, Some(a)) if !a.is_empty() && a.chars().count() <= 128 => a.to_string(),
        (None, _) => return Err(invalid("author must be 1 to 128 characters")),
    };
    Ok(EventKind::StaffNote {
        author,
        channel: note.channel,
        outcome: note.outcome,
    })
}

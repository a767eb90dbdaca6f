//! The business's own events (`POST /events`): one JSON object or an array of up to 100, in the
//! schema of docs/openapi.yaml. A batch with one bad event is refused whole, naming its index.

use chrono::{DateTime, Duration, Utc};
use journey::domain::consent::ConsentChange;
use journey::domain::event::limits;
use journey::domain::text::e164;
use journey::domain::{
    CustomerId, Event, EventId, EventKind, NpsScore, Owner, Profile, SignUpPlan, Source,
};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use journey::http::ApiError;

pub const MAX_BATCH: usize = 100;
/// Events stamped further in the future than this are refused: a clock that wrong would
/// distort every time-based rule.
const FUTURE_SKEW_MINUTES: i64 = 5;

/// The event types the app may send.
// Each is the name of the domain event it becomes (`EventKind::name`), derived once: a test
// holds the two, and the OpenAPI document, together.
#[derive(
    Deserialize, Clone, Copy, Debug, PartialEq, ToSchema, strum::IntoStaticStr, strum::VariantNames,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum AppType {
    SignedUp,
    Login,
    OnboardingCompleted,
    AssignmentSubmitted,
    AssignmentMissed,
    ContentViewed,
    ProgramCompleted,
    SupportTicket,
    NpsResponse,
    RefundRequested,
    ProfileUpdated,
}

impl AppType {
    fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One event as the app sends it; profile fields sit at the top level.
// (the OpenAPI document's `AppEvent` is generated from this type)
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppEvent {
    #[serde(rename = "type")]
    kind: AppType,
    /// Your id for the customer (printable ASCII, no spaces).
    customer_id: CustomerId,
    /// RFC 3339; at most 5 minutes in the future.
    occurred_at: DateTime<Utc>,
    /// Your id for this event (the dedup key); defaults to the webhook id (and the batch index).
    #[serde(default)]
    id: Option<String>,
    /// `signed_up` only; default `trial`.
    #[serde(default)]
    plan: Option<SignUpPlan>,
    /// `content_viewed` only (required there).
    #[serde(default)]
    seconds: Option<u32>,
    /// `nps_response` only (required there).
    #[serde(default)]
    #[schema(value_type = Option<u8>, minimum = 0, maximum = 10)]
    score: Option<NpsScore>,
    /// `refund_requested` only.
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    #[schema(example = "ko-KR")]
    locale: Option<String>,
    /// IANA time zone; quiet hours follow it.
    #[serde(default)]
    #[schema(example = "Asia/Seoul")]
    time_zone: Option<String>,
    /// Selects per-program rules.
    #[serde(default)]
    program: Option<String>,
    /// Who looks after the customer: alerts go to them.
    #[serde(default)]
    owner: Option<Owner>,
    /// Mobile number, for 알림톡 and texts: E.164, or a Korean number as written
    /// (`010-1234-5678`).
    #[serde(default)]
    #[schema(example = "010-1234-5678")]
    phone: Option<String>,
    /// Marketing (and night) consent given or withdrawn now, and where (정보통신망법 §50:
    /// advertising goes only with it).
    #[serde(default)]
    consent: Option<ConsentChange>,
}

/// A number written without `+` is Korean: Journey's businesses and their customers are.
const DOMESTIC_COUNTRY: &str = "82";

/// Parses the body into canonical events. `webhook_id` is the sender's message id.
pub fn parse(body: &[u8], webhook_id: &str, now: DateTime<Utc>) -> Result<Vec<Event>, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("malformed_json", e.to_string(), None))?;
    match value {
        Value::Array(items) => {
            if items.is_empty() || items.len() > MAX_BATCH {
                return Err(ApiError::bad_request(
                    "invalid_batch",
                    format!("a batch holds 1 to {MAX_BATCH} events, not {}", items.len()),
                    None,
                ));
            }
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| {
                    let default_id = format!("{webhook_id}:{i}");
                    one(item, &default_id, now, &format!("[{i}]."))
                })
                .collect()
        }
        Value::Object(_) => Ok(vec![one(value, webhook_id, now, "")?]),
        _ => Err(ApiError::bad_request(
            "invalid_body",
            "expected an event object or an array of them",
            None,
        )),
    }
}

/// One event; `at` prefixes field names with the batch index (`[3].score`).
fn one(value: Value, default_id: &str, now: DateTime<Utc>, at: &str) -> Result<Event, ApiError> {
    let invalid = |field: &str, message: String| {
        ApiError::bad_request("invalid_field", message, Some(format!("{at}{field}")))
    };
    let raw: AppEvent = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        let field = unknown_field(&message).unwrap_or(path);
        invalid(&field, message)
    })?;
    if raw.occurred_at > now + Duration::minutes(FUTURE_SKEW_MINUTES) {
        return Err(invalid("occurred_at", "is in the future".into()));
    }
    let kind = kind(&raw).map_err(|(field, message)| invalid(field, message))?;
    let id = EventId::new(format!("app:{}", raw.id.as_deref().unwrap_or(default_id)))
        .map_err(|e| invalid("id", e.to_string()))?;
    let phone = raw
        .phone
        .as_deref()
        .map(|p| e164(p, Some(DOMESTIC_COUNTRY)))
        .transpose()
        .map_err(|e| invalid("phone", e.to_string()))?;
    let profile = Profile {
        email: raw.email,
        locale: raw.locale,
        time_zone: raw.time_zone,
        program: raw.program,
        owner: raw.owner,
        phone,
        consent: raw.consent,
    };
    profile.validate().map_err(|e| match e {
        journey::domain::DomainError::Invalid { field, reason } => invalid(field, reason),
        other => invalid("", other.to_string()),
    })?;
    Ok(Event {
        id,
        customer_id: raw.customer_id,
        occurred_at: raw.occurred_at,
        source: Source::App,
        kind,
        profile,
    })
}

/// Refuses the batch (400 naming `[i].occurred_at`) if an event is older than `oldest`: a
/// sign-up stamped at epoch 0 must not churn on the first sweep, and the app is told at once
/// rather than seeing the event dropped later.
pub fn within_age(body: &[u8], events: &[Event], oldest: DateTime<Utc>) -> Result<(), ApiError> {
    let batch = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    match events.iter().position(|e| e.occurred_at < oldest) {
        None => Ok(()),
        Some(i) => Err(ApiError::bad_request(
            "invalid_field",
            format!("is older than {oldest}: events that old are not accepted"),
            Some(if batch {
                format!("[{i}].occurred_at")
            } else {
                "occurred_at".into()
            }),
        )),
    }
}

/// serde's "unknown field `x`" and "missing field `x`" name the field only in the message.
fn unknown_field(message: &str) -> Option<String> {
    let rest = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("missing field `"))?;
    rest.split('`').next().map(str::to_string)
}

/// The canonical kind, checking that each type has the fields it needs and no others.
fn kind(raw: &AppEvent) -> Result<EventKind, (&'static str, String)> {
    let not_for =
        |field: &'static str| (field, format!("is not used by type {}", raw.kind.as_str()));
    if raw.plan.is_some() && raw.kind != AppType::SignedUp {
        return Err(not_for("plan"));
    }
    if raw.seconds.is_some() && raw.kind != AppType::ContentViewed {
        return Err(not_for("seconds"));
    }
    if raw.score.is_some() && raw.kind != AppType::NpsResponse {
        return Err(not_for("score"));
    }
    if raw.reason.is_some() && raw.kind != AppType::RefundRequested {
        return Err(not_for("reason"));
    }
    if let Some(reason) = &raw.reason
        && reason.chars().count() > limits::REASON
    {
        return Err((
            "reason",
            format!("is longer than {} characters", limits::REASON),
        ));
    }
    Ok(match raw.kind {
        AppType::SignedUp => EventKind::SignedUp {
            plan: raw.plan.unwrap_or_default(),
        },
        AppType::Login => EventKind::Login,
        AppType::OnboardingCompleted => EventKind::OnboardingCompleted,
        AppType::AssignmentSubmitted => EventKind::AssignmentSubmitted,
        AppType::AssignmentMissed => EventKind::AssignmentMissed,
        AppType::ContentViewed => EventKind::ContentViewed {
            seconds: raw
                .seconds
                .ok_or(("seconds", "is required for content_viewed".to_string()))?,
        },
        AppType::ProgramCompleted => EventKind::ProgramCompleted,
        AppType::SupportTicket => EventKind::SupportTicket,
        AppType::NpsResponse => EventKind::NpsResponse {
            score: raw
                .score
                .ok_or(("score", "is required for nps_response".to_string()))?,
        },
        AppType::RefundRequested => EventKind::RefundRequested {
            reason: raw.reason.clone(),
        },
        AppType::ProfileUpdated => EventKind::ProfileUpdated,
    })
}

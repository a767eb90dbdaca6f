//! The API Gateway (HTTP API, payload 2.0) side of the HTTP functions: the raw request as
//! sent, JSON responses, and errors as `{"error": {"code", "message", "field"}}`.

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use http::header::{CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use serde::Serialize;
use utoipa::ToSchema;

/// A request as the handler needs it: route, headers, the exact bytes sent, and when.
pub struct Incoming<'a> {
    /// `"POST /webhooks/stripe"`.
    pub route: String,
    pub headers: &'a HeaderMap,
    /// The body exactly as the sender signed it (base64-decoded when API Gateway encoded it).
    pub body: Vec<u8>,
    /// API Gateway's request time: `now` for timestamp tolerance and for the events.
    pub received_at: DateTime<Utc>,
    /// The query string, decoded.
    pub query: Vec<(String, String)>,
}

impl<'a> Incoming<'a> {
    pub fn from_request(
        request: &'a ApiGatewayV2httpRequest,
        fallback_now: DateTime<Utc>,
    ) -> Result<Self, ApiError> {
        let body = match (&request.body, request.is_base64_encoded) {
            (None, _) => Vec::new(),
            (Some(text), false) => text.as_bytes().to_vec(),
            (Some(encoded), true) => STANDARD.decode(encoded).map_err(|_| {
                ApiError::bad_request("malformed_body", "body is not valid base64", None)
            })?,
        };
        let path = request.raw_path.as_deref().unwrap_or("/");
        let path = if path.len() > 1 {
            path.trim_end_matches('/')
        } else {
            path
        };
        let received_at = DateTime::from_timestamp_millis(request.request_context.time_epoch)
            .filter(|_| request.request_context.time_epoch > 0)
            .unwrap_or(fallback_now);
        let query =
            form_urlencoded::parse(request.raw_query_string.as_deref().unwrap_or("").as_bytes())
                .into_owned()
                .collect();
        Ok(Incoming {
            route: format!("{} {path}", request.request_context.http.method),
            headers: &request.headers,
            body,
            received_at,
            query,
        })
    }

    /// A query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A header's value as text (API Gateway lower-cases names; `HeaderMap` ignores case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// JSON, by the `Content-Type` the sender declared.
    pub fn require_json(&self) -> Result<(), ApiError> {
        let content_type = self.header("content-type").unwrap_or_default();
        let media = content_type.split(';').next().unwrap_or_default().trim();
        let json = media.eq_ignore_ascii_case("application/json")
            || media.to_ascii_lowercase().ends_with("+json");
        if json {
            Ok(())
        } else {
            Err(ApiError {
                status: 415,
                code: "unsupported_media_type",
                message: format!("expected Content-Type application/json, got `{content_type}`"),
                field: Some("content-type".into()),
                retry_after: None,
            })
        }
    }

    pub fn limit_size(&self, max: usize) -> Result<(), ApiError> {
        if self.body.len() > max {
            return Err(ApiError {
                status: 413,
                code: "payload_too_large",
                message: format!("body is {} bytes; the limit is {max}", self.body.len()),
                field: None,
                retry_after: None,
            });
        }
        Ok(())
    }
}

/// A refused request: status, a stable machine code, words for a person, and the field at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// Seconds the caller should wait before retrying (503).
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn bad_request(
        code: &'static str,
        message: impl Into<String>,
        field: Option<String>,
    ) -> Self {
        ApiError {
            status: 400,
            code,
            message: message.into(),
            field,
            retry_after: None,
        }
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>, field: &str) -> Self {
        ApiError {
            status: 401,
            code,
            message: message.into(),
            field: Some(field.to_string()),
            retry_after: None,
        }
    }

    /// 403: who is asking is known, and may not do this.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status: 403,
            code,
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        ApiError {
            status: 503,
            code: "queue_unavailable",
            message: message.into(),
            field: None,
            retry_after: Some(30),
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError {
            status: 500,
            code: "internal",
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    pub fn not_found(route: &str) -> Self {
        ApiError {
            status: 404,
            code: "not_found",
            message: format!("no route `{route}`"),
            field: None,
            retry_after: None,
        }
    }

    pub fn into_response(self) -> ApiGatewayV2httpResponse {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
                field: self.field,
            },
        };
        let mut response = json_response(self.status, &body);
        if let Some(seconds) = self.retry_after {
            response
                .headers
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// What every refused or failed request answers.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// What went wrong, for programs: `invalid_field`, `bad_signature`, `queue_unavailable` …
    #[schema(example = "invalid_field")]
    pub code: String,
    /// The same, for people.
    #[schema(example = "an NPS answer is 0 to 10")]
    pub message: String,
    /// The header, query or body field at fault: `[3].score` is the fourth event's.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "[3].score")]
    pub field: Option<String>,
}

/// A JSON response: `body` serialized, with its content type.
pub fn json_response(status: u16, body: &impl Serialize) -> ApiGatewayV2httpResponse {
    let mut response = ApiGatewayV2httpResponse::default();
    response.status_code = i64::from(status);
    response
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let text = serde_json::to_string(body).unwrap_or_else(|e| {
        tracing::error!(error = %e, "a response that cannot be serialized");
        "null".into()
    });
    response.body = Some(Body::Text(text));
    response
}

/// A small HTML page (the unsubscribe confirmation), in Korean and English.
pub fn html_response(status: u16, title: &str, body_html: &str) -> ApiGatewayV2httpResponse {
    let page = format!(
        "<!doctype html><html lang=\"ko\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title></head>\
         <body style=\"font-family:-apple-system,'Apple SD Gothic Neo','Malgun Gothic',sans-serif;max-width:480px;margin:48px auto;padding:0 16px;line-height:1.6\">\
         {body_html}</body></html>"
    );
    let mut response = ApiGatewayV2httpResponse::default();
    response.status_code = i64::from(status);
    response.headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response.body = Some(Body::Text(page));
    response
}

/// The error answers routes share, for the OpenAPI document (each is an [`ErrorBody`]).
pub mod responses {
    use utoipa::ToResponse;

    use super::ErrorBody;

    /// Malformed JSON (`malformed_json`), a schema violation (`invalid_field`, `invalid_batch`,
    /// `invalid_body`) or a timestamp outside ±300 s (`stale_timestamp`). Retrying the same
    /// request will not help.
    #[derive(ToResponse)]
    pub struct BadRequest(pub ErrorBody);

    /// Missing or non-matching signature (`missing_signature`, `bad_signature`) on webhooks;
    /// missing or wrong key (`missing_api_key`, `bad_api_key`) on the read API.
    #[derive(ToResponse)]
    pub struct Unauthorized(pub ErrorBody);

    /// `not_found`: no such customer.
    #[derive(ToResponse)]
    pub struct NotFound(pub ErrorBody);

    /// `payload_too_large`: over 1 MiB (providers) or 256 KiB (`/events`).
    #[derive(ToResponse)]
    pub struct TooLarge(pub ErrorBody);

    /// `unsupported_media_type`: the body must be `application/json`.
    #[derive(ToResponse)]
    pub struct UnsupportedMediaType(pub ErrorBody);

    /// `queue_unavailable` (retry after `Retry-After` seconds), `provider_unavailable` (Toss's
    /// or PortOne's API did not answer after three attempts) or `not_configured` (the route's
    /// secret is not set). Providers retry on 5xx, so nothing is lost.
    #[derive(ToResponse)]
    #[response(headers(("Retry-After" = u32, description = "Seconds to wait before retrying")))]
    pub struct Unavailable(pub ErrorBody);

    /// `provider_refused`: Toss's or PortOne's API refused our key (401/403) or answered
    /// something unreadable. Nothing was queued; the provider retries while an operator fixes
    /// the secret.
    #[derive(ToResponse)]
    pub struct ProviderRefused(pub ErrorBody);
}

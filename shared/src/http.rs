//! The API Gateway (HTTP API, payload 2.0) side of the HTTP functions: the raw request as
//! sent, JSON responses, and errors as `{"error": {"code", "message", "field"}}`.

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use http::header::{CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use serde_json::{Value, json};

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
        let mut body = json!({"error": {"code": self.code, "message": self.message}});
        if let Some(field) = self.field {
            body["error"]["field"] = Value::String(field);
        }
        let mut response = json_response(self.status, &body);
        if let Some(seconds) = self.retry_after {
            response
                .headers
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

pub fn json_response(status: u16, body: &Value) -> ApiGatewayV2httpResponse {
    let mut response = ApiGatewayV2httpResponse::default();
    response.status_code = i64::from(status);
    response
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response.body = Some(Body::Text(body.to_string()));
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

//! The API Gateway stand-in: the HTTP API's routes, each request turned into the payload-2.0
//! event API Gateway would send (raw body, base64 where API Gateway would, lower-cased and
//! comma-joined headers, the request time from the simulated clock) for the same handler the
//! Lambda binary runs; the handler's response turned back into HTTP.

use aws_lambda_events::apigw::{
    ApiGatewayV2httpRequest, ApiGatewayV2httpRequestContextHttpDescription,
    ApiGatewayV2httpResponse,
};
use aws_lambda_events::encodings::Body as LambdaBody;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};

/// The routes behind the HTTP API's JWT authorizer (the staff's).
pub const STAFF_PREFIX: &str = "/staff/";

/// Which function a route belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Function {
    Ingest,
    Api,
}

/// The HTTP API's routes, as `template.yaml` declares them (a test holds the two equal).
pub const ROUTES: &[(&str, &str, Function)] = &[
    ("POST", "/webhooks/stripe", Function::Ingest),
    ("POST", "/webhooks/toss", Function::Ingest),
    ("POST", "/webhooks/portone", Function::Ingest),
    ("POST", "/webhooks/solapi", Function::Ingest),
    ("POST", "/webhooks/nhn", Function::Ingest),
    ("POST", "/events", Function::Ingest),
    ("GET", "/unsubscribe", Function::Ingest),
    ("POST", "/unsubscribe", Function::Ingest),
    ("GET", "/", Function::Api),
    ("GET", "/health", Function::Api),
    ("GET", "/stats", Function::Api),
    ("GET", "/rules", Function::Api),
    ("GET", "/customers", Function::Api),
    ("GET", "/customers/{id}", Function::Api),
    ("POST", "/customers/{id}/notes", Function::Api),
    ("DELETE", "/customers/{id}", Function::Api),
    ("GET", "/today", Function::Api),
    ("GET", "/search", Function::Api),
    ("GET", "/customers.csv", Function::Api),
    ("GET", "/me", Function::Api),
    ("GET", "/access", Function::Api),
    ("POST", "/rules/{version}/approve", Function::Api),
    // signed-in staff: the same routes behind the JWT authorizer (`STAFF_PREFIX`)
    ("GET", "/staff/stats", Function::Api),
    ("GET", "/staff/rules", Function::Api),
    ("GET", "/staff/customers", Function::Api),
    ("GET", "/staff/customers/{id}", Function::Api),
    ("POST", "/staff/customers/{id}/notes", Function::Api),
    ("DELETE", "/staff/customers/{id}", Function::Api),
    ("GET", "/staff/today", Function::Api),
    ("GET", "/staff/search", Function::Api),
    ("GET", "/staff/customers.csv", Function::Api),
    ("GET", "/staff/me", Function::Api),
    ("GET", "/staff/access", Function::Api),
    ("POST", "/staff/rules/{version}/approve", Function::Api),
];

/// The function serving `method path`, with the route key API Gateway would report.
pub fn route(method: &str, path: &str) -> Option<(Function, String)> {
    ROUTES.iter().find_map(|(m, pattern, function)| {
        (*m == method && matches(pattern, path)).then(|| (*function, format!("{m} {pattern}")))
    })
}

/// `/customers/{id}` matches `/customers/c1`.
fn matches(pattern: &str, path: &str) -> bool {
    let trim = |p: &'_ str| {
        if p.len() > 1 {
            p.trim_end_matches('/').to_string()
        } else {
            p.to_string()
        }
    };
    let (pattern, path) = (trim(pattern), trim(path));
    let p: Vec<&str> = pattern.split('/').collect();
    let a: Vec<&str> = path.split('/').collect();
    p.len() == a.len()
        && p.iter()
            .zip(&a)
            .all(|(p, a)| (p.starts_with('{') && !a.is_empty()) || p == a)
}

/// Path parameters of `pattern` taken from `path`.
fn path_parameters(pattern: &str, path: &str) -> std::collections::HashMap<String, String> {
    pattern
        .split('/')
        .zip(path.split('/'))
        .filter_map(|(p, a)| {
            let name = p.strip_prefix('{')?.strip_suffix('}')?;
            Some((name.to_string(), a.to_string()))
        })
        .collect()
}

/// Content types API Gateway passes as text; anything else arrives base64-encoded.
fn is_text(content_type: Option<&str>) -> bool {
    let Some(media) = content_type.map(|c| {
        c.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }) else {
        return false;
    };
    media.starts_with("text/")
        || media == "application/json"
        || media.ends_with("+json")
        || media == "application/xml"
        || media.ends_with("+xml")
        || media == "application/javascript"
        || media == "application/x-www-form-urlencoded"
}

/// An HTTP request as API Gateway (HTTP API, payload 2.0) would hand it to Lambda.
pub fn to_event(
    request: &Request<()>,
    body: &Bytes,
    route_key: &str,
    source_ip: &str,
    now: DateTime<Utc>,
    request_id: String,
) -> ApiGatewayV2httpRequest {
    let mut event = ApiGatewayV2httpRequest::default();
    let path = request.uri().path().to_string();
    event.version = Some("2.0".into());
    event.route_key = Some(route_key.to_string());
    event.raw_path = Some(path.clone());
    event.raw_query_string = Some(request.uri().query().unwrap_or("").to_string());
    event.headers = joined_headers(request.headers());
    if let Some(pattern) = route_key.split_once(' ').map(|(_, p)| p) {
        event.path_parameters = path_parameters(pattern, &path);
    }
    if let Some(query) = request.uri().query() {
        event.query_string_parameters = query.parse().unwrap_or_default();
    }
    let context = &mut event.request_context;
    context.route_key = Some(route_key.to_string());
    context.account_id = Some("123456789012".into());
    context.apiid = Some("local".into());
    context.stage = Some("$default".into());
    context.request_id = Some(request_id);
    context.time_epoch = now.timestamp_millis();
    context.time = Some(now.format("%d/%b/%Y:%H:%M:%S +0000").to_string());
    let mut http = ApiGatewayV2httpRequestContextHttpDescription::default();
    http.method = request.method().clone();
    http.path = Some(path);
    http.protocol = Some("HTTP/1.1".into());
    http.source_ip = Some(source_ip.to_string());
    http.user_agent = request
        .headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    context.http = http;
    if !body.is_empty() {
        let content_type = request
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok());
        match std::str::from_utf8(body) {
            Ok(text) if is_text(content_type) => event.body = Some(text.to_string()),
            _ => {
                event.body = Some(STANDARD.encode(body));
                event.is_base64_encoded = true;
            }
        }
    }
    event
}

/// Lower-case names (the `http` crate's already are), repeated headers joined by commas.
fn joined_headers(headers: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for name in headers.keys() {
        let values: Vec<&str> = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if let Ok(value) = HeaderValue::from_str(&values.join(",")) {
            out.insert(name.clone(), value);
        }
    }
    out
}

/// The handler's response as HTTP.
pub fn from_response(response: ApiGatewayV2httpResponse) -> Response<Body> {
    let status =
        StatusCode::from_u16(response.status_code as u16).unwrap_or(StatusCode::BAD_GATEWAY);
    let body = match response.body {
        None | Some(LambdaBody::Empty) => Vec::new(),
        Some(LambdaBody::Text(text)) if response.is_base64_encoded => {
            STANDARD.decode(text).unwrap_or_default()
        }
        Some(LambdaBody::Text(text)) => text.into_bytes(),
        Some(LambdaBody::Binary(bytes)) => bytes,
        Some(_) => Vec::new(),
    };
    let mut out = Response::new(Body::from(body));
    *out.status_mut() = status;
    *out.headers_mut() = response.headers;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_with_parameters() {
        assert!(matches("/customers/{id}", "/customers/c-1"));
        assert!(!matches("/customers/{id}", "/customers"));
        assert!(!matches("/events", "/events/x"));
        assert_eq!(
            route("POST", "/events").map(|r| r.1),
            Some("POST /events".into())
        );
        assert_eq!(route("GET", "/events"), None);
    }

    #[test]
    fn bodies_are_text_or_base64_as_api_gateway_sends_them() {
        let now = DateTime::from_timestamp(1_793_610_000, 0).unwrap();
        let json = Request::builder()
            .method("POST")
            .uri("/events?x=1")
            .header("Content-Type", "application/json")
            .header("X-Thing", "a")
            .header("x-thing", "b")
            .body(())
            .unwrap();
        let e = to_event(
            &json,
            &Bytes::from_static(b"{\"a\":1}"),
            "POST /events",
            "127.0.0.1",
            now,
            "r1".into(),
        );
        assert_eq!(
            (e.body.as_deref(), e.is_base64_encoded),
            (Some("{\"a\":1}"), false)
        );
        assert_eq!(e.headers.get("x-thing").unwrap(), "a,b");
        assert_eq!(e.request_context.time_epoch, 1_793_610_000_000);
        assert_eq!(e.raw_query_string.as_deref(), Some("x=1"));
        let binary = Request::builder()
            .method("POST")
            .uri("/events")
            .header("content-type", "application/octet-stream")
            .body(())
            .unwrap();
        let e = to_event(
            &binary,
            &Bytes::from_static(b"\x00\x01"),
            "POST /events",
            "127.0.0.1",
            now,
            "r2".into(),
        );
        assert_eq!(
            (e.body.as_deref(), e.is_base64_encoded),
            (Some("AAE="), true)
        );
    }
}

#[cfg(test)]
mod fixture_tests {
    use super::*;

    /// Rebuilds each HTTP request behind the `events/ingest` fixtures (real API Gateway v2
    /// events) and checks the gateway turns it into the same event.
    #[test]
    fn the_gateway_produces_what_api_gateway_sends() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/ingest");
        let mut checked = 0;
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let fixture: ApiGatewayV2httpRequest =
                serde_json::from_str(&std::fs::read_to_string(entry.path()).unwrap()).unwrap();
            let body = match (&fixture.body, fixture.is_base64_encoded) {
                (Some(b), true) => STANDARD.decode(b).unwrap(),
                (Some(b), false) => b.as_bytes().to_vec(),
                (None, _) => Vec::new(),
            };
            let mut request = Request::builder()
                .method(fixture.request_context.http.method.clone())
                .uri(fixture.raw_path.clone().unwrap());
            for (name, value) in &fixture.headers {
                // a client sends header names in any case; API Gateway lower-cases them
                request = request.header(name.as_str().to_ascii_uppercase(), value);
            }
            let request = request.body(()).unwrap();
            let now = DateTime::from_timestamp_millis(fixture.request_context.time_epoch).unwrap();
            let (_, route_key) =
                route(request.method().as_str(), request.uri().path()).expect("a known route");
            let event = to_event(
                &request,
                &Bytes::from(body),
                &route_key,
                "203.0.113.10",
                now,
                "r".into(),
            );
            let name = entry.file_name();
            assert_eq!(event.route_key, fixture.route_key, "{name:?}");
            assert_eq!(event.raw_path, fixture.raw_path, "{name:?}");
            assert_eq!(event.headers, fixture.headers, "{name:?}");
            assert_eq!(
                event.request_context.time_epoch,
                fixture.request_context.time_epoch
            );
            // text bodies pass as text; the fixture that API Gateway base64-encoded decodes to
            // the same bytes either way
            let decoded = |e: &ApiGatewayV2httpRequest| match (&e.body, e.is_base64_encoded) {
                (Some(b), true) => STANDARD.decode(b).unwrap(),
                (Some(b), false) => b.as_bytes().to_vec(),
                (None, _) => Vec::new(),
            };
            assert_eq!(decoded(&event), decoded(&fixture), "{name:?}");
            checked += 1;
        }
        assert!(checked >= 10);
    }
}

/// The claims a JWT authorizer verified, where API Gateway puts them for the function.
pub fn with_claims(
    event: &mut ApiGatewayV2httpRequest,
    claims: std::collections::HashMap<String, String>,
) {
    let mut jwt = aws_lambda_events::apigw::ApiGatewayRequestAuthorizerJwtDescription::default();
    jwt.claims = claims;
    let mut authorizer = aws_lambda_events::apigw::ApiGatewayRequestAuthorizer::default();
    authorizer.jwt = Some(jwt);
    event.request_context.authorizer = Some(authorizer);
}

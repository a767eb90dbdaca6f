//! Stand-ins for the Toss Payments and PortOne APIs, which the ingestion function asks before a
//! Korean PG's webhook counts. The local stack serves them under `/_local/toss` and
//! `/_local/portone`; tests serve them on their own port. Payments are put in by the demo, by a
//! test, or by hand (`PUT`), and read back as the real APIs return them: 200 with the payment,
//! 404 with the provider's error body, 401 for a wrong key, and 500 while told to fail.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Provider {
    Toss,
    PortOne,
}

/// One request the stand-in answered: provider, path and `Authorization`.
#[derive(Clone, Debug, PartialEq)]
pub struct Seen {
    pub provider: Provider,
    pub path: String,
    pub authorization: Option<String>,
}

#[derive(Default)]
struct Book {
    payments: BTreeMap<(Provider, String), Value>,
    keys: BTreeMap<Provider, String>,
    failures: u32,
    seen: Vec<Seen>,
}

/// The payments both APIs know, shared by every handle.
#[derive(Clone, Default)]
pub struct ProviderStandIn(Arc<Mutex<Book>>);

impl ProviderStandIn {
    fn book(&self) -> MutexGuard<'_, Book> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Requires `Authorization: Basic base64(<secret key>:)` on the Toss API.
    pub fn expect_toss_key(&self, secret_key: &str) -> &Self {
        use base64::Engine;
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{secret_key}:"));
        self.book()
            .keys
            .insert(Provider::Toss, format!("Basic {basic}"));
        self
    }

    /// Requires `Authorization: PortOne <secret>` on the PortOne API.
    pub fn expect_portone_secret(&self, secret: &str) -> &Self {
        self.book()
            .keys
            .insert(Provider::PortOne, format!("PortOne {secret}"));
        self
    }

    /// Adds or replaces a Toss payment (keyed by its `paymentKey`).
    pub fn put_toss(&self, payment: Value) {
        let key = payment["paymentKey"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        self.book().payments.insert((Provider::Toss, key), payment);
    }

    /// Adds or replaces a PortOne payment (keyed by its `id`).
    pub fn put_portone(&self, payment: Value) {
        let id = payment["id"].as_str().unwrap_or_default().to_string();
        self.book()
            .payments
            .insert((Provider::PortOne, id), payment);
    }

    /// The next `n` lookups answer 500, as an API having a bad minute.
    pub fn fail_next(&self, n: u32) {
        self.book().failures = n;
    }

    /// Every request answered so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.book().seen.clone()
    }

    /// The routes, relative: `/toss/v1/payments/…` and `/portone/payments/…`.
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        Router::new()
            .route(
                "/toss/v1/payments/{key}",
                get(toss_payment).put(put_toss_payment),
            )
            .route("/toss/v1/payments/orders/{order}", get(toss_order))
            .route(
                "/portone/payments/{id}",
                get(portone_payment).put(put_portone_payment),
            )
            .with_state(self.clone())
    }

    /// Serves the stand-in alone on a free loopback port; returns its base URL.
    pub async fn serve(&self) -> std::io::Result<String> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let base = format!("http://{}", listener.local_addr()?);
        let app = self.router();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(base)
    }

    /// Records the request and answers with the stand-in's verdict on it, before any lookup.
    fn check(&self, provider: Provider, path: String, headers: &HeaderMap) -> Option<Response> {
        let authorization = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut book = self.book();
        book.seen.push(Seen {
            provider,
            path,
            authorization: authorization.clone(),
        });
        if book.failures > 0 {
            book.failures -= 1;
            return Some(error(
                StatusCode::INTERNAL_SERVER_ERROR,
                provider,
                "stand-in told to fail",
            ));
        }
        match book.keys.get(&provider) {
            Some(expected) if authorization.as_ref() != Some(expected) => {
                Some(error(StatusCode::UNAUTHORIZED, provider, "wrong key"))
            }
            _ => None,
        }
    }

    fn find(&self, provider: Provider, matches: impl Fn(&str, &Value) -> bool) -> Response {
        let book = self.book();
        let found = book
            .payments
            .iter()
            .find(|((p, id), payment)| *p == provider && matches(id, payment));
        match found {
            Some((_, payment)) => Json(payment.clone()).into_response(),
            None => error(StatusCode::NOT_FOUND, provider, "no such payment"),
        }
    }
}

/// The providers' error bodies: Toss `{code, message}`, PortOne `{type, message}`.
fn error(status: StatusCode, provider: Provider, message: &str) -> Response {
    let body = match (provider, status) {
        (Provider::Toss, StatusCode::NOT_FOUND) => {
            json!({"code": "NOT_FOUND_PAYMENT", "message": message})
        }
        (Provider::Toss, StatusCode::UNAUTHORIZED) => {
            json!({"code": "UNAUTHORIZED_KEY", "message": message})
        }
        (Provider::Toss, _) => {
            json!({"code": "FAILED_INTERNAL_SYSTEM_PROCESSING", "message": message})
        }
        (Provider::PortOne, StatusCode::NOT_FOUND) => {
            json!({"type": "PAYMENT_NOT_FOUND", "message": message})
        }
        (Provider::PortOne, StatusCode::UNAUTHORIZED) => {
            json!({"type": "UNAUTHORIZED", "message": message})
        }
        (Provider::PortOne, _) => json!({"type": "UNKNOWN", "message": message}),
    };
    (status, Json(body)).into_response()
}

async fn toss_payment(
    State(s): State<ProviderStandIn>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = s.check(Provider::Toss, format!("/v1/payments/{key}"), &headers) {
        return refused;
    }
    s.find(Provider::Toss, |id, _| id == key)
}

async fn toss_order(
    State(s): State<ProviderStandIn>,
    Path(order): Path<String>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/v1/payments/orders/{order}");
    if let Some(refused) = s.check(Provider::Toss, path, &headers) {
        return refused;
    }
    s.find(Provider::Toss, |_, p| p["orderId"].as_str() == Some(&order))
}

async fn portone_payment(
    State(s): State<ProviderStandIn>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = s.check(Provider::PortOne, format!("/payments/{id}"), &headers) {
        return refused;
    }
    s.find(Provider::PortOne, |found, _| found == id)
}

async fn put_toss_payment(
    State(s): State<ProviderStandIn>,
    Path(key): Path<String>,
    Json(mut payment): Json<Value>,
) -> StatusCode {
    payment["paymentKey"] = json!(key);
    s.put_toss(payment);
    StatusCode::NO_CONTENT
}

async fn put_portone_payment(
    State(s): State<ProviderStandIn>,
    Path(id): Path<String>,
    Json(mut payment): Json<Value>,
) -> StatusCode {
    payment["id"] = json!(id);
    s.put_portone(payment);
    StatusCode::NO_CONTENT
}

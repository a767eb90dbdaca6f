//! Signing webhooks the way the providers do, for the demo and the end-to-end test.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().to_vec()
}

/// `Stripe-Signature` for `body` at unix time `t`.
pub fn stripe(secret: &str, t: i64, body: &[u8]) -> String {
    let ts = t.to_string();
    format!(
        "t={ts},v1={}",
        hex::encode(hmac(secret.as_bytes(), &[ts.as_bytes(), b".", body]))
    )
}

/// Standard Webhooks `webhook-signature` for message `id` at unix time `t`.
pub fn standard(secret: &str, id: &str, t: i64, body: &[u8]) -> Result<String, String> {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|e| format!("secret is not whsec_ + base64: {e}"))?;
    let ts = t.to_string();
    let mac = hmac(&key, &[id.as_bytes(), b".", ts.as_bytes(), b".", body]);
    Ok(format!("v1,{}", STANDARD.encode(mac)))
}

/// A client for the local gateway.
pub struct Gateway {
    pub base: String,
    pub http: reqwest::Client,
    pub stripe_secret: String,
    pub app_secret: String,
    /// PortOne's webhook secret (Toss signs nothing).
    pub portone_secret: String,
    /// For the read API and the dashboard link.
    pub api_key: String,
    /// Signs unsubscribe links, as the e-mails carry them.
    pub unsubscribe_key: Vec<u8>,
}

impl Gateway {
    /// A client for the stack at `base`, signing with its secrets as the providers and the app
    /// would.
    pub fn new(base: String, secrets: &crate::secrets::LocalSecrets) -> Gateway {
        let secret = |name: &str| secrets.value(name).unwrap_or_default();
        Gateway {
            base,
            http: reqwest::Client::new(),
            stripe_secret: secret(ingest::keys::STRIPE_SECRET),
            app_secret: secret(ingest::keys::APP_SECRET),
            portone_secret: secret(ingest::keys::PORTONE_WEBHOOK_SECRET),
            api_key: secret(api::API_KEY_SECRET),
            unsubscribe_key: journey::unsubscribe::signing_key(&secret(
                journey::unsubscribe::SECRET,
            )),
        }
    }

    /// Posts a Stripe event signed at `t`.
    pub async fn stripe(
        &self,
        body: &serde_json::Value,
        t: i64,
    ) -> Result<(u16, serde_json::Value), String> {
        let bytes = serde_json::to_vec(body).map_err(|e| e.to_string())?;
        let signature = stripe(&self.stripe_secret, t, &bytes);
        let response = self
            .http
            .post(format!("{}/webhooks/stripe", self.base))
            .header("content-type", "application/json")
            .header("stripe-signature", signature)
            .body(bytes)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        answer(response).await
    }

    /// Posts app events (one or a batch) as message `id`, signed at `t`.
    pub async fn app(
        &self,
        body: &serde_json::Value,
        id: &str,
        t: i64,
    ) -> Result<(u16, serde_json::Value), String> {
        let bytes = serde_json::to_vec(body).map_err(|e| e.to_string())?;
        let signature = standard(&self.app_secret, id, t, &bytes)?;
        let response = self
            .http
            .post(format!("{}/events", self.base))
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", t.to_string())
            .header("webhook-signature", signature)
            .body(bytes)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        answer(response).await
    }

    /// Puts `payment` into the Toss or PortOne API stand-in (`/_local/toss/v1/payments/{key}`,
    /// `/_local/portone/payments/{id}`), then posts the webhook that announces it: Toss's
    /// unsigned `PAYMENT_STATUS_CHANGED` with the payment, or PortOne's signed transaction
    /// webhook (message `id`) with its ids.
    pub async fn provider_payment(
        &self,
        provider: crate::providers::Provider,
        payment: &serde_json::Value,
        id: &str,
        t: i64,
    ) -> Result<(u16, serde_json::Value), String> {
        use crate::providers::Provider;
        use serde_json::json;
        let status = payment["status"].as_str().unwrap_or_default();
        let (stand_in, route, webhook) = match provider {
            Provider::Toss => (
                format!(
                    "toss/v1/payments/{}",
                    payment["paymentKey"].as_str().unwrap_or_default()
                ),
                "toss",
                json!({"eventType": "PAYMENT_STATUS_CHANGED", "createdAt": seoul(t), "data": payment}),
            ),
            Provider::PortOne => {
                let kind = match status {
                    "PAID" => "Transaction.Paid",
                    "CANCELLED" => "Transaction.Cancelled",
                    "PARTIAL_CANCELLED" => "Transaction.PartialCancelled",
                    _ => "Transaction.Failed",
                };
                let mut data = json!({"paymentId": payment["id"], "storeId": payment["storeId"],
                                      "transactionId": payment["transactionId"]});
                if let Some(c) = payment["cancellations"].as_array().and_then(|c| c.last()) {
                    data["cancellationId"] = c["id"].clone();
                }
                let at = chrono::DateTime::from_timestamp(t, 0).unwrap_or_default();
                (
                    format!(
                        "portone/payments/{}",
                        payment["id"].as_str().unwrap_or_default()
                    ),
                    "portone",
                    json!({"type": kind, "timestamp": at, "data": data}),
                )
            }
        };
        self.http
            .put(format!("{}/_local/{stand_in}", self.base))
            .json(payment)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| e.to_string())?;
        let bytes = serde_json::to_vec(&webhook).map_err(|e| e.to_string())?;
        let mut request = self
            .http
            .post(format!("{}/webhooks/{route}", self.base))
            .header("content-type", "application/json");
        if provider == Provider::PortOne {
            request = request
                .header("webhook-id", id)
                .header("webhook-timestamp", t.to_string())
                .header(
                    "webhook-signature",
                    standard(&self.portone_secret, id, t, &bytes)?,
                );
        }
        let response = request
            .body(bytes)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        answer(response).await
    }

    /// A read-API call with the API key: `method` on `path`, with a JSON `body` or none.
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<(u16, serde_json::Value), String> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("x-api-key", &self.api_key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        answer(request.send().await.map_err(|e| e.to_string())?).await
    }

    /// The one-click unsubscribe a mail client posts for `customer` (RFC 8058).
    pub async fn unsubscribe(
        &self,
        customer: &journey::domain::CustomerId,
    ) -> Result<(u16, serde_json::Value), String> {
        let link = journey::unsubscribe::link(&self.base, &self.unsubscribe_key, customer);
        let response = self
            .http
            .post(link)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .map_err(|e| e.to_string())?;
        answer(response).await
    }

    /// A local-only call (`/_local/…`), POST with `body` or GET without.
    pub async fn local(
        &self,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, String> {
        let url = format!("{}{path}", self.base);
        let request = match body {
            Some(b) => self.http.post(url).json(&b),
            None => self.http.get(url),
        };
        let response = request.send().await.map_err(|e| e.to_string())?;
        answer(response).await.map(|(_, v)| v)
    }
}

/// Toss's `createdAt`: Seoul time without a zone.
fn seoul(t: i64) -> String {
    let at =
        chrono::DateTime::from_timestamp(t, 0).unwrap_or_default() + chrono::Duration::hours(9);
    at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

async fn answer(response: reqwest::Response) -> Result<(u16, serde_json::Value), String> {
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(serde_json::Value::Null);
    Ok((status, body))
}

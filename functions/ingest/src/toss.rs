//! Toss Payments webhooks → canonical events, confirmed by the payment Toss itself returns.
//!
//! Toss signs no payment webhook, so the body is only a hint: it names a payment, and the
//! payment read back from `GET /v1/payments/{paymentKey}` (or, for a virtual-account deposit,
//! `GET /v1/payments/orders/{orderId}`) decides everything. A body whose status disagrees with
//! the payment's, or a deposit whose `secret` is not the payment's, changes nothing.
//!
//! The customer id is the payment's `metadata.customer_id` (set it when requesting the payment,
//! as for Stripe), else its `customerKey`; `metadata.email` and `metadata.locale` are kept.
//! The dedup key is `paymentKey + status + lastTransactionKey`: a retry, and the deposit callback
//! and the status change for one deposit, become one event.

use chrono::{DateTime, Utc};
use journey::domain::{CustomerId, Event, EventId, EventKind, Money, Profile, Source};
use journey::http::ApiError;
use serde_json::Value;
use subtle::ConstantTimeEq;

use crate::mapping::{Mapped, field_error, reason, rfc3339, text, valid_or_empty};
use crate::providers;

/// What the webhook asks us to look up.
#[derive(Debug, PartialEq)]
pub enum Lookup {
    /// `PAYMENT_STATUS_CHANGED`: the payment, by key.
    Payment(String),
    /// `DEPOSIT_CALLBACK`: the payment, by order id.
    Order(String),
}

/// A payment webhook's claim, to be checked against the payment.
#[derive(Debug, PartialEq)]
pub struct Claim {
    pub lookup: Lookup,
    status: String,
    /// The deposit callback's `secret`, which must equal the payment's.
    secret: Option<String>,
}

impl Claim {
    /// The API path that returns the payment.
    pub fn path(&self) -> Vec<&str> {
        match &self.lookup {
            Lookup::Payment(key) => vec!["v1", "payments", key],
            Lookup::Order(order) => vec!["v1", "payments", "orders", order],
        }
    }
}

/// Reads the webhook: `Ok(Err(reason))` for types we acknowledge and ignore.
pub fn parse(body: &[u8]) -> Result<Result<Claim, String>, ApiError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("malformed_json", e.to_string(), None))?;
    // The deposit callback's body has no `eventType`: `{createdAt, secret, status,
    // transactionKey, orderId}`; accept it with or without one.
    let deposit = v["eventType"].is_null() && v["secret"].is_string() && v["orderId"].is_string();
    let event_type = if deposit {
        Some("DEPOSIT_CALLBACK")
    } else {
        v["eventType"].as_str()
    };
    let (lookup, status, secret) = match event_type {
        Some("PAYMENT_STATUS_CHANGED") => (
            Lookup::Payment(id(&v["data"]["paymentKey"], "data.paymentKey")?),
            v["data"]["status"].as_str(),
            None,
        ),
        Some("DEPOSIT_CALLBACK") => (
            Lookup::Order(id(&v["orderId"], "orderId")?),
            v["status"].as_str(),
            Some(v["secret"].as_str().unwrap_or_default().to_string()),
        ),
        Some(other) => return Ok(Err(format!("Toss event type {other} is not used"))),
        None => {
            return Err(ApiError::bad_request(
                "invalid_field",
                "eventType is required",
                Some("eventType".into()),
            ));
        }
    };
    let status = status.ok_or_else(|| {
        ApiError::bad_request("invalid_field", "status is required", Some("status".into()))
    })?;
    Ok(Ok(Claim {
        lookup,
        status: status.to_string(),
        secret,
    }))
}

fn id(v: &Value, field: &str) -> Result<String, ApiError> {
    providers::id(v.as_str(), field)
        .map(str::to_string)
        .map_err(|e| ApiError::bad_request("invalid_field", e, Some(field.into())))
}

/// The event the confirmed payment stands for, or why nothing happens.
pub fn confirm(
    claim: &Claim,
    payment: &Value,
    received_at: DateTime<Utc>,
) -> Result<Mapped, ApiError> {
    let status = payment["status"].as_str().unwrap_or_default();
    let key = payment["paymentKey"].as_str().unwrap_or_default();
    if status != claim.status {
        return Ok(Mapped::Ignored(format!(
            "the webhook says {} but payment {key} is {status}: stale or forged",
            claim.status
        )));
    }
    if let Lookup::Payment(claimed) = &claim.lookup
        && claimed != key
    {
        return Ok(Mapped::Ignored(format!(
            "Toss returned payment {key}, not {claimed}"
        )));
    }
    if let Some(secret) = &claim.secret {
        let expected = payment["secret"].as_str().unwrap_or_default();
        if expected.is_empty() || !bool::from(secret.as_bytes().ct_eq(expected.as_bytes())) {
            return Ok(Mapped::Ignored(format!(
                "deposit callback for {key} carries the wrong secret: forged"
            )));
        }
    }
    let Some(kind) = kind(status, payment)? else {
        return Ok(Mapped::Ignored(format!(
            "payment status {status} is not used"
        )));
    };
    let Some(customer) = customer_id(payment) else {
        return Ok(Mapped::Ignored(format!(
            "payment {key} names no customer (metadata.customer_id or customerKey)"
        )));
    };
    // an id we cannot use is the business's mistake, not the provider's: answered 200 and
    // counted (WebhooksIgnored), so the provider does not retry it for days and disable us
    let customer_id = match CustomerId::new(customer) {
        Ok(id) => id,
        Err(e) => {
            return Ok(Mapped::Ignored(format!(
                "metadata.customer_id unusable: {e}"
            )));
        }
    };
    let last = payment["lastTransactionKey"].as_str().unwrap_or_default();
    let id = EventId::new(format!("toss:{key}:{status}:{last}"))
        .map_err(|e| field_error("paymentKey", e))?;
    // the payment Toss's API returned, never the unsigned claim: a replayed claim with a fresh
    // `createdAt` must not make an old failure new
    let occurred_at = occurred_at(status, payment).unwrap_or(received_at);
    Ok(Mapped::Event(Box::new(Event {
        id,
        customer_id,
        occurred_at,
        source: Source::Toss,
        kind,
        profile: profile(payment),
    })))
}

/// DONE pays; CANCELED refunds (the customer leaves), PARTIAL_CANCELED refunds a part; ABORTED and EXPIRED fail. The rest (READY,
/// IN_PROGRESS, WAITING_FOR_DEPOSIT) are steps on the way and change nothing.
fn kind(status: &str, p: &Value) -> Result<Option<EventKind>, ApiError> {
    Ok(Some(match status {
        "DONE" => EventKind::paid(money(p)?),
        "CANCELED" => EventKind::RefundRequested {
            reason: reason(&last_cancel(p)["cancelReason"]),
        },
        "PARTIAL_CANCELED" => EventKind::PartialRefund {
            amount: last_cancel(p)["cancelAmount"]
                .as_i64()
                .filter(|a| *a > 0)
                .map(|a| Money::new(a, p["currency"].as_str().unwrap_or("KRW")))
                .transpose()
                .map_err(|e| field_error("cancels.cancelAmount", e))?,
            reason: reason(&last_cancel(p)["cancelReason"]),
        },
        "ABORTED" | "EXPIRED" => EventKind::PaymentFailed {
            amount: money(p).ok(),
        },
        _ => return Ok(None),
    }))
}

fn money(p: &Value) -> Result<Money, ApiError> {
    let currency = p["currency"].as_str().unwrap_or("KRW");
    let amount = p["totalAmount"].as_i64().ok_or_else(|| {
        ApiError::bad_request(
            "invalid_field",
            "the payment has no totalAmount",
            Some("totalAmount".into()),
        )
    })?;
    Money::new(amount, currency).map_err(|e| field_error("currency", e))
}

fn last_cancel(p: &Value) -> &Value {
    p["cancels"]
        .as_array()
        .and_then(|c| c.last())
        .unwrap_or(&Value::Null)
}

/// When it happened, from the payment as Toss's API returned it: approval for DONE, the latest
/// cancellation for refunds, the request for a payment that failed (ABORTED, EXPIRED: Toss
/// records no time of failure).
fn occurred_at(status: &str, p: &Value) -> Option<DateTime<Utc>> {
    let at = match status {
        "DONE" => &p["approvedAt"],
        "CANCELED" | "PARTIAL_CANCELED" => &last_cancel(p)["canceledAt"],
        "ABORTED" | "EXPIRED" => &p["requestedAt"],
        _ => &Value::Null,
    };
    rfc3339(at)
}

/// The documented order: our metadata, then Toss's customer key.
fn customer_id(p: &Value) -> Option<String> {
    text(&p["metadata"]["customer_id"]).or_else(|| text(&p["customerKey"]))
}

fn profile(p: &Value) -> Profile {
    valid_or_empty(Profile {
        email: text(&p["metadata"]["email"]),
        locale: text(&p["metadata"]["locale"]),
        ..Profile::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use journey::testing::t;
    use serde_json::json;

    fn payment(status: &str) -> Value {
        json!({
            "paymentKey": "tgen_20261102abc", "orderId": "order-1", "status": status,
            "lastTransactionKey": "txrd_1", "currency": "KRW", "totalAmount": 49_000,
            "balanceAmount": 49_000, "approvedAt": "2026-11-02T18:00:00+09:00",
            "requestedAt": "2026-11-02T17:59:00+09:00",
            "secret": "ps_deposit_secret", "metadata": {"customer_id": "cust-7", "email": "a@example.com"},
            "cancels": [{"cancelReason": "고객 변심", "cancelAmount": 9_000, "canceledAt": "2026-11-03T10:00:00+09:00"}]
        })
    }

    fn status_changed(status: &str) -> Vec<u8> {
        json!({"eventType": "PAYMENT_STATUS_CHANGED", "createdAt": "2026-11-02T18:00:01.000000",
               "data": {"paymentKey": "tgen_20261102abc", "status": status}})
        .to_string()
        .into_bytes()
    }

    fn event(claim: &[u8], payment: &Value) -> Event {
        let claim = parse(claim).expect("parsed").expect("used");
        match confirm(&claim, payment, t("2026-11-04T00:00:00Z")).expect("confirmed") {
            Mapped::Event(e) => *e,
            Mapped::Ignored(reason) => panic!("ignored: {reason}"),
        }
    }

    #[test]
    fn statuses_map_to_payments_refunds_and_failures() {
        let done = event(&status_changed("DONE"), &payment("DONE"));
        assert_eq!(done.id.as_str(), "toss:tgen_20261102abc:DONE:txrd_1");
        assert_eq!(done.customer_id.as_str(), "cust-7");
        assert_eq!(done.occurred_at, t("2026-11-02T09:00:00Z"));
        assert_eq!(done.source, Source::Toss);
        assert_eq!(done.profile.email.as_deref(), Some("a@example.com"));
        assert!(
            matches!(done.kind, EventKind::PaymentSucceeded { ref amount, .. } if amount.amount == 49_000 && amount.currency == "KRW")
        );
        let cancelled = event(&status_changed("CANCELED"), &payment("CANCELED"));
        assert_eq!(
            cancelled.kind,
            EventKind::RefundRequested {
                reason: Some("고객 변심".into())
            }
        );
        assert_eq!(cancelled.occurred_at, t("2026-11-03T01:00:00Z"));
        let partial = event(
            &status_changed("PARTIAL_CANCELED"),
            &payment("PARTIAL_CANCELED"),
        );
        assert_eq!(
            partial.kind,
            EventKind::PartialRefund {
                amount: Some(Money::new(9_000, "KRW").unwrap()),
                reason: Some("고객 변심".into())
            },
            "a part refunded: the customer stays"
        );
        assert_eq!(partial.occurred_at, t("2026-11-03T01:00:00Z"));
        for status in ["ABORTED", "EXPIRED"] {
            let e = event(&status_changed(status), &payment(status));
            assert!(matches!(e.kind, EventKind::PaymentFailed { .. }));
            assert_eq!(
                e.occurred_at,
                t("2026-11-02T08:59:00Z"),
                "the payment's request, as Toss's API returned it"
            );
            // the unsigned claim's createdAt moves nothing (security review M1)
            let replayed = json!({"eventType": "PAYMENT_STATUS_CHANGED",
                "createdAt": "2027-11-02T18:00:01.000000",
                "data": {"paymentKey": "tgen_20261102abc", "status": status}});
            let again = event(replayed.to_string().as_bytes(), &payment(status));
            assert_eq!(again.occurred_at, e.occurred_at);
        }
    }

    #[test]
    fn a_claim_the_payment_does_not_back_changes_nothing() {
        let claim = parse(&status_changed("DONE")).unwrap().unwrap();
        let now = t("2026-11-04T00:00:00Z");
        let verdict = confirm(&claim, &payment("ABORTED"), now).unwrap();
        assert!(
            matches!(verdict, Mapped::Ignored(ref r) if r.contains("stale or forged")),
            "{verdict:?}"
        );
        let mut other = payment("DONE");
        other["paymentKey"] = json!("tgen_other");
        assert!(matches!(
            confirm(&claim, &other, now).unwrap(),
            Mapped::Ignored(_)
        ));
    }

    #[test]
    fn a_deposit_counts_only_with_the_payments_secret() {
        let deposit = |secret: &str| {
            json!({"createdAt": "2026-11-02T18:00:01.000000", "secret": secret, "status": "DONE",
                   "transactionKey": "txrd_1", "orderId": "order-1"})
            .to_string()
            .into_bytes()
        };
        let claim = parse(&deposit("ps_deposit_secret")).unwrap().unwrap();
        assert_eq!(claim.path(), vec!["v1", "payments", "orders", "order-1"]);
        let e = event(&deposit("ps_deposit_secret"), &payment("DONE"));
        let by_status = event(&status_changed("DONE"), &payment("DONE"));
        assert_eq!(
            e.id, by_status.id,
            "one event for one deposit, whichever webhook comes"
        );
        let forged = parse(&deposit("ps_guess")).unwrap().unwrap();
        let verdict = confirm(&forged, &payment("DONE"), t("2026-11-04T00:00:00Z")).unwrap();
        assert!(matches!(verdict, Mapped::Ignored(ref r) if r.contains("wrong secret")));
    }

    #[test]
    fn other_types_steps_and_anonymous_payments_are_acknowledged_and_ignored() {
        let payout = json!({"eventType": "payout.changed", "data": {}}).to_string();
        assert!(parse(payout.as_bytes()).unwrap().is_err());
        let claim = parse(&status_changed("WAITING_FOR_DEPOSIT"))
            .unwrap()
            .unwrap();
        let now = t("2026-11-04T00:00:00Z");
        assert!(matches!(
            confirm(&claim, &payment("WAITING_FOR_DEPOSIT"), now).unwrap(),
            Mapped::Ignored(_)
        ));
        let mut anonymous = payment("DONE");
        anonymous["metadata"] = json!({});
        let claim = parse(&status_changed("DONE")).unwrap().unwrap();
        assert!(
            matches!(confirm(&claim, &anonymous, now).unwrap(), Mapped::Ignored(ref r) if r.contains("names no customer"))
        );
        anonymous["customerKey"] = json!("ck-9");
        assert!(
            matches!(confirm(&claim, &anonymous, now).unwrap(), Mapped::Event(ref e) if e.customer_id.as_str() == "ck-9")
        );
    }

    #[test]
    fn bad_bodies_name_the_field() {
        let missing = json!({"eventType": "PAYMENT_STATUS_CHANGED", "data": {"status": "DONE"}});
        let e = parse(missing.to_string().as_bytes()).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("data.paymentKey"));
        assert_eq!(parse(b"{").unwrap_err().code, "malformed_json");
    }
}

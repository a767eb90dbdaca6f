//! PortOne V2 webhooks (version 2024-04-25) → canonical events. The webhook is signed (Standard
//! Webhooks, verified before this module sees it) but carries only ids, so the payment is read
//! back from `GET /payments/{paymentId}` and the webhook's claim checked against it.
//!
//! The customer id is `customer_id` in the payment's `customData` (a JSON object, set when
//! requesting the payment, as Stripe's `metadata.customer_id`), else the payment's
//! `customer.id`; `customer.email` is kept. The dedup key is the payment, its status and the
//! transaction (or cancellation) it is about.

use chrono::{DateTime, Utc};
use journey::domain::{CustomerId, Event, EventId, EventKind, Money, Profile, Source};
use journey::http::ApiError;
use serde_json::Value;

use crate::mapping::{Mapped, field_error, reason, rfc3339, text, valid_or_empty};
use crate::providers;

/// A transaction webhook's claim.
#[derive(Debug, PartialEq)]
pub struct Claim {
    pub payment_id: String,
    /// The payment status the webhook type implies.
    status: &'static str,
    transaction_id: Option<String>,
    cancellation_id: Option<String>,
    timestamp: Option<DateTime<Utc>>,
}

/// Reads the webhook: `Ok(Err(reason))` for types and versions we acknowledge and ignore.
pub fn parse(body: &[u8]) -> Result<Result<Claim, String>, ApiError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("malformed_json", e.to_string(), None))?;
    let Some(kind) = v["type"].as_str() else {
        return Ok(Err(
            "not a 2024-04-25 webhook (choose that version in the PortOne console)".into(),
        ));
    };
    let status = match kind {
        "Transaction.Paid" => "PAID",
        "Transaction.Cancelled" => "CANCELLED",
        "Transaction.PartialCancelled" => "PARTIAL_CANCELLED",
        "Transaction.Failed" => "FAILED",
        other => return Ok(Err(format!("PortOne webhook type {other} is not used"))),
    };
    let data = &v["data"];
    let payment_id = providers::id(data["paymentId"].as_str(), "data.paymentId")
        .map_err(|e| ApiError::bad_request("invalid_field", e, Some("data.paymentId".into())))?;
    Ok(Ok(Claim {
        payment_id: payment_id.to_string(),
        status,
        transaction_id: text(&data["transactionId"]),
        cancellation_id: text(&data["cancellationId"]),
        timestamp: rfc3339(&v["timestamp"]),
    }))
}

/// The event the payment stands for, or why nothing happens.
pub fn confirm(
    claim: &Claim,
    payment: &Value,
    received_at: DateTime<Utc>,
) -> Result<Mapped, ApiError> {
    let status = payment["status"].as_str().unwrap_or_default();
    let id = payment["id"].as_str().unwrap_or_default();
    if id != claim.payment_id {
        return Ok(Mapped::Ignored(format!(
            "PortOne returned payment {id}, not {}",
            claim.payment_id
        )));
    }
    if status != claim.status {
        return Ok(Mapped::Ignored(format!(
            "the webhook says {} but payment {id} is {status}: stale",
            claim.status
        )));
    }
    let transaction = payment["transactionId"].as_str();
    if claim.status == "PAID" && claim.transaction_id.as_deref() != transaction {
        return Ok(Mapped::Ignored(format!(
            "the webhook's transaction is not payment {id}'s current one: stale"
        )));
    }
    let Some(customer) = customer_id(payment) else {
        return Ok(Mapped::Ignored(format!(
            "payment {id} names no customer (customData.customer_id or customer.id)"
        )));
    };
    // an id we cannot use is the business's mistake, not the provider's: answered 200 and
    // counted (WebhooksIgnored), so the provider does not retry it for days and disable us
    let customer_id = match CustomerId::new(customer) {
        Ok(id) => id,
        Err(e) => {
            return Ok(Mapped::Ignored(format!(
                "customData.customer_id unusable: {e}"
            )));
        }
    };
    let about = claim
        .cancellation_id
        .as_deref()
        .or(transaction)
        .unwrap_or_default();
    let event_id =
        EventId::new(format!("portone:{id}:{status}:{about}")).map_err(|e| field_error("id", e))?;
    Ok(Mapped::Event(Box::new(Event {
        id: event_id,
        customer_id,
        occurred_at: occurred_at(status, payment)
            .or(claim.timestamp)
            .unwrap_or(received_at),
        source: Source::Portone,
        kind: kind(status, payment)?,
        profile: profile(payment),
    })))
}

fn kind(status: &str, p: &Value) -> Result<EventKind, ApiError> {
    Ok(match status {
        "PAID" => EventKind::paid(money(p)?),
        "CANCELLED" => EventKind::RefundRequested {
            reason: last_cancellation(p).and_then(|c| reason(&c["reason"])),
        },
        "PARTIAL_CANCELLED" => EventKind::PartialRefund {
            amount: last_cancellation(p)
                .and_then(|c| c["totalAmount"].as_i64())
                .filter(|a| *a > 0)
                .map(|a| Money::new(a, p["currency"].as_str().unwrap_or("KRW")))
                .transpose()
                .map_err(|e| field_error("cancellations.totalAmount", e))?,
            reason: last_cancellation(p).and_then(|c| reason(&c["reason"])),
        },
        _ => EventKind::PaymentFailed {
            amount: money(p).ok(),
        },
    })
}

fn last_cancellation(p: &Value) -> Option<&Value> {
    p["cancellations"].as_array().and_then(|c| c.last())
}

fn money(p: &Value) -> Result<Money, ApiError> {
    let amount = p["amount"]["total"].as_i64().ok_or_else(|| {
        ApiError::bad_request(
            "invalid_field",
            "the payment has no amount.total",
            Some("amount.total".into()),
        )
    })?;
    Money::new(amount, p["currency"].as_str().unwrap_or("KRW"))
        .map_err(|e| field_error("currency", e))
}

fn occurred_at(status: &str, p: &Value) -> Option<DateTime<Utc>> {
    match status {
        "PAID" => rfc3339(&p["paidAt"]),
        "CANCELLED" | "PARTIAL_CANCELLED" => rfc3339(&p["cancelledAt"]).or_else(|| {
            p["cancellations"]
                .as_array()
                .and_then(|c| c.last())
                .and_then(|c| rfc3339(&c["cancelledAt"]))
        }),
        _ => rfc3339(&p["failedAt"]),
    }
    .or_else(|| rfc3339(&p["statusChangedAt"]))
}

/// The documented order: our `customData.customer_id`, then PortOne's customer id.
fn customer_id(p: &Value) -> Option<String> {
    let custom: Option<Value> = p["customData"]
        .as_str()
        .and_then(|s| serde_json::from_str(s).ok());
    custom
        .and_then(|c| text(&c["customer_id"]))
        .or_else(|| text(&p["customer"]["id"]))
}

fn profile(p: &Value) -> Profile {
    valid_or_empty(Profile {
        email: text(&p["customer"]["email"]),
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
            "status": status, "id": "pay-1", "transactionId": "tx-1", "storeId": "store-x",
            "amount": {"total": 59_000, "paid": 59_000, "cancelled": 0}, "currency": "KRW",
            "customer": {"id": "portone-cust", "email": "b@example.com"},
            "customData": "{\"customer_id\":\"cust-8\"}",
            "paidAt": "2026-11-02T09:00:00Z", "cancelledAt": "2026-11-05T09:00:00Z",
            "failedAt": "2026-11-02T08:00:00Z",
            "cancellations": [{"id": "cancel-1", "reason": "서비스 불만족", "totalAmount": 19_000, "cancelledAt": "2026-11-05T09:00:00Z"}]
        })
    }

    fn webhook(kind: &str, cancellation: Option<&str>) -> Vec<u8> {
        let mut data = json!({"paymentId": "pay-1", "storeId": "store-x", "transactionId": "tx-1"});
        if let Some(c) = cancellation {
            data["cancellationId"] = json!(c);
        }
        json!({"type": kind, "timestamp": "2026-11-02T09:00:01Z", "data": data})
            .to_string()
            .into_bytes()
    }

    fn event(body: &[u8], payment: &Value) -> Event {
        let claim = parse(body).expect("parsed").expect("used");
        match confirm(&claim, payment, t("2026-11-06T00:00:00Z")).expect("confirmed") {
            Mapped::Event(e) => *e,
            Mapped::Ignored(reason) => panic!("ignored: {reason}"),
        }
    }

    #[test]
    fn transactions_map_like_the_toss_statuses() {
        let paid = event(&webhook("Transaction.Paid", None), &payment("PAID"));
        assert_eq!(paid.id.as_str(), "portone:pay-1:PAID:tx-1");
        assert_eq!(paid.customer_id.as_str(), "cust-8", "customData first");
        assert_eq!(paid.occurred_at, t("2026-11-02T09:00:00Z"));
        assert_eq!(paid.source, Source::Portone);
        assert_eq!(paid.profile.email.as_deref(), Some("b@example.com"));
        assert!(
            matches!(paid.kind, EventKind::PaymentSucceeded { ref amount, .. } if amount.amount == 59_000)
        );
        let cancelled = event(
            &webhook("Transaction.Cancelled", Some("cancel-1")),
            &payment("CANCELLED"),
        );
        assert_eq!(cancelled.id.as_str(), "portone:pay-1:CANCELLED:cancel-1");
        assert_eq!(
            cancelled.kind,
            EventKind::RefundRequested {
                reason: Some("서비스 불만족".into())
            }
        );
        assert_eq!(cancelled.occurred_at, t("2026-11-05T09:00:00Z"));
        let partial = event(
            &webhook("Transaction.PartialCancelled", Some("cancel-1")),
            &payment("PARTIAL_CANCELLED"),
        );
        assert_eq!(
            partial.kind,
            EventKind::PartialRefund {
                amount: Some(Money::new(19_000, "KRW").unwrap()),
                reason: Some("서비스 불만족".into())
            }
        );
        let failed = event(&webhook("Transaction.Failed", None), &payment("FAILED"));
        assert!(matches!(failed.kind, EventKind::PaymentFailed { .. }));
        assert_eq!(failed.occurred_at, t("2026-11-02T08:00:00Z"));
    }

    #[test]
    fn the_payment_must_back_the_claim() {
        let claim = parse(&webhook("Transaction.Paid", None)).unwrap().unwrap();
        let now = t("2026-11-06T00:00:00Z");
        for p in [
            payment("FAILED"),
            json!({"id": "pay-2", "status": "PAID", "transactionId": "tx-1"}),
            json!({"id": "pay-1", "status": "PAID", "transactionId": "tx-2"}),
        ] {
            assert!(
                matches!(confirm(&claim, &p, now).unwrap(), Mapped::Ignored(_)),
                "{p}"
            );
        }
    }

    #[test]
    fn the_customer_id_falls_back_to_portones() {
        let mut p = payment("PAID");
        p["customData"] = json!("not json");
        assert_eq!(
            event(&webhook("Transaction.Paid", None), &p)
                .customer_id
                .as_str(),
            "portone-cust"
        );
        p["customer"] = json!({});
        let claim = parse(&webhook("Transaction.Paid", None)).unwrap().unwrap();
        assert!(matches!(
            confirm(&claim, &p, t("2026-11-06T00:00:00Z")).unwrap(),
            Mapped::Ignored(_)
        ));
    }

    #[test]
    fn other_types_and_the_old_version_are_ignored() {
        for body in [
            json!({"type": "BillingKey.Issued", "timestamp": "2026-11-02T09:00:01Z", "data": {"billingKey": "b", "storeId": "s"}}),
            json!({"type": "Transaction.Ready", "timestamp": "2026-11-02T09:00:01Z", "data": {"paymentId": "p"}}),
            json!({"payment_id": "p", "tx_id": "t", "status": "Paid"}),
        ] {
            assert!(
                parse(body.to_string().as_bytes()).unwrap().is_err(),
                "{body}"
            );
        }
        let no_id = json!({"type": "Transaction.Paid", "data": {}});
        let e = parse(no_id.to_string().as_bytes()).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("data.paymentId"));
    }
}

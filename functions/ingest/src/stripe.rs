//! Stripe events → canonical events.
//!
//! The customer id is taken, in this order, from the event object's `metadata.customer_id`,
//! `client_reference_id` (Checkout), the subscription's `metadata.customer_id` (invoices carry it
//! under `parent.subscription_details`), and finally the Stripe customer (`cus_…`). Set
//! `metadata.customer_id` (or `client_reference_id`) to your app's id so both sources name the
//! same customer.

use chrono::{DateTime, Utc};
use journey::domain::{CustomerId, Event, EventId, EventKind, Money, Profile, SignUpPlan, Source};
use serde::Deserialize;
use serde_json::Value;

use journey::http::ApiError;

pub use crate::mapping::Mapped;
use crate::mapping::{self, field_error, reason, text, valid_or_empty};

/// The part of a Stripe event we read; everything else is ignored.
#[derive(Deserialize)]
struct Envelope {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    created: i64,
    data: Data,
}

#[derive(Deserialize)]
struct Data {
    object: Value,
    /// The changed fields' former values (`amount_refunded` before this refund).
    #[serde(default)]
    previous_attributes: Value,
}

pub fn map(body: &[u8]) -> Result<Mapped, ApiError> {
    let envelope: Envelope = serde_path_to_error::deserialize(
        &mut serde_json::Deserializer::from_slice(body),
    )
    .map_err(|e| {
        let field = e.path().to_string();
        ApiError::bad_request("malformed_json", e.into_inner().to_string(), Some(field))
    })?;
    let object = &envelope.data.object;
    let kind = match kind_of(&envelope.kind, object, &envelope.data.previous_attributes)? {
        Ok(kind) => kind,
        Err(reason) => return Ok(Mapped::Ignored(reason)),
    };
    let Some(customer) = customer_id(object) else {
        return Ok(Mapped::Ignored(format!(
            "{} {} names no customer",
            envelope.kind, envelope.id
        )));
    };
    // an id we cannot use is the business's mistake, not the provider's: answered 200 and
    // counted (WebhooksIgnored), so the provider does not retry it for days and disable us
    let customer_id = match CustomerId::new(customer) {
        Ok(id) => id,
        Err(e) => {
            return Ok(Mapped::Ignored(format!(
                "data.object.metadata.customer_id unusable: {e}"
            )));
        }
    };
    let id = EventId::new(format!("stripe:{}", envelope.id)).map_err(|e| field_error("id", e))?;
    let occurred_at = DateTime::<Utc>::from_timestamp(envelope.created, 0).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_field",
            "created is not a time",
            Some("created".into()),
        )
    })?;
    Ok(Mapped::Event(Box::new(Event {
        id,
        customer_id,
        occurred_at,
        source: Source::Stripe,
        kind,
        profile: profile(object),
    })))
}

/// The canonical kind, `Err(reason)` for events we acknowledge and ignore.
fn kind_of(kind: &str, o: &Value, before: &Value) -> Result<Result<EventKind, String>, ApiError> {
    Ok(Ok(match kind {
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
            return checkout(o);
        }
        "invoice.paid" => {
            let amount = money(o, "amount_paid")?;
            if amount.amount == 0 {
                return Ok(Err(
                    "zero-amount invoice (trial start or full discount)".into()
                ));
            }
            EventKind::PaymentSucceeded {
                amount,
                renews_at: paid_through(o),
            }
        }
        "invoice.payment_failed" => EventKind::PaymentFailed {
            amount: money(o, "amount_due").ok(),
        },
        "charge.refunded" => refund(o, before)?,
        "customer.subscription.deleted" => EventKind::SubscriptionCancelled {
            reason: reason(&o["cancellation_details"]["feedback"])
                .or_else(|| reason(&o["cancellation_details"]["reason"])),
        },
        "customer.subscription.trial_will_end" => EventKind::TrialEnding {
            ends_at: time(&o["trial_end"]),
        },
        "invoice.upcoming" => EventKind::RenewalUpcoming {
            renews_at: time(&o["next_payment_attempt"]).or_else(|| time(&o["period_end"])),
        },
        other => return Ok(Err(format!("event type {other} is not used"))),
    }))
}

/// The end of the period a subscription invoice pays for (its line's `period.end`): the
/// renewal date. One-off invoices have none.
fn paid_through(invoice: &Value) -> Option<DateTime<Utc>> {
    let reason = invoice["billing_reason"].as_str().unwrap_or_default();
    if !reason.starts_with("subscription") {
        return None;
    }
    time(&invoice["lines"]["data"][0]["period"]["end"])
}

/// `charge.refunded` is sent for every refund of a charge: only a charge refunded in full is
/// the customer leaving; part of it is a partial refund of this event's share
/// (`amount_refunded` now minus before, else the latest refund's amount).
fn refund(o: &Value, before: &Value) -> Result<EventKind, ApiError> {
    let reason = mapping::reason(&o["refunds"]["data"][0]["reason"]);
    let (charged, refunded) = (o["amount"].as_i64(), o["amount_refunded"].as_i64());
    // partial only when Stripe says so: `refunded: false`, or less refunded than charged
    let partial = o["refunded"].as_bool() == Some(false)
        || matches!((charged, refunded), (Some(c), Some(r)) if r < c);
    if !partial {
        return Ok(EventKind::RefundRequested { reason });
    }
    let share = match (refunded, before["amount_refunded"].as_i64()) {
        (Some(now), Some(then)) => now.checked_sub(then),
        _ => o["refunds"]["data"][0]["amount"].as_i64(),
    };
    let amount = share
        .filter(|a| *a > 0)
        .map(|a| {
            Money::new(a, &currency(o)?).map_err(|e| field_error("data.object.amount_refunded", e))
        })
        .transpose()?;
    Ok(EventKind::PartialRefund { amount, reason })
}

/// A completed Checkout: a payment, or (a subscription with nothing to pay yet) a trial.
/// For subscriptions the amount comes with the first `invoice.paid`, so it is not counted here.
fn checkout(o: &Value) -> Result<Result<EventKind, String>, ApiError> {
    let subscription = o["mode"].as_str() == Some("subscription");
    Ok(Ok(match o["payment_status"].as_str() {
        Some("paid") if subscription => EventKind::PaymentSucceeded {
            amount: Money::new(0, &currency(o)?)
                .map_err(|e| field_error("data.object.currency", e))?,
            renews_at: None,
        },
        Some("paid") => EventKind::PaymentSucceeded {
            amount: money(o, "amount_total")?,
            renews_at: None,
        },
        Some("no_payment_required") if subscription => EventKind::SignedUp {
            plan: SignUpPlan::Trial,
        },
        Some("no_payment_required") => EventKind::PaymentSucceeded {
            amount: money(o, "amount_total")?,
            renews_at: None,
        },
        status => {
            return Ok(Err(format!(
                "checkout not paid yet (payment_status {})",
                status.unwrap_or("missing")
            )));
        }
    }))
}

fn currency(o: &Value) -> Result<String, ApiError> {
    o["currency"].as_str().map(str::to_string).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_field",
            "missing currency",
            Some("data.object.currency".into()),
        )
    })
}

fn money(o: &Value, field: &str) -> Result<Money, ApiError> {
    let amount = o[field].as_i64().unwrap_or(0);
    Money::new(amount, &currency(o)?).map_err(|e| field_error(&format!("data.object.{field}"), e))
}

fn time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_i64().and_then(|t| DateTime::from_timestamp(t, 0))
}

/// The documented order: our metadata, Checkout's reference, the subscription's metadata, the
/// Stripe customer.
fn customer_id(o: &Value) -> Option<String> {
    text(&o["metadata"]["customer_id"])
        .or_else(|| text(&o["client_reference_id"]))
        .or_else(|| text(&o["parent"]["subscription_details"]["metadata"]["customer_id"]))
        .or_else(|| text(&o["customer"]))
        .or_else(|| text(&o["customer"]["id"]))
}

/// E-mail and locale, when the object carries them.
fn profile(o: &Value) -> Profile {
    let email = text(&o["customer_details"]["email"])
        .or_else(|| text(&o["customer_email"]))
        .or_else(|| text(&o["receipt_email"]))
        .or_else(|| text(&o["billing_details"]["email"]));
    let locale = text(&o["locale"]).filter(|l| l != "auto");
    valid_or_empty(Profile {
        email,
        locale,
        ..Profile::default()
    })
}

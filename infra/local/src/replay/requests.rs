//! A canonical event as its sender would post it to the gateway: the app's events in a signed
//! `/events` batch, payments as the provider that took them announces them (a signed Stripe
//! event, or a Toss / PortOne payment in the stand-in and its webhook), staff actions through
//! the read API, an opt-out through the signed unsubscribe link. What the system makes itself
//! (the sweep's checks, the senders' reports) is not posted: the replay's own stack makes it.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use journey::domain::{Event, EventKind, Money, Profile, Source};
use serde_json::{Map, Value, json};

use crate::providers::Provider;

/// How one event reaches the gateway.
#[derive(Debug, PartialEq)]
pub enum Request {
    /// One element of a signed `/events` batch, in the app's schema.
    App(Value),
    /// A Stripe event, signed with the webhook secret.
    Stripe(Value),
    /// A payment for the Toss or PortOne stand-in, and the webhook that names it.
    Payment(Provider, Value),
    /// `POST /customers/{id}/notes`.
    Note(Value),
    /// `DELETE /customers/{id}`.
    Erase,
    /// `POST /unsubscribe?c=…&t=…`, as the mail client's one-click button does.
    Unsubscribe,
    /// Not posted; the reason names it in the report.
    Skip(&'static str),
}

/// Turns events into requests; remembers each customer's last Toss and PortOne payment, so a
/// refund cancels the payment it refunds.
#[derive(Default)]
pub struct Requests {
    payments: HashMap<(Provider, String), Value>,
}

impl Requests {
    /// The requests that post `event`: sometimes two (a payment whose profile fields the
    /// provider cannot carry is preceded by the app's `profile_updated` with them).
    pub fn of(&mut self, event: &Event) -> Vec<Request> {
        match &event.kind {
            EventKind::CheckDue => vec![Request::Skip(
                "sweep checks (the replay's sweeps make them)",
            )],
            EventKind::InterventionSent { .. }
            | EventKind::InterventionSkipped { .. }
            | EventKind::InterventionFailed { .. }
            | EventKind::InterventionDeferred { .. } => {
                vec![Request::Skip(
                    "sender reports (the replay's senders make them)",
                )]
            }
            EventKind::StaffNote {
                author,
                channel,
                outcome,
            } => {
                vec![Request::Note(
                    json!({"author": author, "channel": channel, "outcome": outcome}),
                )]
            }
            EventKind::Erased { .. } => vec![Request::Erase],
            EventKind::Unsubscribed => vec![Request::Unsubscribe],
            kind if app_may_send(kind) && !from_a_provider(event) => vec![Request::App(app(event))],
            _ => self.payment(event),
        }
    }

    fn payment(&mut self, event: &Event) -> Vec<Request> {
        let provider = match event.source {
            Source::Toss => Some(Provider::Toss),
            Source::Portone => Some(Provider::PortOne),
            _ => None,
        };
        let request = provider
            .and_then(|p| {
                self.provider_payment(p, event)
                    .map(|v| Request::Payment(p, v))
            })
            .unwrap_or_else(|| Request::Stripe(stripe(event)));
        let mut out = Vec::new();
        if let Some(extra) = profile_beyond_payments(&event.profile) {
            out.push(Request::App(profile_update(event, extra)));
        }
        out.push(request);
        out
    }

    /// A Toss or PortOne payment with the status the event's kind means; None for kinds these
    /// providers do not announce (they go as Stripe events).
    fn provider_payment(&mut self, provider: Provider, event: &Event) -> Option<Value> {
        let key = (provider, event.customer_id.to_string());
        let previous = self.payments.get(&key);
        let payment = match provider {
            Provider::Toss => toss(event, previous)?,
            Provider::PortOne => portone(event, previous)?,
        };
        self.payments.insert(key, payment.clone());
        Some(payment)
    }
}

/// The types `POST /events` accepts (`functions/ingest/src/app.rs`).
fn app_may_send(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::SignedUp { .. }
            | EventKind::Login
            | EventKind::OnboardingCompleted
            | EventKind::AssignmentSubmitted
            | EventKind::AssignmentMissed
            | EventKind::ContentViewed { .. }
            | EventKind::ProgramCompleted
            | EventKind::SupportTicket
            | EventKind::NpsResponse { .. }
            | EventKind::RefundRequested { .. }
            | EventKind::ProfileUpdated
    )
}

/// A refund a provider reported goes back through that provider.
fn from_a_provider(event: &Event) -> bool {
    matches!(
        event.source,
        Source::Stripe | Source::Toss | Source::Portone
    )
}

/// The app's schema: the canonical fields without `source`, profile fields at the top level,
/// and the id without the `app:` prefix ingestion adds back.
fn app(event: &Event) -> Value {
    let mut value = serde_json::to_value(event).unwrap_or(Value::Null);
    let Some(object) = value.as_object_mut() else {
        return Value::Null;
    };
    object.remove("source");
    if let Some(Value::Object(profile)) = object.remove("profile") {
        object.extend(profile);
    }
    let id = event.id.as_str();
    object.insert("id".into(), json!(id.strip_prefix("app:").unwrap_or(id)));
    value
}

/// Owner, program, time zone, phone and consent: profile fields no payment provider carries.
fn profile_beyond_payments(profile: &Profile) -> Option<Profile> {
    let extra = Profile {
        time_zone: profile.time_zone.clone(),
        program: profile.program.clone(),
        owner: profile.owner.clone(),
        phone: profile.phone.clone(),
        consent: profile.consent.clone(),
        ..Profile::default()
    };
    (!extra.is_empty()).then_some(extra)
}

fn profile_update(event: &Event, profile: Profile) -> Value {
    let update = Event {
        id: event.id.clone(),
        kind: EventKind::ProfileUpdated,
        source: Source::App,
        profile,
        ..event.clone()
    };
    let mut value = app(&update);
    value["id"] = json!(format!("{}:profile", event.id.as_str()));
    value
}

/// The Stripe event that ingestion maps back to this event (`functions/ingest/src/stripe.rs`).
fn stripe(event: &Event) -> Value {
    let id = event.id.as_str();
    let mut object = Map::new();
    object.insert("metadata".into(), json!({"customer_id": event.customer_id}));
    if let Some(email) = &event.profile.email {
        object.insert("customer_email".into(), json!(email));
    }
    if let Some(locale) = &event.profile.locale {
        object.insert("locale".into(), json!(locale));
    }
    let (kind, fields) = match &event.kind {
        EventKind::PaymentSucceeded { amount, .. } => {
            ("invoice.paid", amount_of("amount_paid", amount))
        }
        EventKind::PaymentFailed { amount } => (
            "invoice.payment_failed",
            amount
                .as_ref()
                .map_or(json!({"currency": "krw"}), |a| amount_of("amount_due", a)),
        ),
        EventKind::RefundRequested { reason } => (
            "charge.refunded",
            json!({"refunds": {"data": [{"reason": reason}]}}),
        ),
        EventKind::SubscriptionCancelled { reason } => (
            "customer.subscription.deleted",
            json!({"cancellation_details": {"feedback": reason}}),
        ),
        EventKind::TrialEnding { ends_at } => (
            "customer.subscription.trial_will_end",
            json!({"trial_end": ends_at.map(|t| t.timestamp())}),
        ),
        EventKind::RenewalUpcoming { renews_at } => (
            "invoice.upcoming",
            json!({"next_payment_attempt": renews_at.map(|t| t.timestamp())}),
        ),
        // every other kind is the app's, and SignedUp goes as the app's too
        _ => ("invoice.upcoming", json!({})),
    };
    if let Value::Object(fields) = fields {
        object.extend(fields);
    }
    json!({
        "id": id.strip_prefix("stripe:").unwrap_or(id),
        "object": "event",
        "type": kind,
        "created": event.occurred_at.timestamp(),
        "data": {"object": object},
    })
}

fn amount_of(field: &str, money: &Money) -> Value {
    json!({field: money.amount, "currency": money.currency.to_lowercase()})
}

fn seoul(at: DateTime<Utc>) -> String {
    let offset = FixedOffset::east_opt(9 * 3600).unwrap_or_else(|| unreachable!("+09:00"));
    at.with_timezone(&offset)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// A Toss payment (`functions/ingest/src/toss.rs`): DONE, CANCELED or ABORTED.
fn toss(event: &Event, previous: Option<&Value>) -> Option<Value> {
    let transaction = transaction_key(event);
    let mut payment = match (&event.kind, previous) {
        (EventKind::RefundRequested { .. }, Some(paid)) => paid.clone(),
        (EventKind::PaymentSucceeded { .. } | EventKind::PaymentFailed { .. }, _)
        | (EventKind::RefundRequested { .. }, None) => json!({
            "paymentKey": format!("replay_{transaction}"),
            "orderId": format!("order-{transaction}"),
            "metadata": {"customer_id": event.customer_id},
        }),
        _ => return None,
    };
    payment["lastTransactionKey"] = json!(transaction);
    if let Some(email) = &event.profile.email {
        payment["metadata"]["email"] = json!(email);
    }
    if let Some(locale) = &event.profile.locale {
        payment["metadata"]["locale"] = json!(locale);
    }
    match &event.kind {
        EventKind::PaymentSucceeded { amount, .. } => {
            payment["status"] = json!("DONE");
            payment["totalAmount"] = json!(amount.amount);
            payment["currency"] = json!(amount.currency);
            payment["approvedAt"] = json!(seoul(event.occurred_at));
        }
        EventKind::PaymentFailed { amount } => {
            payment["status"] = json!("ABORTED");
            payment["totalAmount"] = json!(amount.as_ref().map_or(0, |a| a.amount));
            payment["currency"] = json!(amount.as_ref().map_or("KRW", |a| a.currency.as_str()));
        }
        EventKind::RefundRequested { reason } => {
            payment["status"] = json!("CANCELED");
            payment["cancels"] = json!([{"cancelReason": reason.clone().unwrap_or_default(),
                "canceledAt": seoul(event.occurred_at), "transactionKey": transaction}]);
        }
        _ => return None,
    }
    Some(payment)
}

/// A PortOne V2 payment (`functions/ingest/src/portone.rs`): PAID, CANCELLED or FAILED.
fn portone(event: &Event, previous: Option<&Value>) -> Option<Value> {
    let transaction = transaction_key(event);
    let at = event.occurred_at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut payment = match (&event.kind, previous) {
        (EventKind::RefundRequested { .. }, Some(paid)) => paid.clone(),
        (EventKind::PaymentSucceeded { .. } | EventKind::PaymentFailed { .. }, _)
        | (EventKind::RefundRequested { .. }, None) => json!({
            "id": format!("replay-{transaction}"),
            "storeId": "store-replay",
            "customData": json!({"customer_id": event.customer_id}).to_string(),
            "customer": {"id": event.customer_id},
        }),
        _ => return None,
    };
    payment["transactionId"] = json!(transaction);
    if let Some(email) = &event.profile.email {
        payment["customer"]["email"] = json!(email);
    }
    match &event.kind {
        EventKind::PaymentSucceeded { amount, .. } => {
            payment["status"] = json!("PAID");
            payment["amount"] = json!({"total": amount.amount, "paid": amount.amount});
            payment["currency"] = json!(amount.currency);
            payment["paidAt"] = json!(at);
        }
        EventKind::PaymentFailed { amount } => {
            payment["status"] = json!("FAILED");
            payment["amount"] = json!({"total": amount.as_ref().map_or(0, |a| a.amount)});
            payment["currency"] = json!(amount.as_ref().map_or("KRW", |a| a.currency.as_str()));
            payment["failedAt"] = json!(at);
        }
        EventKind::RefundRequested { reason } => {
            payment["status"] = json!("CANCELLED");
            payment["cancelledAt"] = json!(at);
            payment["cancellations"] = json!([{"id": format!("cancel-{transaction}"),
                "reason": reason, "cancelledAt": at}]);
        }
        _ => return None,
    }
    Some(payment)
}

/// A provider-safe key from the event id (letters, digits, `-` and `_`).
fn transaction_key(event: &Event) -> String {
    event
        .id
        .as_str()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use journey::domain::{CustomerId, EventId, Owner};

    fn event(id: &str, source: Source, kind: EventKind) -> Event {
        Event {
            id: EventId::new(id).expect("id"),
            customer_id: CustomerId::new("c-1").expect("id"),
            occurred_at: "2026-03-01T10:00:00Z".parse().expect("time"),
            source,
            kind,
            profile: Profile::default(),
        }
    }

    fn won(amount: i64) -> Money {
        Money::new(amount, "KRW").expect("money")
    }

    #[test]
    fn app_events_keep_their_id_and_carry_profile_fields_at_the_top() {
        let mut login = event("app:m-1:0", Source::App, EventKind::Login);
        login.profile.email = Some("c@example.com".into());
        let request = Requests::default().of(&login);
        let [Request::App(body)] = request.as_slice() else {
            panic!("{request:?}")
        };
        assert_eq!(
            body,
            &json!({"id": "m-1:0", "customer_id": "c-1", "occurred_at": "2026-03-01T10:00:00Z",
                    "type": "login", "email": "c@example.com"})
        );
        let parsed = ingest::app::parse(
            body.to_string().as_bytes(),
            "unused",
            "2026-03-01T10:00:00Z".parse().expect("time"),
        )
        .expect("the app's schema");
        assert_eq!(parsed, vec![login]);
    }

    #[test]
    fn payments_go_as_the_stripe_events_ingestion_maps_back() {
        let cases = [
            EventKind::PaymentSucceeded {
                amount: won(49_000),
                renews_at: None,
            },
            EventKind::PaymentFailed {
                amount: Some(won(49_000)),
            },
            EventKind::SubscriptionCancelled {
                reason: Some("too expensive".into()),
            },
            EventKind::RefundRequested {
                reason: Some("requested_by_customer".into()),
            },
            EventKind::RenewalUpcoming {
                renews_at: Some("2026-03-08T00:00:00Z".parse().expect("t")),
            },
        ];
        for kind in cases {
            let paid = event("stripe:evt_1", Source::Stripe, kind);
            let requests = Requests::default().of(&paid);
            let [Request::Stripe(body)] = requests.as_slice() else {
                panic!("not one Stripe event")
            };
            let mapped = ingest::stripe::map(body.to_string().as_bytes()).expect("maps");
            assert_eq!(mapped, ingest::stripe::Mapped::Event(Box::new(paid)));
        }
    }

    #[test]
    fn a_payment_with_an_owner_is_preceded_by_the_apps_profile_update() {
        let mut paid = event("syn:1", Source::Stripe, EventKind::paid(won(1)));
        paid.profile.owner = Some(Owner {
            id: "t-1".into(),
            name: None,
            email: None,
            slack_id: None,
        });
        let requests = Requests::default().of(&paid);
        assert!(
            matches!(&requests[..], [Request::App(p), Request::Stripe(_)]
            if p["type"] == "profile_updated" && p["owner"]["id"] == "t-1" && p["id"] == "syn:1:profile")
        );
    }

    #[test]
    fn a_toss_refund_cancels_the_customers_last_toss_payment() {
        let mut requests = Requests::default();
        let paid = event("toss:a", Source::Toss, EventKind::paid(won(9_900)));
        let refund = event(
            "toss:b",
            Source::Toss,
            EventKind::RefundRequested { reason: None },
        );
        let (paid, refund) = (requests.of(&paid), requests.of(&refund));
        let [Request::Payment(Provider::Toss, first)] = paid.as_slice() else {
            panic!("not a Toss payment")
        };
        let [Request::Payment(Provider::Toss, second)] = refund.as_slice() else {
            panic!("not a Toss payment")
        };
        assert_eq!(first["paymentKey"], second["paymentKey"]);
        assert_eq!(
            (first["status"].as_str(), second["status"].as_str()),
            (Some("DONE"), Some("CANCELED"))
        );
    }

    #[test]
    fn what_the_system_makes_itself_is_not_posted() {
        let check = event("check:c-1:x", Source::Sweep, EventKind::CheckDue);
        assert!(matches!(
            Requests::default().of(&check)[..],
            [Request::Skip(_)]
        ));
    }
}

//! Items ↔ domain values. The customer and its history are stored attribute by attribute
//! (readable in the console); the effects of an applied event as one JSON string, since
//! nothing queries inside them.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::keys::{self, DUE_AT, DUE_SHARD, EXPIRES_AT, PK, SK, VERSION};
use journey::domain::{Customer, CustomerId, Effect, Event, HistoryEntry, RiskLevel, Source};
use journey::ports::StoreError;

pub type Item = HashMap<String, AttributeValue>;

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn corrupt(key: &str, reason: impl ToString) -> StoreError {
    StoreError::Corrupt {
        key: key.to_string(),
        reason: reason.to_string(),
    }
}

/// The customer item at `version`, with the due-index keys only when a check is pending
/// (that is what keeps the index sparse).
pub fn customer_item(c: &Customer, version: u64) -> Result<Item, StoreError> {
    let pk = keys::customer_pk(&c.id);
    let mut item: Item = serde_dynamo::to_item(c).map_err(|e| corrupt(&pk, e))?;
    item.insert(VERSION.into(), n(version));
    if let Some(due) = c.next_check_at {
        item.insert(DUE_SHARD.into(), s(keys::due_shard(&c.id)));
        item.insert(DUE_AT.into(), s(keys::instant(due)));
    }
    if let Some(last) = c.activity.last_at {
        item.insert(keys::LAST_ACTIVITY_AT.into(), s(keys::instant(last)));
    }
    // the at-risk list's sparse indexes: only customers at risk are in them
    let listed =
        c.risk != RiskLevel::None && c.stage.is_some_and(|st| !st.is_terminal()) && !c.erased;
    if listed {
        item.insert(keys::RISK_LIST.into(), s(c.risk.as_str()));
        item.insert(
            keys::SCORE_KEY.into(),
            s(keys::score_key(c.score.total, &c.id)),
        );
        item.insert(
            keys::VALUE_KEY.into(),
            s(keys::value_key(value_at_risk(c), &c.id)),
        );
    }
    item.insert(PK.into(), s(pk));
    item.insert(SK.into(), s(keys::STATE_SK));
    Ok(item)
}

/// Score × revenue to date (main currency, minor units) ÷ 100: whom to call first.
pub fn value_at_risk(c: &Customer) -> i64 {
    let revenue = c.main_revenue().map_or(0, |(_, v)| v);
    (c.score.total * revenue as f64 / 100.0).round() as i64
}

pub fn customer_from_item(item: Item) -> Result<Customer, StoreError> {
    let key = text(&item, PK).unwrap_or("?").to_string();
    serde_dynamo::from_item(item).map_err(|e| corrupt(&key, e))
}

pub fn history_item(
    id: &CustomerId,
    version: u64,
    n: usize,
    entry: &HistoryEntry,
) -> Result<Item, StoreError> {
    let pk = keys::customer_pk(id);
    let mut item: Item = serde_dynamo::to_item(entry).map_err(|e| corrupt(&pk, e))?;
    item.insert(PK.into(), s(pk));
    item.insert(SK.into(), s(keys::history_sk(version, n)));
    Ok(item)
}

pub fn history_from_item(item: Item) -> Result<HistoryEntry, StoreError> {
    let key = format!(
        "{}/{}",
        text(&item, PK).unwrap_or("?"),
        text(&item, SK).unwrap_or("?")
    );
    serde_dynamo::from_item(item).map_err(|e| corrupt(&key, e))
}

/// How long an applied event's marker (and its effects) is kept: longer than any provider
/// retries (Toss: about 4 days; Stripe: 3 days) and than the longest way a queued message can
/// come back (queue, DLQ, redrive: `LONGEST_RETURN_SECONDS`, 22 days), plus a day.
pub const MARKER_TTL: chrono::Duration =
    chrono::Duration::seconds(crate::sqs::LONGEST_RETURN_SECONDS as i64 + 24 * 3600);

/// The marker of an applied event. Events from outside (payment providers, the app, customers,
/// staff) also carry the event itself, without contact details, and are kept for `log_for`
/// when that is longer than [`MARKER_TTL`]: the event log that `export_log` reads for the
/// backtest and calibration. The sweep's checks and the senders' reports are not logged.
pub fn marker_item(
    event: &Event,
    effects: &[Effect],
    now: DateTime<Utc>,
    log_for: chrono::Duration,
) -> Result<Item, StoreError> {
    let corrupt_event = |e: serde_json::Error| corrupt(event.id.as_str(), e);
    let effects = serde_json::to_string(effects).map_err(corrupt_event)?;
    let logged = is_logged(event) && log_for > MARKER_TTL;
    let keep = if logged { log_for } else { MARKER_TTL };
    let mut item = HashMap::from([
        (PK.into(), s(keys::customer_pk(&event.customer_id))),
        (SK.into(), s(keys::marker_sk(&event.id))),
        ("applied_at".into(), s(keys::instant(now))),
        (EXPIRES_AT.into(), n((now + keep).timestamp())),
        ("effects".into(), s(effects)),
    ]);
    if logged {
        let json = serde_json::to_string(&archived(event)).map_err(corrupt_event)?;
        item.insert(LOGGED_EVENT.into(), s(json));
    }
    Ok(item)
}

/// The attribute of a marker holding the logged event.
pub const LOGGED_EVENT: &str = "event";

fn is_logged(event: &Event) -> bool {
    !matches!(event.source, Source::Sweep | Source::Sender)
}

/// The event as logged: the profile keeps what the rules read (program, locale, time zone),
/// not the e-mail address or the owner's contact.
fn archived(event: &Event) -> Event {
    let mut e = event.clone();
    e.profile.email = None;
    e.profile.owner = None;
    e
}

/// The logged event of a marker item, if it has one.
pub fn logged_event(item: &Item) -> Result<Option<Event>, StoreError> {
    let Some(json) = text(item, LOGGED_EVENT) else {
        return Ok(None);
    };
    let key = text(item, SK).unwrap_or("?");
    serde_json::from_str(json)
        .map(Some)
        .map_err(|e| corrupt(key, e))
}

/// The effects stored in a marker, unless it has expired (TTL deletion is lazy, so expired
/// markers can still be read and must be ignored).
pub fn marker_effects(item: &Item, now: DateTime<Utc>) -> Result<Option<Vec<Effect>>, StoreError> {
    let key = text(item, SK).unwrap_or("?").to_string();
    let expires = number(item, EXPIRES_AT).ok_or_else(|| corrupt(&key, "no expires_at"))?;
    if expires <= now.timestamp() {
        return Ok(None);
    }
    let json = text(item, "effects").ok_or_else(|| corrupt(&key, "no effects"))?;
    serde_json::from_str(json)
        .map(Some)
        .map_err(|e| corrupt(&key, e))
}

pub fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

pub fn number(item: &Item, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use journey::domain::event::EventKind;
    use journey::domain::{Rules, apply};
    use journey::testing::{Events, krw, t};

    fn sample() -> (Customer, HistoryEntry) {
        let rules = Rules::embedded().unwrap();
        let mut events = Events::new("c1");
        let mut c = Customer::new(events.customer().clone());
        for (at, kind) in [
            (
                "2026-11-01T09:00:00Z",
                EventKind::PaymentSucceeded { amount: krw(1000) },
            ),
            (
                "2026-11-02T09:00:00Z",
                EventKind::ContentViewed { seconds: 60 },
            ),
            ("2026-11-03T09:00:00Z", EventKind::SupportTicket),
        ] {
            let e = events.at(t(at), kind);
            c = apply(&c, &e, &rules, t(at)).unwrap().customer;
        }
        let check = events.check(t("2026-11-12T09:00:00Z"));
        let o = apply(&c, &check, &rules, check.occurred_at).unwrap();
        (o.customer, o.history[0].clone())
    }

    #[test]
    fn a_customer_round_trips_with_its_version_and_due_keys() {
        let (c, _) = sample();
        let item = customer_item(&c, 7).unwrap();
        assert_eq!(text(&item, DUE_AT), Some("2026-11-16T09:00:00Z"));
        assert!(text(&item, DUE_SHARD).unwrap().starts_with("DUE#"));
        let back = customer_from_item(item).unwrap();
        assert_eq!(back.version, 7);
        assert_eq!(
            Customer {
                version: c.version,
                ..back
            },
            c
        );
    }

    #[test]
    fn a_customer_with_nothing_due_is_left_out_of_the_index() {
        let (mut c, _) = sample();
        c.next_check_at = None;
        let item = customer_item(&c, 1).unwrap();
        assert!(!item.contains_key(DUE_SHARD) && !item.contains_key(DUE_AT));
    }

    #[test]
    fn an_unknown_stage_in_stored_data_is_a_typed_error() {
        let (c, _) = sample();
        let mut item = customer_item(&c, 1).unwrap();
        item.insert("stage".into(), s("dormant"));
        let err = customer_from_item(item).unwrap_err();
        assert!(
            matches!(&err, StoreError::Corrupt { key, reason } if key == "CUST#c1" && reason.contains("dormant")),
            "{err}"
        );
        assert!(!err.is_retryable());
    }

    #[test]
    fn history_round_trips() {
        let (c, h) = sample();
        let item = history_item(&c.id, 3, 0, &h).unwrap();
        assert_eq!(text(&item, SK), Some("HIST#000000000003#00"));
        assert_eq!(history_from_item(item).unwrap(), h);
    }

    #[test]
    fn expired_markers_are_ignored() {
        let (c, _) = sample();
        let event = Events::new(c.id.as_str()).check(t("2026-11-01T00:00:00Z"));
        let at = t("2026-11-01T00:00:00Z");
        let item = marker_item(&event, &[], at, MARKER_TTL * 30).unwrap();
        let expires = at + MARKER_TTL;
        assert_eq!(
            marker_effects(&item, expires - chrono::Duration::seconds(1)).unwrap(),
            Some(vec![])
        );
        assert_eq!(marker_effects(&item, expires).unwrap(), None);
        // a sweep check's marker outlives the longest way a message comes back (23 days)
        assert!(MARKER_TTL >= chrono::Duration::days(23));
    }
}

//! Items ↔ domain values. The customer is stored as one compressed JSON value (`state`) beside
//! its keys and its recent event ids, so an item stays under DynamoDB's 1 KB write unit; a
//! customer on the at-risk list also carries, attribute by attribute, what the list's indexes
//! project. The history is stored attribute by attribute (readable in the console); the
//! effects of an applied event as one JSON string, since nothing queries inside them.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::keys::{self, DUE_AT, DUE_SHARD, EXPIRES_AT, PK, SK, VERSION};
use super::schema;
use journey::domain::{Customer, CustomerId, Effect, Event, HistoryEntry, RiskLevel};
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

/// The customer item at `version` as written at `now`, with the due-index keys only when a
/// check is pending (that is what keeps the index sparse).
pub fn customer_item(c: &Customer, version: u64, now: DateTime<Utc>) -> Result<Item, StoreError> {
    let pk = keys::customer_pk(&c.id);
    let mut item = Item::new();
    // the state compressed (raw DEFLATE of its JSON), without the recent event ids: digests
    // do not compress, so they go beside it
    let state = Customer {
        recent_events: Default::default(),
        ..c.clone()
    };
    // JSON has no NaN or infinity (serde_json would write null, unreadable later): refuse
    // the write instead, as DynamoDB refused such a number before
    let finite = c.score.total.is_finite()
        && c.score
            .contributions
            .iter()
            .all(|x| x.measure.is_finite() && x.points.is_finite());
    if !finite {
        return Err(corrupt(&pk, "a score that is not a finite number"));
    }
    let state = serde_json::to_value(&state).map_err(|e| corrupt(&pk, e))?;
    item.insert(
        STATE.into(),
        state_attribute(&state).map_err(|e| corrupt(&pk, e))?,
    );
    if !c.recent_events.is_empty() {
        let recent =
            serde_dynamo::to_attribute_value(&c.recent_events).map_err(|e| corrupt(&pk, e))?;
        item.insert(RECENT_EVENTS.into(), recent);
    }
    item.insert(VERSION.into(), n(version));
    if let Some(due) = due_at(c, now) {
        item.insert(DUE_SHARD.into(), s(keys::due_shard(&c.id)));
        item.insert(DUE_AT.into(), s(keys::instant(due)));
    }
    // the at-risk list's sparse indexes: only customers at risk are in them, with what the
    // list shows of them
    let listed =
        c.risk != RiskLevel::None && c.stage.is_some_and(|st| !st.is_terminal()) && !c.erased;
    if listed {
        let mut attributes: Item = serde_dynamo::to_item(c).map_err(|e| corrupt(&pk, e))?;
        for name in schema::LIST_ATTRIBUTES {
            if let Some(value) = attributes.remove(*name) {
                item.insert((*name).to_string(), value);
            }
        }
        if let Some(last) = c.activity.last_at {
            item.insert(keys::LAST_ACTIVITY_AT.into(), s(keys::instant(last)));
        }
        item.insert(
            keys::RISK_LIST.into(),
            s(keys::risk_list(c.risk, c.contacted_since_risk_rose())),
        );
        item.insert(
            keys::SCORE_KEY.into(),
            s(keys::score_key(c.score.total, &c.id)),
        );
        item.insert(
            keys::VALUE_KEY.into(),
            s(keys::value_key(value_at_risk(c), &c.id)),
        );
    }
    // search by e-mail prefix: the index entry moves only when the address changes
    if let Some((key, sort)) = c
        .profile
        .email
        .as_deref()
        .filter(|_| !c.erased)
        .and_then(|e| keys::search_entry(e, &c.id))
    {
        item.insert(keys::SEARCH_KEY.into(), s(key));
        item.insert(keys::SEARCH_SORT.into(), s(sort));
    }
    item.insert(PK.into(), s(pk));
    item.insert(SK.into(), s(keys::STATE_SK));
    Ok(item)
}

/// Where the customer goes in the due index: the check already there while it is still to
/// come and no later than the one now needed, else the one needed. Activity pushes the
/// inactivity step later at every login; moving the index entry each time would cost as much
/// as the customer's own write. A check that comes early finds nothing due and sets the next.
pub fn due_at(c: &Customer, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    match (c.indexed_check_at, c.next_check_at) {
        (Some(at), Some(needed)) if at > now && at <= needed => Some(at),
        (_, needed) => needed,
    }
}

/// Score × revenue to date (main currency, minor units) ÷ 100: whom to call first.
pub fn value_at_risk(c: &Customer) -> i64 {
    let revenue = c.main_revenue().map_or(0, |(_, v)| v);
    (c.score.total * revenue as f64 / 100.0).round() as i64
}

/// The attribute holding the customer's state (compressed JSON), and its recent event ids.
const STATE: &str = "state";
const RECENT_EVENTS: &str = "recent_events";

/// A state written by hand (a test's damaged item, a repair tool): `json` compressed as
/// [`customer_item`] stores it.
pub fn state_attribute(json: &serde_json::Value) -> Result<AttributeValue, std::io::Error> {
    use std::io::Write;
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    serde_json::to_writer(&mut encoder, json)?;
    encoder.flush()?;
    Ok(AttributeValue::B(encoder.finish()?.into()))
}

/// The state inflated, refusing more than DynamoDB's 400 KB item could ever hold uncompressed
/// many times over (a damaged value must not take the function's memory).
fn state_from_blob(blob: &[u8]) -> Result<Customer, String> {
    use std::io::Read;
    const MAX: u64 = 16 * 1024 * 1024;
    let mut json = Vec::new();
    flate2::read::DeflateDecoder::new(blob)
        .take(MAX + 1)
        .read_to_end(&mut json)
        .map_err(|e| e.to_string())?;
    if json.len() as u64 > MAX {
        return Err("state larger than 16 MB inflated".into());
    }
    serde_json::from_slice(&json).map_err(|e| e.to_string())
}

/// A customer item: the compressed state when it has one, else the attributes (an index's
/// projection, or an item written before the state was compressed).
pub fn customer_from_item(mut item: Item) -> Result<Customer, StoreError> {
    let key = text(&item, PK).unwrap_or("?").to_string();
    let indexed = text(&item, DUE_AT)
        .map(|at| DateTime::parse_from_rfc3339(at).map(|at| at.with_timezone(&Utc)))
        .transpose()
        .map_err(|e| corrupt(&key, e))?;
    let mut customer: Customer = match item.remove(STATE) {
        Some(AttributeValue::B(blob)) => {
            let mut c = state_from_blob(blob.as_ref()).map_err(|e| corrupt(&key, e))?;
            if let Some(recent) = item.remove(RECENT_EVENTS) {
                c.recent_events =
                    serde_dynamo::from_attribute_value(recent).map_err(|e| corrupt(&key, e))?;
            }
            if let Some(version) = number(&item, VERSION) {
                c.version = version as u64;
            }
            c
        }
        _ => serde_dynamo::from_item(item).map_err(|e| corrupt(&key, e))?,
    };
    customer.indexed_check_at = indexed;
    Ok(customer)
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

/// The marker of an applied event: its dedup for as long as it can come back, and the effects
/// a redelivery delivers again. The event log is not here but in S3 (`journey::event_log`).
pub fn marker_item(
    event: &Event,
    effects: &[Effect],
    now: DateTime<Utc>,
) -> Result<Item, StoreError> {
    let effects = serde_json::to_string(effects).map_err(|e| corrupt(event.id.as_str(), e))?;
    Ok(HashMap::from([
        (PK.into(), s(keys::customer_pk(&event.customer_id))),
        (SK.into(), s(keys::marker_sk(&event.id))),
        ("applied_at".into(), s(keys::instant(now))),
        (EXPIRES_AT.into(), n((now + MARKER_TTL).timestamp())),
        ("effects".into(), s(effects)),
    ]))
}

/// The attribute on which markers written before 2026-12-04 carried the logged event; erasure
/// still removes it from those (they expire within 180 days of their writing).
pub const LOGGED_EVENT: &str = "event";

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

/// An item's size as DynamoDB bills it: the sum of its attribute names' and values' sizes
/// (its published rules; the harness and the size tests use it).
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

fn value_size(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
        AttributeValue::Ns(v) => v.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(v) => v.iter().map(|b| b.as_ref().len()).sum(),
        AttributeValue::L(v) => 3 + v.iter().map(|x| 1 + value_size(x)).sum::<usize>(),
        AttributeValue::M(m) => {
            3 + m
                .iter()
                .map(|(k, x)| 1 + k.len() + value_size(x))
                .sum::<usize>()
        }
        _ => 0,
    }
}

/// About one byte per two significant digits, plus one.
fn number_size(n: &str) -> usize {
    let digits = n
        .trim_start_matches('-')
        .trim_start_matches('0')
        .chars()
        .filter(char::is_ascii_digit)
        .count();
    digits.div_ceil(2) + 1
}

pub fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

/// An RFC 3339 instant stored as text (`keys::instant` writes them).
pub fn instant(item: &Item, name: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text(item, name)?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
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
            ("2026-11-01T09:00:00Z", EventKind::paid(krw(1000))),
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
        let item = customer_item(&c, 7, t("2026-11-12T09:00:00Z")).unwrap();
        assert_eq!(text(&item, DUE_AT), Some("2026-11-16T09:00:00Z"));
        assert!(text(&item, DUE_SHARD).unwrap().starts_with("DUE#"));
        let back = customer_from_item(item).unwrap();
        assert_eq!(back.version, 7);
        assert_eq!(back.indexed_check_at, Some(t("2026-11-16T09:00:00Z")));
        assert_eq!(
            Customer {
                version: c.version,
                indexed_check_at: None,
                ..back
            },
            c
        );
    }

    #[test]
    fn the_due_index_keeps_an_earlier_check_until_it_has_come() {
        let (mut c, _) = sample();
        c.indexed_check_at = Some(t("2026-11-16T09:00:00Z"));
        c.next_check_at = Some(t("2026-11-20T09:00:00Z")); // activity pushed it later
        let at = |c: &Customer, now| due_at(c, t(now));
        assert_eq!(
            at(&c, "2026-11-15T09:00:00Z"),
            Some(t("2026-11-16T09:00:00Z"))
        );
        // once it has come (the check itself), the one needed
        assert_eq!(
            at(&c, "2026-11-16T09:00:00Z"),
            Some(t("2026-11-20T09:00:00Z"))
        );
        // an earlier need moves it earlier; none takes it out
        c.next_check_at = Some(t("2026-11-14T09:00:00Z"));
        assert_eq!(
            at(&c, "2026-11-13T09:00:00Z"),
            Some(t("2026-11-14T09:00:00Z"))
        );
        c.next_check_at = None;
        assert_eq!(at(&c, "2026-11-13T09:00:00Z"), None);
    }

    /// A customer active every day for 90 days (logins, content, a submission every third day),
    /// with the longest recent-event ids the app sends in practice, at most 1 KB: one write
    /// unit per plain event (docs/data-model.md).
    #[test]
    fn a_customer_active_for_90_days_fits_in_one_write_unit() {
        let (_, c) = journey::testing::active_customer(&Rules::embedded().unwrap(), 90);
        let item = customer_item(&c, 271, t("2026-10-30T09:00:00Z")).unwrap();
        let size = item_size(&item);
        println!("customer item after 90 active days: {size} bytes");
        assert!(size <= 1024, "{size} bytes: {item:?}");
    }

    #[test]
    fn a_customer_with_nothing_due_is_left_out_of_the_index() {
        let (mut c, _) = sample();
        c.next_check_at = None;
        let item = customer_item(&c, 1, t("2026-11-12T09:00:00Z")).unwrap();
        assert!(!item.contains_key(DUE_SHARD) && !item.contains_key(DUE_AT));
    }

    #[test]
    fn an_unknown_stage_in_stored_data_is_a_typed_error() {
        let (c, _) = sample();
        let mut item = customer_item(&c, 1, t("2026-11-12T09:00:00Z")).unwrap();
        let mut json = serde_json::to_value(&c).unwrap();
        json["stage"] = "dormant".into();
        item.insert(STATE.into(), state_attribute(&json).unwrap());
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
        let item = marker_item(&event, &[], at).unwrap();
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

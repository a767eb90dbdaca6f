//! The access log (PIPA's access records): `ACCESS#<yyyy-mm-dd> / <instant>#<request id>` per
//! read of personal data, kept until its `expires_at` (at least a year), read a day at a time.
//! A retried write of the same request is the same item.

use chrono::NaiveDate;

use super::DynamoStore;
use super::codec::{Item, n, number, s, text};
use super::errors::classify;
use super::keys::{EXPIRES_AT, PK, SK, instant};
use journey::ports::{AccessLog, AccessPage, AccessRecord, StoreError};

fn day_pk(day: NaiveDate) -> String {
    format!("ACCESS#{day}")
}

fn item(r: &AccessRecord) -> Item {
    let mut item = Item::from([
        (PK.into(), s(day_pk(r.at.date_naive()))),
        (SK.into(), s(format!("{}#{}", instant(r.at), r.request_id))),
        ("at".into(), s(instant(r.at))),
        ("who".into(), s(&r.who)),
        ("route".into(), s(&r.route)),
        ("request_id".into(), s(&r.request_id)),
        (EXPIRES_AT.into(), n(r.keep_until.timestamp())),
    ]);
    if let Some(c) = &r.customer {
        item.insert("customer".into(), s(c));
    }
    if let Some(rows) = r.rows {
        item.insert("rows".into(), n(rows));
    }
    item
}

fn record(item: &Item) -> Result<AccessRecord, StoreError> {
    let key = text(item, SK).unwrap_or("?").to_string();
    let corrupt = |reason: &str| StoreError::Corrupt {
        key: key.clone(),
        reason: reason.into(),
    };
    let field = |name: &str| text(item, name).ok_or_else(|| corrupt(name));
    let time = |v: &str| {
        chrono::DateTime::parse_from_rfc3339(v)
            .map(|t| t.to_utc())
            .map_err(|_| corrupt("at"))
    };
    let expires = number(item, EXPIRES_AT)
        .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .ok_or_else(|| corrupt(EXPIRES_AT))?;
    Ok(AccessRecord {
        at: time(field("at")?)?,
        who: field("who")?.to_string(),
        route: field("route")?.to_string(),
        customer: text(item, "customer").map(str::to_string),
        rows: number(item, "rows").and_then(|v| u32::try_from(v).ok()),
        request_id: field("request_id")?.to_string(),
        keep_until: expires,
    })
}

impl AccessLog for DynamoStore {
    async fn record_read(&self, r: &AccessRecord) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item(r)))
            .send()
            .await
            .map(|_| ())
            .map_err(classify)
    }

    async fn reads_on(
        &self,
        day: NaiveDate,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<AccessPage, StoreError> {
        let pk = day_pk(day);
        let start = cursor.map(|c| Item::from([(PK.into(), s(&pk)), (SK.into(), s(c))]));
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":pk", s(&pk))
            .set_exclusive_start_key(start)
            .limit(limit)
            .send()
            .await
            .map_err(classify)?;
        let reads = out
            .items
            .unwrap_or_default()
            .iter()
            .map(record)
            .collect::<Result<_, _>>()?;
        let cursor = out
            .last_evaluated_key
            .and_then(|k| text(&k, SK).map(str::to_string));
        Ok(AccessPage { reads, cursor })
    }
}

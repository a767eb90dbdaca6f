//! The event log and the churns, read back from the table for the backtest and calibration:
//! the logged events of the markers, and the history's changes of stage to `churned` as labels.
//! A paginated `Scan` with a filter: an offline job's read, never a request path's.

use aws_sdk_dynamodb::types::AttributeValue;

use super::DynamoStore;
use super::codec::{self, Item, s, text};
use super::errors::classify;
use super::keys::{HISTORY_PREFIX, PK, SK, STATE_SK};
use journey::backtest::Label;
use journey::domain::{Change, CustomerId};
use journey::ports::{EventArchive, ExportedLog, StoreError};

impl EventArchive for DynamoStore {
    async fn export_log(&self) -> Result<ExportedLog, StoreError> {
        let mut log = ExportedLog::default();
        // erased customers are left out (their logged events are gone; their churns go too)
        let mut erased = std::collections::HashSet::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression(
                    "attribute_exists(#event) OR (begins_with(SK, :hist) AND #to = :churned) \
                     OR (SK = :state AND #erased = :yes)",
                )
                .expression_attribute_names("#event", codec::LOGGED_EVENT)
                .expression_attribute_names("#to", "to")
                .expression_attribute_names("#erased", "erased")
                .expression_attribute_values(":state", s(STATE_SK))
                .expression_attribute_values(":yes", AttributeValue::Bool(true))
                .expression_attribute_values(":hist", s(HISTORY_PREFIX))
                .expression_attribute_values(":churned", AttributeValue::S("churned".into()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(classify)?;
            for item in page.items() {
                if text(item, SK) == Some(STATE_SK) {
                    erased.insert(text(item, PK).unwrap_or_default().to_string());
                } else {
                    collect(&mut log, item)?;
                }
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        let kept = |id: &CustomerId| !erased.contains(&super::keys::customer_pk(id));
        log.events.retain(|e| kept(&e.customer_id));
        log.labels.retain(|l| kept(&l.customer_id));
        log.events.sort_by(|a, b| {
            (a.occurred_at, &a.customer_id, &a.id).cmp(&(b.occurred_at, &b.customer_id, &b.id))
        });
        log.labels
            .sort_by(|a, b| (a.churned_at, &a.customer_id).cmp(&(b.churned_at, &b.customer_id)));
        Ok(log)
    }
}

fn collect(log: &mut ExportedLog, item: &Item) -> Result<(), StoreError> {
    match codec::logged_event(item) {
        Ok(Some(event)) => {
            log.events.push(event);
            return Ok(());
        }
        Ok(None) => {}
        // an event this build cannot read — written by a newer release, before a roll-back —
        // is left out of the history it learns from, not a reason to learn nothing
        Err(e) => {
            tracing::warn!(error = %e, "a logged event this build cannot read: left out");
            return Ok(());
        }
    }
    let pk = text(item, PK).unwrap_or_default().to_string();
    let entry = codec::history_from_item(item.clone())?;
    let Change::Stage { .. } = entry.change else {
        return Ok(());
    };
    let id = pk.strip_prefix("CUST#").unwrap_or(&pk);
    let customer_id = CustomerId::new(id).map_err(|e| StoreError::Corrupt {
        key: pk.clone(),
        reason: e.to_string(),
    })?;
    let how = match entry.cause.event_type.as_str() {
        "check_due" => "inactivity".to_string(),
        other => other.to_string(),
    };
    log.labels.push(Label {
        customer_id,
        churned_at: entry.at,
        how: Some(how),
    });
    Ok(())
}

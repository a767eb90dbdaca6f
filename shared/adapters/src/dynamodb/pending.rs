//! Texts awaiting their final report, for the reconciler's polls: one item each in a few
//! `TEXTPOLL#<shard>` partitions (keyed by send id, so a final report ends it without knowing
//! when it was due). A run reads the shards' items whose `due_at` has come; the texts pending
//! at once are those of the last `expire_hours` without a report, which a working webhook
//! keeps few. Each item expires (TTL) a week after sending, whatever happens.

use chrono::{DateTime, Duration, Utc};
use journey::domain::CustomerId;
use journey::domain::ids::stable_bucket;
use journey::ports::{PendingText, PendingTexts, StoreError, TextOwners};

use super::DynamoStore;
use super::codec::{instant, n, s, text};
use super::errors::{classify, condition_held};
use super::keys::{self, EXPIRES_AT, PK, SK};

/// Partitions the pending texts are spread over.
const SHARDS: u32 = 4;
/// However a text's polls go, its item is gone after this.
const KEEP: Duration = Duration::days(7);

fn pk(shard: u32) -> String {
    format!("TEXTPOLL#{shard}")
}

fn pk_of(send_id: &str) -> String {
    pk(stable_bucket(send_id, SHARDS))
}

fn pending(item: &super::codec::Item) -> Option<PendingText> {
    Some(PendingText {
        send_id: text(item, SK)?.to_string(),
        customer_id: CustomerId::new(text(item, "customer")?).ok()?,
        provider_id: text(item, "provider_id")?.to_string(),
        sent_at: instant(item, "sent_at")?,
        due_at: instant(item, keys::DUE_AT)?,
    })
}

impl DynamoStore {
    /// Ends the polls of a text whose final report came (see `ledger::note_text`).
    pub(super) async fn end_text_polls(&self, send_id: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(pk_of(send_id)))
            .key(SK, s(send_id))
            .send()
            .await
            .map(|_| ())
            .map_err(classify)
    }
}

impl PendingTexts for DynamoStore {
    async fn await_report(&self, t: &PendingText) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item(PK, s(pk_of(&t.send_id)))
            .item(SK, s(&t.send_id))
            .item("customer", s(t.customer_id.as_str()))
            .item("provider_id", s(&t.provider_id))
            .item("sent_at", s(keys::instant(t.sent_at)))
            .item(keys::DUE_AT, s(keys::instant(t.due_at)))
            .item(EXPIRES_AT, n((t.sent_at + KEEP).timestamp()))
            .send()
            .await
            .map(|_| ())
            .map_err(classify)
    }

    async fn due_texts(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<PendingText>, StoreError> {
        let mut out = Vec::new();
        for shard in 0..SHARDS {
            let mut start = None;
            loop {
                let page = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("#pk = :pk")
                    .filter_expression("#due <= :now")
                    .expression_attribute_names("#pk", PK)
                    .expression_attribute_names("#due", keys::DUE_AT)
                    .expression_attribute_values(":pk", s(pk(shard)))
                    .expression_attribute_values(":now", s(keys::instant(now)))
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .map_err(classify)?;
                out.extend(page.items().iter().filter_map(pending));
                if out.len() >= limit {
                    out.truncate(limit);
                    return Ok(out);
                }
                start = page.last_evaluated_key;
                if start.is_none() {
                    break;
                }
            }
        }
        Ok(out)
    }

    async fn repoll(&self, t: &PendingText, due_at: DateTime<Utc>) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(pk_of(&t.send_id)))
            .key(SK, s(&t.send_id))
            // a report that ended the polls meanwhile is not undone
            .condition_expression("attribute_exists(#pk)")
            .update_expression("SET #due = :due")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#due", keys::DUE_AT)
            .expression_attribute_values(":due", s(keys::instant(due_at)))
            .send()
            .await;
        condition_held(result).map(|_| ())
    }

    async fn end_polls(&self, send_id: &str) -> Result<(), StoreError> {
        self.end_text_polls(send_id).await
    }
}

impl TextOwners for DynamoStore {
    async fn text_owner(&self, send_id: &str) -> Result<Option<CustomerId>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(pk_of(send_id)))
            .key(SK, s(send_id))
            .projection_expression("customer")
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        Ok(out
            .item
            .as_ref()
            .and_then(|item| text(item, "customer"))
            .and_then(|c| CustomerId::new(c).ok()))
    }
}

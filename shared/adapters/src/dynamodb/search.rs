//! Search by e-mail prefix: one query on the sparse `search` index (keys only), then the
//! customers' items by key. Never a Scan.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};

use super::codec::{self, Item, s};
use super::errors::classify;
use super::keys::{self, PK, SK};
use super::{BATCH_ROUNDS, DynamoStore};
use journey::domain::Customer;
use journey::ports::StoreError;

/// The most pages of the search index one search reads: a prefix shared by many leads costs a
/// bounded number of reads, and may then find fewer than asked.
const SEARCH_PAGES: usize = 5;

impl DynamoStore {
    /// Customers whose address starts with `prefix`, in the index's order, up to `limit` of
    /// them with a stage and not erased: leads and erased records take no place (security
    /// review L9), the index is read a page at a time until enough are found or
    /// [`SEARCH_PAGES`] pages were read.
    pub(super) async fn by_email_prefix(
        &self,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<Customer>, StoreError> {
        let lowered = prefix.trim().to_lowercase();
        let Some(partition) = keys::search_key(&lowered) else {
            return Ok(Vec::new());
        };
        let limit = limit.clamp(1, 100);
        let mut customers = Vec::new();
        let mut start = None;
        for _ in 0..SEARCH_PAGES {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::SEARCH_INDEX)
                .key_condition_expression("#key = :key AND begins_with(#sort, :prefix)")
                .expression_attribute_names("#key", keys::SEARCH_KEY)
                .expression_attribute_names("#sort", keys::SEARCH_SORT)
                .expression_attribute_values(":key", s(partition.clone()))
                .expression_attribute_values(":prefix", s(lowered.clone()))
                .set_exclusive_start_key(start)
                .limit((limit - customers.len()) as i32)
                .send()
                .await
                .map_err(classify)?;
            customers.extend(self.found(out.items.unwrap_or_default()).await?);
            start = out.last_evaluated_key;
            if customers.len() >= limit || start.is_none() {
                break;
            }
        }
        customers.truncate(limit);
        Ok(customers)
    }

    /// The customers of a page of the index, in its order (the address), without those erased
    /// or gone since and the leads.
    async fn found(&self, page: Vec<Item>) -> Result<Vec<Customer>, StoreError> {
        let mut order: Vec<String> = Vec::new();
        let mut keys_wanted = Vec::new();
        for item in &page {
            let Some(pk) = codec::text(item, PK) else {
                continue;
            };
            order.push(pk.to_string());
            keys_wanted.push(HashMap::from([
                (PK.to_string(), s(pk)),
                (SK.to_string(), s(keys::STATE_SK)),
            ]));
        }
        let mut by_pk = self.customers_by_key(keys_wanted).await?;
        Ok(order
            .iter()
            .filter_map(|pk| by_pk.remove(pk))
            .filter(|c| !c.erased && c.stage.is_some())
            .collect())
    }

    /// The customer items with these keys (at most 100), by partition key.
    async fn customers_by_key(
        &self,
        wanted: Vec<HashMap<String, AttributeValue>>,
    ) -> Result<HashMap<String, Customer>, StoreError> {
        let mut customers = HashMap::new();
        if wanted.is_empty() {
            return Ok(customers);
        }
        let request = KeysAndAttributes::builder()
            .set_keys(Some(wanted))
            .build()
            .map_err(Self::rejected)?;
        let mut pending = Some(HashMap::from([(self.table.clone(), request)]));
        for round in 0.. {
            let Some(request) = pending.take().filter(|r| !r.is_empty()) else {
                break;
            };
            if round == BATCH_ROUNDS {
                return Err(StoreError::Unavailable("customers left unprocessed".into()));
            }
            if round > 0 {
                // full jitter: callers refused together must not come back together
                tokio::time::sleep(journey::backoff::full_jitter(
                    std::time::Duration::from_millis(50),
                    round,
                    std::time::Duration::from_secs(2),
                ))
                .await;
            }
            let out = self
                .client
                .batch_get_item()
                .set_request_items(Some(request))
                .send()
                .await
                .map_err(classify)?;
            for item in out.responses.unwrap_or_default().into_values().flatten() {
                let pk = codec::text(&item, PK).unwrap_or_default().to_string();
                customers.insert(pk, codec::customer_from_item(item)?);
            }
            pending = out.unprocessed_keys;
        }
        Ok(customers)
    }
}

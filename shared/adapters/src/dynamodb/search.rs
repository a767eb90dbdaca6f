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

impl DynamoStore {
    pub(super) async fn by_email_prefix(
        &self,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<Customer>, StoreError> {
        let lowered = prefix.trim().to_lowercase();
        let Some(partition) = keys::search_key(&lowered) else {
            return Ok(Vec::new());
        };
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::SEARCH_INDEX)
            .key_condition_expression("#key = :key AND begins_with(#sort, :prefix)")
            .expression_attribute_names("#key", keys::SEARCH_KEY)
            .expression_attribute_names("#sort", keys::SEARCH_SORT)
            .expression_attribute_values(":key", s(partition))
            .expression_attribute_values(":prefix", s(lowered))
            .limit(limit.clamp(1, 100) as i32)
            .send()
            .await
            .map_err(classify)?;
        let found: Vec<Item> = out.items.unwrap_or_default();
        let mut order: Vec<String> = Vec::new();
        let mut keys_wanted = Vec::new();
        for item in &found {
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
        // in the index's order (the address), skipping one erased or gone since
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

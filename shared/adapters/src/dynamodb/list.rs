//! The at-risk list: a query per risk level (and whether staff reached the customer since) on
//! the sparse `at_risk_by_score` or `at_risk_by_value` index (descending), merged by sort key. Pages continue strictly after the
//! previous page's last key, which is unique (it ends with the customer id). Never a Scan.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::DateTime;

use super::DynamoStore;
use super::codec::{self, Item, s};
use super::errors::classify;
use super::keys;
use journey::domain::{Customer, RiskLevel};
use journey::ports::{ListOrder, ListPage, ListQuery, StoreError};

impl DynamoStore {
    pub(super) async fn list_at_risk(&self, q: &ListQuery) -> Result<ListPage, StoreError> {
        let levels = match q.risk {
            Some(level) => vec![level],
            None => vec![RiskLevel::Danger, RiskLevel::Warning, RiskLevel::Caution],
        };
        let (levels, contacted): (Vec<RiskLevel>, &[bool]) = match q.needing_contact_from {
            Some(from) => (
                levels.into_iter().filter(|l| *l >= from).collect(),
                &[false],
            ),
            None => (levels, &[false, true]),
        };
        let (index, key) = match q.order {
            ListOrder::Score => (keys::AT_RISK_BY_SCORE, keys::SCORE_KEY),
            ListOrder::Value => (keys::AT_RISK_BY_VALUE, keys::VALUE_KEY),
        };
        // one more than asked, to know whether a next page exists
        let want = q.limit + 1;
        // the partitions at once: a page costs the slowest query, not the sum
        let partitions: Vec<String> = levels
            .iter()
            .flat_map(|&level| contacted.iter().map(move |&c| keys::risk_list(level, c)))
            .collect();
        let pages = futures::future::try_join_all(
            partitions
                .iter()
                .map(|p| self.partition(q, p, index, key, want)),
        )
        .await?;
        let mut found: Vec<(String, Item)> = pages.into_iter().flatten().collect();
        found.sort_by(|a, b| b.0.cmp(&a.0));
        let more = found.len() > q.limit;
        found.truncate(q.limit);
        let next = more.then(|| found.last().map(|(k, _)| k.clone())).flatten();
        let customers = found
            .into_iter()
            .map(|(_, item)| listed_customer(item))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ListPage { customers, next })
    }

    /// Up to `want` matching customers of one partition, highest sort key first.
    async fn partition(
        &self,
        q: &ListQuery,
        partition: &str,
        index: &str,
        key: &str,
        want: usize,
    ) -> Result<Vec<(String, Item)>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let mut request = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .scan_index_forward(false)
                .expression_attribute_names("#risk", keys::RISK_LIST)
                .expression_attribute_values(":risk", s(partition))
                .limit(want.clamp(10, 500) as i32)
                .set_exclusive_start_key(start);
            let mut condition = "#risk = :risk".to_string();
            if let Some(after) = &q.after {
                condition.push_str(" AND #sort < :after");
                request = request
                    .expression_attribute_names("#sort", key)
                    .expression_attribute_values(":after", s(after));
            }
            let mut filters = Vec::new();
            if let Some(stage) = q.stage {
                filters.push("#stage = :stage");
                request = request
                    .expression_attribute_names("#stage", "stage")
                    .expression_attribute_values(":stage", s(stage.as_str()));
            }
            if let Some(program) = &q.program {
                filters.push("#profile.#program = :program");
                request = request
                    .expression_attribute_names("#profile", "profile")
                    .expression_attribute_names("#program", "program")
                    .expression_attribute_values(":program", s(program));
            }
            if let Some(owner) = &q.owner {
                filters.push("#profile.#owner.#owner_id = :owner");
                request = request
                    .expression_attribute_names("#profile", "profile")
                    .expression_attribute_names("#owner", "owner")
                    .expression_attribute_names("#owner_id", "id")
                    .expression_attribute_values(":owner", s(owner));
            }
            request = request.key_condition_expression(condition);
            if !filters.is_empty() {
                request = request.filter_expression(filters.join(" AND "));
            }
            let page = request.send().await.map_err(classify)?;
            for item in page.items.unwrap_or_default() {
                let sort = codec::text(&item, key).unwrap_or_default().to_string();
                out.push((sort, item));
                if out.len() >= want {
                    return Ok(out);
                }
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(out);
            }
        }
    }
}

/// A customer as the index projects it; the last activity comes from its top-level copy.
fn listed_customer(mut item: Item) -> Result<Customer, StoreError> {
    let last = item
        .remove(keys::LAST_ACTIVITY_AT)
        .and_then(|v| match v {
            AttributeValue::S(t) => DateTime::parse_from_rfc3339(&t).ok(),
            _ => None,
        })
        .map(|t| t.with_timezone(&chrono::Utc));
    let mut customer = codec::customer_from_item(item)?;
    customer.activity.last_at = last;
    Ok(customer)
}

//! The DynamoDB store: one table holds customers, their history, applied-event markers, the
//! sparse due index and the counters (docs/data-model.md).

mod access;
mod codec;
mod erasure;
mod errors;
pub mod keys;
mod ledger;
mod list;
mod pending;
mod rules;
pub mod schema;
mod search;

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::builders::PutBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use self::codec::{Item, n, s};
use self::errors::{classify, classify_commit};
use self::keys::{DUE_AT, DUE_INDEX, DUE_SHARD, PK, SK, VERSION};
use journey::domain::experiment::month;
use journey::domain::{Customer, CustomerId, Effect, EventId, Milestone, RiskLevel, Stage, Tally};
use journey::ports::{
    Commit, Counts, CustomerStore, DueCustomer, DueIndex, DuePage, HistoryPage, JourneyReader,
    ListPage, ListQuery, MailCounts, SendRecord, Step, StoreError, TemplateTally,
};

pub use codec::{MARKER_TTL, customer_item, item_size, state_attribute};

/// The store on one table. Cheap to clone: the SDK client is shared.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Writes customers as they are, without history, markers or counters: for seeding large
    /// tables in scale tests and benchmarks only (`make bench` uses it in a release build).
    pub async fn seed(&self, customers: &[Customer]) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
        for chunk in customers.chunks(25) {
            let mut requests = chunk
                .iter()
                .map(|c| {
                    let item = codec::customer_item(c, c.version.max(1), DateTime::<Utc>::MIN_UTC)?;
                    let put = PutRequest::builder()
                        .set_item(Some(item))
                        .build()
                        .map_err(Self::rejected)?;
                    Ok(WriteRequest::builder().put_request(put).build())
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            while !requests.is_empty() {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .send()
                    .await
                    .map_err(classify)?;
                requests = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&self.table))
                    .unwrap_or_default();
            }
        }
        Ok(())
    }

    fn rejected(e: impl std::fmt::Display) -> StoreError {
        StoreError::Rejected(e.to_string())
    }

    fn put(&self, item: Item) -> PutBuilder {
        Put::builder().table_name(&self.table).set_item(Some(item))
    }

    /// The customer, conditional on the version read (or on being new).
    fn put_customer(&self, commit: &Commit<'_>) -> Result<TransactWriteItem, StoreError> {
        let expected = commit.before.version;
        let item = codec::customer_item(commit.after(), expected + 1, commit_time(commit))?;
        let put = if expected == 0 {
            self.put(item)
                .condition_expression("attribute_not_exists(PK)")
        } else {
            self.put(item)
                .condition_expression("#version = :expected")
                .expression_attribute_names("#version", VERSION)
                .expression_attribute_values(":expected", n(expected))
        };
        Ok(TransactWriteItem::builder()
            .put(put.build().map_err(Self::rejected)?)
            .build())
    }

    /// What `commit` writes: for a plain commit (`Commit::is_plain`) the customer's put alone,
    /// else the transaction's items. Order matters: `classify_commit` reads the customer's
    /// reason at 0, the markers' from 1. Public so the harness can size each kind of commit.
    pub fn commit_writes(&self, commit: &Commit<'_>) -> Result<Vec<TransactWriteItem>, StoreError> {
        let mut items = vec![self.put_customer(commit)?];
        if commit.is_plain() {
            return Ok(items);
        }
        for step in commit.steps {
            items.push(self.put_marker(step)?);
        }
        items.extend(self.put_history(commit)?);
        items.extend(self.update_counters(commit)?);
        items.extend(self.update_tallies(commit)?);
        Ok(items)
    }

    /// A plain commit (`Commit::is_plain`): the customer alone, one conditional `PutItem` at
    /// the price of its size, where a transaction costs double. A condition that fails means
    /// another writer (or this write, landed and retried by the SDK): re-read and apply again,
    /// and the event is then found among the customer's recent ids.
    async fn put_alone(&self, commit: &Commit<'_>) -> Result<(), StoreError> {
        let expected = commit.before.version;
        let item = codec::customer_item(commit.after(), expected + 1, commit_time(commit))?;
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        let put = if expected == 0 {
            put.condition_expression("attribute_not_exists(PK)")
        } else {
            put.condition_expression("#version = :expected")
                .expression_attribute_names("#version", VERSION)
                .expression_attribute_values(":expected", n(expected))
        };
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failed(&e) => {
                Err(StoreError::VersionConflict(commit.before.id.clone()))
            }
            Err(e) => Err(classify(e)),
        }
    }

    /// A step's dedup marker, conditional on no live marker for the same event.
    fn put_marker(&self, step: &Step<'_>) -> Result<TransactWriteItem, StoreError> {
        let item = codec::marker_item(step.event, &step.outcome.effects, step.now)?;
        let put = self
            .put(item)
            .condition_expression("attribute_not_exists(PK) OR #expires < :now")
            .expression_attribute_names("#expires", keys::EXPIRES_AT)
            .expression_attribute_values(":now", n(step.now.timestamp()))
            .build()
            .map_err(Self::rejected)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn put_history(&self, commit: &Commit<'_>) -> Result<Vec<TransactWriteItem>, StoreError> {
        let version = commit.before.version + 1;
        commit
            .steps
            .iter()
            .flat_map(|step| &step.outcome.history)
            .enumerate()
            .map(|(i, entry)| {
                let item = codec::history_item(&commit.before.id, version, i, entry)?;
                let put = self.put(item).build().map_err(Self::rejected)?;
                Ok(TransactWriteItem::builder().put(put).build())
            })
            .collect()
    }

    /// Moves the customer from its old stage × risk cell to its new one, and counts churns
    /// (per month and reason) and recoveries (per month), in one counter shard. Nothing when
    /// neither happened, so most events touch no counter.
    fn update_counters(
        &self,
        commit: &Commit<'_>,
    ) -> Result<Option<TransactWriteItem>, StoreError> {
        let cell = |c: &Customer| c.stage.map(|s| keys::counter_attribute(s, c.risk));
        let (from, to) = (cell(commit.before), cell(commit.after()));
        let mut adds: Vec<(String, i64)> = Vec::new();
        if from != to {
            adds.extend(from.map(|f| (f, -1)));
            adds.extend(to.map(|t| (t, 1)));
        }
        for milestone in commit
            .steps
            .iter()
            .flat_map(|step| &step.outcome.milestones)
        {
            match milestone {
                Milestone::Churned { reason, at } => {
                    adds.push((format!("{}{}", keys::CHURNED_PREFIX, month(*at)), 1));
                    adds.push((format!("{}{}", keys::REASON_PREFIX, reason.as_str()), 1));
                }
                Milestone::Recovered { at } => {
                    adds.push((format!("{}{}", keys::RECOVERED_PREFIX, month(*at)), 1));
                }
            }
        }
        if adds.is_empty() {
            return Ok(None);
        }
        let shard = Self::counter_shard(commit);
        let mut update = Update::builder()
            .table_name(&self.table)
            .key(PK, s(keys::counts_pk(shard)))
            .key(SK, s(keys::COUNTS_SK));
        let mut clauses = Vec::new();
        for (i, (attribute, delta)) in adds.into_iter().enumerate() {
            clauses.push(format!("#c{i} :d{i}"));
            update = update
                .expression_attribute_names(format!("#c{i}"), attribute)
                .expression_attribute_values(format!(":d{i}"), n(delta));
        }
        let update = update
            .update_expression(format!("ADD {}", clauses.join(", ")))
            .build()
            .map_err(Self::rejected)?;
        Ok(Some(TransactWriteItem::builder().update(update).build()))
    }

    /// Adds the outcome tallies, one update per template × variant item, per month for the
    /// counts kept by month, and per owner (or currency) for the counts kept by whose they are:
    /// an item stays small however many months and owners there are (security review L2: the
    /// owners' counts in one month's item grew with every owner id until commits failed).
    fn update_tallies(&self, commit: &Commit<'_>) -> Result<Vec<TransactWriteItem>, StoreError> {
        type Key = (String, Option<String>, Option<String>, Option<String>);
        let mut per_item: BTreeMap<Key, Vec<&Tally>> = BTreeMap::new();
        for tally in commit.steps.iter().flat_map(|step| &step.outcome.tallies) {
            let key = (
                tally.template.clone(),
                tally.variant.clone(),
                tally.cohort.clone(),
                tally.by.clone(),
            );
            per_item.entry(key).or_default().push(tally);
        }
        let shard = Self::counter_shard(commit);
        per_item
            .into_iter()
            .map(|((template, variant, month, by), tallies)| {
                let mut sk = keys::tally_sk(&template, variant.as_deref());
                if let Some(month) = &month {
                    sk = format!("{sk}#{month}");
                }
                if let Some(by) = &by {
                    sk = format!("{sk}#by#{by}");
                }
                let mut counts: BTreeMap<String, i64> = BTreeMap::new();
                for t in tallies {
                    *counts.entry(t.attribute()).or_default() += t.amount;
                }
                let mut update = Update::builder()
                    .table_name(&self.table)
                    .key(PK, s(keys::tally_pk(shard)))
                    .key(SK, s(sk))
                    .expression_attribute_values(":template", s(&template))
                    .expression_attribute_values(":variant", s(variant.as_deref().unwrap_or("-")));
                let mut adds = Vec::new();
                for (i, (metric, count)) in counts.into_iter().enumerate() {
                    adds.push(format!("#m{i} :c{i}"));
                    update = update
                        .expression_attribute_names(format!("#m{i}"), metric)
                        .expression_attribute_values(format!(":c{i}"), n(count));
                }
                let update = update
                    .update_expression(format!(
                        "SET template = :template, variant = :variant ADD {}",
                        adds.join(", ")
                    ))
                    .build()
                    .map_err(Self::rejected)?;
                Ok(TransactWriteItem::builder().update(update).build())
            })
            .collect()
    }

    /// The counter shard of a commit: from its first event, so a retry lands elsewhere.
    fn counter_shard(commit: &Commit<'_>) -> u32 {
        commit.steps.first().map_or(0, |step| {
            keys::counter_shard(&step.event.id, commit.attempt)
        })
    }

    /// Makes the whole transaction idempotent for DynamoDB's 10-minute window, so an SDK retry
    /// of a commit that did land is not reported as a conflict.
    fn request_token(commit: &Commit<'_>) -> String {
        let mut digest = Sha256::new();
        for step in commit.steps {
            digest.update(step.event.id.as_str());
            digest.update([0]);
        }
        let digest = digest
            .chain_update(commit.before.version.to_be_bytes())
            .chain_update(commit.attempt.to_be_bytes())
            .finalize();
        hex::encode(&digest[..16])
    }
}

impl CustomerStore for DynamoStore {
    async fn erase_records(&self, id: &CustomerId) -> Result<journey::ports::Erasure, StoreError> {
        self.erase_partition(id).await
    }

    async fn load(&self, id: &CustomerId) -> Result<Option<Customer>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(keys::customer_pk(id)))
            .key(SK, s(keys::STATE_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        out.item.map(codec::customer_from_item).transpose()
    }

    async fn commit(&self, commit: &Commit<'_>) -> Result<(), StoreError> {
        if commit.is_plain() {
            return self.put_alone(commit).await;
        }
        let items = self.commit_writes(commit)?;
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .client_request_token(Self::request_token(commit))
            .send()
            .await
            .map_err(|e| classify_commit(e, &commit.before.id, commit.steps))?;
        Ok(())
    }

    async fn applied_effects(
        &self,
        customer: &CustomerId,
        event: &EventId,
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<Effect>>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(keys::customer_pk(customer)))
            .key(SK, s(keys::marker_sk(event)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        match out.item {
            Some(item) => codec::marker_effects(&item, now),
            None => Ok(None),
        }
    }
}

impl DueIndex for DynamoStore {
    fn shards(&self) -> u32 {
        keys::DUE_SHARDS
    }

    async fn due_page(
        &self,
        shard: u32,
        now: DateTime<Utc>,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<DuePage, StoreError> {
        let shard_key = keys::due_shard_key(shard);
        let start = cursor.map(|c| due_cursor_key(&shard_key, c)).transpose()?;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(DUE_INDEX)
            .key_condition_expression("#shard = :shard AND #due <= :now")
            .expression_attribute_names("#shard", DUE_SHARD)
            .expression_attribute_names("#due", DUE_AT)
            .expression_attribute_values(":shard", s(&shard_key))
            .expression_attribute_values(":now", s(keys::instant(now)))
            .limit(limit)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(classify)?;
        let items = out.items.unwrap_or_default();
        let due = items
            .iter()
            .map(due_customer)
            .collect::<Result<Vec<_>, _>>()?;
        let next = out.last_evaluated_key.map(|k| due_cursor(&k)).transpose()?;
        Ok(DuePage {
            items_read: items.len(),
            due,
            next,
        })
    }
}

/// When a commit is written: its last event's receipt (the events come in order).
fn commit_time(commit: &Commit<'_>) -> DateTime<Utc> {
    commit
        .steps
        .last()
        .map_or(DateTime::<Utc>::MIN_UTC, |step| step.now)
}

fn is_condition_failed<R>(
    e: &aws_sdk_dynamodb::error::SdkError<aws_sdk_dynamodb::operation::put_item::PutItemError, R>,
) -> bool {
    e.as_service_error()
        .is_some_and(|se| se.is_conditional_check_failed_exception())
}

fn due_customer(item: &Item) -> Result<DueCustomer, StoreError> {
    let pk = codec::text(item, PK).unwrap_or_default();
    let corrupt = |reason: &str| StoreError::Corrupt {
        key: pk.to_string(),
        reason: reason.to_string(),
    };
    let id = pk
        .strip_prefix("CUST#")
        .ok_or_else(|| corrupt("not a customer key"))?;
    let customer_id = CustomerId::new(id).map_err(|e| corrupt(&e.to_string()))?;
    let due_at = codec::instant(item, DUE_AT).ok_or_else(|| corrupt("bad due_at"))?;
    Ok(DueCustomer {
        customer_id,
        due_at,
    })
}

/// The index's last key as an opaque cursor: `due_at|PK` (a due_at never holds `|`).
fn due_cursor(key: &Item) -> Result<String, StoreError> {
    match (codec::text(key, DUE_AT), codec::text(key, PK)) {
        (Some(due), Some(pk)) => Ok(format!("{due}|{pk}")),
        _ => Err(StoreError::Rejected(
            "due index returned a key without due_at/PK".into(),
        )),
    }
}

fn due_cursor_key(shard_key: &str, cursor: &str) -> Result<Item, StoreError> {
    let (due, pk) = cursor
        .split_once('|')
        .ok_or_else(|| StoreError::Rejected(format!("bad due cursor `{cursor}`")))?;
    Ok(HashMap::from([
        (DUE_SHARD.to_string(), s(shard_key)),
        (DUE_AT.to_string(), s(due)),
        (PK.to_string(), s(pk)),
        (SK.to_string(), s(keys::STATE_SK)),
    ]))
}

impl JourneyReader for DynamoStore {
    async fn history(
        &self,
        customer: &CustomerId,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<HistoryPage, StoreError> {
        let pk = keys::customer_pk(customer);
        if let Some(c) = cursor.filter(|c| !c.starts_with(keys::HISTORY_PREFIX)) {
            return Err(StoreError::Rejected(format!("bad history cursor `{c}`")));
        }
        let start =
            cursor.map(|sk| HashMap::from([(PK.to_string(), s(&pk)), (SK.to_string(), s(sk))]));
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :hist)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", s(&pk))
            .expression_attribute_values(":hist", s(keys::HISTORY_PREFIX))
            .scan_index_forward(false)
            .limit(limit)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(classify)?;
        let entries = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(codec::history_from_item)
            .collect::<Result<Vec<_>, _>>()?;
        let next = out
            .last_evaluated_key
            .and_then(|k| codec::text(&k, SK).map(str::to_string));
        Ok(HistoryPage { entries, next })
    }

    async fn counts(&self) -> Result<Counts, StoreError> {
        let mut keys_and_attributes = KeysAndAttributes::builder();
        for shard in 0..keys::COUNTER_SHARDS {
            keys_and_attributes = keys_and_attributes.keys(HashMap::from([
                (PK.to_string(), s(keys::counts_pk(shard))),
                (SK.to_string(), s(keys::COUNTS_SK)),
            ]));
        }
        let mut pending = Some(HashMap::from([(
            self.table.clone(),
            keys_and_attributes.build().map_err(Self::rejected)?,
        )]));
        let mut counts = Counts::default();
        for round in 0.. {
            let Some(request) = pending.take().filter(|r| !r.is_empty()) else {
                return Ok(counts);
            };
            if round == BATCH_ROUNDS {
                return Err(StoreError::Unavailable("counters left unprocessed".into()));
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
                add_counts(&mut counts, &item)?;
            }
            pending = out.unprocessed_keys;
        }
        Ok(counts)
    }

    async fn tallies(&self) -> Result<Vec<TemplateTally>, StoreError> {
        let shards =
            futures::future::try_join_all((0..keys::COUNTER_SHARDS).map(|s| self.tally_shard(s)))
                .await?;
        let mut by_key: BTreeMap<(String, String), TemplateTally> = BTreeMap::new();
        for item in shards.iter().flatten() {
            let template = codec::text(item, "template")
                .unwrap_or_default()
                .to_string();
            let variant = codec::text(item, "variant").unwrap_or("-").to_string();
            let t = by_key
                .entry((template.clone(), variant.clone()))
                .or_insert_with(|| TemplateTally {
                    template,
                    variant: (variant != "-").then_some(variant),
                    ..TemplateTally::default()
                });
            let get = |name| codec::number(item, name).unwrap_or(0);
            t.sent += get("sent");
            t.recovered += get("recovered");
            t.failed += get("failed");
            t.skipped += get("skipped");
            t.unknown += get("unknown");
            t.mail.add(MailCounts::from_attributes(|name: &str| {
                codec::number(item, name).unwrap_or(0)
            }));
            for (name, value) in item {
                if let AttributeValue::N(v) = value
                    && let Ok(n) = v.parse::<i64>()
                    && name.contains('@')
                {
                    *t.by_month.entry(name.clone()).or_default() += n;
                }
            }
        }
        Ok(by_key.into_values().collect())
    }

    async fn at_risk(&self, query: &ListQuery) -> Result<ListPage, StoreError> {
        self.list_at_risk(query).await
    }

    async fn search_email(&self, prefix: &str, limit: usize) -> Result<Vec<Customer>, StoreError> {
        self.by_email_prefix(prefix, limit).await
    }

    async fn sends(&self, customer: &CustomerId) -> Result<Vec<SendRecord>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :send)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", s(keys::customer_pk(customer)))
            .expression_attribute_values(":send", s("SEND#"))
            .send()
            .await
            .map_err(classify)?;
        let mut records: Vec<SendRecord> = out
            .items
            .unwrap_or_default()
            .iter()
            .map(|item| {
                let text = |name| codec::text(item, name).unwrap_or_default().to_string();
                SendRecord {
                    intervention_id: text(SK).trim_start_matches("SEND#").to_string(),
                    template: text("template"),
                    channel: text("channel"),
                    status: text("status"),
                    detail: text("detail"),
                    updated_at: text("updated_at"),
                    mail: item
                        .iter()
                        .filter_map(|(name, value)| {
                            let feedback = name.strip_prefix(ledger::FEEDBACK_PREFIX)?;
                            Some((feedback.to_string(), value.as_s().ok()?.clone()))
                        })
                        .collect(),
                    text: ledger::text_delivery(item),
                }
            })
            .collect();
        records.sort_by(|a, b| b.updated_at.cmp(&a.updated_at));
        Ok(records)
    }
}

impl DynamoStore {
    /// One tally shard's items, every page.
    async fn tally_shard(&self, shard: u32) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_values(":pk", s(keys::tally_pk(shard)))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(classify)?;
            items.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
    }
}

/// Rounds of BatchGetItem for keys DynamoDB left unprocessed, before giving up.
const BATCH_ROUNDS: u32 = 5;

fn add_counts(counts: &mut Counts, item: &Item) -> Result<(), StoreError> {
    for (name, value) in item {
        let AttributeValue::N(v) = value else {
            continue;
        };
        let n: i64 = v.parse().unwrap_or(0);
        let target = if let Some(month) = name.strip_prefix(keys::CHURNED_PREFIX) {
            counts.churned_by_month.entry(month.to_string())
        } else if let Some(month) = name.strip_prefix(keys::RECOVERED_PREFIX) {
            counts.recovered_by_month.entry(month.to_string())
        } else if let Some(reason) = name.strip_prefix(keys::REASON_PREFIX) {
            counts.churn_reasons.entry(reason.to_string())
        } else {
            continue;
        };
        *target.or_default() += n;
    }
    for stage in Stage::ALL {
        for risk in RiskLevel::ALL {
            let attribute = keys::counter_attribute(stage, risk);
            if let Some(AttributeValue::N(v)) = item.get(&attribute) {
                let value: i64 = v.parse().map_err(|_| StoreError::Corrupt {
                    key: codec::text(item, PK).unwrap_or("COUNTS").to_string(),
                    reason: format!("{attribute} is not an integer"),
                })?;
                *counts.cells.entry((stage, risk)).or_default() += value;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use journey::domain::testing::{Events, t};
    use journey::domain::{EventKind, Outcome, TallyMetric};
    use journey::ports::Step;

    /// Security review L2: the staff alerts of a month are counted per owner, each owner in an
    /// item of their own, so a month's item does not grow with every owner id.
    #[test]
    fn each_owner_s_counts_of_a_month_are_an_item_of_their_own() {
        let conf = aws_sdk_dynamodb::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_dynamodb::config::Region::new("ap-northeast-2"))
            .build();
        let store = DynamoStore::new(Client::from_conf(conf), "journey");
        let before = Customer::new(CustomerId::new("c1").unwrap());
        let event = Events::new("c1").at(t("2026-11-02T09:00:00Z"), EventKind::Login);
        let alert = |owner: &str| Tally {
            cohort: Some("2026-11".into()),
            by: Some(owner.into()),
            ..Tally::count("danger_alert", None, TallyMetric::Alerted)
        };
        let outcome = Outcome {
            customer: before.clone(),
            history: Vec::new(),
            effects: Vec::new(),
            tallies: (0..300).map(|n| alert(&format!("owner-{n}"))).collect(),
            milestones: Vec::new(),
            duplicate: false,
            dropped: None,
        };
        let steps = [Step {
            event: &event,
            outcome: &outcome,
            now: t("2026-11-02T09:00:00Z"),
        }];
        let commit = Commit {
            before: &before,
            steps: &steps,
            attempt: 0,
        };
        let items = store.update_tallies(&commit).unwrap();
        assert_eq!(items.len(), 300, "one item per owner");
        for item in &items {
            let update = item.update().unwrap();
            let sk = update.key()[SK].as_s().unwrap();
            assert!(sk.contains("#2026-11#by#owner-"), "{sk}");
            assert_eq!(update.expression_attribute_names().unwrap().len(), 1);
        }
    }
}

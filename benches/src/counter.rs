//! An SDK interceptor on every client of the local stack: counts the requests per service and
//! operation, computes the DynamoDB capacity they consume (see [`crate::sizing`]), and asks
//! DynamoDB for `ReturnConsumedCapacity`, so the same harness reports AWS's own figure when it
//! is pointed at a real account.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::operation::batch_get_item::{BatchGetItemInput, BatchGetItemOutput};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemInput;
use aws_sdk_dynamodb::operation::get_item::{GetItemInput, GetItemOutput};
use aws_sdk_dynamodb::operation::put_item::PutItemInput;
use aws_sdk_dynamodb::operation::query::{QueryInput, QueryOutput};
use aws_sdk_dynamodb::operation::transact_write_items::{
    TransactWriteItemsInput, TransactWriteItemsOutput,
};
use aws_sdk_dynamodb::operation::update_item::{UpdateItemInput, UpdateItemOutput};
use aws_sdk_dynamodb::types::{AttributeValue, ConsumedCapacity, ReturnConsumedCapacity};
use aws_sdk_eventbridge::operation::put_events::PutEventsInput;
use aws_sdk_sesv2::operation::send_email::SendEmailInput;
use aws_sdk_sqs::operation::receive_message::ReceiveMessageOutput;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextMut, FinalizerInterceptorContextRef, Input, Output,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use journey_adapters::dynamodb::keys::{PK, SK};
use journey_adapters::dynamodb::schema::{INDEXES, IndexSpec};
use serde::Serialize;

use crate::sizing::{item_size, read_units, write_units};

type Item = HashMap<String, AttributeValue>;

/// What was counted so far.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Tally {
    /// Requests per "Service Operation".
    pub calls: BTreeMap<String, u64>,
    /// Write units on the table (transactional writes count double).
    pub table_write_units: f64,
    /// Write units on the global secondary indexes the writes changed.
    pub index_write_units: f64,
    pub read_units: f64,
    /// The capacity the endpoint reported (moto: placeholders; AWS: the real figure).
    pub reported_units: f64,
    /// Items written whole (`Put`), and their bytes: the item size drives the write cost.
    pub puts: u64,
    pub put_bytes: u64,
    /// Billed units that are not requests: EventBridge entries, SES messages.
    pub entries: BTreeMap<String, u64>,
}

impl Tally {
    pub fn calls_of(&self, service: &str) -> u64 {
        self.calls
            .iter()
            .filter(|(k, _)| k.split(' ').next() == Some(service))
            .map(|(_, n)| n)
            .sum()
    }

    /// This tally without `times` runs of `fixed` (the sweep's empty scan of its shards, paid
    /// on every scheduled run whatever the traffic).
    pub fn without(&self, fixed: &Tally, times: u64) -> Tally {
        let mut t = self.clone();
        for (name, n) in &fixed.calls {
            if let Some(mine) = t.calls.get_mut(name) {
                *mine = mine.saturating_sub(n * times);
            }
        }
        t.read_units = (t.read_units - fixed.read_units * times as f64).max(0.0);
        t
    }

    pub fn call(&self, service: &str, operation: &str) -> u64 {
        self.calls
            .get(&format!("{service} {operation}"))
            .copied()
            .unwrap_or(0)
    }
}

#[derive(Debug, Default)]
struct State {
    tally: Tally,
    /// Each item's entry in each index, to know what a write changes there.
    entries: HashMap<String, Vec<Option<String>>>,
}

#[derive(Clone, Debug, Default)]
pub struct RequestCounter(Arc<Mutex<State>>);

/// Whether the read in flight is strongly consistent (kept from input to output).
#[derive(Clone, Copy, Debug)]
struct Consistent(bool);

impl Storable for Consistent {
    type Storer = StoreReplace<Self>;
}

/// The name a request is counted under, for the output hook.
#[derive(Clone, Debug)]
struct CallName(String);

impl Storable for CallName {
    type Storer = StoreReplace<Self>;
}

/// SQS requests are priced by queue type: FIFO ones are counted as service `SQS-FIFO`.
fn queue_url(input: &Input) -> Option<&str> {
    macro_rules! url {
        ($($t:ty),*) => {
            $(if let Some(i) = input.downcast_ref::<$t>() {
                return i.queue_url.as_deref();
            })*
        };
    }
    use aws_sdk_sqs::operation::*;
    url!(
        send_message::SendMessageInput,
        send_message_batch::SendMessageBatchInput,
        receive_message::ReceiveMessageInput,
        delete_message::DeleteMessageInput,
        delete_message_batch::DeleteMessageBatchInput,
        change_message_visibility::ChangeMessageVisibilityInput,
        change_message_visibility_batch::ChangeMessageVisibilityBatchInput,
        get_queue_attributes::GetQueueAttributesInput
    );
    None
}

impl RequestCounter {
    pub fn snapshot(&self) -> Tally {
        self.state().tally.clone()
    }

    /// Starts counting afresh (the index entries already written are remembered).
    pub fn reset(&self) {
        self.state().tally = Tally::default();
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn put(&self, item: &Item, transactional: bool) {
        let mut state = self.state();
        let factor = if transactional { 2.0 } else { 1.0 };
        let size = item_size(item);
        state.tally.table_write_units += factor * write_units(size);
        state.tally.puts += 1;
        state.tally.put_bytes += size as u64;
        let key = item_key(item);
        let new: Vec<Option<String>> = INDEXES.iter().map(|i| index_entry(i, item)).collect();
        let old = state.entries.insert(key, new.clone()).unwrap_or_default();
        state.tally.index_write_units += index_writes(&old, &new);
    }

    /// Updates and condition checks: our updated items (counters, tallies, send records)
    /// are under 1 KB and in no index.
    fn small_write(&self, transactional: bool) {
        self.state().tally.table_write_units += if transactional { 2.0 } else { 1.0 };
    }

    fn delete(&self, key: &Item, transactional: bool) {
        let mut state = self.state();
        state.tally.table_write_units += if transactional { 2.0 } else { 1.0 };
        if let Some(old) = state.entries.remove(&item_key(key)) {
            let none = vec![None; old.len()];
            state.tally.index_write_units += index_writes(&old, &none);
        }
    }

    fn read(&self, bytes: usize, consistent: bool) {
        self.state().tally.read_units += read_units(bytes, consistent);
    }

    fn reported(&self, capacity: &[&ConsumedCapacity]) {
        let units: f64 = capacity.iter().filter_map(|c| c.capacity_units).sum();
        self.state().tally.reported_units += units;
    }

    fn entries(&self, what: &str, n: usize) {
        *self.state().tally.entries.entry(what.into()).or_default() += n as u64;
    }

    fn before(&self, input: &mut Input) -> Option<bool> {
        if let Some(i) = input.downcast_ref::<PutEventsInput>() {
            self.entries("EventBridge entries", i.entries().len());
        } else if input.downcast_ref::<SendEmailInput>().is_some() {
            self.entries("SES messages", 1);
        }
        let total = Some(ReturnConsumedCapacity::Total);
        if let Some(i) = input.downcast_mut::<TransactWriteItemsInput>() {
            i.return_consumed_capacity = total;
            for item in i.transact_items.iter().flatten() {
                if let Some(put) = &item.put {
                    self.put(&put.item, true);
                } else if let Some(delete) = &item.delete {
                    self.delete(&delete.key, true);
                } else {
                    self.small_write(true);
                }
            }
        } else if let Some(i) = input.downcast_mut::<PutItemInput>() {
            i.return_consumed_capacity = total;
            if let Some(item) = &i.item {
                self.put(item, false);
            }
        } else if let Some(i) = input.downcast_mut::<UpdateItemInput>() {
            i.return_consumed_capacity = total;
            self.small_write(false);
        } else if let Some(i) = input.downcast_mut::<DeleteItemInput>() {
            i.return_consumed_capacity = total;
            if let Some(key) = &i.key {
                self.delete(key, false);
            }
        } else if let Some(i) = input.downcast_mut::<GetItemInput>() {
            i.return_consumed_capacity = total;
            return Some(i.consistent_read.unwrap_or(false));
        } else if let Some(i) = input.downcast_mut::<QueryInput>() {
            i.return_consumed_capacity = total;
            return Some(i.consistent_read.unwrap_or(false));
        } else if let Some(i) = input.downcast_mut::<BatchGetItemInput>() {
            i.return_consumed_capacity = total;
            return Some(false);
        }
        None
    }

    fn after(&self, output: &Output, consistent: bool, name: &str) {
        if let Some(o) = output.downcast_ref::<GetItemOutput>() {
            self.read(o.item.as_ref().map_or(1, item_size), consistent);
            self.reported(&o.consumed_capacity.iter().collect::<Vec<_>>());
        } else if let Some(o) = output.downcast_ref::<QueryOutput>() {
            let bytes: usize = o.items().iter().map(item_size).sum();
            self.read(bytes, consistent);
            self.reported(&o.consumed_capacity.iter().collect::<Vec<_>>());
        } else if let Some(o) = output.downcast_ref::<BatchGetItemOutput>() {
            for items in o.responses.iter().flat_map(|r| r.values()) {
                for item in items {
                    self.read(item_size(item), false);
                }
            }
            self.reported(&o.consumed_capacity().iter().collect::<Vec<_>>());
        } else if let Some(o) = output.downcast_ref::<TransactWriteItemsOutput>() {
            self.reported(&o.consumed_capacity().iter().collect::<Vec<_>>());
        } else if let Some(o) = output.downcast_ref::<UpdateItemOutput>() {
            self.reported(&o.consumed_capacity.iter().collect::<Vec<_>>());
        } else if let Some(o) = output.downcast_ref::<ReceiveMessageOutput>()
            && o.messages().is_empty()
        {
            // a poll that found nothing: the event source's idle cost, not the events'
            let mut state = self.state();
            let calls = &mut state.tally.calls;
            if let Some(n) = calls.get_mut(name) {
                *n = n.saturating_sub(1);
            }
            *calls.entry(format!("{name} (empty)")).or_default() += 1;
        }
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn modify_before_serialization(
        &self,
        context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(meta) = cfg.load::<Metadata>() {
            let fifo = queue_url(context.input()).is_some_and(|u| u.ends_with(".fifo"));
            let service = if fifo { "SQS-FIFO" } else { meta.service() };
            let name = format!("{service} {}", meta.name());
            *self.state().tally.calls.entry(name.clone()).or_default() += 1;
            cfg.interceptor_state().store_put(CallName(name));
        }
        if let Some(consistent) = self.before(context.input_mut()) {
            cfg.interceptor_state().store_put(Consistent(consistent));
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(Ok(output)) = context.output_or_error() {
            let consistent = cfg.load::<Consistent>().is_some_and(|c| c.0);
            let name = cfg
                .load::<CallName>()
                .map(|c| c.0.clone())
                .unwrap_or_default();
            self.after(output, consistent, &name);
        }
        Ok(())
    }
}

fn attr_text(v: &AttributeValue) -> String {
    match v {
        AttributeValue::S(s) | AttributeValue::N(s) => s.clone(),
        other => format!("{other:?}"),
    }
}

fn item_key(item: &Item) -> String {
    let part = |k: &str| item.get(k).map(attr_text).unwrap_or_default();
    format!("{}\u{1f}{}", part(PK), part(SK))
}

/// The item's entry in `index` (its keys and projected attributes), if it is in the index.
pub fn index_entry(index: &IndexSpec, item: &Item) -> Option<String> {
    let keys: Vec<&AttributeValue> = index
        .keys
        .iter()
        .map(|(name, _)| item.get(*name))
        .collect::<Option<_>>()?;
    let mut entry: Vec<String> = keys.iter().map(|v| attr_text(v)).collect();
    for name in index.include {
        entry.push(
            item.get(*name)
                .map(|v| format!("{v:?}"))
                .unwrap_or_default(),
        );
    }
    Some(entry.join("\u{1f}"))
}

fn entry_keys(entry: &str, index: &IndexSpec) -> String {
    entry
        .split('\u{1f}')
        .take(index.keys.len())
        .collect::<Vec<_>>()
        .join("\u{1f}")
}

/// Index writes a change of entries costs: a new or removed entry one, a moved entry (key
/// changed) two, an entry whose projected attributes changed one. Entries are under 1 KB.
pub fn index_writes(old: &[Option<String>], new: &[Option<String>]) -> f64 {
    INDEXES
        .iter()
        .enumerate()
        .map(
            |(i, index)| match (old.get(i).cloned().flatten(), new.get(i).cloned().flatten()) {
                (None, None) => 0.0,
                (None, Some(_)) | (Some(_), None) => 1.0,
                (Some(a), Some(b)) if entry_keys(&a, index) != entry_keys(&b, index) => 2.0,
                (Some(a), Some(b)) if a != b => 1.0,
                _ => 0.0,
            },
        )
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_writes_count_new_moved_changed_and_removed_entries() {
        let n = INDEXES.len();
        let none = vec![None; n];
        let mut due = none.clone();
        due[0] = Some("3\u{1f}2026-11-02".to_string());
        let mut moved = none.clone();
        moved[0] = Some("3\u{1f}2026-11-09".to_string());
        assert_eq!(index_writes(&none, &none), 0.0);
        assert_eq!(index_writes(&none, &due), 1.0);
        assert_eq!(index_writes(&due, &due), 0.0);
        assert_eq!(index_writes(&due, &moved), 2.0);
        assert_eq!(index_writes(&due, &none), 1.0);
    }
}

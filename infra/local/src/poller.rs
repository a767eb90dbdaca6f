//! An SQS event source as Lambda runs it: receive a batch, hand it to the handler as an
//! `SqsEvent`, delete what succeeded, leave the reported failures to come back after the
//! queue's visibility timeout (and to reach the DLQ after its receive count).

use std::future::Future;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};

#[derive(Clone, Debug)]
pub struct Poller {
    client: Client,
    url: String,
    /// Messages per batch, as the event source's `BatchSize` (SQS gives at most 10 at once).
    pub batch_size: i32,
    /// Long-poll wait, standing in for the batching window.
    pub wait_seconds: i32,
    /// Failed (and crashed) messages come back after this instead of the queue's visibility
    /// timeout: the fault suite's stand-in for that much time passing.
    pub redeliver_after: Option<std::time::Duration>,
    /// Crashes this share of invocations before one of their first 8 requests
    /// (`faults::crash`), drawn from the dice.
    pub crashes: Option<(crate::faults::Dice, f64)>,
    /// With `redeliver_after`: the queue's visibility timeout each earlier receive of a batch's
    /// messages stands for, added to the handler's clock (`clock::aged`).
    pub visibility: Option<chrono::Duration>,
}

impl Poller {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Poller {
            client,
            url: url.into(),
            batch_size: 10,
            wait_seconds: 1,
            redeliver_after: None,
            crashes: None,
            visibility: None,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Receives one batch and hands it to `handler`; returns how many messages it held.
    pub async fn run_once<F, Fut>(&self, handler: F) -> Result<usize, aws_sdk_sqs::Error>
    where
        F: FnOnce(SqsEvent) -> Fut,
        Fut: Future<Output = SqsBatchResponse>,
    {
        let received = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(self.batch_size.clamp(1, 10))
            .wait_time_seconds(self.wait_seconds)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await?;
        let messages = received.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(0);
        }
        // in arrival order: a FIFO group's messages go back in the order they came
        let receipts: Vec<(String, String)> = messages
            .iter()
            .filter_map(|m| Some((m.message_id.clone()?, m.receipt_handle.clone()?)))
            .collect();
        let mut event = SqsEvent::default();
        event.records = messages.iter().map(|m| to_lambda(m, &self.url)).collect();
        let count = event.records.len();
        let earlier = event
            .records
            .iter()
            .filter_map(|m| {
                m.attributes
                    .get("ApproximateReceiveCount")?
                    .parse::<i32>()
                    .ok()
            })
            .min()
            .unwrap_or(1)
            .saturating_sub(1);
        let aged = self.visibility.unwrap_or_default() * earlier;
        let invocation = crate::clock::aged(aged, handler(event));
        let (response, crashed) = match &self.crashes {
            Some((dice, share)) => {
                let dies_at = dice.chance(*share).then(|| dice.below(8) as u32);
                crate::faults::crash::run(dies_at, invocation).await
            }
            None => (invocation.await, false),
        };
        if crashed {
            // the process is gone: nothing acknowledged, the whole batch comes back
            self.redeliver(receipts.iter().map(|(_, r)| r)).await?;
            return Ok(count);
        }
        let failed: Vec<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        let entries: Vec<DeleteMessageBatchRequestEntry> = receipts
            .iter()
            .filter(|(id, _)| !failed.contains(&id.as_str()))
            .enumerate()
            .filter_map(|(n, (_, receipt))| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(format!("d{n}"))
                    .receipt_handle(receipt)
                    .build()
                    .ok()
            })
            .collect();
        if !entries.is_empty() {
            self.client
                .delete_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await?;
        }
        let back = receipts
            .iter()
            .filter(|(id, _)| failed.contains(&id.as_str()))
            .map(|(_, receipt)| receipt);
        self.redeliver(back).await?;
        Ok(count)
    }

    /// With `redeliver_after`, makes these messages visible again that soon.
    async fn redeliver<'r>(
        &self,
        receipts: impl Iterator<Item = &'r String>,
    ) -> Result<(), aws_sdk_sqs::Error> {
        let Some(after) = self.redeliver_after else {
            return Ok(());
        };
        for receipt in receipts {
            self.client
                .change_message_visibility()
                .queue_url(&self.url)
                .receipt_handle(receipt)
                .visibility_timeout(after.as_secs() as i32)
                .send()
                .await?;
        }
        Ok(())
    }

    /// Messages on the queue, visible or in flight.
    pub async fn depth(&self) -> Result<u64, aws_sdk_sqs::Error> {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(A::ApproximateNumberOfMessages)
            .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await?;
        let attributes = out.attributes.unwrap_or_default();
        let get = |a: A| {
            attributes
                .get(&a)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        Ok(get(A::ApproximateNumberOfMessages) + get(A::ApproximateNumberOfMessagesNotVisible))
    }
}

/// An SDK message as Lambda's SQS event source shapes it.
fn to_lambda(m: &Message, url: &str) -> SqsMessage {
    let mut out = SqsMessage::default();
    out.message_id = m.message_id.clone();
    out.receipt_handle = m.receipt_handle.clone();
    out.body = m.body.clone();
    out.md5_of_body = m.md5_of_body.clone();
    out.event_source = Some("aws:sqs".into());
    out.event_source_arn = Some(arn_of(url));
    out.aws_region = Some("us-east-1".into());
    if let Some(attributes) = &m.attributes {
        for (name, value) in attributes {
            out.attributes
                .insert(name.as_str().to_string(), value.clone());
        }
    }
    out
}

/// `http://host/123456789012/name` → `arn:aws:sqs:us-east-1:123456789012:name`.
fn arn_of(url: &str) -> String {
    let mut parts = url.rsplit('/');
    let name = parts.next().unwrap_or_default();
    let account = parts.next().unwrap_or("123456789012");
    format!("arn:aws:sqs:us-east-1:{account}:{name}")
}

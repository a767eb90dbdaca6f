//! SQS: the events FIFO queue (and, later, the message queues) behind the `EventQueue` port.

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

use crate::messages::EventMessage;
use crate::ports::{EventQueue, QueueError};

/// SQS's limits for one `SendMessageBatch`: 10 entries and 256 KiB in all.
const BATCH_ENTRIES: usize = 10;
const BATCH_BYTES: usize = 256 * 1024;
/// Rounds of re-sending the entries SQS failed in a batch before giving up.
const ROUNDS: u32 = 3;

#[derive(Clone, Debug)]
pub struct SqsEventQueue {
    client: Client,
    url: String,
}

impl SqsEventQueue {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        SqsEventQueue {
            client,
            url: url.into(),
        }
    }

    /// Sends one batch; returns the entries SQS did not accept.
    async fn send_batch(
        &self,
        entries: Vec<SendMessageBatchRequestEntry>,
    ) -> Result<Vec<SendMessageBatchRequestEntry>, QueueError> {
        let out = self
            .client
            .send_message_batch()
            .queue_url(&self.url)
            .set_entries(Some(entries.clone()))
            .send()
            .await
            .map_err(classify)?;
        let failed: Vec<_> = out.failed().iter().collect();
        if let Some(permanent) = failed.iter().find(|f| f.sender_fault()) {
            return Err(QueueError::Rejected(format!(
                "{}: {}",
                permanent.code(),
                permanent.message().unwrap_or_default()
            )));
        }
        Ok(entries
            .into_iter()
            .filter(|e| failed.iter().any(|f| f.id() == e.id()))
            .collect())
    }
}

fn entry(n: usize, message: &EventMessage) -> Result<SendMessageBatchRequestEntry, QueueError> {
    let body = serde_json::to_string(message).map_err(|e| QueueError::Rejected(e.to_string()))?;
    SendMessageBatchRequestEntry::builder()
        .id(format!("m{n}"))
        .message_body(body)
        .message_group_id(message.group_id())
        .message_deduplication_id(message.dedup_id())
        .build()
        .map_err(|e| QueueError::Rejected(e.to_string()))
}

/// Splits entries into batches within SQS's count and size limits, keeping their order.
fn batches(entries: Vec<SendMessageBatchRequestEntry>) -> Vec<Vec<SendMessageBatchRequestEntry>> {
    let mut out: Vec<Vec<SendMessageBatchRequestEntry>> = Vec::new();
    let mut bytes = 0;
    for e in entries {
        let size = e.message_body().len();
        let full = out
            .last()
            .is_none_or(|b| b.len() == BATCH_ENTRIES || bytes + size > BATCH_BYTES);
        if full {
            out.push(Vec::new());
            bytes = 0;
        }
        bytes += size;
        if let Some(batch) = out.last_mut() {
            batch.push(e);
        }
    }
    out
}

impl EventQueue for SqsEventQueue {
    async fn enqueue(&self, messages: &[EventMessage]) -> Result<(), QueueError> {
        let entries = messages
            .iter()
            .enumerate()
            .map(|(n, m)| entry(n, m))
            .collect::<Result<Vec<_>, _>>()?;
        for batch in batches(entries) {
            let mut pending = batch;
            for round in 0..ROUNDS {
                if round > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(100 << round)).await;
                }
                pending = self.send_batch(pending).await?;
                if pending.is_empty() {
                    break;
                }
            }
            if !pending.is_empty() {
                return Err(QueueError::Unavailable(format!(
                    "{} messages not accepted after {ROUNDS} attempts",
                    pending.len()
                )));
            }
        }
        Ok(())
    }
}

fn classify<E, R>(err: SdkError<E, R>) -> QueueError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    match &err {
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or("Unknown").to_string();
            let message = format!("{code}: {}", se.err().message().unwrap_or_default());
            let transient = code.contains("Throttl")
                || code.contains("RequestThrottled")
                || code.contains("InternalError")
                || code.contains("ServiceUnavailable")
                || code.contains("KmsThrottled");
            if transient {
                QueueError::Unavailable(message)
            } else {
                QueueError::Rejected(message)
            }
        }
        SdkError::ConstructionFailure(_) => QueueError::Rejected(format!("{err:?}")),
        _ => QueueError::Unavailable(err.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry_of(size: usize) -> SendMessageBatchRequestEntry {
        SendMessageBatchRequestEntry::builder()
            .id("x")
            .message_body("x".repeat(size))
            .build()
            .unwrap()
    }

    #[test]
    fn batches_respect_count_and_size() {
        let sizes: Vec<usize> = batches((0..25).map(|_| entry_of(10)).collect())
            .iter()
            .map(Vec::len)
            .collect();
        assert_eq!(sizes, vec![10, 10, 5]);
        let big = batches((0..3).map(|_| entry_of(100 * 1024)).collect());
        assert_eq!(big.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 1]);
    }
}

/// A queue and its dead-letter queue, as `template.yaml` declares them; the local stack and the
/// tests create queues from these, and a test holds them equal to the template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueSpec {
    /// The queue's logical id in `template.yaml`.
    pub logical_id: &'static str,
    pub fifo: bool,
    /// ≥ 6 × the consumer's timeout, so a message is not redelivered while still being worked.
    pub visibility_timeout_seconds: u32,
    /// Deliveries before a message moves to the DLQ.
    pub max_receive_count: u32,
}

/// The events FIFO queue: one group per customer. Its consumer (transition) has a 30 s timeout.
pub const EVENTS_QUEUE: QueueSpec = QueueSpec {
    logical_id: "EventsQueue",
    fifo: true,
    visibility_timeout_seconds: 180,
    max_receive_count: 5,
};

/// DLQs keep messages for the SQS maximum, 14 days.
pub const DLQ_RETENTION_SECONDS: u32 = 14 * 24 * 3600;

/// The URLs of a created queue and its DLQ.
#[derive(Clone, Debug)]
pub struct QueueUrls {
    pub url: String,
    pub dlq_url: String,
}

/// Creates `name` (with `.fifo` appended for FIFO queues) and its DLQ `name-dlq`, with the
/// spec's visibility timeout and redrive policy.
pub async fn create_queue(
    client: &Client,
    spec: &QueueSpec,
    name: &str,
) -> Result<QueueUrls, QueueError> {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let suffix = if spec.fifo { ".fifo" } else { "" };
    let mut dlq = client
        .create_queue()
        .queue_name(format!("{name}-dlq{suffix}"))
        .attributes(A::MessageRetentionPeriod, DLQ_RETENTION_SECONDS.to_string());
    if spec.fifo {
        dlq = dlq.attributes(A::FifoQueue, "true");
    }
    let dlq_url = dlq
        .send()
        .await
        .map_err(classify)?
        .queue_url
        .unwrap_or_default();
    let dlq_arn = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(A::QueueArn)
        .send()
        .await
        .map_err(classify)?
        .attributes
        .and_then(|a| a.get(&A::QueueArn).cloned())
        .unwrap_or_default();
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": spec.max_receive_count,
    });
    let mut queue = client
        .create_queue()
        .queue_name(format!("{name}{suffix}"))
        .attributes(
            A::VisibilityTimeout,
            spec.visibility_timeout_seconds.to_string(),
        )
        .attributes(A::RedrivePolicy, redrive.to_string());
    if spec.fifo {
        queue = queue.attributes(A::FifoQueue, "true");
    }
    let url = queue
        .send()
        .await
        .map_err(classify)?
        .queue_url
        .unwrap_or_default();
    Ok(QueueUrls { url, dlq_url })
}

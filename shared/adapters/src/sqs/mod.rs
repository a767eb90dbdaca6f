//! SQS: the events FIFO queue (`EventQueue`) and the e-mail and Slack queues
//! (`InterventionQueue`), and their creation for the local stack and tests.

mod events;
mod interventions;
mod provision;

pub use events::SqsEventQueue;
pub use interventions::SqsInterventionQueues;
pub use provision::{
    DLQ_RETENTION_SECONDS, EMAIL_QUEUE, EVENTS_QUEUE, LONGEST_RETURN_SECONDS,
    QUEUE_RETENTION_SECONDS, QueueSpec, QueueUrls, SLACK_QUEUE, TEXT_QUEUE, create_queue,
};

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

use journey::ports::QueueError;

/// SQS's limits for one `SendMessageBatch`: 10 entries and 256 KiB in all.
const BATCH_ENTRIES: usize = 10;
const BATCH_BYTES: usize = 256 * 1024;
/// Rounds of re-sending the entries SQS failed in a batch before giving up.
const ROUNDS: u32 = 3;

/// Sends every entry, in order, in batches; entries SQS fails transiently are re-sent a few
/// times. A retry after an error is safe for FIFO queues (dedup ids) and for the message
/// queues (the senders deduplicate by intervention id).
pub(crate) async fn send_all(
    client: &Client,
    url: &str,
    entries: Vec<SendMessageBatchRequestEntry>,
) -> Result<(), QueueError> {
    for batch in batches(entries) {
        let mut pending = batch;
        for round in 0..ROUNDS {
            if round > 0 {
                tokio::time::sleep(journey::backoff::full_jitter(
                    std::time::Duration::from_millis(100),
                    round,
                    std::time::Duration::from_secs(1),
                ))
                .await;
            }
            pending = send_batch(client, url, pending).await?;
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

/// Sends one batch; returns the entries SQS did not accept.
async fn send_batch(
    client: &Client,
    url: &str,
    entries: Vec<SendMessageBatchRequestEntry>,
) -> Result<Vec<SendMessageBatchRequestEntry>, QueueError> {
    let out = client
        .send_message_batch()
        .queue_url(url)
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

pub(crate) fn classify<E, R>(err: SdkError<E, R>) -> QueueError
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

/// Back-off for one queue: makes a failed message invisible for a while, so a throttled send
/// is retried later instead of at once.
#[derive(Clone, Debug)]
pub struct SqsRedelivery {
    client: Client,
    url: String,
}

impl SqsRedelivery {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        SqsRedelivery {
            client,
            url: url.into(),
        }
    }
}

impl journey::ports::Redelivery for SqsRedelivery {
    async fn delay(&self, receipt_handle: &str, by: std::time::Duration) -> Result<(), QueueError> {
        // SQS allows at most 12 hours
        let seconds = by.as_secs().min(12 * 3600) as i32;
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(seconds)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}

//! The events FIFO queue: one message group per customer.

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

use super::send_all;
use journey::messages::EventMessage;
use journey::ports::{EventQueue, QueueError};

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

impl EventQueue for SqsEventQueue {
    async fn enqueue(&self, messages: &[EventMessage]) -> Result<(), QueueError> {
        let entries = messages
            .iter()
            .enumerate()
            .map(|(n, m)| entry(n, m))
            .collect::<Result<Vec<_>, _>>()?;
        send_all(&self.client, &self.url, entries).await
    }
}

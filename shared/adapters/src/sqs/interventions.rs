//! The e-mail and Slack queues: each planned intervention becomes one message, routed by
//! channel. Standard queues: the senders deduplicate by intervention id.

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

use super::send_all;
use journey::domain::{Channel, Intervention};
use journey::ports::{InterventionQueue, QueueError};

#[derive(Clone, Debug)]
pub struct SqsInterventionQueues {
    client: Client,
    email_url: String,
    slack_url: String,
}

impl SqsInterventionQueues {
    pub fn new(client: Client, email_url: impl Into<String>, slack_url: impl Into<String>) -> Self {
        SqsInterventionQueues {
            client,
            email_url: email_url.into(),
            slack_url: slack_url.into(),
        }
    }
}

fn entry(
    n: usize,
    intervention: &Intervention,
) -> Result<SendMessageBatchRequestEntry, QueueError> {
    let body =
        serde_json::to_string(intervention).map_err(|e| QueueError::Rejected(e.to_string()))?;
    SendMessageBatchRequestEntry::builder()
        .id(format!("i{n}"))
        .message_body(body)
        .build()
        .map_err(|e| QueueError::Rejected(e.to_string()))
}

impl InterventionQueue for SqsInterventionQueues {
    async fn send(&self, interventions: &[Intervention]) -> Result<(), QueueError> {
        let (slack, email): (Vec<_>, Vec<_>) = interventions
            .iter()
            .partition(|i| i.channel == Channel::Slack);
        for (url, items) in [(&self.email_url, email), (&self.slack_url, slack)] {
            let entries = items
                .into_iter()
                .enumerate()
                .map(|(n, i)| entry(n, i))
                .collect::<Result<Vec<_>, _>>()?;
            if !entries.is_empty() {
                send_all(&self.client, url, entries).await?;
            }
        }
        Ok(())
    }
}

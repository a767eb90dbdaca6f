//! The e-mail, text and Slack queues: each planned intervention becomes one message, routed by
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
    /// The text sender's queue, where the deployment has texts.
    text_url: Option<String>,
}

impl SqsInterventionQueues {
    pub fn new(client: Client, email_url: impl Into<String>, slack_url: impl Into<String>) -> Self {
        SqsInterventionQueues {
            client,
            email_url: email_url.into(),
            slack_url: slack_url.into(),
            text_url: None,
        }
    }

    /// Texts go to `text_url`.
    pub fn with_texts(mut self, text_url: Option<String>) -> Self {
        self.text_url = text_url;
        self
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
        let of = |channels: &[Channel]| -> Vec<&Intervention> {
            interventions
                .iter()
                .filter(|i| channels.contains(&i.channel))
                .collect()
        };
        let texts = of(&[Channel::Text]);
        let text_url = match (&self.text_url, texts.is_empty()) {
            (Some(url), _) => url,
            (None, true) => &self.email_url,
            // the worker's cold start refuses rules with texts and no queue: a rules version
            // activated later is refused here, and the batch retried, rather than lost
            (None, false) => {
                return Err(QueueError::Rejected(
                    "a text was planned, and this deployment has no text queue (TEXT_QUEUE_URL)"
                        .into(),
                ));
            }
        };
        let routes = [
            (&self.email_url, of(&[Channel::Email, Channel::OwnerEmail])),
            (text_url, texts),
            (&self.slack_url, of(&[Channel::Slack])),
        ];
        for (url, items) in routes {
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

//! Queue definitions as `template.yaml` has them, and their creation (local stack, tests).

use aws_sdk_sqs::Client;

use super::classify;
use journey::ports::QueueError;

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
/// Ten receives: a message handed back because an earlier one of its group failed in the same
/// batch spends a receive too, so five let a burst of a group-mate's faults dead-letter it
/// (the fault suite did).
pub const EVENTS_QUEUE: QueueSpec = QueueSpec {
    logical_id: "EventsQueue",
    fifo: true,
    visibility_timeout_seconds: 180,
    max_receive_count: 10,
};

/// The e-mail queue (standard): interventions for customers and owners, read by the e-mail
/// sender (30 s timeout).
pub const EMAIL_QUEUE: QueueSpec = QueueSpec {
    logical_id: "EmailQueue",
    fifo: false,
    visibility_timeout_seconds: 180,
    max_receive_count: 5,
};

/// The Slack queue (standard): staff alerts, read by the Slack sender (30 s timeout).
pub const SLACK_QUEUE: QueueSpec = QueueSpec {
    logical_id: "SlackQueue",
    fifo: false,
    visibility_timeout_seconds: 180,
    max_receive_count: 5,
};

/// The text queue (standard): texts to customers, read by the text sender (30 s timeout).
pub const TEXT_QUEUE: QueueSpec = QueueSpec {
    logical_id: "TextQueue",
    fifo: false,
    visibility_timeout_seconds: 180,
    max_receive_count: 5,
};

/// DLQs keep messages for the SQS maximum, 14 days.
pub const DLQ_RETENTION_SECONDS: u32 = 14 * 24 * 3600;

/// The queues themselves keep a message 4 days (SQS's default, explicit in the template).
pub const QUEUE_RETENTION_SECONDS: u32 = 4 * 24 * 3600;

/// The longest a queued message can take to come back to its consumer: its whole retention in
/// the queue, then in the DLQ (a FIFO DLQ restarts the clock), then in the queue again after an
/// operator's redrive. Every dedup marker outlives it (`MARKER_TTL`, a test holds them so).
pub const LONGEST_RETURN_SECONDS: u32 = 2 * QUEUE_RETENTION_SECONDS + DLQ_RETENTION_SECONDS;

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
        .attributes(
            A::MessageRetentionPeriod,
            QUEUE_RETENTION_SECONDS.to_string(),
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

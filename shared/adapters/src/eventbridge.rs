//! EventBridge: domain events on the project's custom bus, `source = "journey"`, `detail-type`
//! the event's name (`stage_changed` …), `detail` the event as JSON.

use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use journey::domain::DomainEvent;
use journey::ports::{EventBus, QueueError};

use crate::sdk_error::{self, Failure};

pub const SOURCE: &str = "journey";
/// PutEvents takes at most 10 entries.
const BATCH: usize = 10;
const ROUNDS: u32 = 3;

#[derive(Clone, Debug)]
pub struct EventBridgeBus {
    client: Client,
    bus: String,
}

impl EventBridgeBus {
    pub fn new(client: Client, bus: impl Into<String>) -> Self {
        EventBridgeBus {
            client,
            bus: bus.into(),
        }
    }

    fn entry(&self, event: &DomainEvent) -> Result<PutEventsRequestEntry, QueueError> {
        let detail =
            serde_json::to_string(event).map_err(|e| QueueError::Rejected(e.to_string()))?;
        Ok(PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(SOURCE)
            .detail_type(event.detail.name())
            .detail(detail)
            .time(aws_smithy_types::DateTime::from_secs(event.at.timestamp()))
            .build())
    }
}

impl EventBus for EventBridgeBus {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), QueueError> {
        for chunk in events.chunks(BATCH) {
            let mut pending = chunk
                .iter()
                .map(|e| self.entry(e))
                .collect::<Result<Vec<_>, _>>()?;
            for round in 0..ROUNDS {
                if round > 0 {
                    tokio::time::sleep(journey::backoff::full_jitter(
                        std::time::Duration::from_millis(100),
                        round,
                        std::time::Duration::from_secs(1),
                    ))
                    .await;
                }
                let out = self
                    .client
                    .put_events()
                    .set_entries(Some(pending.clone()))
                    .send()
                    .await
                    .map_err(classify)?;
                // Results line up with entries; an entry with an error code was not accepted.
                pending = pending
                    .into_iter()
                    .zip(out.entries())
                    .filter(|(_, result)| result.error_code().is_some())
                    .map(|(entry, _)| entry)
                    .collect();
                if pending.is_empty() {
                    break;
                }
            }
            if !pending.is_empty() {
                return Err(QueueError::Unavailable(format!(
                    "{} domain events not accepted after {ROUNDS} attempts",
                    pending.len()
                )));
            }
        }
        Ok(())
    }
}

/// Creates the custom bus (local stack, tests).
pub async fn create_bus(client: &Client, name: &str) -> Result<(), QueueError> {
    client
        .create_event_bus()
        .name(name)
        .send()
        .await
        .map_err(classify)?;
    Ok(())
}

fn classify<E, R>(err: SdkError<E, R>) -> QueueError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    match sdk_error::read(&err) {
        Failure::Service { code, message }
            if code.contains("Throttl") || code.contains("Internal") =>
        {
            QueueError::Unavailable(message)
        }
        Failure::Service { message, .. } | Failure::Construction(message) => {
            QueueError::Rejected(message)
        }
        Failure::NoAnswer(message) => QueueError::Unavailable(message),
    }
}

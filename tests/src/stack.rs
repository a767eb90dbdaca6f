//! A whole back end in the emulator — table, events queue, e-mail and Slack queues, bus (with a
//! capture queue subscribed to it), the event log's Firehose stream and bucket — and the
//! transition worker wired to it, as in AWS.

use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use journey::domain::{DomainEvent, Intervention};
use journey::messages::EventMessage;
use journey_adapters::dynamodb::DynamoStore;
use journey_adapters::eventbridge::{EventBridgeBus, create_bus};
use journey_adapters::firehose::{FirehoseLog, create_stream};
use journey_adapters::s3::{S3Archive, create_bucket};
use journey_adapters::sqs::{
    EMAIL_QUEUE, EVENTS_QUEUE, SLACK_QUEUE, SqsEventQueue, SqsInterventionQueues, create_queue,
};
use transition::Transition;

use crate::{drain, fresh_store, sdk_config, unique};

pub type Worker<Q = SqsInterventionQueues, B = EventBridgeBus> =
    Transition<DynamoStore, Q, B, FirehoseLog>;

pub struct Stack {
    pub store: DynamoStore,
    pub queues: SqsInterventionQueues,
    pub bus: EventBridgeBus,
    pub bus_name: String,
    pub email_url: String,
    pub slack_url: String,
    /// Receives every domain event published on the bus.
    pub bus_capture_url: String,
    pub events_url: String,
    pub sqs: aws_sdk_sqs::Client,
    /// The event log: appended through the emulator's Firehose, read back from its S3.
    pub log: FirehoseLog,
    pub log_stream: String,
    pub archive: S3Archive,
}

impl Stack {
    /// The sample order the tests' archives use (a fixed test secret).
    pub fn sample_order() -> journey::backtest::sample::SampleOrder {
        journey::backtest::sample::SampleOrder::keyed(b"journey tests")
    }

    pub async fn new() -> Stack {
        let config = sdk_config().await;
        let sqs = aws_sdk_sqs::Client::new(&config);
        let events = aws_sdk_eventbridge::Client::new(&config);
        let email = create_queue(&sqs, &EMAIL_QUEUE, &unique("email"))
            .await
            .expect("email queue");
        let slack = create_queue(&sqs, &SLACK_QUEUE, &unique("slack"))
            .await
            .expect("slack queue");
        let bus_name = unique("bus");
        create_bus(&events, &bus_name).await.expect("bus");
        let capture = sqs
            .create_queue()
            .queue_name(unique("capture"))
            .send()
            .await
            .expect("capture queue")
            .queue_url
            .unwrap_or_default();
        let capture_arn = sqs
            .get_queue_attributes()
            .queue_url(&capture)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("capture arn")
            .attributes
            .and_then(|a| {
                a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                    .cloned()
            })
            .unwrap_or_default();
        events
            .put_rule()
            .name("capture-all")
            .event_bus_name(&bus_name)
            .event_pattern(r#"{"source": ["journey"]}"#)
            .send()
            .await
            .expect("rule");
        events
            .put_targets()
            .rule("capture-all")
            .event_bus_name(&bus_name)
            .targets(
                aws_sdk_eventbridge::types::Target::builder()
                    .id("capture")
                    .arn(capture_arn)
                    .build()
                    .expect("target"),
            )
            .send()
            .await
            .expect("targets");
        let events_queue = create_queue(&sqs, &EVENTS_QUEUE, &unique("events"))
            .await
            .expect("events queue");
        // one log per test process: the emulator allows 50 delivery streams in all, as AWS
        // once did (tests that read the log read their own customers' lines)
        let (bucket, log_stream) = (
            format!("log-{}", std::process::id()),
            format!("log-{}", std::process::id()),
        );
        let s3 = journey_adapters::aws::s3_client(&config);
        if let Err(e) = create_bucket(&s3, &bucket).await {
            assert!(e.to_string().contains("BucketAlready"), "log bucket: {e}");
        }
        let firehose = aws_sdk_firehose::Client::new(&config);
        if let Err(e) = create_stream(&firehose, &log_stream, &bucket).await {
            assert!(e.to_string().contains("InUse"), "log stream: {e}");
        }
        Stack {
            log: FirehoseLog::new(firehose, &log_stream),
            log_stream,
            archive: S3Archive::new(s3, bucket, Stack::sample_order()),
            events_url: events_queue.url,
            sqs: sqs.clone(),
            store: fresh_store().await,
            queues: SqsInterventionQueues::new(sqs, &email.url, &slack.url),
            bus: EventBridgeBus::new(events, &bus_name),
            bus_name,
            email_url: email.url,
            slack_url: slack.url,
            bus_capture_url: capture,
        }
    }

    pub fn worker(&self) -> Worker {
        self.worker_with(self.queues.clone(), self.bus.clone())
    }

    pub fn worker_with<Q, B>(&self, queues: Q, bus: B) -> Worker<Q, B>
    where
        Q: journey::ports::InterventionQueue,
        B: journey::ports::EventBus,
    {
        // the worker as `transition::build` makes it, on this stack's store and the given
        // queues and bus
        let config = transition::Config::new(
            self.store.table(),
            &self.email_url,
            &self.slack_url,
            &self.bus_name,
            &self.log_stream,
        );
        transition::assemble(
            &config,
            transition::Ports {
                store: self.store.clone(),
                queues,
                bus,
                log: self.log.clone(),
            },
        )
        .expect("the built-in rules")
    }

    /// The sweep, reading this stack's table and writing to its events queue.
    pub fn sweep(&self) -> sweep::Sweep<DynamoStore, SqsEventQueue> {
        sweep::Sweep::new(
            self.store.clone(),
            SqsEventQueue::new(self.sqs.clone(), &self.events_url),
        )
    }

    /// Hands everything on the events queue to `worker`, as the event source would, until the
    /// queue is empty; returns how many messages were processed.
    pub async fn settle<Q, B>(&self, worker: &Worker<Q, B>) -> usize
    where
        Q: journey::ports::InterventionQueue,
        B: journey::ports::EventBus,
    {
        let mut poller = journey_local::poller::Poller::new(self.sqs.clone(), &self.events_url);
        poller.wait_seconds = 0;
        let mut total = 0;
        loop {
            let n = poller
                .run_once(|event| worker.handle_batch(event))
                .await
                .expect("poll the events queue");
            if n == 0 {
                return total;
            }
            total += n;
        }
    }

    /// Interventions waiting on the e-mail and Slack queues (taken off them).
    pub async fn sent(&self) -> Vec<Intervention> {
        let mut all = Vec::new();
        for url in [&self.email_url, &self.slack_url] {
            for m in drain(url).await {
                all.push(serde_json::from_str(m.body().unwrap_or_default()).expect("intervention"));
            }
        }
        all
    }

    /// Domain events published on the bus (taken off the capture queue).
    pub async fn published(&self) -> Vec<DomainEvent> {
        drain(&self.bus_capture_url)
            .await
            .iter()
            .map(|m| {
                let envelope: serde_json::Value =
                    serde_json::from_str(m.body().unwrap_or_default())
                        .expect("EventBridge envelope");
                serde_json::from_value(envelope["detail"].clone()).expect("domain event")
            })
            .collect()
    }
}

/// Messages as Lambda's SQS event source hands them over from the events FIFO queue.
pub fn sqs_event(messages: &[EventMessage]) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = messages.iter().map(sqs_message).collect();
    event
}

pub fn sqs_message(message: &EventMessage) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some(format!("msg-{}", message.dedup_id()));
    m.body = Some(serde_json::to_string(message).expect("serializable"));
    m.attributes
        .insert("MessageGroupId".into(), message.group_id().to_string());
    m.attributes
        .insert("MessageDeduplicationId".into(), message.dedup_id());
    m
}

/// An intervention as the e-mail or Slack queue's event source hands it over, `receives`
/// times delivered.
pub fn intervention_event(
    interventions: &[journey::domain::Intervention],
    receives: u32,
) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = interventions
        .iter()
        .map(|i| {
            let mut m = SqsMessage::default();
            m.message_id = Some(format!("msg-{}-{receives}", i.id));
            m.receipt_handle = Some(format!("receipt-{}", i.id));
            m.body = Some(serde_json::to_string(i).expect("serializable"));
            m.attributes
                .insert("ApproximateReceiveCount".into(), receives.to_string());
            m
        })
        .collect();
    event
}

impl Stack {
    /// Applies `messages` through the transition worker directly (no queue).
    pub async fn apply(&self, messages: &[EventMessage]) {
        let worker = self.worker();
        for m in messages {
            let response = worker
                .handle_batch(sqs_event(std::slice::from_ref(m)))
                .await;
            assert!(response.batch_item_failures.is_empty(), "{m:?}");
        }
    }
}

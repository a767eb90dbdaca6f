//! Lambda entry point: wiring only (the sender is assembled in `build.rs`). Two event sources:
//! the text queue (SQS batches: send) and a schedule (EventBridge: reconcile the reports).

use std::time::Duration;

use aws_lambda_events::sqs::SqsEvent;
use journey::ports::{SecretSource, SystemClock};
use journey_adapters::Secrets;
use journey_adapters::aws::{self, Clients};
use journey_adapters::dynamodb::DynamoStore;
use journey_adapters::sqs::{SqsEventQueue, SqsRedelivery};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use text_sender::{Config, Ports};

#[tokio::main]
async fn main() -> Result<(), Error> {
    journey::logging::init();
    let config = Config::from_env()?;
    let aws = aws::load(Duration::from_secs(10)).await;
    let (clients, secrets) = (Clients::new(&aws), Secrets::from_env(&aws));
    let [first, second] = config.provider.secrets();
    let provider = config.provider(
        &secrets.secret(first).await?,
        &secrets.secret(second).await?,
    )?;
    let ports = Ports {
        store: DynamoStore::new(clients.dynamodb.clone(), &config.table),
        provider,
        reports: SqsEventQueue::new(clients.sqs.clone(), &config.events_queue_url),
        redelivery: SqsRedelivery::new(clients.sqs.clone(), &config.text_queue_url),
        clock: SystemClock,
    };
    let sender = text_sender::assemble(&config, ports)?;
    let sender = &sender;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        if event.payload.get("Records").is_none() {
            let done = sender.reconcile().await?;
            return Ok::<_, Error>(serde_json::to_value(done)?);
        }
        let batch: SqsEvent = serde_json::from_value(event.payload)?;
        let time_left = journey::sqs_batch::until(event.context.deadline());
        let response = sender.handle_batch_within(batch, &time_left).await;
        Ok(serde_json::to_value(response)?)
    }))
    .await
}

//! Lambda entry point: wiring only (the sender is assembled in `build.rs`).

use std::time::Duration;

use aws_lambda_events::sqs::SqsEvent;
use journey::ports::{SecretSource, SystemClock};
use journey_adapters::Secrets;
use journey_adapters::aws::{self, Clients};
use journey_adapters::dynamodb::DynamoStore;
use journey_adapters::sqs::{SqsEventQueue, SqsRedelivery};
use lambda_runtime::{Error, LambdaEvent, service_fn};
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
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let time_left = journey::sqs_batch::until(event.context.deadline());
        Ok::<_, Error>(sender.handle_batch_within(event.payload, &time_left).await)
    }))
    .await
}

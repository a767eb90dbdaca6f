//! Lambda entry point: wiring only.

use std::time::Duration;

use aws_lambda_events::sqs::SqsEvent;
use journey::adapters::dynamodb::DynamoStore;
use journey::adapters::eventbridge::EventBridgeBus;
use journey::adapters::sqs::SqsInterventionQueues;
use journey::config;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use transition::Transition;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let table = config::required("TABLE_NAME")?;
    let email_queue = config::required("EMAIL_QUEUE_URL")?;
    let slack_queue = config::required("SLACK_QUEUE_URL")?;
    let bus = config::required("EVENT_BUS_NAME")?;
    let rules = config::rules()?;
    let aws = journey::adapters::aws::load(Duration::from_secs(8)).await;
    let transition = Transition::new(
        DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), table),
        SqsInterventionQueues::new(aws_sdk_sqs::Client::new(&aws), email_queue, slack_queue),
        EventBridgeBus::new(aws_sdk_eventbridge::Client::new(&aws), bus),
        rules,
    );
    let transition = &transition;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(transition.handle_batch(event.payload).await)
    }))
    .await
}

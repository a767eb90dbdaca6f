//! Lambda entry point: wiring only.

use std::time::Duration;

use api::{API_KEY_SECRET, Api};
use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use journey::adapters::dynamodb::DynamoStore;
use journey::adapters::sqs::SqsEventQueue;
use journey::config;
use journey::ports::SecretSource;
use journey::secrets::{Secrets, split_rotation};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let table = config::required("TABLE_NAME")?;
    let queue_url = config::required("EVENTS_QUEUE_URL")?;
    let aws = journey::adapters::aws::load(Duration::from_secs(8)).await;
    let keys = split_rotation(&Secrets::from_env(&aws).secret(API_KEY_SECRET).await?);
    let api = Api::new(
        DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), table),
        SqsEventQueue::new(aws_sdk_sqs::Client::new(&aws), queue_url),
        &keys,
    );
    let api = &api;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayV2httpRequest>| async move {
            Ok::<_, Error>(api.handle(event.payload).await)
        },
    ))
    .await
}

//! Lambda entry point: wiring only.

use std::time::Duration;

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use ingest::{Ingest, ProviderUrls, WebhookKeys};
use journey::adapters::sqs::SqsEventQueue;
use journey::config;
use journey::secrets::Secrets;
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let queue_url = config::required("EVENTS_QUEUE_URL")?;
    let aws = journey::adapters::aws::load(Duration::from_secs(5)).await;
    let keys = WebhookKeys::load(&Secrets::from_env(&aws), &ProviderUrls::from_env()).await?;
    let ingest = Ingest::new(
        SqsEventQueue::new(aws_sdk_sqs::Client::new(&aws), queue_url),
        keys,
    );
    let ingest = &ingest;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayV2httpRequest>| async move {
            Ok::<_, Error>(ingest.handle(event.payload).await)
        },
    ))
    .await
}

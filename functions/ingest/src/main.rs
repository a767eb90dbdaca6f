//! Lambda entry point: wiring only.

use std::time::Duration;

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use ingest::{Ingest, ProviderUrls, WebhookKeys};
use journey::adapters::sqs::SqsEventQueue;
use journey::config;
use journey::secrets::{Fresh, Secrets};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let queue_url = config::required("EVENTS_QUEUE_URL")?;
    let aws = journey::adapters::aws::load(Duration::from_secs(5)).await;
    let rules = config::rules()?;
    let (secrets, urls) = (Secrets::from_env(&aws), ProviderUrls::from_env());
    let sqs = aws_sdk_sqs::Client::new(&aws);
    // the webhook secrets are read again every SECRETS_REFRESH_SECONDS: rotations and
    // revocations reach warm instances without a redeploy
    let build = || async {
        let keys = WebhookKeys::load(&secrets, &urls).await?;
        Ok::<_, Error>(
            Ingest::new(SqsEventQueue::new(sqs.clone(), queue_url.clone()), keys)
                .with_rules(&rules),
        )
    };
    let ingest = Fresh::new(journey::secrets::refresh_after()?);
    ingest.get(build).await?;
    let (ingest, build) = (&ingest, &build);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayV2httpRequest>| async move {
            let ingest = ingest.get(build).await?;
            Ok::<_, Error>(ingest.handle(event.payload).await)
        },
    ))
    .await
}

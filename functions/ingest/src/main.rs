//! Lambda entry point: wiring only (ingestion is built in `build.rs`).

use std::time::Duration;

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use ingest::{Config, WebhookKeys};
use journey::secrets::{self, Fresh};
use journey_adapters::Secrets;
use journey_adapters::aws::{self, Clients};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    journey::logging::init();
    let config = Config::from_env()?;
    let aws = aws::load(Duration::from_secs(5)).await;
    let (clients, secrets) = (Clients::new(&aws), Secrets::from_env(&aws));
    // the webhook secrets are read again every SECRETS_REFRESH_SECONDS: rotations and
    // revocations reach warm instances without a redeploy
    let build = || async {
        let keys = WebhookKeys::load(&secrets, &config.providers).await?;
        Ok::<_, Error>(ingest::build(&config, &clients, keys))
    };
    let ingest = Fresh::new(secrets::refresh_after()?);
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

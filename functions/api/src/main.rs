//! Lambda entry point: wiring only (the API is built in `build.rs`).

use std::time::Duration;

use api::{API_KEY_SECRET, Config};
use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use journey::ports::SecretSource;
use journey::secrets::{self, Fresh};
use journey_adapters::Secrets;
use journey_adapters::aws::{self, Clients};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    journey::logging::init();
    let config = Config::from_env()?;
    let aws = aws::load(Duration::from_secs(8)).await;
    let (clients, secrets) = (Clients::new(&aws), Secrets::from_env(&aws));
    // the API key is read again every SECRETS_REFRESH_SECONDS: a revoked key stops working
    let build = || async {
        let keys = api::keys(secrets.secret(API_KEY_SECRET).await)?;
        Ok::<_, Error>(api::build(&config, &clients, &keys))
    };
    let api = Fresh::new(secrets::refresh_after()?);
    api.get(build).await?;
    let (api, build) = (&api, &build);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayV2httpRequest>| async move {
            let api = api.get(build).await?;
            Ok::<_, Error>(api.handle(event.payload).await)
        },
    ))
    .await
}

//! Lambda entry point: wiring only.

use std::time::Duration;

use api::{API_KEY_SECRET, Api};
use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use journey::adapters::dynamodb::DynamoStore;
use journey::adapters::sqs::SqsEventQueue;
use journey::config;
use journey::ports::{SecretError, SecretSource};
use journey::secrets::{Fresh, Secrets, split_rotation};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let table = config::required("TABLE_NAME")?;
    let queue_url = config::required("EVENTS_QUEUE_URL")?;
    let aws = journey::adapters::aws::load(Duration::from_secs(8)).await;
    let secrets = Secrets::from_env(&aws);
    let (dynamo, sqs) = (
        aws_sdk_dynamodb::Client::new(&aws),
        aws_sdk_sqs::Client::new(&aws),
    );
    // the API key is read again every SECRETS_REFRESH_SECONDS: a revoked key stops working
    let build = || async {
        // a deleted parameter revokes every key (an unreadable one keeps the last: `Fresh`)
        let keys = match secrets.secret(API_KEY_SECRET).await {
            Ok(value) => split_rotation(&value),
            Err(SecretError::Missing { hint, .. }) => {
                tracing::warn!(%hint, "api-key is not set: every request is refused");
                Vec::new()
            }
            Err(e) => return Err(e.into()),
        };
        Ok::<_, Error>(Api::new(
            DynamoStore::new(dynamo.clone(), table.clone()),
            SqsEventQueue::new(sqs.clone(), queue_url.clone()),
            &keys,
        ))
    };
    let api = Fresh::new(journey::secrets::refresh_after()?);
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

//! Lambda entry point: wiring only.

use std::time::{Duration, Instant, SystemTime};

use journey::adapters::dynamodb::DynamoStore;
use journey::adapters::sqs::SqsEventQueue;
use journey::config;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use sweep::Sweep;

/// Time kept back before the Lambda deadline to finish the page in flight and report.
const DEADLINE_MARGIN: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let table = config::required("TABLE_NAME")?;
    let queue_url = config::required("EVENTS_QUEUE_URL")?;
    let aws = journey::adapters::aws::load(Duration::from_secs(10)).await;
    let sweep = Sweep::new(
        DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), table),
        SqsEventQueue::new(aws_sdk_sqs::Client::new(&aws), queue_url),
    );
    let sweep = &sweep;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let left = event
            .context
            .deadline()
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        let stop_at = Instant::now() + left.saturating_sub(DEADLINE_MARGIN);
        Ok::<_, Error>(sweep.handle(event.payload, stop_at).await?)
    }))
    .await
}

//! Lambda entry point: wiring only.

use std::time::Duration;

use aws_lambda_events::sqs::SqsEvent;
use journey::adapters::dynamodb::DynamoStore;
use journey::adapters::slack::SlackWebhook;
use journey::adapters::sqs::{SqsEventQueue, SqsRedelivery};
use journey::config;
use journey::ports::{SecretSource, SystemClock};
use journey::secrets::{Fresh, Secrets};
use journey::templates::{Lang, Templates};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use slack_sender::{SlackSender, WEBHOOK_SECRET};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let table = config::required("TABLE_NAME")?;
    let events_queue = config::required("EVENTS_QUEUE_URL")?;
    let slack_queue = config::required("SLACK_QUEUE_URL")?;
    let dashboard_url = config::required("DASHBOARD_URL")?;
    let locale: String = config::parsed_or("DEFAULT_LOCALE", "ko".to_string())?;
    let rules = config::rules()?;
    let templates = Templates::embedded()?;
    let aws = journey::adapters::aws::load(Duration::from_secs(10)).await;
    let secrets = Secrets::from_env(&aws);
    let (dynamo, sqs) = (
        aws_sdk_dynamodb::Client::new(&aws),
        aws_sdk_sqs::Client::new(&aws),
    );
    // the webhook URL is read again every SECRETS_REFRESH_SECONDS
    let build = || async {
        let webhook = secrets.secret(WEBHOOK_SECRET).await?;
        Ok::<_, Error>(SlackSender {
            store: DynamoStore::new(dynamo.clone(), table.clone()),
            chat: SlackWebhook::new(webhook.trim(), Duration::from_secs(5))?,
            reports: SqsEventQueue::new(sqs.clone(), events_queue.clone()),
            redelivery: SqsRedelivery::new(sqs.clone(), slack_queue.clone()),
            clock: SystemClock,
            rules: rules.clone(),
            templates: templates.clone(),
            lang: Lang::of(Some(&locale), Lang::Ko),
            dashboard_url: dashboard_url.clone(),
            metrics: journey::metrics::Metrics::new("slack-sender"),
        })
    };
    let sender = Fresh::new(journey::secrets::refresh_after()?);
    sender.get(build).await?;
    let (sender, build) = (&sender, &build);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let time_left = journey::sqs_batch::until(event.context.deadline());
        let sender = sender.get(build).await?;
        Ok::<_, Error>(sender.handle_batch_within(event.payload, &time_left).await)
    }))
    .await
}

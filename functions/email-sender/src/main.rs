//! Lambda entry point: wiring only.

use std::time::Duration;

use aws_lambda_events::sqs::SqsEvent;
use email_sender::{EmailSender, EmailSettings};
use journey::adapters::dynamodb::DynamoStore;
use journey::adapters::ses::SesMailer;
use journey::adapters::sqs::{SqsEventQueue, SqsRedelivery};
use journey::config;
use journey::ports::{SecretSource, SystemClock};
use journey::secrets::{Fresh, Secrets};
use journey::templates::Templates;
use journey::unsubscribe;
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let table = config::required("TABLE_NAME")?;
    let events_queue = config::required("EVENTS_QUEUE_URL")?;
    let email_queue = config::required("EMAIL_QUEUE_URL")?;
    let configuration_set = std::env::var("SES_CONFIGURATION_SET")
        .ok()
        .filter(|v| !v.is_empty());
    let check_suppression: bool = config::parsed_or("CHECK_SUPPRESSION", true)?;
    // QUIET_HOURS (`21:00-08:00`, `off`; empty: as in the rules) overrides the rules' window
    let quiet: String = config::parsed_or("QUIET_HOURS", String::new())?;
    let rules = config::rules()?
        .with_quiet_hours(&quiet)
        .map_err(|reason| config::ConfigError::Invalid {
            name: "QUIET_HOURS".into(),
            reason,
        })?;
    let templates = Templates::embedded()?;
    templates.catalogue().check(&rules)?;
    let aws = journey::adapters::aws::load(Duration::from_secs(10)).await;
    let secrets = Secrets::from_env(&aws);
    let (dynamo, ses, sqs) = (
        aws_sdk_dynamodb::Client::new(&aws),
        journey::adapters::aws::ses_client(&aws),
        aws_sdk_sqs::Client::new(&aws),
    );
    // the unsubscribe key is read again every SECRETS_REFRESH_SECONDS
    let build = || async {
        let key = secrets.secret(unsubscribe::SECRET).await?;
        Ok::<_, Error>(EmailSender {
            store: DynamoStore::new(dynamo.clone(), table.clone()),
            mailer: SesMailer::new(ses.clone(), configuration_set.clone(), check_suppression),
            reports: SqsEventQueue::new(sqs.clone(), events_queue.clone()),
            redelivery: SqsRedelivery::new(sqs.clone(), email_queue.clone()),
            clock: SystemClock,
            rules: rules.clone(),
            templates: templates.clone(),
            settings: EmailSettings::from_env(unsubscribe::signing_key(&key))?,
            metrics: journey::metrics::Metrics::new("email-sender"),
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

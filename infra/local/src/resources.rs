//! Creates the stack's resources in the emulator from the same definitions the template is
//! checked against (`schema.rs`, the `QueueSpec`s), named as `template.yaml` names them for
//! `EnvName = <env>`. Creating what exists already is not an error.

use aws_config::SdkConfig;
use journey_adapters::dynamodb::schema;
use journey_adapters::eventbridge::create_bus;
use journey_adapters::sqs::{EMAIL_QUEUE, EVENTS_QUEUE, SLACK_QUEUE, TEXT_QUEUE, create_queue};

#[derive(Clone, Debug)]
pub struct Resources {
    pub table: String,
    pub events_url: String,
    pub email_url: String,
    pub slack_url: String,
    pub text_url: String,
    pub bus: String,
    /// The event log: the bucket it lands in, and the Firehose stream that delivers it there.
    pub log_bucket: String,
    pub log_stream: String,
}

pub async fn provision(aws: &SdkConfig, env: &str, sender: &str) -> Result<Resources, String> {
    let dynamodb = aws_sdk_dynamodb::Client::new(aws);
    let sqs = aws_sdk_sqs::Client::new(aws);
    let events = aws_sdk_eventbridge::Client::new(aws);
    let table = format!("journey-{env}");
    if let Err(e) = schema::create_table(&dynamodb, &table).await
        && !e.to_string().contains("ResourceInUse")
    {
        return Err(format!("table {table}: {e}"));
    }
    let queue = |spec, name: String| {
        let sqs = sqs.clone();
        async move {
            create_queue(&sqs, spec, &name)
                .await
                .map_err(|e| format!("queue {name}: {e}"))
        }
    };
    let events_queue = queue(&EVENTS_QUEUE, format!("journey-{env}-events")).await?;
    let email = queue(&EMAIL_QUEUE, format!("journey-{env}-email")).await?;
    let slack = queue(&SLACK_QUEUE, format!("journey-{env}-slack")).await?;
    let text = queue(&TEXT_QUEUE, format!("journey-{env}-text")).await?;
    let bus = format!("journey-{env}");
    if let Err(e) = create_bus(&events, &bus).await
        && !e.to_string().contains("AlreadyExists")
    {
        return Err(format!("bus {bus}: {e}"));
    }
    // the event log: the emulator's Firehose writes each append as one object in its S3
    let log_bucket = format!("journey-{env}-log");
    if let Err(e) =
        journey_adapters::s3::create_bucket(&journey_adapters::aws::s3_client(aws), &log_bucket)
            .await
        && !e.to_string().contains("BucketAlready")
    {
        return Err(format!("bucket {log_bucket}: {e}"));
    }
    let log_stream = format!("journey-{env}-event-log");
    if let Err(e) = journey_adapters::firehose::create_stream(
        &aws_sdk_firehose::Client::new(aws),
        &log_stream,
        &log_bucket,
    )
    .await
        && !e.to_string().contains("InUse")
    {
        return Err(format!("delivery stream {log_stream}: {e}"));
    }
    // SES refuses to send from an address that is not an identity
    let ses = aws_sdk_sesv2::Client::new(aws);
    if let Err(e) = ses
        .create_email_identity()
        .email_identity(sender)
        .send()
        .await
        && !format!("{e:?}").contains("AlreadyExists")
    {
        return Err(format!("SES identity {sender}: {e:?}"));
    }
    Ok(Resources {
        table,
        events_url: events_queue.url,
        email_url: email.url,
        slack_url: slack.url,
        text_url: text.url,
        bus,
        log_bucket,
        log_stream,
    })
}

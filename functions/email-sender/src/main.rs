//! Lambda entry point: wiring only (the sender is built in `build.rs`).

use std::time::Duration;

use aws_lambda_events::sqs::SqsEvent;
use email_sender::Config;
use journey::ports::SecretSource;
use journey::secrets::{self, Fresh};
use journey::unsubscribe;
use journey_adapters::Secrets;
use journey_adapters::aws::{self, Clients};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    journey::logging::init();
    let config = Config::from_env()?;
    let aws = aws::load(Duration::from_secs(10)).await;
    let (clients, secrets) = (Clients::new(&aws), Secrets::from_env(&aws));
    // the unsubscribe key is read again every SECRETS_REFRESH_SECONDS
    let build = || async {
        let key = secrets.secret(unsubscribe::SECRET).await?;
        Ok::<_, Error>(email_sender::build(&config, &clients, &key)?)
    };
    let sender = Fresh::new(secrets::refresh_after()?);
    sender.get(build).await?;
    let (sender, build) = (&sender, &build);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let time_left = journey::sqs_batch::until(event.context.deadline());
        let sender = sender.get(build).await?;
        Ok::<_, Error>(sender.handle_batch_within(event.payload, &time_left).await)
    }))
    .await
}

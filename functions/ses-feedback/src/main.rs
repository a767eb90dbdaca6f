//! Lambda entry point: wiring only (the function is built in `build.rs`).

use std::time::Duration;

use aws_lambda_events::sqs::SqsEvent;
use journey_adapters::aws::{self, Clients};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use ses_feedback::Config;

#[tokio::main]
async fn main() -> Result<(), Error> {
    journey::logging::init();
    let config = Config::from_env()?;
    let feedback = ses_feedback::build(
        &config,
        &Clients::new(&aws::load(Duration::from_secs(8)).await),
    );
    let feedback = &feedback;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(feedback.handle(event.payload).await)
    }))
    .await
}

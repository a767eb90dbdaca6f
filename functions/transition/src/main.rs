//! Lambda entry point: wiring only (the worker is built in `build.rs`).

use std::time::Duration;

use aws_lambda_events::sqs::SqsEvent;
use journey_adapters::aws::{self, Clients};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use transition::Config;

#[tokio::main]
async fn main() -> Result<(), Error> {
    journey::logging::init();
    let config = Config::from_env()?;
    let clients = Clients::new(&aws::load(Duration::from_secs(8)).await);
    let worker = transition::build(&config, &clients)?;
    let worker = &worker;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(worker.handle(event.payload).await)
    }))
    .await
}

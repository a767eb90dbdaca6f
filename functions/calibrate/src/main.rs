//! Lambda entry point: wiring only (the job is built in `build.rs`). Runs on the weekly
//! schedule (or when invoked by hand).

use std::time::Duration;

use calibrate::{Config, SAMPLE_SECRET};
use journey::ports::SecretSource;
use journey_adapters::Secrets;
use journey_adapters::aws::{self, Clients};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    journey::logging::init();
    let config = Config::from_env()?;
    let aws = aws::load(Duration::from_secs(30)).await;
    // without its secret the sample could be steered: the job does not start
    let secret = Secrets::from_env(&aws).secret(SAMPLE_SECRET).await?;
    let job = calibrate::build(&config, &Clients::new(&aws), &secret);
    let job = &job;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| async move {
        let report = job.run(chrono::Utc::now(), false).await?;
        tracing::info!(stored = ?report.stored, applied = report.applied, "{}", report.message);
        Ok::<_, Error>(serde_json::json!({
            "message": report.message,
            "stored": report.stored,
            "applied": report.applied,
        }))
    }))
    .await
}

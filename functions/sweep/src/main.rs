//! Lambda entry point: wiring only (the sweep is built in `build.rs`).

use std::time::{Duration, Instant, SystemTime};

use journey_adapters::aws::{self, Clients};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use sweep::Config;

/// Time kept back before the Lambda deadline to finish the page in flight and report.
const DEADLINE_MARGIN: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> Result<(), Error> {
    journey::logging::init();
    let config = Config::from_env()?;
    let sweep = sweep::build(
        &config,
        &Clients::new(&aws::load(Duration::from_secs(10)).await),
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

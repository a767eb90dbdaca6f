//! Lambda entry point: wiring only. Runs on the weekly schedule (or when invoked by hand).

use std::time::Duration;

use calibrate::{Settings, calibrate};
use journey::adapters::dynamodb::DynamoStore;
use journey::config;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let table = config::required("TABLE_NAME")?;
    let base = config::rules_text()?;
    let settings = Settings {
        min_outcomes: config::parsed_or("CALIBRATION_MIN_OUTCOMES", 100)?,
        ..Settings::default()
    };
    let aws = journey::adapters::aws::load(Duration::from_secs(30)).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), table);
    let (store, base, settings) = (&store, &base, &settings);
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| async move {
        let report = calibrate(store, base, settings, chrono::Utc::now(), false).await?;
        tracing::info!(stored = ?report.stored, applied = report.applied, "{}", report.message);
        Ok::<_, Error>(serde_json::json!({
            "message": report.message,
            "stored": report.stored,
            "applied": report.applied,
        }))
    }))
    .await
}

//! The test harness: a local AWS emulator (moto server) for integration tests.
//!
//! `make test` starts one emulator for the whole run and passes its address in
//! `JOURNEY_EMULATOR_URL`; without it, the first test of a binary starts its own from the
//! project's venv (`make venv`) on a free loopback port, and it dies with the test process.
//! Tests isolate themselves by creating resources under unique names, never by resetting.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use journey_adapters::dynamodb::{DynamoStore, schema};
use journey_local::emulator::Moto;

pub mod experiment;
pub mod openapi;
pub mod population;
pub mod stack;
pub mod template;

/// The emulator's address, starting it if needed.
pub fn emulator_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| match std::env::var("JOURNEY_EMULATOR_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => start_moto(),
    })
}

/// The workspace root, from this crate's manifest directory.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

fn start_moto() -> String {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    let log = std::env::temp_dir().join(format!("journey-tests-moto-{}.log", std::process::id()));
    let moto = MOTO.get_or_init(|| {
        Moto::start(&workspace_root(), 0, &log)
            .unwrap_or_else(|e| panic!("no emulator: {e} (or set JOURNEY_EMULATOR_URL)"))
    });
    moto.url()
}

/// SDK configuration pointing at the emulator, with throwaway credentials.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(emulator_url())
        .credentials_provider(Credentials::new(
            "test",
            "test",
            None,
            None,
            "journey-tests",
        ))
        .load()
        .await
}

/// A name no other test uses in this emulator.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A store on a new, empty table.
pub async fn fresh_store() -> DynamoStore {
    let config = sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = unique("journey");
    schema::create_table(&client, &table)
        .await
        .expect("create table in the emulator");
    DynamoStore::new(client, table)
}

/// A new events FIFO queue (and DLQ) as the template declares it; returns its URLs.
pub async fn fresh_events_queue() -> journey_adapters::sqs::QueueUrls {
    let config = sdk_config().await;
    let client = aws_sdk_sqs::Client::new(&config);
    journey_adapters::sqs::create_queue(
        &client,
        &journey_adapters::sqs::EVENTS_QUEUE,
        &unique("events"),
    )
    .await
    .expect("create queue in the emulator")
}

/// Every message on `url` (received with long-enough visibility that none repeats).
pub async fn drain(url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    let config = sdk_config().await;
    let client = aws_sdk_sqs::Client::new(&config);
    let mut all = Vec::new();
    loop {
        let out = client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .visibility_timeout(300)
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
            .send()
            .await
            .expect("receive");
        let batch = out.messages.unwrap_or_default();
        if batch.is_empty() {
            return all;
        }
        all.extend(batch);
    }
}

/// Writes `items` as JSON Lines to `path` (the harness binaries' logs and labels).
pub fn write_lines<T: serde::Serialize>(path: &str, items: &[T]) -> Result<(), String> {
    use std::io::Write;
    let file = std::fs::File::create(path).map_err(|e| format!("{path}: {e}"))?;
    let mut out = std::io::BufWriter::new(file);
    for item in items {
        serde_json::to_writer(&mut out, item).map_err(|e| e.to_string())?;
        out.write_all(b"\n").map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| format!("{path}: {e}"))
}

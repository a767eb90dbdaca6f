//! The sweep at scale: N customers in the emulator, 1 % due; one run, counting the due-index
//! items it reads (the DynamoDB cost) and its time per 1,000 due customers (moto's time: an
//! upper bound, since moto evaluates an index query by scanning its whole table).

use std::path::Path;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use journey::domain::{Customer, CustomerId, RiskLevel, Stage};
use journey_adapters::dynamodb::DynamoStore;
use journey_adapters::dynamodb::schema::create_table;
use journey_adapters::sqs::{EVENTS_QUEUE, create_queue};
use journey_local::emulator::Moto;
use journey_local::stack::emulator_config;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct ScalePoint {
    pub customers: usize,
    pub due: usize,
    pub items_read: usize,
    pub items_read_per_due: f64,
    pub ms_per_1000_due: f64,
    pub seed_seconds: f64,
}

fn customer(i: usize, now: DateTime<Utc>) -> Result<Customer, String> {
    let id = CustomerId::new(format!("scale-{i:07}")).map_err(|e| e.to_string())?;
    let mut c = Customer::new(id);
    c.stage = Some(Stage::Active);
    c.risk = RiskLevel::None;
    // 1 % due within the last 15 minutes; the rest over the coming week
    c.next_check_at = Some(if i.is_multiple_of(100) {
        now - Duration::minutes((i % 15) as i64)
    } else {
        now + Duration::minutes(1 + (i % 10_000) as i64)
    });
    Ok(c)
}

pub async fn run(root: &Path, sizes: &[usize]) -> Result<Vec<ScalePoint>, String> {
    let state_dir = root.join("target/bench/state");
    std::fs::create_dir_all(&state_dir).map_err(|e| e.to_string())?;
    let mut points = Vec::new();
    for &size in sizes {
        // a fresh emulator per size: moto's query time grows with everything it holds
        let (r, log) = (root.to_path_buf(), state_dir.join("moto-sweep.log"));
        let moto = tokio::task::spawn_blocking(move || Moto::start(&r, 0, &log))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        let aws = emulator_config(&moto.url()).await;
        let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
        let sqs = aws_sdk_sqs::Client::new(&aws);
        let table = format!("journey-scale-{size}");
        create_table(&dynamodb, &table)
            .await
            .map_err(|e| e.to_string())?;
        let queue = create_queue(&sqs, &EVENTS_QUEUE, &format!("scale-{size}"))
            .await
            .map_err(|e| e.to_string())?;
        let store = DynamoStore::new(dynamodb, &table);
        let now: DateTime<Utc> = "2026-11-20T09:00:00Z".parse().map_err(|e| format!("{e}"))?;
        let seeding = Instant::now();
        let customers = (0..size)
            .map(|i| customer(i, now))
            .collect::<Result<Vec<_>, _>>()?;
        for chunk in customers.chunks(5_000) {
            store.seed(chunk).await.map_err(|e| e.to_string())?;
        }
        let seed_seconds = seeding.elapsed().as_secs_f64();
        let clients = journey_adapters::aws::Clients::new(&aws);
        let report = sweep::build(&sweep::Config::new(&table, &queue.url), &clients)
            .run(now, Instant::now() + StdDuration::from_secs(3_600))
            .await
            .map_err(|e| e.to_string())?;
        if report.customers_due != size / 100 || !report.complete {
            return Err(format!("sweep at {size}: {report:?}"));
        }
        points.push(ScalePoint {
            customers: size,
            due: report.customers_due,
            items_read: report.items_read,
            items_read_per_due: report.items_read as f64 / report.customers_due.max(1) as f64,
            ms_per_1000_due: report.duration_ms as f64 * 1000.0
                / report.customers_due.max(1) as f64,
            seed_seconds,
        });
        drop(moto);
    }
    Ok(points)
}

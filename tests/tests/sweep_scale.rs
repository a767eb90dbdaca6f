//! The sweep at scale (ignored by default; `make sweep-scale`): N customers in the emulator,
//! 1 % due. Prints the items read per due customer (goal ≤ 1.1) and the run time. The emulator
//! is far slower than DynamoDB, so the time is an upper bound; the items read are exact.
//! N comes from `SWEEP_SCALE_CUSTOMERS` (default 100000).

use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;
use journey::domain::{Customer, RiskLevel, Stage};
use journey::testing::{customer_id, t};
use journey_adapters::dynamodb::keys::DUE_SHARDS;
use journey_tests::stack::Stack;

#[tokio::test]
#[ignore = "scale measurement: run with `make sweep-scale`"]
async fn sweep_reads_only_the_due_customers_at_scale() {
    let total: usize = std::env::var("SWEEP_SCALE_CUSTOMERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let due = total / 100;
    let stack = Stack::new().await;
    let now = t("2026-11-20T09:00:00Z");
    let seeding = Instant::now();
    let customers: Vec<Customer> = (0..total)
        .map(|i| {
            let mut c = Customer::new(customer_id(&format!("scale-{i:07}")));
            c.stage = Some(Stage::Active);
            c.risk = RiskLevel::None;
            // 1 % due in the last 15 minutes; the rest due over the next days
            c.next_check_at = Some(if i % 100 == 0 {
                now - Duration::minutes((i % 15) as i64)
            } else {
                now + Duration::minutes(1 + (i % 10_000) as i64)
            });
            c
        })
        .collect();
    for chunk in customers.chunks(5_000) {
        stack.store.seed(chunk).await.expect("seed");
    }
    let seeded = seeding.elapsed();
    let report = stack
        .sweep()
        .run(now, Instant::now() + StdDuration::from_secs(3_600))
        .await
        .expect("sweep");
    assert_eq!(report.customers_due, due);
    assert_eq!(report.checks_emitted, due);
    let per_due = report.items_read as f64 / report.customers_due as f64;
    println!(
        "sweep scale: customers={total} due={} shards={DUE_SHARDS} items_read={} items_read_per_due={per_due:.3} \
         sweep_ms={} ms_per_1000_due={:.0} (seeding took {:.0?})",
        report.customers_due,
        report.items_read,
        report.duration_ms,
        report.duration_ms as f64 * 1000.0 / report.customers_due as f64,
        seeded
    );
    assert!(per_due <= 1.1, "items read per due customer: {per_due}");
}

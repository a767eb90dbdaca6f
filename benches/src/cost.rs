//! The monthly AWS bill, from the requests the journey mix measured per event, at list prices
//! (us-east-1, on-demand, free tiers left out so the figures are an upper bound). Lambda time is
//! modelled, not measured: the emulator's latency says nothing about AWS's, so each invocation
//! is billed for its requests at typical in-region latencies plus a fixed overhead.

use serde::Serialize;

use crate::mix::MixReport;

/// List prices, USD, us-east-1, as published on the date below (sources: docs/performance.md).
#[derive(Debug, Serialize)]
pub struct Prices {
    pub date: &'static str,
    pub lambda_gb_second_arm64: f64,
    pub lambda_per_million_requests: f64,
    pub http_api_per_million: f64,
    pub sqs_standard_per_million: f64,
    pub sqs_fifo_per_million: f64,
    pub dynamodb_per_million_wru: f64,
    pub dynamodb_per_million_rru: f64,
    pub dynamodb_gb_month: f64,
    pub dynamodb_pitr_gb_month: f64,
    pub ses_per_thousand: f64,
    pub eventbridge_per_million_events: f64,
    pub scheduler_per_million: f64,
    pub logs_ingest_per_gb: f64,
    pub logs_storage_gb_month: f64,
    pub metric_per_month: f64,
    pub alarm_per_month: f64,
    pub dashboard_per_month: f64,
    /// Firehose Direct PUT: per GB ingested, each record rounded up to 5 KB.
    pub firehose_per_gb: f64,
    /// Firehose's dynamic partitioning: per GB partitioned, per 1,000 objects delivered, per
    /// hour of JQ parsing.
    pub firehose_partitioning_per_gb: f64,
    pub firehose_per_thousand_objects: f64,
    pub firehose_jq_per_hour: f64,
    pub s3_gb_month: f64,
    pub s3_per_thousand_puts: f64,
    pub s3_per_thousand_gets: f64,
}

pub const PRICES: Prices = Prices {
    date: "2026-11-22",
    lambda_gb_second_arm64: 0.000_013_333_4,
    lambda_per_million_requests: 0.20,
    http_api_per_million: 1.00,
    sqs_standard_per_million: 0.40,
    sqs_fifo_per_million: 0.50,
    dynamodb_per_million_wru: 0.625,
    dynamodb_per_million_rru: 0.125,
    dynamodb_gb_month: 0.25,
    dynamodb_pitr_gb_month: 0.20,
    ses_per_thousand: 0.10,
    eventbridge_per_million_events: 1.00,
    scheduler_per_million: 1.00,
    logs_ingest_per_gb: 0.50,
    logs_storage_gb_month: 0.03,
    metric_per_month: 0.30,
    alarm_per_month: 0.10,
    dashboard_per_month: 3.00,
    firehose_per_gb: 0.029,
    firehose_partitioning_per_gb: 0.020,
    firehose_per_thousand_objects: 0.005,
    firehose_jq_per_hour: 0.07,
    s3_gb_month: 0.023,
    s3_per_thousand_puts: 0.005,
    s3_per_thousand_gets: 0.0004,
};

/// Customers at which the bill is computed.
pub const SCALES: [u64; 3] = [1_000, 10_000, 1_000_000];
pub const EVENTS_PER_CUSTOMER_DAY: f64 = 5.0;
const DAYS_PER_MONTH: f64 = 30.42;
/// Assumed typical in-region latency per request, milliseconds.
const LATENCY_MS: [(&str, f64); 5] = [
    ("DynamoDB", 6.0),
    ("SQS", 8.0),
    ("SQS-FIFO", 10.0),
    ("EventBridge", 15.0),
    ("SESv2", 40.0),
];
const SLACK_MS: f64 = 150.0;
/// Runtime overhead of one warm invocation (runtime API round trip, JSON), milliseconds.
const INVOCATION_MS: f64 = 2.0;
const MEMORY_GB: f64 = 0.25;
const SWEEP_MEMORY_GB: f64 = 0.5;
/// What Lambda adds to the functions' own log lines (measured by the mix, `logs.rs`): a
/// timestamp and the request id on each line (JSON log format), its `platform.start` and
/// `platform.report` records on each invocation (`SystemLogLevel: INFO`, about 150 and 450
/// bytes), and one EMF line of business metrics per invocation that counted any (about 350).
const LAMBDA_BYTES_PER_LINE: f64 = 90.0;
const PLATFORM_BYTES_PER_INVOCATION: f64 = 600.0;
const EMF_BYTES_PER_INVOCATION: f64 = 350.0;
/// Assumed stored bytes per customer in the table: the state item (under 1 KB), its history of
/// stage and risk changes (about 200 B each), its send records (about 200 B each, 180 days)
/// and the markers of the events that need one (23 days). The event log is in S3.
const STORED_BYTES_PER_CUSTOMER: f64 = 8_000.0;
/// The event log in S3: a line of about 250 bytes per event from outside, GZIP to about a
/// fifth, kept `EventLogDays` (180). Firehose writes an object per shard (16) per 15 minutes
/// (the buffer's interval, as every shard has lines in every interval at these scales).
const LOG_LINE_BYTES: f64 = 250.0;
const LOG_GZIP_RATIO: f64 = 0.2;
const LOG_DAYS: f64 = 180.0;
const LOG_SHARDS: f64 = journey::backtest::sample::LOG_SHARDS as f64;
const LOG_OBJECTS_PER_MONTH: f64 = LOG_SHARDS * SWEEPS_PER_MONTH;
/// JQ's parsing for the partition key, in hours per GB: not published; assumed from a JQ
/// 1.6 rate of about 5 MB/s for one small query per line.
const JQ_HOURS_PER_GB: f64 = 1.0 / (5.0 * 3600.0 / 1000.0);
/// The weekly calibration: its sample (rules key `calibration.sample_events`, 500,000) and its
/// run at 4 GB, measured (`BENCH_ONLY=calibration`, docs/performance.md).
const CALIBRATION_SAMPLE_EVENTS: f64 = 500_000.0;
const CALIBRATION_GB_SECONDS: f64 = 4.0 * 400.0;
const CALIBRATIONS_PER_MONTH: f64 = DAYS_PER_MONTH / 7.0;
/// Firehose bills each record as at least 5 KB.
const FIREHOSE_RECORD_BYTES: f64 = 5_120.0;
/// Custom metrics (the (function, count) pairs the code publishes: those the alarms and the
/// dashboard read), the alarms (41, billed per metric they read: the metric-math ones read
/// two to four) and the dashboard the template creates.
const CUSTOM_METRICS: f64 = journey::metrics::PUBLISHED.len() as f64;
const ALARMS: f64 = 50.0;
const DASHBOARDS: f64 = 1.0;
/// SES's notifications per e-mail (a delivery, and opens and clicks for some): each is an event
/// on the default bus and a feedback-queue message (send, receive, delete). The customer
/// events they become are measured with the rest (the local stack reports every accepted
/// e-mail delivered).
const SES_EVENTS_PER_EMAIL: f64 = 1.5;
const SWEEPS_PER_MONTH: f64 = 4.0 * 24.0 * DAYS_PER_MONTH;
/// Lambda's SQS pollers on four idle queues: about 5 long polls of 20 s each per queue.
const IDLE_POLLS_PER_MONTH: f64 = 4.0 * 5.0 * 3.0 * 60.0 * 24.0 * DAYS_PER_MONTH;

/// What one ingested event costs in requests and time, and the fixed monthly load.
#[derive(Debug, Serialize)]
pub struct Model {
    pub http_requests: f64,
    pub invocations: f64,
    pub gb_seconds: f64,
    pub dynamodb_write_requests: f64,
    pub dynamodb_read_requests: f64,
    pub wru: f64,
    pub rru: f64,
    pub sqs_standard: f64,
    pub sqs_fifo: f64,
    pub eventbridge_events: f64,
    pub emails: f64,
    /// Firehose records (one per customer per batch with lines to append).
    pub log_records: f64,
    /// CloudWatch Logs bytes: the functions' lines as measured, and what Lambda adds.
    pub log_bytes: f64,
    /// Per sweep run with nobody due.
    pub idle_sweep_rru: f64,
    pub idle_sweep_gb_seconds: f64,
}

fn latency(service: &str) -> f64 {
    LATENCY_MS
        .iter()
        .find(|(s, _)| *s == service)
        .map_or(10.0, |(_, ms)| *ms)
}

/// Requests the event source (Lambda's pollers) makes rather than the function.
fn by_event_source(operation: &str) -> bool {
    operation.starts_with("ReceiveMessage") || operation.starts_with("DeleteMessage")
}

impl Model {
    pub fn from_mix(m: &MixReport) -> Model {
        let events = m.events.max(1) as f64;
        let traffic = m.tally.without(&m.idle_sweep, m.sweeps as u64);
        let t = &traffic;
        let (mut function_ms, mut sqs_standard, mut sqs_fifo) = (0.0, 0.0, 0.0);
        let mut deliveries = 0.0;
        for (name, n) in &t.calls {
            let (service, operation) = name.split_once(' ').unwrap_or((name, ""));
            // the local stack's settle loop asks for queue depths: not part of the system
            if operation == "GetQueueAttributes" || operation.ends_with("(empty)") {
                continue;
            }
            let n = *n as f64;
            match service {
                "SQS" => sqs_standard += n,
                "SQS-FIFO" => sqs_fifo += n,
                _ => {}
            }
            if operation == "ReceiveMessage" {
                deliveries += n;
            }
            if !by_event_source(operation) {
                function_ms += n * latency(service);
            }
        }
        let invocations = m.http_requests as f64 + deliveries;
        function_ms += invocations * INVOCATION_MS + m.slack_posts as f64 * SLACK_MS;
        let sweep_ms = INVOCATION_MS
            + m.idle_sweep
                .calls
                .iter()
                .map(|(k, n)| *n as f64 * latency(k.split(' ').next().unwrap_or("")))
                .sum::<f64>();
        Model {
            http_requests: m.http_requests as f64 / events,
            invocations: invocations / events,
            gb_seconds: function_ms / 1000.0 * MEMORY_GB / events,
            dynamodb_write_requests: ["TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem"]
                .iter()
                .map(|op| t.call("DynamoDB", op) as f64)
                .sum::<f64>()
                / events,
            dynamodb_read_requests: ["GetItem", "Query", "BatchGetItem"]
                .iter()
                .map(|op| t.call("DynamoDB", op) as f64)
                .sum::<f64>()
                / events,
            wru: (t.table_write_units + t.index_write_units) / events,
            rru: t.read_units / events,
            sqs_standard: sqs_standard / events,
            sqs_fifo: sqs_fifo / events,
            eventbridge_events: entry(t, "EventBridge entries") / events,
            emails: entry(t, "SES messages") / events,
            log_records: t.call("Firehose", "PutRecordBatch") as f64 / events,
            log_bytes: (m.logged.bytes as f64
                + m.logged.lines as f64 * LAMBDA_BYTES_PER_LINE
                + invocations * (PLATFORM_BYTES_PER_INVOCATION + EMF_BYTES_PER_INVOCATION))
                / events,
            idle_sweep_rru: m.idle_sweep.read_units,
            idle_sweep_gb_seconds: sweep_ms / 1000.0 * SWEEP_MEMORY_GB,
        }
    }
}

fn entry(t: &crate::counter::Tally, name: &str) -> f64 {
    t.entries.get(name).copied().unwrap_or(0) as f64
}

/// One scale's monthly bill, USD, per line item.
#[derive(Debug, Serialize)]
pub struct Monthly {
    pub customers: u64,
    pub events: f64,
    pub lambda: f64,
    pub api_gateway: f64,
    pub sqs: f64,
    pub dynamodb: f64,
    pub ses: f64,
    pub eventbridge: f64,
    pub cloudwatch: f64,
    /// Firehose and S3: the event log.
    pub event_log: f64,
    pub total: f64,
    pub per_customer: f64,
}

pub fn monthly(model: &Model, scales: &[u64]) -> Vec<Monthly> {
    scales.iter().map(|&c| bill(model, c)).collect()
}

fn bill(m: &Model, customers: u64) -> Monthly {
    let p = &PRICES;
    let per_m = |units: f64, price: f64| units / 1e6 * price;
    let events = customers as f64 * EVENTS_PER_CUSTOMER_DAY * DAYS_PER_MONTH;
    let lambda = per_m(
        events * m.invocations + SWEEPS_PER_MONTH,
        p.lambda_per_million_requests,
    ) + (events * m.gb_seconds
        + SWEEPS_PER_MONTH * m.idle_sweep_gb_seconds
        + CALIBRATIONS_PER_MONTH * CALIBRATION_GB_SECONDS)
        * p.lambda_gb_second_arm64;
    let api_gateway = per_m(events * m.http_requests, p.http_api_per_million);
    let ses_notifications = events * m.emails * SES_EVENTS_PER_EMAIL;
    let sqs = per_m(
        events * m.sqs_standard + 3.0 * ses_notifications,
        p.sqs_standard_per_million,
    ) + per_m(
        events * m.sqs_fifo + IDLE_POLLS_PER_MONTH,
        p.sqs_fifo_per_million,
    );
    let stored_gb = customers as f64 * STORED_BYTES_PER_CUSTOMER / 1e9;
    let dynamodb = per_m(events * m.wru, p.dynamodb_per_million_wru)
        + per_m(
            events * m.rru + SWEEPS_PER_MONTH * m.idle_sweep_rru,
            p.dynamodb_per_million_rru,
        )
        + stored_gb * (p.dynamodb_gb_month + p.dynamodb_pitr_gb_month);
    let ses = events * m.emails / 1000.0 * p.ses_per_thousand;
    let eventbridge = per_m(
        events * m.eventbridge_events + ses_notifications,
        p.eventbridge_per_million_events,
    ) + per_m(SWEEPS_PER_MONTH, p.scheduler_per_million);
    let log_gb = events * m.log_bytes / 1e9;
    let cloudwatch = log_gb * (p.logs_ingest_per_gb + p.logs_storage_gb_month)
        + CUSTOM_METRICS * p.metric_per_month
        + ALARMS * p.alarm_per_month
        + DASHBOARDS * p.dashboard_per_month;
    // a record holds a customer's lines of one batch, well under the 5 KB it is billed as
    let logged_gb = events * LOG_LINE_BYTES / 1e9;
    let log_events = customers as f64 * EVENTS_PER_CUSTOMER_DAY * LOG_DAYS;
    // calibration reads the shards its sample needs, every object of their 180 days
    let shards_read = (LOG_SHARDS * CALIBRATION_SAMPLE_EVENTS / log_events)
        .ceil()
        .clamp(1.0, LOG_SHARDS);
    let objects_read = shards_read / LOG_SHARDS * LOG_OBJECTS_PER_MONTH * LOG_DAYS / DAYS_PER_MONTH;
    let event_log = events * m.log_records * FIREHOSE_RECORD_BYTES / 1e9 * p.firehose_per_gb
        + logged_gb * (p.firehose_partitioning_per_gb + JQ_HOURS_PER_GB * p.firehose_jq_per_hour)
        + LOG_OBJECTS_PER_MONTH / 1000.0 * p.firehose_per_thousand_objects
        + log_events * LOG_LINE_BYTES * LOG_GZIP_RATIO / 1e9 * p.s3_gb_month
        + LOG_OBJECTS_PER_MONTH / 1000.0 * p.s3_per_thousand_puts
        + CALIBRATIONS_PER_MONTH * objects_read / 1000.0 * p.s3_per_thousand_gets;
    let total = lambda + api_gateway + sqs + dynamodb + ses + eventbridge + cloudwatch + event_log;
    Monthly {
        customers,
        events,
        lambda,
        api_gateway,
        sqs,
        dynamodb,
        ses,
        eventbridge,
        cloudwatch,
        event_log,
        total,
        per_customer: total / customers as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> Model {
        Model {
            http_requests: 1.0,
            invocations: 2.0,
            gb_seconds: 0.01,
            dynamodb_write_requests: 1.0,
            dynamodb_read_requests: 1.0,
            wru: 6.0,
            rru: 1.0,
            sqs_standard: 0.1,
            sqs_fifo: 3.0,
            eventbridge_events: 0.2,
            emails: 0.01,
            log_records: 1.0,
            log_bytes: 1500.0,
            idle_sweep_rru: 8.0,
            idle_sweep_gb_seconds: 0.05,
        }
    }

    #[test]
    fn the_bill_grows_with_customers_and_its_items_add_up() {
        let rows = monthly(&model(), &SCALES);
        assert!(rows.windows(2).all(|w| w[1].total > w[0].total));
        for r in &rows {
            let sum = r.lambda
                + r.api_gateway
                + r.sqs
                + r.dynamodb
                + r.ses
                + r.eventbridge
                + r.cloudwatch
                + r.event_log;
            assert!((sum - r.total).abs() < 1e-9);
        }
        // 1M customers × 5 events × 30.42 days × 6 WRU at $0.625 per million
        let dynamo_writes = 1e6 * 5.0 * 30.42 * 6.0 / 1e6 * 0.625;
        assert!(rows[2].dynamodb > dynamo_writes);
    }
}

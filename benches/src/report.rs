//! The tables `make bench` prints (Markdown, so they paste into docs/performance.md).

use crate::cold_start::ColdStart;
use crate::cost::{Model, Monthly, PRICES};
use crate::criterion::Measured;
use crate::mix::MixReport;
use crate::sweep_scale::ScalePoint;

/// CPU model and cores, from /proc/cpuinfo.
pub fn machine() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("unknown CPU".to_string(), |m| m.trim().to_string());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{model}, {cores} cores, {}", std::env::consts::ARCH)
}

fn time(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

fn goal(m: &Measured) -> &'static str {
    match m.group.as_str() {
        "apply" => "≤ 5 µs",
        "ingest" if m.name.starts_with("stripe") => "≤ 20 µs per 2 KB",
        _ => "",
    }
}

pub fn cpu(all: &[Measured]) {
    println!(
        "\n## CPU per unit of work (criterion, mean)  — {}\n",
        machine()
    );
    if all.is_empty() {
        println!(
            "(no criterion results: run `make bench`, or BENCH_ONLY=cpu target/harness/journey-bench)"
        );
        return;
    }
    println!("| group | work | time | goal |\n|---|---|---|---|");
    for m in all {
        println!(
            "| {} | {} | {} | {} |",
            m.group,
            m.name,
            time(m.mean_ns),
            goal(m)
        );
    }
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_048_576.0)
}

pub fn backtest(b: &crate::backtest::BacktestRun) {
    println!("\n## Backtest at scale (goal: 1,000,000 events in under 60 s)\n");
    println!(
        "| customers | events | log | reading the log | simulated checks | replay + metrics | events per second | threads |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| {} | {} | {:.0} MB | {:.1} s | {} | {:.1} s | {:.0} | {} |",
        b.customers,
        b.events,
        b.log_bytes as f64 / 1e6,
        b.parse_seconds,
        b.checks,
        b.backtest_seconds,
        b.events_per_second,
        b.threads
    );
}

pub fn calibration(c: &crate::calibration_scale::CalibrationRun) {
    println!("\n## Calibration at scale: the weekly job on a bounded sample of the log\n");
    println!(
        "| customers × days | events (churns) | log objects, GZIP | sample limit | shards the sample needs (lines) | sample: customers of about, events | reading | fit + judge | peak memory |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let j = &c.job;
    println!(
        "| {} × {} | {} ({}) | {}, {:.0} MB | {} events | {} of 16 ({}) | {} of {}, {} | {:.1} s | {:.1} s | {:.0} MB |",
        c.customers,
        c.days,
        c.events,
        c.churns,
        c.objects,
        c.log_gzip_bytes as f64 / 1e6,
        c.limit,
        c.shards_read,
        c.lines_in_shards_read,
        j.sample_customers,
        j.of_about.map_or("all".to_string(), |n| n.to_string()),
        j.sample_events,
        j.read_seconds,
        j.propose_seconds,
        j.peak_mb
    );
    println!("\n{}", j.outcome);
}

pub fn cold(all: &[ColdStart]) {
    println!("\n## Cold start: spawn → first runtime API poll (median)\n");
    println!("| function | init | host binary | arm64 bootstrap | goal |\n|---|---|---|---|---|");
    for c in all {
        let arm = c
            .arm64_bytes
            .map_or("(run `make package-check`)".to_string(), mb);
        println!(
            "| {} | {:.1} ms | {} | {} | init ≤ 30 ms, ≤ 10 MB |",
            c.function,
            c.init_ms,
            mb(c.host_bytes),
            arm
        );
    }
}

pub fn mix(m: &MixReport) {
    let e = m.events.max(1) as f64;
    println!(
        "\n## AWS requests per ingested event — {} customers × {} days, {} events, {} sweeps ({:.0} s)\n",
        m.customers, m.days, m.events, m.sweeps, m.seconds
    );
    println!(
        "| service operation | requests | per event | per event, less the sweeps' fixed scan |\n|---|---|---|---|"
    );
    let traffic = m.tally.without(&m.idle_sweep, m.sweeps as u64);
    let row = |name: &str, n: u64, less: u64| {
        println!(
            "| {name} | {n} | {:.3} | {:.3} |",
            n as f64 / e,
            less as f64 / e
        );
    };
    row("HTTP API (webhooks)", m.http_requests, m.http_requests);
    for (name, n) in &m.tally.calls {
        row(name, *n, traffic.calls.get(name).copied().unwrap_or(0));
    }
    for (name, n) in &m.tally.entries {
        row(name, *n, *n);
    }
    row("Slack posts", m.slack_posts, m.slack_posts);
    let t = &m.tally;
    println!(
        "\nItems written whole: {} of {:.0} bytes on average. `GetQueueAttributes` and empty \
         receives come from the local pollers and settle loop (Lambda's own pollers in AWS).",
        t.puts,
        t.put_bytes as f64 / t.puts.max(1) as f64
    );
    println!(
        "\nDynamoDB capacity per event: {:.2} WRU on the table + {:.2} WRU on indexes, {:.2} RRU \
         (computed from item sizes; moto reports {:.2} units in all)",
        t.table_write_units / e,
        t.index_write_units / e,
        t.read_units / e,
        t.reported_units
    );
    println!(
        "The functions logged {} lines, {} bytes: {:.1} lines and {:.0} bytes per event (their own \
         JSON lines at INFO; Lambda's additions are modelled in the cost).",
        m.logged.lines,
        m.logged.bytes,
        m.logged.lines as f64 / e,
        m.logged.bytes as f64 / e
    );
    let idle: u64 = m.idle_sweep.calls.values().sum();
    println!(
        "A sweep that finds nobody due: {idle} requests, {:.1} RRU.",
        m.idle_sweep.read_units
    );
}

pub fn write_costs(r: &crate::write_cost::Report) {
    println!(
        "\n## DynamoDB write units per event, by kind (a customer active daily for 90 days)\n"
    );
    println!(
        "| kind | event | items | transaction | bytes | WRU table | WRU indexes | WRU |\n|---|---|---|---|---|---|---|---|"
    );
    for k in &r.kinds {
        println!(
            "| {} | {} | {} | {} | {} | {:.1} | {:.1} | **{:.1}** |",
            k.kind,
            k.event,
            k.items,
            if k.transaction { "yes" } else { "no" },
            k.bytes,
            k.table_units,
            k.index_units,
            k.total()
        );
    }
    let s = &r.sizes;
    println!(
        "\nItem sizes: customer new {} B, after 90 active days {} B, at risk {} B; marker {} B; \
         history entry {} B.",
        s.customer_new, s.customer_after_90_days, s.customer_at_risk, s.marker, s.history_entry
    );
}

pub fn sweep(points: &[ScalePoint]) {
    println!("\n## Sweep scaling (1 % due)\n");
    println!(
        "| customers | due | index items read | per due customer (goal ≤ 1.1) | ms per 1,000 due (moto) |\n|---|---|---|---|---|"
    );
    for p in points {
        println!(
            "| {} | {} | {} | {:.3} | {:.0} |",
            p.customers, p.due, p.items_read, p.items_read_per_due, p.ms_per_1000_due
        );
    }
}

pub fn cost(model: &Model, rows: &[Monthly]) {
    println!(
        "\n## Monthly AWS cost at 5 events per customer per day (list prices of {}, us-east-1, no free tier)\n",
        PRICES.date
    );
    println!(
        "Per event: {:.2} invocations, {:.5} GB-s, {:.2} DynamoDB write requests ({:.2} WRU), {:.2} RRU, {:.2} SQS FIFO + {:.2} SQS requests, {:.3} bus events, {:.4} e-mails, {:.2} event-log records, {:.0} bytes of CloudWatch Logs.\n",
        model.invocations,
        model.gb_seconds,
        model.dynamodb_write_requests,
        model.wru,
        model.rru,
        model.sqs_fifo,
        model.sqs_standard,
        model.eventbridge_events,
        model.emails,
        model.log_records,
        model.log_bytes
    );
    println!(
        "| customers | events/month | Lambda | HTTP API | SQS | DynamoDB | SES | EventBridge | CloudWatch | event log (Firehose, S3) | total | per customer |\n|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for r in rows {
        println!(
            "| {} | {:.0} | ${:.2} | ${:.2} | ${:.2} | ${:.2} | ${:.2} | ${:.2} | ${:.2} | ${:.2} | **${:.2}** | ${:.4} |",
            r.customers,
            r.events,
            r.lambda,
            r.api_gateway,
            r.sqs,
            r.dynamodb,
            r.ses,
            r.eventbridge,
            r.cloudwatch,
            r.event_log,
            r.total,
            r.per_customer
        );
    }
}

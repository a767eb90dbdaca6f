//! Calibration at scale: a synthetic business's whole event log written to the emulator's S3
//! as Firehose partitions it (GZIP JSON Lines under `log/shard=<n>/<day>/`), then the weekly
//! job's two steps measured in a process of its own (so that its peak memory is the job's, not
//! the generator's): reading the bounded sample through the real SDK and `S3Archive`, and
//! fitting and judging a proposal on it (`calibrate::propose`).
//!
//! Opt-in (`BENCH_ONLY=calibration`): `BENCH_CALIBRATION_CUSTOMERS` (100,000) customers over
//! `BENCH_CALIBRATION_DAYS` (180) days write a log of millions of lines.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use chrono::{DateTime, Utc};
use journey::backtest::sample::{LOG_SHARDS, SampleOrder, shard};

/// The bench archive's sample order (a fixed secret).
static ORDER: std::sync::LazyLock<SampleOrder> =
    std::sync::LazyLock::new(|| SampleOrder::keyed(b"bench"));
use journey::backtest::{Label, LogRecord, write_records};
use journey::domain::rules::DEFAULT_RULES_TOML;
use journey::domain::{CustomerId, RiskLevel, Rules};
use journey::ports::EventArchive;
use journey_adapters::s3::{S3Archive, create_bucket, shard_folder};
use journey_local::emulator::Moto;
use journey_local::stack::emulator_config;
use serde::{Deserialize, Serialize};

use crate::population;

/// Customers generated and written at a time.
const PART: usize = 10_000;

/// The environment variable that makes `journey-bench` the measured job: the bucket to read.
pub const CHILD: &str = "BENCH_CALIBRATION_CHILD";

#[derive(Debug, Serialize)]
pub struct CalibrationRun {
    pub customers: usize,
    pub days: i64,
    /// The whole log: events and churns, objects and their compressed bytes.
    pub events: usize,
    pub churns: usize,
    pub objects: usize,
    pub log_gzip_bytes: usize,
    pub write_seconds: f64,
    /// The rules' `calibration.sample_events`.
    pub limit: usize,
    /// The shards the sample needed, and the lines they hold (all read, most only skimmed).
    pub shards_read: usize,
    pub lines_in_shards_read: usize,
    pub job: Job,
}

/// What the job measured of itself.
#[derive(Debug, Serialize, Deserialize)]
pub struct Job {
    pub sample_customers: usize,
    pub of_about: Option<u64>,
    pub sample_events: usize,
    pub read_seconds: f64,
    pub propose_seconds: f64,
    pub outcome: String,
    /// The process's peak resident memory (`VmHWM`).
    pub peak_mb: f64,
}

pub async fn run(root: &Path, customers: usize, days: i64) -> Result<CalibrationRun, String> {
    let state = root.join("target/bench/calibration");
    std::fs::create_dir_all(&state).map_err(|e| e.to_string())?;
    let (r, log) = (root.to_path_buf(), state.join("moto.log"));
    let moto = tokio::task::spawn_blocking(move || Moto::start(&r, 0, &log))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let s3 = journey_adapters::aws::s3_client(&emulator_config(&moto.url()).await);
    let bucket = "calibration-scale";
    create_bucket(&s3, bucket)
        .await
        .map_err(|e| e.to_string())?;

    let started = Instant::now();
    let mut written = Written::default();
    for first in (0..customers).step_by(PART) {
        let part = first..(first + PART).min(customers);
        let p = population::generate_part(population::World::Course, part, days, 11);
        let mut objects: BTreeMap<(u32, String), Vec<LogRecord>> = BTreeMap::new();
        let records = (p.events.into_iter().map(|e| LogRecord::Event(Box::new(e))))
            .chain(p.labels.into_iter().map(LogRecord::Churn));
        for record in records {
            let customer = record.customer_id().clone();
            let day = day_of(&record).format("%Y/%m/%d").to_string();
            written.count(&customer, &record);
            objects
                .entry((shard(&customer), day))
                .or_default()
                .push(record);
        }
        for ((shard, day), records) in objects {
            let key = format!("{}{day}/journey-log-{first}.gz", shard_folder(shard));
            let body = gzip(&write_records(&records).map_err(|e| e.to_string())?)?;
            written.objects += 1;
            written.gzip_bytes += body.len();
            s3.put_object()
                .bucket(bucket)
                .key(key)
                .body(body.into())
                .send()
                .await
                .map_err(|e| format!("writing the log: {e:?}"))?;
        }
        eprintln!(
            "  {} customers written",
            first + PART.min(customers - first)
        );
    }
    let write_seconds = started.elapsed().as_secs_f64();

    let limit = Rules::embedded()
        .map_err(|e| e.to_string())?
        .policy(None)
        .calibration
        .sample_events;
    let (shards_read, lines_in_shards_read) = written.shards_needed(limit);
    let job = measure_job(&moto.url(), bucket).await?;
    Ok(CalibrationRun {
        customers,
        days,
        events: written.events,
        churns: written.churns,
        objects: written.objects,
        log_gzip_bytes: written.gzip_bytes,
        write_seconds,
        limit,
        shards_read,
        lines_in_shards_read,
        job,
    })
}

/// The job in a process of its own: this binary again, with [`CHILD`] set.
async fn measure_job(endpoint: &str, bucket: &str) -> Result<Job, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = tokio::process::Command::new(exe)
        .env(CHILD, bucket)
        .env("AWS_ENDPOINT_URL", endpoint)
        .output()
        .await
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "the measured job failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("the job's figures: {e}"))
}

/// The measured job: reads the sample and proposes, printing [`Job`] as JSON.
pub async fn child(bucket: &str) -> Result<(), String> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").map_err(|e| e.to_string())?;
    let s3 = journey_adapters::aws::s3_client(&emulator_config(&endpoint).await);
    let archive = S3Archive::new(s3, bucket, *ORDER);
    let limit = Rules::embedded()
        .map_err(|e| e.to_string())?
        .policy(None)
        .calibration
        .sample_events;
    let started = Instant::now();
    let (log, sampled) = archive
        .export_log(journey::ports::SampleLimits::events(limit))
        .await
        .map_err(|e| e.to_string())?;
    let read_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let outcome = match calibrate::propose(&log, DEFAULT_RULES_TOML, "", &Default::default()) {
        Ok(Ok(p)) => format!(
            "a proposal: caught at caution {:.1} % on the holdout (rules in force {:.1} %)",
            p.holdout.recall_at(RiskLevel::Caution) * 100.0,
            p.active_holdout.recall_at(RiskLevel::Caution) * 100.0
        ),
        Ok(Err(why)) => format!("no proposal: {why}"),
        Err(e) => return Err(e.to_string()),
    };
    let job = Job {
        sample_customers: sampled.customers,
        of_about: sampled.of_about,
        sample_events: log.events.len(),
        read_seconds,
        propose_seconds: started.elapsed().as_secs_f64(),
        outcome,
        peak_mb: peak_mb(),
    };
    println!(
        "{}",
        serde_json::to_string(&job).map_err(|e| e.to_string())?
    );
    Ok(())
}

/// What was written, per customer, to work out which shards the sample needs.
#[derive(Default)]
struct Written {
    events: usize,
    churns: usize,
    objects: usize,
    gzip_bytes: usize,
    /// Each customer's sample key and events.
    customers: BTreeMap<u64, usize>,
    /// Lines per shard.
    lines: BTreeMap<u32, usize>,
}

impl Written {
    fn count(&mut self, customer: &CustomerId, record: &LogRecord) {
        *self.lines.entry(shard(customer)).or_default() += 1;
        let events = self.customers.entry(ORDER.key(customer)).or_default();
        match record {
            LogRecord::Event(_) => {
                self.events += 1;
                *events += 1;
            }
            _ => self.churns += 1,
        }
    }

    /// The shards a sample of at most `limit` events reads, and their lines.
    fn shards_needed(&self, limit: usize) -> (usize, usize) {
        let mut total = 0;
        let mut last = None;
        for (key, events) in &self.customers {
            total += events;
            if total > limit {
                last = Some((key >> 60) as u32);
                break;
            }
        }
        let shards = last.map_or(LOG_SHARDS, |s| s + 1);
        let lines = (0..shards).filter_map(|s| self.lines.get(&s)).sum();
        (shards as usize, lines)
    }
}

fn day_of(record: &LogRecord) -> DateTime<Utc> {
    match record {
        LogRecord::Event(e) => e.occurred_at,
        LogRecord::Churn(Label { churned_at, .. }) => *churned_at,
        LogRecord::Erased(e) => e.at,
    }
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).map_err(|e| e.to_string())?;
    gz.finish().map_err(|e| e.to_string())
}

/// This process's peak resident memory in MB (Linux's `VmHWM`; 0 elsewhere).
fn peak_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

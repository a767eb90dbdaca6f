//! `make bench`: CPU figures (criterion, run here), AWS requests per event through the local stack,
//! sweep scaling, cold starts and the monthly cost model, printed as tables and written to
//! `target/bench/results.json`. Settings (all optional):
//! `BENCH_CUSTOMERS` (10) and `BENCH_DAYS` (24) size the journey mix; `BENCH_SWEEP_SIZES`
//! (`10000,100000`) the sweep runs; `BENCH_COLD_RUNS` (5) the starts per binary;
//! `BENCH_BACKTEST_CUSTOMERS` (7000, about a million events) the backtest run;
//! `BENCH_CPU_SECONDS` (1) criterion's measurement time per benchmark (after 0.5 s of warm-up);
//! `BENCH_ONLY` (`cpu,cold,backtest,mix,sweep`) a subset; `calibration` (not in the default:
//! it writes a 100,000-customer log, see `calibration_scale`) measures calibration at scale.

use std::path::PathBuf;
use std::time::Duration;

use journey::config::parsed_or;
use journey_bench::{
    backtest, calibration_scale, cold_start, cost, cpu, criterion, mix, report, sweep_scale,
    write_cost,
};
use serde_json::json;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("journey-bench: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), String> {
    if let Ok(bucket) = std::env::var(calibration_scale::CHILD) {
        return calibration_scale::child(&bucket).await;
    }
    let root = std::env::current_dir().map_err(|e| e.to_string())?;
    let customers: usize = parsed_or("BENCH_CUSTOMERS", 10).map_err(|e| e.to_string())?;
    let days: u32 = parsed_or("BENCH_DAYS", 24).map_err(|e| e.to_string())?;
    let sizes: String =
        parsed_or("BENCH_SWEEP_SIZES", "10000,100000".to_string()).map_err(|e| e.to_string())?;
    let sizes: Vec<usize> = sizes
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .map_err(|_| format!("BENCH_SWEEP_SIZES: bad size {s:?}"))
        })
        .collect::<Result<_, _>>()?;
    let runs: usize = parsed_or("BENCH_COLD_RUNS", 5).map_err(|e| e.to_string())?;
    let only: String = parsed_or("BENCH_ONLY", "cpu,cold,backtest,mix,sweep".to_string())
        .map_err(|e| e.to_string())?;
    let backtest_customers: usize =
        parsed_or("BENCH_BACKTEST_CUSTOMERS", 7000).map_err(|e| e.to_string())?;
    let wants = |part: &str| only.split(',').any(|p| p.trim() == part);

    let cpu_seconds: u64 = parsed_or("BENCH_CPU_SECONDS", 1).map_err(|e| e.to_string())?;
    if wants("cpu") {
        eprintln!("CPU per unit of work (criterion) …");
        cpu::run(
            Duration::from_millis(500),
            Duration::from_secs(cpu_seconds.max(1)),
        );
    }
    let cpu = criterion::measured(&root);
    report::cpu(&cpu);
    let writes = write_cost::run()?;
    report::write_costs(&writes);
    let cold = if wants("cold") {
        eprintln!("cold starts: {runs} per binary …");
        let c = cold_start::run(&root, runs.max(1)).await?;
        report::cold(&c);
        Some(c)
    } else {
        None
    };
    let backtest = if wants("backtest") {
        eprintln!("backtest: {backtest_customers} synthetic customers …");
        let b = backtest::run(backtest_customers)?;
        report::backtest(&b);
        Some(b)
    } else {
        None
    };
    // the mix and the sweep runs each drive their own emulator, which is single-threaded
    // Python: side by side they take the time of the longer one on two cores
    let (mix, sweep) = tokio::join!(
        async {
            if !wants("mix") {
                return Ok(None);
            }
            eprintln!("journey mix: {customers} customers × {days} days through the local stack …");
            mix::run(&root, customers, days).await.map(Some)
        },
        async {
            if !wants("sweep") {
                return Ok(None);
            }
            eprintln!("sweep scaling at {sizes:?} customers …");
            sweep_scale::run(&root, &sizes).await.map(Some)
        }
    );
    let (mix, sweep) = (mix?, sweep?);
    if let Some(m) = &mix {
        report::mix(m);
    }
    if let Some(s) = &sweep {
        report::sweep(s);
    }
    let costs = mix.as_ref().map(|m| {
        let model = cost::Model::from_mix(m);
        let rows = cost::monthly(&model, &cost::SCALES);
        report::cost(&model, &rows);
        (model, rows)
    });
    let calibration = if wants("calibration") {
        let customers: usize =
            parsed_or("BENCH_CALIBRATION_CUSTOMERS", 100_000).map_err(|e| e.to_string())?;
        let days: i64 = parsed_or("BENCH_CALIBRATION_DAYS", 180).map_err(|e| e.to_string())?;
        eprintln!("calibration at scale: {customers} customers × {days} days of event log …");
        let c = calibration_scale::run(&root, customers, days).await?;
        report::calibration(&c);
        Some(c)
    } else {
        None
    };
    let results = json!({
        "machine": report::machine(),
        "cpu": cpu, "write_units_by_kind": writes.kinds, "item_sizes": writes.sizes,
        "cold_start": cold, "mix": mix, "sweep": sweep, "backtest": backtest,
        "calibration": calibration,
        "cost": costs.map(|(model, rows)| json!({"model": model, "monthly": rows, "prices": cost::PRICES})),
    });
    let out = PathBuf::from("target/bench/results.json");
    std::fs::create_dir_all("target/bench").map_err(|e| e.to_string())?;
    let text = serde_json::to_string_pretty(&results).map_err(|e| e.to_string())?;
    std::fs::write(&out, text).map_err(|e| e.to_string())?;
    println!("\nAll figures: {}", out.display());
    Ok(())
}

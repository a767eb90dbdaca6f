//! Runs the population that answers messages (`journey_tests::experiment`) over many seeds and
//! prints how often the 95 % intervals hold the true uplift, the verdicts, and how Thompson
//! sampling moves the allocation: the figures of docs/interventions.md.
//!
//! `cargo run --profile harness -p journey-tests --bin experiment -- --customers 3000 \
//!     --seeds 100 [--events log.jsonl --rules overlay.toml]`
//!
//! `--events` writes the first seed's event log and `--rules` its rules overlay, for
//! `journey-rules backtest --events log.jsonl --overlay overlay.toml`, which replays it.

use std::collections::BTreeMap;
use std::process::ExitCode;

use journey::domain::rules::ExperimentRules;
use journey_tests::experiment::{RULES_OVERLAY, Settings, TEMPLATE, Truth, run};

fn main() -> ExitCode {
    match go() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("experiment: {e}");
            ExitCode::FAILURE
        }
    }
}

fn go() -> Result<(), String> {
    let (mut customers, mut seeds, mut events, mut rules) = (3000usize, 100u64, None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or(format!("{arg} takes a value"))?;
        let number = || format!("{arg} takes a number");
        match arg.as_str() {
            "--customers" => customers = value.parse().map_err(|_| number())?,
            "--seeds" => seeds = value.parse().map_err(|_| number())?,
            "--events" => events = Some(value),
            "--rules" => rules = Some(value),
            other => return Err(format!("unknown option {other}")),
        }
    }
    let truth = Truth::default();
    let judging = ExperimentRules::default().judging();
    let settings = |seed, adaptive| Settings {
        customers,
        join_days: 120,
        seed,
        adaptive,
        truth: truth.clone(),
    };
    // coverage and verdicts over seeds, even split
    let mut held: BTreeMap<(String, Option<String>), (u32, u32)> = BTreeMap::new();
    let mut verdicts: BTreeMap<(String, Option<String>), BTreeMap<&str, u32>> = BTreeMap::new();
    let mut width: BTreeMap<(String, Option<String>), f64> = BTreeMap::new();
    for seed in 1..=seeds {
        let sim = run(&settings(seed, false));
        if seed == 1 {
            write_outputs(&sim, events.as_deref(), rules.as_deref())?;
        }
        for c in sim.experiments().comparisons(judging) {
            let key = (c.template.clone(), c.variant.clone());
            let Some(u) = c.recovery_uplift else { continue };
            let entry = held.entry(key.clone()).or_default();
            entry.1 += 1;
            if u.contains(truth.uplift(&c.template, c.variant.as_deref())) {
                entry.0 += 1;
            }
            *width.entry(key.clone()).or_default() += u.high - u.low;
            *verdicts
                .entry(key)
                .or_default()
                .entry(c.verdict.as_str())
                .or_default() += 1;
        }
    }
    println!("| message | true uplift | interval holds it | mean interval width | verdicts |");
    println!("|---|---:|---:|---:|---|");
    let (mut all_in, mut all) = (0, 0);
    for ((template, variant), (inside, runs)) in &held {
        all_in += inside;
        all += runs;
        let key = (template.clone(), variant.clone());
        let said: Vec<String> = verdicts[&key]
            .iter()
            .map(|(v, n)| format!("{v} {n}"))
            .collect();
        println!(
            "| {template} {} | {:+.2} | {inside}/{runs} ({:.1} %) | {:.3} | {} |",
            variant.as_deref().unwrap_or("-"),
            truth.uplift(template, variant.as_deref()),
            100.0 * f64::from(*inside) / f64::from(*runs),
            width[&key] / f64::from(*runs),
            said.join(", ")
        );
    }
    println!(
        "\nall intervals: {all_in}/{all} hold the truth ({:.1} %)\n",
        100.0 * f64::from(all_in) / f64::from(all.max(1))
    );
    // Thompson sampling, one seed
    let sim = run(&settings(1, true));
    println!("| week from | {} allocation (a, b, c) |", TEMPLATE);
    println!("|---|---|");
    for (at, allocation) in sim.allocations.iter().step_by(2) {
        let shares: Vec<String> = allocation.values().map(|s| format!("{s:.2}")).collect();
        println!("| {} | {} |", at.format("%Y-%m-%d"), shares.join(", "));
    }
    let sent: BTreeMap<String, u64> = sim
        .experiments()
        .variants(TEMPLATE)
        .into_iter()
        .map(|(v, g)| (v, g.assigned))
        .collect();
    println!("\ntreated per variant over the run (adaptive): {sent:?}");
    Ok(())
}

fn write_outputs(
    sim: &journey_tests::experiment::Run,
    events: Option<&str>,
    rules: Option<&str>,
) -> Result<(), String> {
    if let Some(path) = events {
        journey_tests::write_lines(path, &sim.events)?;
    }
    if let Some(path) = rules {
        std::fs::write(path, RULES_OVERLAY).map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(())
}

//! Writes a synthetic population's event log (JSON Lines of canonical events, the backtest's
//! format) and its churn labels, for the backtest and `journey-local replay`:
//!
//! `cargo run -p journey-tests --bin population -- --customers 1000 --days 120 --seed 1 \
//!     [--world course|fitness|self-serve] --events log.jsonl [--labels labels.jsonl] \
//!     [--rules overlay.toml]`
//!
//! `--rules` writes the rules overlay the world's business runs with before calibration (the
//! fitness club's 3 / 7 / 10-day clock), for `journey-rules backtest --overlay`.

use std::process::ExitCode;

use journey_tests::population::{World, generate_world};
use journey_tests::write_lines;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("population: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let (mut customers, mut days, mut seed) = (1000usize, 120i64, 1u64);
    let (mut events, mut labels, mut rules) = (None, None, None);
    let mut world = World::Course;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or(format!("{arg} takes a value"))?;
        let number = || format!("{arg} takes a number");
        match arg.as_str() {
            "--customers" => customers = value.parse().map_err(|_| number())?,
            "--days" => days = value.parse().map_err(|_| number())?,
            "--seed" => seed = value.parse().map_err(|_| number())?,
            "--events" => events = Some(value),
            "--labels" => labels = Some(value),
            "--rules" => rules = Some(value),
            "--world" => {
                world = World::from_name(&value).ok_or(format!(
                    "--world is one of {}",
                    World::ALL.map(World::name).join(", ")
                ))?
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    if days < 60 {
        return Err("--days is at least 60 (churners leave after their fifth week)".into());
    }
    let events = events.ok_or("--events FILE is required")?;
    let population = generate_world(world, customers, days, seed);
    write_lines(&events, &population.events)?;
    if let Some(labels) = labels {
        write_lines(&labels, &population.labels)?;
    }
    if let Some(rules) = rules {
        std::fs::write(&rules, world.rules_overlay()).map_err(|e| format!("{rules}: {e}"))?;
    }
    eprintln!(
        "population ({}): {} customers, {} events, {} churners",
        world.name(),
        customers,
        population.events.len(),
        population.labels.len()
    );
    Ok(())
}

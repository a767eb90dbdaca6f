//! `journey-local`: the whole system on this machine.
//!
//! - `journey-local` (or `run`): starts the emulator (unless `AWS_ENDPOINT_URL` names one),
//!   creates the resources, and serves the HTTP API on 127.0.0.1:3000 with every function wired.
//! - `journey-local demo`: replays `events/demo/scenario.json` through the gateway.
//! - `journey-local replay --events log.jsonl`: a canonical event log through the gateway, with
//!   sweeps on its simulated time; prints the stages, risks and messages it produced.
//! - `journey-local outbox`: prints the running stack's counts, e-mails and Slack alerts.
//! - `journey-local calibrate [--dry-run] [--min-outcomes N]`: the weekly calibration, now.

use std::process::ExitCode;

use journey_local::config::LocalConfig;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let command = std::env::args().nth(1).unwrap_or_else(|| "run".into());
    // a replay's stack logs every event; its own report is what the reader wants
    let level = if matches!(command.as_str(), "replay" | "faults") {
        "warn"
    } else {
        "info"
    };
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| {
            EnvFilter::new(format!(
                "{level},aws_config=warn,aws_smithy_runtime=warn,hyper=warn"
            ))
        }))
        .with_target(false)
        .init();
    let config = match LocalConfig::from_env().map(|mut c| {
        c.texts = matches!(command.as_str(), "run" | "demo");
        c
    }) {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string()),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(&e.to_string()),
    };
    let result = runtime.block_on(async {
        match command.as_str() {
            "run" => journey_local::run::run(config).await,
            "demo" => journey_local::demo::demo(config).await,
            "outbox" => journey_local::demo::outbox(config).await,
            "replay" => {
                let args: Vec<String> = std::env::args().skip(2).collect();
                journey_local::replay::replay(config, &args).await
            }
            "faults" => {
                let args: Vec<String> = std::env::args().skip(2).collect();
                journey_local::faults::suite::run(config, &args).await
            }
            "calibrate" => {
                let args: Vec<String> = std::env::args().skip(2).collect();
                journey_local::demo::calibrate(config, &args).await
            }
            other => Err(format!(
                "unknown command `{other}`: use `run`, `demo`, `replay`, `outbox` or `calibrate`"
            )),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("journey-local: {message}");
    ExitCode::FAILURE
}

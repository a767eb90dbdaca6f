//! The fault suite at CI size: a small synthetic population replayed through the local stack
//! twice — fault-free, then with webhooks delivered 1–3 times and every service (DynamoDB,
//! SQS, SES, EventBridge, Slack, the text provider) refusing requests and losing answers at
//! random, and handlers
//! crashing between I/O calls — and compared (`journey_local::faults::suite`): no state change
//! lost, no message twice, none missed, no dead letters. `make faults` runs it at 10,000+
//! events and writes the counts to `docs/reliability.md`.

use std::io::Write;

use journey_local::config::LocalConfig;
use journey_tests::{emulator_url, population, unique, workspace_root};
use serde_json::Value;

/// Customers in the CI run (`FAULTS_CUSTOMERS` to change it).
const CUSTOMERS: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn under_faults_no_state_change_is_lost_and_no_message_is_sent_twice_or_missed() {
    let customers = std::env::var("FAULTS_CUSTOMERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CUSTOMERS);
    under_faults(customers, 6).await;
}

/// The same with a clock that moves a day at a time (security review, *Reliability*): every
/// check comes late, past quiet-hours windows, so deferrals and their redeliveries meet.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_a_day_between_sweeps_no_message_is_lost_to_a_deferral() {
    under_faults(CUSTOMERS, 24).await;
}

async fn under_faults(customers: usize, sweep_hours: u32) {
    let dir = std::env::temp_dir().join(unique("journey-faults"));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("log.jsonl");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&log).unwrap());
    for event in population::generate(customers, 60, 11).events {
        serde_json::to_writer(&mut out, &event).unwrap();
        out.write_all(b"\n").unwrap();
    }
    out.flush().unwrap();
    drop(out);

    let mut config = LocalConfig::from_env().unwrap();
    config.endpoint = Some(emulator_url().to_string());
    config.env = unique("faults");
    config.state_dir = dir.clone();
    config.root = workspace_root();
    let report = dir.join("report.json");
    let args: Vec<String> = [
        "--events",
        log.to_str().unwrap(),
        "--seed",
        "7",
        "--sweep-hours",
        &sweep_hours.to_string(),
        "--report",
        report.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec();
    let verdict = journey_local::faults::suite::run(config, &args).await;
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("the report")).unwrap();
    assert!(verdict.is_ok(), "{verdict:?}\n{report:#}");

    // it injected every kind of fault (DynamoDB and SQS see thousands of requests), some fault
    // into every service (SES and EventBridge see few at this size), and sent something
    let injected = &report["faults_injected"];
    let count = |key: String| injected[key].as_u64().unwrap_or(0);
    for kind in ["refused_reset", "refused_503", "answer_lost"] {
        for service in ["dynamodb", "sqs"] {
            assert!(
                count(format!("{service} {kind}")) > 0,
                "no {kind} injected into {service}: {injected:#}"
            );
        }
    }
    for service in ["ses", "events", "solapi"] {
        let any: u64 = ["refused_reset", "refused_503", "answer_lost"]
            .iter()
            .map(|kind| count(format!("{service} {kind}")))
            .sum();
        assert!(any > 0, "no fault injected into {service}: {injected:#}");
    }
    let crashes: u64 = ["dynamodb", "sqs", "sesv2", "eventbridge"]
        .iter()
        .filter_map(|s| injected[format!("{s} crash")].as_u64())
        .sum();
    assert!(crashes > 0, "no handler crashed: {injected:#}");
    assert!(report["emails_received"]["faulty"].as_u64().unwrap_or(0) > 0);
    assert!(
        report["texts_received"]["faulty"].as_u64().unwrap_or(0) > 0,
        "no text sent: {report:#}"
    );
    assert!(report["planned_interventions"].as_u64().unwrap_or(0) > 10);
}

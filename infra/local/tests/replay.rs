//! `journey-local replay`: a canonical event log through the gateway of a stack it starts —
//! the app's batches, Stripe, Toss and PortOne webhooks, staff notes, an erasure, an opt-out —
//! with sweeps on the log's time, and what the history produced.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test: a panic is its failure report"
)]

use std::process::Command;

use journey_local::emulator::free_port;
use serde_json::Value;

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Replays `events/replay/log.jsonl`; returns the printed report and the JSON one.
fn replay() -> (String, Value) {
    let dir = std::env::temp_dir().join(format!("journey-replay-{}", std::process::id()));
    let report = dir.join("report.json");
    std::fs::create_dir_all(&dir).expect("state dir");
    let output = Command::new(env!("CARGO_BIN_EXE_journey-local"))
        .args(["replay", "--events", "events/replay/log.jsonl", "--report"])
        .arg(&report)
        .current_dir(root())
        .env_remove("AWS_ENDPOINT_URL")
        .env("JOURNEY_HTTP_PORT", free_port().to_string())
        .env("JOURNEY_EMULATOR_PORT", free_port().to_string())
        .env("JOURNEY_STATE_DIR", &dir)
        .output()
        .expect("run the replay");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(&report).expect("the report");
    (stdout, serde_json::from_str(&text).expect("report JSON"))
}

fn customers(report: &Value, stage: &str, risk: &str) -> u64 {
    report["counts"]["stages"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["stage"] == stage))
        .and_then(|row| row[risk].as_u64())
        .unwrap_or(0)
}

fn sent(report: &Value, template: &str) -> u64 {
    report["messages"]["templates"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter(|r| r["template"] == template)
                .filter_map(|r| r["sent"].as_u64())
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn a_log_replays_through_the_gateway_and_reports_what_it_produced() {
    let (stdout, report) = replay();
    assert_eq!(report["events"], 23, "{stdout}");
    assert_eq!(
        report["refused"], 0,
        "every request accepted: {}",
        report["refusals"]
    );
    let posted = &report["posted"];
    // ten app events, and lee's owner (which Stripe cannot carry) as a profile update
    assert_eq!(posted["app events (/events)"], 11, "{posted}");
    assert_eq!(posted["Stripe webhooks"], 6, "{posted}");
    assert_eq!(posted["Toss webhooks"], 2, "{posted}");
    assert_eq!(posted["PortOne webhooks"], 1, "{posted}");
    assert_eq!(posted["staff notes (API)"], 1, "{posted}");
    assert_eq!(posted["erasures (API)"], 1, "{posted}");
    assert_eq!(posted["unsubscribes (link)"], 1, "{posted}");
    assert_eq!(
        report["skipped"].as_object().map(|s| s.len()),
        Some(1),
        "the sweep check"
    );

    // park (Stripe) and han (Toss) refunded; kim completed; lee silent since 03-03: danger
    assert_eq!(customers(&report, "churned", "none"), 2, "{stdout}");
    assert_eq!(customers(&report, "completed", "none"), 1, "{stdout}");
    assert!(stdout.contains("Customers by stage × risk"), "{stdout}");
    for template in [
        "welcome_setup_guide",
        "gentle_reminder",
        "consultation_invite",
        "danger_alert",
    ] {
        assert!(
            sent(&report, template) >= 1,
            "{template} not sent:\n{stdout}"
        );
    }
    let emails = report["messages"]["emails_received"].as_u64().unwrap_or(0);
    let slack = report["messages"]["slack_received"].as_u64().unwrap_or(0);
    assert!(emails >= 6 && slack >= 1, "{stdout}");
}

//! `journey-rules` as a person runs it, on the hand-made log of `events/backtest/`.

use std::process::{Command, Output};

fn journey_rules(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_journey-rules"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .env_remove("RULES_FILE")
        .output()
        .expect("run journey-rules")
}

fn stdout(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn backtest_prints_the_table_people_read() {
    let out = stdout(&journey_rules(&[
        "backtest",
        "--events",
        "events/backtest/events.jsonl",
        "--labels",
        "events/backtest/labels.jsonl",
    ]));
    assert!(out.contains("caution    50.0 %  (1 of 2)"), "{out}");
    assert!(
        out.contains("false alarms per 100 customers per month 31.25"),
        "{out}"
    );
}

#[test]
fn backtest_json_has_the_metrics_and_every_timeline() {
    let out = stdout(&journey_rules(&[
        "backtest",
        "--events",
        "events/backtest/events.jsonl",
        "--json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["metrics"]["precision"], 0.5);
    assert_eq!(v["timelines"].as_array().map(Vec::len), Some(3));
    assert_eq!(v["timelines"][0]["risk"][0]["level"], "caution");
}

#[test]
fn a_changed_rule_set_is_tested_from_an_overlay() {
    let dir = std::env::temp_dir().join(format!("journey-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let overlay = dir.join("overlay.toml");
    // caution after 9 days: B's 8-day holiday is no longer a false alarm
    std::fs::write(&overlay, "[inactivity]\ncaution_days = 9\n").unwrap();
    let out = stdout(&journey_rules(&[
        "backtest",
        "--events",
        "events/backtest/events.jsonl",
        "--overlay",
        overlay.to_str().unwrap(),
        "--json",
    ]));
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["metrics"]["false_alarms"], 0);
    assert_eq!(v["metrics"]["precision"], 1.0);
}

#[test]
fn bad_input_is_named() {
    let o = journey_rules(&["backtest", "--events", "no/such/file.jsonl"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no/such/file.jsonl"));
    let o = journey_rules(&[
        "calibrate",
        "--events",
        "events/backtest/events.jsonl",
        "--labels",
        "events/backtest/labels.jsonl",
    ]);
    let out = stdout(&o);
    assert!(
        out.contains("no proposal: too little history: 2 churned and 1 retained"),
        "{out}"
    );
}

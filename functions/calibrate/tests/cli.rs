//! `journey-rules` as a person runs it, on the hand-made log of `events/backtest/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test: a panic is its failure report"
)]

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

/// The overlay in force that a calibration starts from, and one a backtest tests, are checked
/// as the transition worker checks a rules version: a broken one is refused naming the key.
#[test]
fn a_broken_overlay_is_refused_naming_the_key() {
    let dir = std::env::temp_dir().join(format!("journey-rules-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let thresholds = dir.join("thresholds.toml");
    std::fs::write(&thresholds, "[score.thresholds]\ncaution = \"high\"\n").unwrap();
    // a child before its parent: a walk that would never end
    let model = dir.join("model.toml");
    std::fs::write(
        &model,
        "[score.model]\nsignals = [\"inactivity\"]\nbase = 0.0\n\
         [[score.model.trees]]\nsplit_on = [0, 0, -1]\nsplit_at = [0.5, 0.5, 0.0]\n\
         left = [1, 0, 0]\nright = [2, 2, 0]\nvalue = [0.0, 0.0, 1.0]\ncover = [1.0, 1.0, 1.0]\n",
    )
    .unwrap();
    let log = [
        "--events",
        "events/backtest/events.jsonl",
        "--labels",
        "events/backtest/labels.jsonl",
    ];
    for (command, overlay, key) in [
        ("calibrate", &thresholds, "caution"),
        ("backtest", &model, "score.model.trees[0]"),
    ] {
        let mut args = vec![command];
        args.extend(log);
        args.extend(["--overlay", overlay.to_str().unwrap()]);
        let o = journey_rules(&args);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{command}: {stderr}");
        assert!(stderr.contains(key), "{command}: {stderr}");
    }
}

/// A person's overlay that sends a template no sender has is refused before anything is
/// stored (the table is not even reached: no TABLE_NAME is set here).
#[test]
fn an_edit_naming_a_missing_template_is_refused_naming_the_key() {
    let dir = std::env::temp_dir().join(format!("journey-rules-edit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let overlay = dir.join("typo.toml");
    std::fs::write(
        &overlay,
        "[interventions.risk_caution]\nemail = \"gentel_reminder\"\n",
    )
    .unwrap();
    let o = journey_rules(&["edit", overlay.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{stderr}");
    assert!(
        stderr.contains("interventions.risk_caution.email") && stderr.contains("gentel_reminder"),
        "{stderr}"
    );
}

//! The dashboard in a real browser: headless Chromium (Debian's, installed by `make test`) loads
//! the page from the local stack after the demo scenario; the numbers it shows are checked
//! against the API, and a screenshot is saved as `target/dashboard.png`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test: a panic is its failure report"
)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use journey_local::emulator::free_port;
use journey_local::secrets::LocalSecrets;
use regex::Regex;
use serde_json::Value;

const CHROMIUM: &str = "/usr/bin/chromium";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Stack(Child);

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn local(command: &str, port: u16, emulator: u16, state: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_journey-local"));
    c.arg(command)
        .current_dir(root())
        .env_remove("AWS_ENDPOINT_URL")
        .env("JOURNEY_HTTP_PORT", port.to_string())
        .env("JOURNEY_EMULATOR_PORT", emulator.to_string())
        .env("JOURNEY_STATE_DIR", state)
        .env("JOURNEY_SWEEP_EVERY", "0")
        .env("RUST_LOG", "warn");
    c
}

/// What one headless Chromium run printed.
struct Run {
    stdout: String,
    stderr: String,
}

/// Runs headless Chromium on `url` with `extra` flags.
fn chromium(url: &str, extra: &[&str]) -> Run {
    assert!(
        Path::new(CHROMIUM).exists(),
        "headless Chromium is needed at {CHROMIUM}: `apt-get install chromium` (make test installs it)"
    );
    let profile = std::env::temp_dir().join(format!(
        "journey-chromium-{}-{}",
        std::process::id(),
        extra.len()
    ));
    let output = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            // CI containers have a small /dev/shm, where a renderer would crash
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--virtual-time-budget=15000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("run chromium");
    Run {
        stdout: String::from_utf8_lossy(&output.stdout).to_string(),
        stderr: String::from_utf8_lossy(&output.stderr).to_string(),
    }
}

/// The last `n` lines of `text`, for a failure message.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The text of the elements matching `pattern` (a regex with one group for the text).
fn texts(dom: &str, pattern: &str) -> Vec<String> {
    Regex::new(pattern)
        .expect("regex")
        .captures_iter(dom)
        .map(|c| c[1].to_string())
        .collect()
}

/// A local stack of its own that has run the demo.
struct Demo {
    _stack: Stack,
    port: u16,
    emulator: u16,
    state: PathBuf,
    base: String,
}

async fn after_the_demo(label: &str) -> Demo {
    let (port, emulator) = (free_port(), free_port());
    let state = std::env::temp_dir().join(format!("journey-{label}-{}", std::process::id()));
    let stack = Stack(
        local("run", port, emulator, &state)
            .stdout(Stdio::null())
            .spawn()
            .expect("start journey-local"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    while !http
        .get(format!("{base}/_local/health"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(Instant::now() < deadline, "journey-local did not come up");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let demo = local("demo", port, emulator, &state)
        .output()
        .expect("run the demo");
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    Demo {
        _stack: stack,
        port,
        emulator,
        state,
        base,
    }
}

#[tokio::test]
async fn the_dashboard_shows_what_the_api_says_after_the_demo() {
    let Demo {
        _stack,
        port,
        emulator,
        state,
        base,
    } = after_the_demo("dashboard").await;
    let http = reqwest::Client::new();

    // The weekly calibration, run by the stack now: seven customers are too little history.
    let calibration = local("calibrate", port, emulator, &state)
        .arg("--dry-run")
        .output()
        .expect("run the calibration");
    let said = String::from_utf8_lossy(&calibration.stdout);
    assert!(
        calibration.status.success(),
        "{}",
        String::from_utf8_lossy(&calibration.stderr)
    );
    assert!(said.contains("no proposal: too little history"), "{said}");

    let key = LocalSecrets::load_or_create(&state)
        .expect("secrets")
        .value(api::API_KEY_SECRET)
        .expect("an API key");
    let stats: Value = http
        .get(format!("{base}/stats"))
        .header("x-api-key", &key)
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("json");
    let list: Value = http
        .get(format!("{base}/customers"))
        .header("x-api-key", &key)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");

    let url = format!("{base}/#key={key}");
    // the rendered elements only: the script's own source holds the same attribute names
    // headless Chromium's virtual time may stop before the page's requests return: try again
    let mut runs = Vec::new();
    for _ in 0..5 {
        let run = chromium(&url, &["--dump-dom"]);
        let ready = run.stdout.contains(r#"data-ready="true""#);
        runs.push(run);
        if ready {
            break;
        }
    }
    let last = runs.last().expect("one run");
    let dom = Regex::new(r"(?s)<script.*?</script>")
        .expect("regex")
        .replace_all(&last.stdout, "")
        .to_string();
    assert!(
        dom.contains(r#"data-ready="true""#),
        "the page never finished loading in {} tries; the page's errors: {:?}; chromium's last words:\n{}",
        runs.len(),
        texts(&dom, r#"class="error"[^>]*>([^<]*)<"#),
        tail(&last.stderr, 20)
    );
    assert_eq!(
        texts(&dom, r#"data-test="total"[^>]*>(\d+)<"#),
        vec![stats["total"].to_string()]
    );
    for row in stats["stages"].as_array().expect("stages") {
        for risk in ["none", "caution", "warning", "danger"] {
            let n = row[risk].as_i64().unwrap_or(0);
            if n > 0 {
                let pattern = format!(
                    r#"data-stage="{}" data-risk="{risk}"[^>]*>(\d+)<"#,
                    row["stage"].as_str().unwrap_or_default()
                );
                assert_eq!(texts(&dom, &pattern), vec![n.to_string()], "{pattern}");
            }
        }
    }
    // no rules version stored: the deployed file applies, and the header says so
    assert!(stats["rules"].is_null());
    let rules = texts(&dom, r#"data-test="rules"[^>]*>([^<]+)<"#);
    assert!(
        rules.len() == 1 && (rules[0].contains("deployed file") || rules[0].contains("배포 파일")),
        "{rules:?}"
    );
    let rows = texts(&dom, r#"data-test="at-risk-row" data-customer="([^"]+)""#);
    let expected: Vec<String> = list["customers"]
        .as_array()
        .expect("customers")
        .iter()
        .map(|c| c["id"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(rows, expected, "the at-risk list, in the API's order");
    for t in stats["interventions"].as_array().expect("interventions") {
        let pattern = format!(
            r#"data-template="{}" data-variant="{}"[\s\S]*?data-test="sent"[^>]*>(\d+)<"#,
            t["template"].as_str().unwrap_or_default(),
            t["variant"].as_str().unwrap_or_default()
        );
        assert_eq!(
            texts(&dom, &pattern).first(),
            Some(&t["sent"].to_string()),
            "{pattern}"
        );
    }
    // SES's feedback per message: the rates as the API computes them, and the addresses
    // suppressed (the demo's `yoon` bounces through SES's mailbox simulator)
    let rows = stats["interventions"].as_array().expect("interventions");
    for t in rows {
        let rate = &t["mail"]["delivery_rate"];
        let pattern = format!(
            r#"data-template="{}" data-variant="{}"[\s\S]*?data-test="delivery-rate"[^>]*>([^<]*)<"#,
            t["template"].as_str().unwrap_or_default(),
            t["variant"].as_str().unwrap_or_default()
        );
        let shown = match rate.as_f64() {
            Some(r) => format!("{:.1}%", r * 100.0),
            None => "—".to_string(),
        };
        assert_eq!(texts(&dom, &pattern).first(), Some(&shown), "{pattern}");
    }
    let suppressed: i64 = rows
        .iter()
        .map(|t| t["mail"]["suppressed"].as_i64().unwrap_or(0))
        .sum();
    assert!(suppressed >= 1, "yoon's address bounced");
    assert_eq!(
        texts(&dom, r#"data-test="suppressed"[^>]*>(\d+)<"#),
        vec![suppressed.to_string()]
    );
    assert!(
        rows.iter()
            .any(|t| t["mail"]["delivered"].as_i64().unwrap_or(0) > 0),
        "the local stack reports what the emulator's SES accepted as delivered"
    );
    // each message against its control group, with the API's verdict
    let experiments = stats["experiments"].as_array().expect("experiments");
    assert!(
        !experiments.is_empty(),
        "the demo assigns customers to messages"
    );
    for e in experiments {
        let pattern = format!(
            r#"data-test="experiment-row" data-template="{}" data-variant="{}" data-verdict="([a-z_]+)""#,
            e["template"].as_str().unwrap_or_default(),
            e["variant"].as_str().unwrap_or_default()
        );
        assert_eq!(
            texts(&dom, &pattern),
            vec![e["verdict"].as_str().unwrap_or_default().to_string()],
            "{pattern}"
        );
    }
    assert_eq!(
        texts(&dom, r#"data-test="alert-row" data-owner="([^"]+)""#).len(),
        stats["alerts"].as_array().expect("alerts").len(),
        "one row per owner and alert template"
    );
    for (reason, n) in stats["churn_reasons"].as_object().expect("reasons") {
        let pattern = format!(r#"data-reason="{reason}"[^>]*>(\d+)<"#);
        assert_eq!(texts(&dom, &pattern), vec![n.to_string()]);
    }

    let shot = root().join("target/dashboard.png");
    let _ = std::fs::remove_file(&shot);
    let run = chromium(
        &url,
        &[
            "--window-size=1280,2000",
            &format!("--screenshot={}", shot.display()),
        ],
    );
    assert!(
        shot.exists(),
        "a screenshot at {}; chromium's last words:\n{}",
        shot.display(),
        tail(&run.stderr, 20)
    );
}

/// The CS workspace's flows, driven in headless Chromium by playwright-core
/// (`functions/api/web/browser/flows.mjs`): sign-in through the stand-in provider, today's
/// list, a customer from a deep link, a contact resolved, search, "my customers", the CSV,
/// English, the keyboard, a phone. Screenshots go to `SHOTS` (`make screenshots`: docs/).
#[tokio::test]
async fn the_cs_workspace_flows_work_in_chromium() {
    let Demo {
        _stack,
        state,
        base,
        ..
    } = after_the_demo("flows").await;
    let key = LocalSecrets::load_or_create(&state)
        .expect("secrets")
        .value(api::API_KEY_SECRET)
        .expect("an API key");
    let install = Command::new(root().join("infra/scripts/web.sh"))
        .arg("install")
        .output()
        .expect("install the page's tools");
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );
    let shots = std::env::var("SHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root().join("target/screenshots"));
    let flows = Command::new("node")
        .current_dir(root().join("functions/api/web"))
        .arg("browser/flows.mjs")
        .arg(&base)
        .arg(&key)
        .env("SHOTS", &shots)
        .env("CHROMIUM", CHROMIUM)
        .output()
        .expect("run node");
    assert!(
        flows.status.success(),
        "the flows failed:\n{}\n{}",
        String::from_utf8_lossy(&flows.stdout),
        String::from_utf8_lossy(&flows.stderr)
    );
    for shot in [
        "workspace-today.png",
        "workspace-customer.png",
        "workspace-en.png",
        "workspace-phone.png",
    ] {
        assert!(shots.join(shot).exists(), "{shot}");
    }
}

//! `journey-local demo`: replays `events/demo/scenario.json` through the gateway — signed
//! webhooks, as Stripe and the app would send them, at simulated times, with sweeps in between —
//! then prints the stage × risk table and the messages sent. Uses the running stack if there is
//! one (`make dev`), else starts one for the run.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::LocalConfig;
use crate::providers::Provider;
use crate::secrets::LocalSecrets;
use crate::session::Session;
use crate::signing::Gateway;

#[derive(Deserialize)]
struct Scenario {
    description: String,
    steps: Vec<Step>,
}

#[derive(Deserialize)]
struct Step {
    at: DateTime<Utc>,
    note: String,
    #[serde(default)]
    app: Option<Vec<Value>>,
    #[serde(default)]
    stripe: Option<Value>,
    /// A Toss payment as Toss's API returns it; the demo puts it in the stand-in and posts
    /// the webhook.
    #[serde(default)]
    toss: Option<Value>,
    /// A PortOne payment, likewise.
    #[serde(default)]
    portone: Option<Value>,
    #[serde(default)]
    sweep: bool,
}

pub async fn demo(config: LocalConfig) -> Result<(), String> {
    let scenario = load(&config.root.join("events/demo/scenario.json"))?;
    let session = Session::open(&config, "demo").await?;
    let result = replay(&session.gateway, &scenario).await;
    session.close();
    result
}

fn load(path: &Path) -> Result<Scenario, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

async fn replay(g: &Gateway, scenario: &Scenario) -> Result<(), String> {
    println!("\n{}\n", scenario.description);
    for (n, step) in scenario.steps.iter().enumerate() {
        g.local("/_local/clock", Some(json!({"time": step.at})))
            .await?;
        let outcome = run_step(g, step, n).await?;
        println!(
            "  {}  {:<58} {outcome}",
            step.at.format("%m-%d %H:%M"),
            step.note
        );
        let settled = g.local("/_local/settle", Some(json!({}))).await?;
        if settled["settled"] != true {
            return Err("the queues did not drain within 30 s".into());
        }
    }
    print_results(g).await
}

async fn run_step(g: &Gateway, step: &Step, n: usize) -> Result<String, String> {
    let t = step.at.timestamp();
    if step.sweep {
        let report = g
            .local("/_local/sweep", Some(json!({"time": step.at})))
            .await?;
        return Ok(format!("sweep: {} due", report["customers_due"]));
    }
    if let Some(mut event) = step.stripe.clone() {
        event["created"] = json!(t);
        let (status, body) = g.stripe(&event, t).await?;
        return expect(status, 200, &body);
    }
    for (provider, payment) in [
        (Provider::Toss, &step.toss),
        (Provider::PortOne, &step.portone),
    ] {
        if let Some(payment) = payment {
            let id = format!("msg_demo_{n}");
            let (status, body) = g.provider_payment(provider, payment, &id, t).await?;
            if body["queued"].as_array().is_none_or(Vec::is_empty) {
                return Err(format!("the {provider:?} payment was not queued: {body}"));
            }
            return expect(status, 200, &body);
        }
    }
    if let Some(events) = &step.app {
        let batch: Vec<Value> = events
            .iter()
            .cloned()
            .map(|mut e| {
                if e.get("occurred_at").is_none() {
                    e["occurred_at"] = json!(step.at);
                }
                e
            })
            .collect();
        let (status, body) = g
            .app(&Value::Array(batch), &format!("msg_demo_{n}"), t)
            .await?;
        return expect(status, 202, &body);
    }
    Ok(String::new())
}

fn expect(status: u16, wanted: u16, body: &Value) -> Result<String, String> {
    if status == wanted {
        Ok(format!("→ {status}"))
    } else {
        Err(format!("the gateway answered {status}: {body}"))
    }
}

/// `journey-local outbox`: the running stack's counts and what it sent.
pub async fn outbox(config: LocalConfig) -> Result<(), String> {
    let secrets = LocalSecrets::load_or_create(&config.state_dir).map_err(|e| e.to_string())?;
    let g = Gateway::new(config.base_url(), &secrets);
    print_results(&g)
        .await
        .map_err(|e| format!("{e} (is `make dev` running on {}?)", g.base))
}

/// `journey-local calibrate [--dry-run] [--min-outcomes N]`: the weekly calibration job, run
/// now by the running stack on its table.
pub async fn calibrate(config: LocalConfig, args: &[String]) -> Result<(), String> {
    let mut query = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--dry-run" => query.push("dry_run=true".to_string()),
            "--min-outcomes" => {
                let n: u32 = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or("--min-outcomes takes a number")?;
                query.push(format!("min_outcomes={n}"));
            }
            other => {
                return Err(format!(
                    "unknown option `{other}`: use --dry-run, --min-outcomes N"
                ));
            }
        }
    }
    let g = Gateway::new(config.base_url(), &LocalSecrets::default());
    let path = format!("/_local/calibrate?{}", query.join("&"));
    let report = g
        .local(&path, Some(serde_json::json!({})))
        .await
        .map_err(|e| format!("{e} (is `make dev` running on {}?)", g.base))?;
    if let Some(error) = report.get("error") {
        return Err(error["message"]
            .as_str()
            .unwrap_or("calibration failed")
            .to_string());
    }
    println!("{}", report["message"].as_str().unwrap_or_default());
    if let Some(overlay) = report["overlay"].as_str() {
        println!("\nproposed rules (overlay):\n{overlay}");
    }
    if let Some(n) = report["stored"].as_u64() {
        let state = if report["applied"] == true {
            "active"
        } else {
            "stored, not active"
        };
        println!("version {n}: {state}");
    }
    Ok(())
}

async fn print_results(g: &Gateway) -> Result<(), String> {
    print_counts(g).await?;
    let outbox = g.local("/_local/outbox", None).await?;
    let emails = outbox["emails"].as_array().cloned().unwrap_or_default();
    println!("\nE-mails sent ({}):\n", emails.len());
    for e in &emails {
        let to = e["to"]
            .as_array()
            .and_then(|a| a.first())
            .and_then(Value::as_str)
            .unwrap_or("?");
        println!("  {:<24} {}", to, e["subject"].as_str().unwrap_or(""));
    }
    print_texts(g).await?;
    let slack = outbox["slack"].as_array().cloned().unwrap_or_default();
    println!("\nSlack alerts ({}):\n", slack.len());
    for s in &slack {
        println!(
            "  {}",
            s["blocks"][0]["text"]["text"].as_str().unwrap_or("")
        );
    }
    println!(
        "\nDashboard: {base}/#key={key}\nOutbox:    {base}/_local/\n",
        base = g.base,
        key = g.api_key
    );
    tokio::time::sleep(Duration::from_millis(10)).await;
    Ok(())
}

/// The texts the Solapi stand-in received, once their reports are in: the channel asked for
/// and the one that delivered (a 알림톡 to a number off KakaoTalk goes as its SMS fallback).
async fn print_texts(g: &Gateway) -> Result<(), String> {
    g.local("/_local/solapi/_stand-in/reports", Some(json!({})))
        .await?;
    g.local("/_local/settle", Some(json!({}))).await?;
    let sent = g.local("/_local/solapi/_stand-in/messages", None).await?;
    let texts = sent["messages"].as_array().cloned().unwrap_or_default();
    println!("\nTexts sent ({}):\n", texts.len());
    for t in &texts {
        let (asked, via) = (
            t["type"].as_str().unwrap_or("?"),
            t["reportType"].as_str().unwrap_or("?"),
        );
        let how = match (asked, via) {
            ("ATA", "ATA") => "알림톡, delivered".to_string(),
            ("ATA", other) => format!("알림톡 → {other} fallback, delivered"),
            (other, _) => format!("{other}, delivered"),
        };
        let how = if t["statusCode"] == "4000" {
            how
        } else {
            format!("{asked}, code {}", t["statusCode"].as_str().unwrap_or("?"))
        };
        let first_line = t["text"]
            .as_str()
            .unwrap_or("")
            .lines()
            .next()
            .unwrap_or("");
        println!(
            "  {:<16} {:<32} {}",
            t["to"].as_str().unwrap_or("?"),
            how,
            first_line
        );
    }
    if texts.is_empty() {
        println!(
            "  (none: the rules send no texts; without RULES_FILE `make dev` and `make demo` add them)"
        );
    }
    Ok(())
}

/// The stage × risk table of the running stack.
pub async fn print_counts(g: &Gateway) -> Result<(), String> {
    let counts = g.local("/_local/counts", None).await?;
    println!(
        "\nCustomers by stage × risk ({} in all):\n",
        counts["total"]
    );
    println!(
        "  {:<12} {:>6} {:>8} {:>8} {:>7}",
        "stage", "none", "caution", "warning", "danger"
    );
    for row in counts["stages"].as_array().cloned().unwrap_or_default() {
        let n = |k: &str| row[k].as_i64().unwrap_or(0);
        if ["none", "caution", "warning", "danger"]
            .iter()
            .map(|k| n(k))
            .sum::<i64>()
            > 0
        {
            println!(
                "  {:<12} {:>6} {:>8} {:>8} {:>7}",
                row["stage"].as_str().unwrap_or("?"),
                n("none"),
                n("caution"),
                n("warning"),
                n("danger")
            );
        }
    }
    Ok(())
}

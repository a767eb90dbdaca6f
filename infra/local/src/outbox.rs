//! What the local stack "sent": the e-mails the emulator's SES received, and the Slack alerts
//! (written to `<state dir>/slack.log` when no `SLACK_WEBHOOK_URL` is set).

use std::path::Path;

use journey::ports::{Chat, ChatError};
use journey_adapters::slack::{FileChat, SlackWebhook};
use serde_json::{Value, json};

/// Slack for real when a webhook URL is given, else the local log.
pub enum LocalChat {
    Webhook(SlackWebhook),
    File(FileChat),
}

impl Chat for LocalChat {
    async fn post(&self, payload: &Value) -> Result<(), ChatError> {
        if crate::faults::crash::is_dead() {
            return Err(ChatError::Transient("injected: the handler crashed".into()));
        }
        match self {
            LocalChat::Webhook(w) => w.post(payload).await,
            LocalChat::File(f) => f.post(payload).await,
        }
    }
}

/// E-mails from moto's SES store (`/moto-api/data.json`), newest last.
pub async fn emails(http: &reqwest::Client, emulator: &str) -> Vec<Value> {
    let url = format!("{}/moto-api/data.json", emulator.trim_end_matches('/'));
    // moto builds this from live state without a lock: a busy moment can break one answer
    let mut data = Value::Null;
    for _ in 0..5 {
        if let Ok(response) = http.get(&url).send().await
            && let Ok(value) = response.json::<Value>().await
        {
            data = value;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let mut out = Vec::new();
    if let Some(messages) = data["ses"]["Message"].as_array() {
        for m in messages {
            out.push(json!({
                "id": m["id"],
                "from": m["source"],
                "to": m["destinations"]["ToAddresses"],
                "subject": m["subject"],
                "html": m["body"],
            }));
        }
    }
    out
}

/// Slack alerts from the local log.
pub fn slack(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// A page listing both, for a person.
pub fn page(emails: &[Value], slack: &[Value]) -> String {
    let esc = |v: &Value| {
        v.as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string())
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut html = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Journey (local) — outbox</title></head><body style=\"font-family:-apple-system,'Apple SD Gothic Neo','Malgun Gothic',sans-serif;max-width:960px;margin:24px auto;padding:0 16px\">\
         <h1>Outbox</h1><p>What the local stack sent: e-mails received by the emulator's SES, and Slack alerts.</p>",
    );
    html.push_str(&format!("<h2>E-mails ({})</h2>", emails.len()));
    for e in emails.iter().rev() {
        html.push_str(&format!(
            "<details style=\"margin:8px 0;border:1px solid #ddd;border-radius:6px;padding:8px\"><summary><b>{}</b> → {}</summary>\
             <iframe sandbox srcdoc=\"{}\" style=\"width:100%;height:420px;border:0\"></iframe></details>",
            esc(&e["subject"]),
            esc(&e["to"]),
            esc(&e["html"]).replace('"', "&quot;"),
        ));
    }
    html.push_str(&format!("<h2>Slack ({})</h2>", slack.len()));
    for s in slack.iter().rev() {
        let blocks = s["blocks"].as_array().cloned().unwrap_or_default();
        let title = blocks
            .first()
            .map(|b| esc(&b["text"]["text"]))
            .unwrap_or_default();
        let body: Vec<String> = blocks
            .iter()
            .filter(|b| b["type"] == "section")
            .map(|b| esc(&b["text"]["text"]).replace('\n', "<br>"))
            .collect();
        html.push_str(&format!(
            "<div style=\"margin:8px 0;border-left:4px solid #dc2626;padding:4px 12px\"><b>{title}</b><p>{}</p></div>",
            body.join("</p><p>")
        ));
    }
    html.push_str("</body></html>");
    html
}

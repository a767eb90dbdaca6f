//! Cold start: each release binary started as Lambda starts it (the runtime API in
//! `AWS_LAMBDA_RUNTIME_API`, the function's configuration in its environment), timed from spawn
//! until it first asks the runtime API for an invocation — everything `main` does before it can
//! serve. The runtime API here is a socket that records that first request.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::process::Command;

pub const FUNCTIONS: [&str; 7] = [
    "ingest",
    "transition",
    "sweep",
    "email-sender",
    "slack-sender",
    "ses-feedback",
    "api",
];

#[derive(Debug, Serialize)]
pub struct ColdStart {
    pub function: String,
    /// Median of the runs, milliseconds.
    pub init_ms: f64,
    pub runs: usize,
    /// Size of the host release binary (what was timed).
    pub host_bytes: u64,
    /// Size of the arm64 Lambda package's `bootstrap`, when `cargo lambda build` made one.
    pub arm64_bytes: Option<u64>,
}

/// Configuration as the template gives it; secrets as the local stack passes them.
fn environment(function: &str, port: u16) -> Vec<(&'static str, String)> {
    let q = "https://sqs.us-east-1.amazonaws.com/123456789012";
    vec![
        ("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}")),
        (
            "AWS_LAMBDA_FUNCTION_NAME",
            format!("journey-bench-{function}"),
        ),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".into()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench".into()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench".into()),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "bench".into()),
        ("AWS_SECRET_ACCESS_KEY", "bench".into()),
        ("TABLE_NAME", "journey-bench".into()),
        ("EVENTS_QUEUE_URL", format!("{q}/journey-bench-events.fifo")),
        ("EMAIL_QUEUE_URL", format!("{q}/journey-bench-email")),
        ("SLACK_QUEUE_URL", format!("{q}/journey-bench-slack")),
        ("EVENT_BUS_NAME", "journey-bench".into()),
        ("SENDER_EMAIL", "journey@example.com".into()),
        ("SES_CONFIGURATION_SET", "journey-bench".into()),
        ("API_URL", "https://api.example.com".into()),
        ("APP_URL", "https://app.example.com".into()),
        ("DASHBOARD_URL", "https://api.example.com/".into()),
        ("BRAND_NAME", "Journey".into()),
        ("OFFER_CODE", "WELCOMEBACK".into()),
        ("DEFAULT_LOCALE", "ko".into()),
        (
            "JOURNEY_SECRET_STRIPE_WEBHOOK",
            "whsec_bench_generated_at_run".into(),
        ),
        (
            "JOURNEY_SECRET_APP_WEBHOOK",
            "whsec_YmVuY2gtZ2VuZXJhdGVkLWF0LXJ1bi0xMjM0NTY=".into(),
        ),
        (
            "JOURNEY_SECRET_UNSUBSCRIBE_KEY",
            "bench-generated-at-run".into(),
        ),
        (
            "JOURNEY_SECRET_API_KEY",
            "admin_bench-generated-at-run-0123456789abcdef".into(),
        ),
        (
            "JOURNEY_SECRET_SLACK_WEBHOOK_URL",
            "https://hooks.slack.com/services/TBENCH/BBENCH/bench".into(),
        ),
    ]
}

/// One start: milliseconds from spawn to the first `GET …/invocation/next`.
async fn once(binary: &Path, function: &str) -> Result<f64, String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let started = Instant::now();
    let mut child = Command::new(binary)
        .env_clear()
        .envs(environment(function, port))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("{}: {e}", binary.display()))?;
    let waited = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let (mut socket, _) = listener.accept().await.map_err(|e| e.to_string())?;
            let mut buf = vec![0u8; 1024];
            let n = socket.read(&mut buf).await.map_err(|e| e.to_string())?;
            if String::from_utf8_lossy(&buf[..n]).contains("/runtime/invocation/next") {
                return Ok::<f64, String>(started.elapsed().as_secs_f64() * 1000.0);
            }
        }
    })
    .await;
    let _ = child.start_kill();
    let output = child.wait_with_output().await.map_err(|e| e.to_string())?;
    match waited {
        Ok(result) => result,
        Err(_) => Err(format!(
            "{function} never polled the runtime API: {}",
            String::from_utf8_lossy(&output.stderr)
        )),
    }
}

/// Where `make bench` builds the binaries (Cargo.toml, `[profile.harness]`).
pub const BIN_DIR: &str = "target/harness";

fn size(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

pub async fn run(root: &Path, runs: usize) -> Result<Vec<ColdStart>, String> {
    let mut results = Vec::new();
    for function in FUNCTIONS {
        let binary: PathBuf = root.join(BIN_DIR).join(function);
        let host_bytes = size(&binary).ok_or_else(|| {
            format!(
                "{} is missing: build with `cargo build --profile harness --bins` (make bench)",
                binary.display()
            )
        })?;
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            times.push(once(&binary, function).await?);
        }
        times.sort_by(f64::total_cmp);
        results.push(ColdStart {
            function: function.to_string(),
            init_ms: times[times.len() / 2],
            runs,
            host_bytes,
            arm64_bytes: size(&root.join("target/lambda").join(function).join("bootstrap")),
        });
    }
    Ok(results)
}

//! `journey-local run`: the stack in the foreground until Ctrl-C.

use std::net::SocketAddr;
use std::sync::Arc;

use aws_config::{BehaviorVersion, SdkConfig};
use tokio::net::TcpListener;

use crate::config::LocalConfig;
use crate::emulator::Moto;
use crate::gateway::ROUTES;
use crate::stack::{LocalStack, emulator_config};

/// The AWS side: an emulator we start, or the one (or the account) the environment names.
pub enum Backend {
    Started(Moto),
    External,
}

/// Starts moto unless `AWS_ENDPOINT_URL` is set or `JOURNEY_EMULATOR=none`, and returns the SDK
/// configuration pointing at it.
pub async fn backend(config: &LocalConfig) -> Result<(Backend, SdkConfig, Option<String>), String> {
    let external =
        config.endpoint.is_some() || std::env::var("JOURNEY_EMULATOR").is_ok_and(|v| v == "none");
    if external {
        let aws = match &config.endpoint {
            // another emulator: it wants some credentials, any will do
            Some(endpoint) if std::env::var("AWS_ACCESS_KEY_ID").is_err() => {
                emulator_config(endpoint).await
            }
            _ => aws_config::defaults(BehaviorVersion::latest()).load().await,
        };
        return Ok((Backend::External, aws, config.endpoint.clone()));
    }
    std::fs::create_dir_all(&config.state_dir).map_err(|e| e.to_string())?;
    let (root, port, log) = (
        config.root.clone(),
        config.emulator_port,
        config.state_dir.join("moto.log"),
    );
    let moto = tokio::task::spawn_blocking(move || Moto::start(&root, port, &log))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("{e} (set JOURNEY_EMULATOR_PORT for another port)"))?;
    let url = moto.url();
    let aws = emulator_config(&url).await;
    Ok((Backend::Started(moto), aws, Some(url)))
}

/// Binds the gateway's port first, so a second start fails at once and says why.
pub async fn bind(config: &LocalConfig) -> Result<TcpListener, String> {
    TcpListener::bind((config.host.as_str(), config.port)).await.map_err(|e| {
        format!(
            "cannot listen on {}:{}: {e}. Is another `make dev` running? Set JOURNEY_HTTP_PORT to use another port.",
            config.host, config.port
        )
    })
}

pub async fn run(config: LocalConfig) -> Result<(), String> {
    let listener = bind(&config).await?;
    let (backend, aws, endpoint) = backend(&config).await?;
    let stack = LocalStack::build(config, &aws, endpoint).await?;
    let tasks = stack.start_background();
    banner(&stack, &backend);
    let app = stack
        .router()
        .into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("stopping");
        })
        .await;
    for task in tasks {
        task.abort();
    }
    drop(backend); // stops the emulator we started
    served.map_err(|e| e.to_string())
}

fn banner(stack: &Arc<LocalStack>, backend: &Backend) {
    let base = stack.config.base_url();
    let emulator = match backend {
        Backend::Started(moto) => format!("moto on {} (stopped with Ctrl-C)", moto.url()),
        Backend::External => "the endpoint in AWS_ENDPOINT_URL / the AWS account".into(),
    };
    let mut routes = String::new();
    for (method, path, _) in ROUTES {
        routes.push_str(&format!("\n    {method:6} {base}{path}"));
    }
    let sweep = match stack.config.sweep_every {
        Some(every) => format!("every {} s (JOURNEY_SWEEP_EVERY)", every.as_secs()),
        None => "only on request".into(),
    };
    println!(
        "\nJourney is running locally (env `{env}`).\n  AWS:     {emulator}\n  table:   {table}\n  log:     s3://{log}/log/ (EVENT_LOG_BUCKET={log})\n  routes:{routes}\n  local:   GET  {base}/_local/health · GET/POST {base}/_local/clock · POST {base}/_local/sweep {{\"time\"}}\n           POST {base}/_local/settle · GET {base}/_local/counts · GET {base}/_local/customers/{{id}}\n           POST {base}/_local/calibrate (the weekly calibration, now)\n  sweep:   {sweep}\n  secrets: {secrets} (sign your test webhooks with these)\n  Try `make demo` in another terminal. Ctrl-C stops everything.\n",
        env = stack.config.env,
        table = stack.resources.table,
        log = stack.resources.log_bucket,
        secrets = stack.config.state_dir.join("secrets.env").display(),
    );
}

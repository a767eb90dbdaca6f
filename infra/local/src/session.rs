//! A stack for a command that talks to it through the gateway (`demo`, `replay`): the running
//! one (`make dev`) when there is one, else one started for the command and stopped after it.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::task::JoinHandle;

use crate::config::LocalConfig;
use crate::run::{Backend, backend, bind};
use crate::secrets::LocalSecrets;
use crate::signing::Gateway;
use crate::stack::LocalStack;

pub struct Session {
    /// Signed requests to the gateway, with the stack's secrets.
    pub gateway: Gateway,
    own: Option<OwnStack>,
}

/// What a session started itself, stopped in [`Session::close`].
struct OwnStack {
    backend: Backend,
    tasks: Vec<JoinHandle<()>>,
    server: JoinHandle<std::io::Result<()>>,
    _stack: Arc<LocalStack>,
}

impl Session {
    /// Finds the stack on the configured port or starts one; `purpose` names the command in the
    /// message saying so.
    pub async fn open(config: &LocalConfig, purpose: &str) -> Result<Session, String> {
        let base = config.base_url();
        let running = reqwest::Client::new()
            .get(format!("{base}/_local/health"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        let own = if running {
            None
        } else {
            println!(
                "No stack on {base}: starting one for the {purpose} (run `make dev` to keep it up)."
            );
            Some(OwnStack::start(config).await?)
        };
        let secrets = LocalSecrets::load_or_create(&config.state_dir).map_err(|e| e.to_string())?;
        let gateway = Gateway::new(base, &secrets);
        Ok(Session { gateway, own })
    }

    /// The emulator's resident memory, when this session started it.
    pub fn emulator_rss_bytes(&self) -> Option<u64> {
        match &self.own.as_ref()?.backend {
            Backend::Started(moto) => moto.rss_bytes(),
            Backend::External => None,
        }
    }

    /// Stops what the session started (the emulator last).
    pub fn close(self) {
        if let Some(own) = self.own {
            for task in own.tasks {
                task.abort();
            }
            own.server.abort();
            drop(own.backend);
        }
    }
}

impl OwnStack {
    async fn start(config: &LocalConfig) -> Result<OwnStack, String> {
        let listener = bind(config).await?;
        let (backend, aws, endpoint) = backend(config).await?;
        let stack = LocalStack::build(config.clone(), &aws, endpoint).await?;
        let tasks = stack.start_background();
        let app = stack
            .router()
            .into_make_service_with_connect_info::<SocketAddr>();
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(OwnStack {
            backend,
            tasks,
            server,
            _stack: stack,
        })
    }
}

//! The local stack's settings, from environment variables (all optional).

use std::path::PathBuf;
use std::time::Duration;

use journey::config::{ConfigError, parsed_or};

/// | variable | default | meaning |
/// |---|---|---|
/// | `JOURNEY_HTTP_HOST` / `JOURNEY_HTTP_PORT` | `127.0.0.1` / `3000` | the API Gateway stand-in |
/// | `AWS_ENDPOINT_URL` | unset: start moto | an emulator already running, or unset for our own |
/// | `JOURNEY_EMULATOR_PORT` | `5005` | port of the moto server we start |
/// | `JOURNEY_SWEEP_EVERY` | `60` | seconds between scheduled sweeps (0: only on request) |
/// | `JOURNEY_ENV` | `local` | environment name in resource names, as `EnvName` in the template |
/// | `JOURNEY_STATE_DIR` | `.local` | generated secrets, the Slack log, the emulator's log |
/// | `SENDER_EMAIL` | `journey@example.com` | the From address (an SES identity in the emulator) |
/// | `SLACK_WEBHOOK_URL` | unset: `<state dir>/slack.log` | where staff alerts go |
#[derive(Clone, Debug)]
pub struct LocalConfig {
    pub host: String,
    pub port: u16,
    pub endpoint: Option<String>,
    pub emulator_port: u16,
    pub sweep_every: Option<Duration>,
    pub env: String,
    pub state_dir: PathBuf,
    /// The workspace root (for `.venv`).
    pub root: PathBuf,
    /// The sender identity created in the emulator's SES.
    pub sender_email: String,
    /// Without `RULES_FILE`, the built-in rules with texts added (`texts::with_texts`), so the
    /// Solapi stand-in has something to show: `run` (`make dev`) and `demo` set it.
    pub texts: bool,
}

impl LocalConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let root = std::env::current_dir().map_err(|e| ConfigError::Invalid {
            name: "PWD".into(),
            reason: e.to_string(),
        })?;
        let sweep_every: u64 = parsed_or("JOURNEY_SWEEP_EVERY", 60)?;
        let state_dir: String = parsed_or("JOURNEY_STATE_DIR", ".local".to_string())?;
        Ok(LocalConfig {
            host: parsed_or("JOURNEY_HTTP_HOST", "127.0.0.1".to_string())?,
            port: parsed_or("JOURNEY_HTTP_PORT", 3000)?,
            endpoint: std::env::var("AWS_ENDPOINT_URL")
                .ok()
                .filter(|v| !v.is_empty()),
            emulator_port: parsed_or("JOURNEY_EMULATOR_PORT", 5005)?,
            sweep_every: (sweep_every > 0).then(|| Duration::from_secs(sweep_every)),
            env: parsed_or("JOURNEY_ENV", "local".to_string())?,
            state_dir: root.join(state_dir),
            root,
            sender_email: parsed_or("SENDER_EMAIL", "journey@example.com".to_string())?,
            texts: false,
        })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }
}

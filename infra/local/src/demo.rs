//! `journey-local demo`: placeholder until the scenario lands.

use crate::config::LocalConfig;

pub async fn demo(_config: LocalConfig) -> Result<(), String> {
    Err("the demo scenario is not there yet".into())
}

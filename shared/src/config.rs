//! Typed configuration from environment variables, read once at start-up. A missing or bad
//! variable fails the cold start with a message naming it, instead of failing later per request.

use std::str::FromStr;

use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(String),
    #[error("environment variable {name}: {reason}")]
    Invalid { name: String, reason: String },
}

/// A variable that must be set and non-empty.
pub fn required(name: &str) -> Result<String, ConfigError> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(ConfigError::Missing(name.to_string())),
    }
}

/// A variable parsed as `T`, or `default` when unset.
pub fn parsed_or<T: FromStr>(name: &str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => {
            v.trim().parse().map_err(|e: T::Err| ConfigError::Invalid {
                name: name.to_string(),
                reason: e.to_string(),
            })
        }
        _ => Ok(default),
    }
}

/// The rules file's text: the file named by `RULES_FILE` if set, else the `infra/rules.toml`
/// built into the binary. Rules versions are overlays on it.
pub fn rules_text() -> Result<String, ConfigError> {
    rules_text_or(crate::domain::rules::DEFAULT_RULES_TOML.to_string())
}

/// The file named by `RULES_FILE` if set, else `default`.
pub fn rules_text_or(default: String) -> Result<String, ConfigError> {
    match std::env::var("RULES_FILE") {
        Ok(path) if !path.trim().is_empty() => {
            std::fs::read_to_string(&path).map_err(|e| ConfigError::Invalid {
                name: "RULES_FILE".into(),
                reason: format!("{path}: {e}"),
            })
        }
        _ => Ok(default),
    }
}

/// The rules (see [`rules_text`]). A bad file fails start-up naming the key.
pub fn rules() -> Result<crate::domain::Rules, ConfigError> {
    parse_rules(&rules_text()?)
}

/// The rules of a text [`rules_text`] returned, for callers that keep the text too.
pub fn parse_rules(text: &str) -> Result<crate::domain::Rules, ConfigError> {
    crate::domain::Rules::from_toml(text).map_err(|e| ConfigError::Invalid {
        name: "RULES_FILE".into(),
        reason: e.to_string(),
    })
}

//! Versions of the rules. A version is an *overlay*: the TOML keys it changes (calibration
//! changes the score's weights and thresholds), merged over the deployed rules file, so a new
//! deployment's templates and schedules still apply. Every version is kept with its origin, time
//! and backtest metrics; one is active; activating an earlier one is a roll-back.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::backtest::Metrics;
use crate::domain::{Rules, RulesError};

/// The calibration guard is a product rule: it lives in the domain.
pub use crate::backtest::judge;
use crate::ports::{RulesRegistry, StoreError};
use crate::templates::Catalogue;

/// Where a version came from.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    utoipa::ToSchema,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The deployed rules file as it is (an empty overlay).
    Default,
    /// Fitted from recorded outcomes by the calibration job.
    Calibrated,
    /// Written by a person.
    Edited,
    /// The version in force with its variants re-allocated by their outcomes (Thompson
    /// sampling), by the calibration job.
    Allocated,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RulesVersion {
    /// 1, 2, 3 … in the order stored.
    pub number: u32,
    pub origin: Origin,
    pub created_at: DateTime<Utc>,
    /// TOML merged over the deployed rules file; empty for the file as it is.
    pub overlay: String,
    /// The backtest on the history it was judged on (the holdout, for a calibrated version).
    /// Recall per level, precision, false alarms, lead times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub metrics: Option<Metrics>,
    #[serde(default)]
    pub note: String,
    /// Held for an admin's approval, or the approval this version is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
}

/// A calibration that would move the rules further than the weekly step allows is stored but
/// not activated (security review M4): an admin approves it, and the approval is a new version
/// with the same overlay, saying whose it is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Approval {
    /// Waits for an admin: why, and the version it was judged against (an approval after the
    /// rules in force changed would activate something judged against other rules).
    Awaiting {
        reason: String,
        judged_against: Option<u32>,
    },
    /// This version activates held version `of`, approved by `by`.
    Given { of: u32, by: String },
}

/// The number the next stored version takes: one above every number stored.
pub async fn next_number<R: RulesRegistry>(registry: &R) -> Result<u32, StoreError> {
    Ok(number_after(&registry.rules_versions().await?))
}

/// The number the next version takes after `versions` (already read).
pub fn number_after(versions: &[RulesVersion]) -> u32 {
    versions.iter().map(|v| v.number).max().unwrap_or(0) + 1
}

impl RulesVersion {
    /// The rules this version makes of the deployed file `base`.
    pub fn rules(&self, base: &str) -> Result<Rules, RulesError> {
        Rules::from_toml_with_overlay(base, &self.overlay)
    }

    /// The version as a list shows it (security review L8): a learned model's trees (up to
    /// hundreds of kilobytes each) left out of the overlay, and how many there were.
    pub fn summary(&self) -> (RulesVersion, usize) {
        let Ok(mut root) = self.overlay.parse::<toml::Table>() else {
            return (self.clone(), 0);
        };
        let mut trees = drop_model(&mut root);
        if let Some(toml::Value::Table(programs)) = root.get_mut("programs") {
            for (_, program) in programs.iter_mut() {
                if let toml::Value::Table(p) = program {
                    trees += drop_model(p);
                }
            }
        }
        if trees == 0 {
            return (self.clone(), 0);
        }
        let overlay = toml::to_string(&root).unwrap_or_default();
        (
            RulesVersion {
                overlay,
                ..self.clone()
            },
            trees,
        )
    }
}

/// Takes a learned model's table out of `scope`'s `[score]` (a `"none"` marker stays);
/// the number of trees it held.
fn drop_model(scope: &mut toml::Table) -> usize {
    let Some(toml::Value::Table(score)) = scope.get_mut("score") else {
        return 0;
    };
    match score.get("model") {
        Some(toml::Value::Table(model)) => {
            let trees = model
                .get("trees")
                .and_then(toml::Value::as_array)
                .map_or(0, Vec::len);
            score.remove("model");
            trees
        }
        _ => 0,
    }
}

/// The active version and when it became active.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActiveRules {
    pub version: RulesVersion,
    pub activated_at: DateTime<Utc>,
}

/// The rules a long-running function applies, shared with whoever replaces them.
#[derive(Clone, Debug)]
pub struct RulesHandle(Arc<RwLock<Arc<Rules>>>);

impl RulesHandle {
    pub fn new(rules: Rules) -> Self {
        RulesHandle(Arc::new(RwLock::new(Arc::new(rules))))
    }

    pub fn get(&self) -> Arc<Rules> {
        match self.0.read() {
            Ok(r) => r.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn set(&self, rules: Rules) {
        match self.0.write() {
            Ok(mut w) => *w = Arc::new(rules),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(rules),
        }
    }
}

/// Keeps a [`RulesHandle`] on the active version: re-reads it at most every `every`, so a
/// calibration or a roll-back reaches warm functions within that time, for one `GetItem`.
pub struct LiveRules<R> {
    registry: R,
    base: String,
    every: Duration,
    handle: RulesHandle,
    state: Mutex<(Option<Instant>, Option<u32>)>,
    /// When set, a version that sends a template not built in is refused like a corrupted one.
    templates: Option<Catalogue>,
}

impl<R: RulesRegistry> LiveRules<R> {
    pub fn new(registry: R, base: String, every: Duration, handle: RulesHandle) -> Self {
        LiveRules {
            registry,
            base,
            every,
            handle,
            state: Mutex::new((None, None)),
            templates: None,
        }
    }

    /// Refuses versions whose rules send a template (or variant) `templates` lacks: the
    /// function that plans interventions would otherwise plan messages no sender can render.
    pub fn checking(mut self, templates: Catalogue) -> Self {
        self.templates = Some(templates);
        self
    }

    /// The version's rules over the deployed file, and every template they send built in.
    fn load(&self, version: &RulesVersion) -> Result<Rules, String> {
        let rules = version.rules(&self.base).map_err(|e| e.to_string())?;
        if let Some(templates) = &self.templates {
            templates.check(&rules).map_err(|e| e.to_string())?;
        }
        Ok(rules)
    }

    /// Re-reads the active version if the last read is older than `every`. A version that no
    /// longer parses against the deployed file (or sends a template not built in) is logged, reported as
    /// [`Refresh::Rejected`] (the caller counts it) and the rules in force are kept: a
    /// corrupted version never stops the function.
    pub async fn refresh(&self) -> Result<Refresh, StoreError> {
        let applied = {
            let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if state.0.is_some_and(|at| at.elapsed() < self.every) {
                return Ok(Refresh::Unchanged);
            }
            state.1
        };
        let active = self.registry.active_rules().await?;
        let number = active.as_ref().map(|a| a.version.number);
        let mut outcome = Refresh::Unchanged;
        if number != applied
            && let Some(active) = active
        {
            let version = active.version.number;
            match self.load(&active.version) {
                Ok(rules) => {
                    tracing::info!(version, "rules version applied");
                    self.handle.set(rules);
                    outcome = Refresh::Applied(version);
                }
                Err(e) => {
                    tracing::error!(
                        version,
                        error = %e,
                        "active rules version does not fit the deployed rules file or templates; keeping the rules in force"
                    );
                    outcome = Refresh::Rejected { version, why: e };
                }
            }
        }
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = (Some(Instant::now()), number);
        Ok(outcome)
    }
}

/// What a [`LiveRules::refresh`] did.
#[derive(Clone, Debug, PartialEq)]
pub enum Refresh {
    /// Nothing new (or not yet time to look).
    Unchanged,
    /// This version now applies.
    Applied(u32),
    /// This version is active but does not fit the deployed file: the rules in force stay.
    Rejected { version: u32, why: String },
}

impl Refresh {
    /// The count an operator alarms on (`RulesVersionRejected`): 1 for a rejected version.
    pub fn rejected(&self) -> f64 {
        match self {
            Refresh::Rejected { .. } => 1.0,
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_is_an_overlay_on_the_deployed_file() {
        let base = crate::domain::rules::DEFAULT_RULES_TOML;
        let v = RulesVersion {
            number: 2,
            origin: Origin::Edited,
            created_at: chrono::DateTime::UNIX_EPOCH,
            overlay: "[score.thresholds]\ncaution = 30.0\nwarning = 50.0\ndanger = 70.0\n".into(),
            metrics: None,
            note: String::new(),
            approval: None,
        };
        let rules = v.rules(base).unwrap();
        assert_eq!(rules.default_policy().score.thresholds.caution, 30.0);
        assert_eq!(
            rules.default_policy().inactivity.caution_days,
            7,
            "inherited"
        );
        let bad = RulesVersion {
            overlay: "[score.thresholds]\ncaution = 90.0\n".into(),
            ..v
        };
        assert!(bad.rules(base).is_err(), "caution above warning");
    }

    /// A registry holding one active version and nothing else.
    struct OneVersion(RulesVersion);

    impl RulesRegistry for OneVersion {
        async fn active_rules(&self) -> Result<Option<ActiveRules>, StoreError> {
            Ok(Some(ActiveRules {
                version: self.0.clone(),
                activated_at: DateTime::UNIX_EPOCH,
            }))
        }
        async fn rules_versions(&self) -> Result<Vec<RulesVersion>, StoreError> {
            Ok(vec![self.0.clone()])
        }
        async fn add_rules_version(
            &self,
            _: &RulesVersion,
            _: bool,
            _: Option<u32>,
            _: DateTime<Utc>,
        ) -> Result<(), StoreError> {
            Ok(())
        }
        async fn activate_rules(
            &self,
            _: u32,
            _: Option<u32>,
            _: DateTime<Utc>,
        ) -> Result<(), StoreError> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_corrupted_version_is_reported_and_the_rules_in_force_stay() {
        let base = crate::domain::rules::DEFAULT_RULES_TOML;
        let embedded = Rules::from_toml(base).unwrap();
        for overlay in [
            "[score.thresholds]\ncaution = \"forty\"\n",
            "[score.thresholds]\ncaution = 90.0\nwarning = 50.0\n",
            "not toml at all [",
            "[interventions.risk_caution]\nemail = \"no_such_template\"\n",
        ] {
            let handle = RulesHandle::new(embedded.clone());
            let version = RulesVersion {
                number: 7,
                origin: Origin::Edited,
                created_at: DateTime::UNIX_EPOCH,
                overlay: overlay.into(),
                metrics: None,
                note: String::new(),
                approval: None,
            };
            let live = LiveRules::new(
                OneVersion(version),
                base.into(),
                Duration::ZERO,
                handle.clone(),
            )
            .checking(Catalogue::embedded().unwrap());
            let outcome = live.refresh().await.unwrap();
            let Refresh::Rejected { version, why } = &outcome else {
                panic!("{overlay}: expected a rejection, got {outcome:?}");
            };
            assert_eq!(*version, 7);
            assert!(!why.is_empty());
            assert_eq!(outcome.rejected(), 1.0);
            assert_eq!(
                *handle.get(),
                embedded,
                "{overlay}: the rules in force stay"
            );
            assert_eq!(
                live.refresh().await.unwrap(),
                Refresh::Unchanged,
                "reported once, not on every batch"
            );
        }
    }
}

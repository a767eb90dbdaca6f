//! Winners chosen by the data: after each calibration, every customer e-mail with variants
//! gets the shares Thompson sampling gives its treated outcomes so far (each variant's
//! probability of recovering the most customers), stored as a rules version of its own so the
//! allocation in force at any moment is on record, and a replay with that version assigns the
//! same variants. `experiments.adaptive = false` in the rules switches it off.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use journey::domain::Rules;
use journey::domain::experiment::{Group, allocation};
use journey::ports::{JourneyReader, RulesRegistry, TemplateTally};
use journey::rules_versions::{Origin, RulesVersion, next_number};

use crate::CalibrationError;

/// A share has to move by this much before a new version is written: each version is a row
/// an operator reads, and a tiny drift changes almost no customer's variant.
const MIN_CHANGE: f64 = 0.02;

/// What the allocation step did, in words, and the version it stored.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Allocated {
    pub message: String,
    pub stored: Option<u32>,
}

/// Re-allocates the variants of the rules in force (the deployed file `base` with the active
/// version's overlay) from the stored outcomes; `dry_run` stores nothing.
pub async fn allocate<S: RulesRegistry + JourneyReader>(
    store: &S,
    base: &str,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<Allocated, CalibrationError> {
    let active = store.active_rules().await?;
    let overlay = active.as_ref().map_or("", |a| a.version.overlay.as_str());
    let rules = Rules::from_toml_with_overlay(base, overlay)?;
    let policy = rules.default_policy();
    if !policy.experiments.adaptive {
        return Ok(said(
            "adaptive allocation is off (experiments.adaptive = false)",
        ));
    }
    // only months whose outcomes are all in: the newest assignments would read low, and the
    // variant given most lately most of all
    let experiments = TemplateTally::experiments(&store.tallies().await?)
        .settled(now, policy.experiments.outcome_days);
    let mut changes = BTreeMap::new();
    for (trigger, plan) in &policy.interventions {
        let Some(template) = plan.email.as_ref().filter(|_| plan.variants.len() > 1) else {
            continue;
        };
        let treated = experiments.variants(template);
        let groups: BTreeMap<String, Group> = plan
            .variants
            .iter()
            .map(|v| (v.clone(), treated.get(v).copied().unwrap_or_default()))
            .collect();
        let shares = allocation(&groups);
        let moved = shares.iter().any(|(v, share)| {
            let now_in_force = plan.allocation.get(v).copied();
            now_in_force.is_none_or(|current| (current - share).abs() >= MIN_CHANGE)
        });
        if moved && groups.values().any(|g| g.assigned > 0) {
            changes.insert(trigger.as_str(), (template.clone(), shares));
        }
    }
    if changes.is_empty() {
        return Ok(said("the variants' shares did not move"));
    }
    let text = with_allocations(overlay, &changes)?;
    // the new overlay must still make rules, or nothing is stored
    Rules::from_toml_with_overlay(base, &text)?;
    let note = describe(&changes);
    if dry_run {
        return Ok(said(&format!("{note} (dry run: nothing stored)")));
    }
    let number = next_number(store).await?;
    let version = RulesVersion {
        number,
        origin: Origin::Allocated,
        created_at: now,
        overlay: text,
        metrics: active.as_ref().and_then(|a| a.version.metrics.clone()),
        note: note.clone(),
        approval: None,
    };
    let expected = active.as_ref().map(|a| a.version.number);
    store
        .add_rules_version(&version, true, expected, now)
        .await?;
    Ok(Allocated {
        message: note,
        stored: Some(number),
    })
}

fn said(message: &str) -> Allocated {
    Allocated {
        message: message.to_string(),
        stored: None,
    }
}

/// `overlay` with `[interventions.<trigger>.allocation]` set for each change.
fn with_allocations(
    overlay: &str,
    changes: &BTreeMap<&str, (String, BTreeMap<String, f64>)>,
) -> Result<String, CalibrationError> {
    let mut table: toml::Table = overlay
        .parse()
        .map_err(|e: toml::de::Error| CalibrationError::Fit(format!("active overlay: {e}")))?;
    let interventions = table
        .entry("interventions")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let Some(interventions) = interventions.as_table_mut() else {
        return Err(CalibrationError::Fit(
            "active overlay: `interventions` is not a table".into(),
        ));
    };
    for (trigger, (_, shares)) in changes {
        let plan = interventions
            .entry(trigger.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let Some(plan) = plan.as_table_mut() {
            let shares: toml::Table = shares
                .iter()
                .map(|(v, s)| (v.clone(), toml::Value::Float(*s)))
                .collect();
            plan.insert("allocation".into(), toml::Value::Table(shares));
        }
    }
    Ok(table.to_string())
}

fn describe(changes: &BTreeMap<&str, (String, BTreeMap<String, f64>)>) -> String {
    let parts: Vec<String> = changes
        .values()
        .map(|(template, shares)| {
            let each: Vec<String> = shares.iter().map(|(v, s)| format!("{v} {s:.2}")).collect();
            format!("{template} {}", each.join(", "))
        })
        .collect();
    format!("variants allocated by their outcomes: {}", parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use journey::domain::intervention::Trigger;
    use journey::domain::rules::DEFAULT_RULES_TOML;

    #[test]
    fn an_allocation_is_added_to_the_overlay_in_force_and_makes_rules() {
        let active = "[score.thresholds]\ncaution = 35.0\nwarning = 60.0\ndanger = 80.0\n";
        let shares: BTreeMap<String, f64> = [("a".to_string(), 0.8), ("b".to_string(), 0.2)].into();
        let changes = [("risk_warning", ("special_offer".to_string(), shares))].into();
        let text = with_allocations(active, &changes).unwrap();
        let rules = Rules::from_toml_with_overlay(DEFAULT_RULES_TOML, &text).unwrap();
        let policy = rules.default_policy();
        assert_eq!(
            policy.score.thresholds.caution, 35.0,
            "the overlay in force is kept"
        );
        let plan = &policy.interventions[&Trigger::RiskWarning];
        assert_eq!(plan.allocation["a"], 0.8);
        assert_eq!(
            plan.email.as_deref(),
            Some("special_offer"),
            "the rest inherited"
        );
        let used = plan.shares(0.1).unwrap();
        assert!(
            (used[0] - 0.74).abs() < 1e-9 && (used[1] - 0.26).abs() < 1e-9,
            "{used:?}"
        );
        assert_eq!(
            describe(&changes),
            "variants allocated by their outcomes: special_offer a 0.80, b 0.20"
        );
    }
}

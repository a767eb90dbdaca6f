//! Where a customer is in their lifecycle (`Stage`) and how close they are to leaving
//! (`RiskLevel`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::DomainError;

/// The lifecycle stage. `completed` and `churned` are terminal: no risk level, no inactivity
/// clock; only a new payment brings a churned customer back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Trial,
    Paid,
    Onboarding,
    Active,
    Engaged,
    Completed,
    Churned,
}

impl Stage {
    pub const ALL: [Stage; 7] = [
        Stage::Trial,
        Stage::Paid,
        Stage::Onboarding,
        Stage::Active,
        Stage::Engaged,
        Stage::Completed,
        Stage::Churned,
    ];

    pub fn is_terminal(self) -> bool {
        matches!(self, Stage::Completed | Stage::Churned)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Trial => "trial",
            Stage::Paid => "paid",
            Stage::Onboarding => "onboarding",
            Stage::Active => "active",
            Stage::Engaged => "engaged",
            Stage::Completed => "completed",
            Stage::Churned => "churned",
        }
    }
}

/// How close a customer is to leaving. Ordered: `none < caution < warning < danger`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    #[default]
    None,
    Caution,
    Warning,
    Danger,
}

impl RiskLevel {
    pub const ALL: [RiskLevel; 4] = [
        RiskLevel::None,
        RiskLevel::Caution,
        RiskLevel::Warning,
        RiskLevel::Danger,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::None => "none",
            RiskLevel::Caution => "caution",
            RiskLevel::Warning => "warning",
            RiskLevel::Danger => "danger",
        }
    }
}

macro_rules! text_enum {
    ($ty:ident, $field:literal) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $ty {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| DomainError::invalid($field, format!("unknown value `{s}`")))
            }
        }
    };
}

text_enum!(Stage, "stage");
text_enum!(RiskLevel, "risk");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Stage::ALL {
            assert_eq!(s.as_str().parse::<Stage>().ok(), Some(s));
        }
        for r in RiskLevel::ALL {
            assert_eq!(r.as_str().parse::<RiskLevel>().ok(), Some(r));
        }
    }

    #[test]
    fn unknown_stage_is_a_typed_error() {
        let err = "dormant".parse::<Stage>().unwrap_err();
        assert_eq!(err.to_string(), "invalid stage: unknown value `dormant`");
    }

    #[test]
    fn risk_levels_are_ordered() {
        assert!(RiskLevel::None < RiskLevel::Caution);
        assert!(RiskLevel::Warning < RiskLevel::Danger);
    }
}

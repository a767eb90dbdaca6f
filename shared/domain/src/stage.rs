//! Where a customer is in their lifecycle (`Stage`) and how close they are to leaving
//! (`RiskLevel`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::DomainError;

/// The lifecycle stage. `completed` and `churned` are terminal: no risk level, no inactivity
/// clock; only a new payment brings a churned customer back.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
        self.into()
    }
}

/// How close a customer is to leaving. Ordered: `none < caution < warning < danger`.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
        self.into()
    }

    /// Not at risk (for serde's `skip_serializing_if`).
    pub fn is_none(&self) -> bool {
        *self == RiskLevel::None
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

    /// The names logs, metrics, keys and the dashboard use are derived (strum) by the same rule
    /// as the stored and wire names (serde): one spelling per value.
    #[test]
    fn derived_names_are_the_serde_names() {
        fn same<T: serde::Serialize>(value: T, name: &str) {
            assert_eq!(serde_json::to_value(value).unwrap(), name, "{name}");
        }
        Stage::ALL.into_iter().for_each(|s| same(s, s.as_str()));
        RiskLevel::ALL.into_iter().for_each(|r| same(r, r.as_str()));
        crate::Signal::ALL
            .into_iter()
            .for_each(|s| same(s, s.as_str()));
        use crate::intervention::{Channel, Trigger};
        for t in [
            Trigger::RiskCaution,
            Trigger::WinBack,
            Trigger::NpsDetractor,
        ] {
            same(t, t.as_str());
        }
        for c in [
            Channel::Email,
            Channel::Slack,
            Channel::OwnerEmail,
            Channel::Text,
        ] {
            same(c, c.as_str());
        }
        use crate::apply::{DomainEventDetail, TallyMetric};
        use crate::customer::ChurnReason;
        use crate::event::ContactChannel;
        for r in [
            ChurnReason::RefundRequested,
            ChurnReason::SubscriptionCancelled,
            ChurnReason::Inactivity,
        ] {
            same(r, r.as_str());
        }
        for c in [ContactChannel::Phone, ContactChannel::NoAnswer] {
            same(c, c.as_str());
        }
        for m in [TallyMetric::Sent, TallyMetric::Recovered] {
            same(m, m.as_str());
        }
        let changed = DomainEventDetail::RiskChanged {
            from: RiskLevel::None,
            to: RiskLevel::Caution,
            reason: "risk score 41".into(),
        };
        assert_eq!(
            serde_json::to_value(&changed).unwrap()["type"],
            changed.name()
        );
        let kind = crate::EventKind::NpsResponse {
            score: crate::NpsScore::new(3).unwrap(),
        };
        assert_eq!(serde_json::to_value(&kind).unwrap()["type"], kind.name());
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

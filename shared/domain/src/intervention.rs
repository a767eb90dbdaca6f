//! Interventions: the messages the system sends when something happens to a customer — an
//! e-mail to the customer, a Slack alert (or e-mail) to their owner.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{CustomerId, EventId, InterventionId, stable_bucket};

/// Why an intervention is planned. The rules map each trigger to its messages.
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
pub enum Trigger {
    TrialStarted,
    OnboardingStarted,
    RiskCaution,
    RiskWarning,
    RiskDanger,
    PaymentFailed,
    RenewalUpcoming,
    TrialEnding,
    NpsSurvey,
    NpsDetractor,
    NpsPromoter,
    SupportTickets,
    ReviewRequest,
    ReferralCode,
    RelatedOffer,
    WinBack,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Where a message goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Channel {
    /// E-mail to the customer.
    Email,
    /// Slack alert to staff, addressed to the owner.
    Slack,
    /// The staff alert by e-mail to the owner's address.
    OwnerEmail,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What the rules say a trigger sends.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Template of the e-mail to the customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Template of the Slack alert to staff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack: Option<String>,
    /// Also send the staff alert by e-mail to the owner (uses the `slack` template's text).
    #[serde(default)]
    pub owner_email: bool,
    /// A/B variants of the customer e-mail; each customer always gets the same one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<String>,
    /// Transactional notices (billing) are exempt from quiet hours and unsubscribes.
    #[serde(default)]
    pub transactional: bool,
    /// What the customer e-mail's sender does when a send's outcome is unknown (staff alerts
    /// always give up).
    #[serde(default)]
    pub if_unknown: IfUnknown,
}

/// When a send's outcome is unknown (the request went out, no answer came back), the
/// provider may have accepted it: sending again risks a duplicate, not sending risks a miss.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IfUnknown {
    /// Record it as `unknown` and stop: at most once.
    #[default]
    GiveUp,
    /// Send once more, then give up: at least once for a notice that must arrive (billing),
    /// at the price of a possible duplicate.
    RetryOnce,
}

impl Plan {
    /// The variant `customer` gets for `trigger`: a stable hash, so the same customer always
    /// sees the same variant and the split is even across customers.
    pub fn variant_for(&self, customer: &CustomerId, trigger: Trigger) -> Option<String> {
        if self.variants.is_empty() {
            return None;
        }
        let key = format!("{customer}/{}", trigger.as_str());
        let bucket = stable_bucket(&key, self.variants.len() as u32) as usize;
        self.variants.get(bucket).cloned()
    }
}

/// One message to send, planned by the domain and sent by a sender, at most once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Intervention {
    /// Deterministic: the same cause always plans the same id.
    pub id: InterventionId,
    pub customer_id: CustomerId,
    pub trigger: Trigger,
    pub channel: Channel,
    pub template: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(default)]
    pub transactional: bool,
    #[serde(default, skip_serializing_if = "is_give_up")]
    pub if_unknown: IfUnknown,
    pub planned_at: DateTime<Utc>,
    /// The event whose application planned it.
    pub cause: EventId,
}

/// The last intervention a customer was planned, for outcome attribution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InterventionRef {
    pub id: InterventionId,
    pub trigger: Trigger,
    pub template: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    pub planned_at: DateTime<Utc>,
    /// What the sender reported, so a message that never went out gets no credit.
    #[serde(default)]
    pub status: DeliveryStatus,
    /// Set once a recovery was credited to it, so one message is credited once.
    #[serde(default)]
    pub credited: bool,
}

/// Where an intervention is between planning and the customer's inbox.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DeliveryStatus {
    /// Planned and on its way (or its report has not come back yet).
    #[default]
    Planned,
    Sent,
    /// Held back by quiet hours; it goes out at the next allowed time.
    Deferred,
    /// Not sent on purpose: unsubscribed, suppressed, no address.
    Skipped,
    /// Rejected by the provider (bad address, archived channel …).
    Failed,
    /// Its provider's answer was lost: it may or may not have arrived.
    Unknown,
}

impl DeliveryStatus {
    /// Whether the message reached (or is about to reach) its recipient.
    pub fn may_have_reached(self) -> bool {
        matches!(
            self,
            DeliveryStatus::Planned | DeliveryStatus::Sent | DeliveryStatus::Unknown
        )
    }
}

/// A sender's report on one intervention: which message, over which channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub intervention_id: InterventionId,
    pub channel: Channel,
    pub template: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl From<&Intervention> for Delivery {
    fn from(i: &Intervention) -> Self {
        Delivery {
            intervention_id: i.id.clone(),
            channel: i.channel,
            template: i.template.clone(),
            variant: i.variant.clone(),
        }
    }
}

impl From<&Intervention> for InterventionRef {
    fn from(i: &Intervention) -> Self {
        InterventionRef {
            id: i.id.clone(),
            trigger: i.trigger,
            template: i.template.clone(),
            variant: i.variant.clone(),
            planned_at: i.planned_at,
            status: DeliveryStatus::Planned,
            credited: false,
        }
    }
}

fn is_give_up(choice: &IfUnknown) -> bool {
    *choice == IfUnknown::GiveUp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_are_stable_per_customer_and_split_across_customers() {
        let plan = Plan {
            email: Some("special_offer".into()),
            variants: vec!["a".into(), "b".into()],
            ..Plan::default()
        };
        let c = CustomerId::new("c42").unwrap();
        let v = plan.variant_for(&c, Trigger::RiskWarning);
        assert_eq!(v, plan.variant_for(&c, Trigger::RiskWarning));
        let a_count = (0..1000)
            .filter(|i| {
                let c = CustomerId::new(format!("c{i}")).unwrap();
                plan.variant_for(&c, Trigger::RiskWarning).as_deref() == Some("a")
            })
            .count();
        assert!((400..600).contains(&a_count), "uneven split: {a_count}");
        assert_eq!(Plan::default().variant_for(&c, Trigger::RiskWarning), None);
    }
}

//! Interventions: the messages the system sends when something happens to a customer — an
//! e-mail to the customer, a Slack alert (or e-mail) to their owner.

use std::collections::BTreeMap;

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
    /// 정보통신망법 §50⑧: the customer is told, before their marketing consent lapses
    /// (`[advertising] consent_days − reconfirm_before_days` after it was given), that they
    /// agreed, when and how, and how to keep or withdraw it.
    ConsentReconfirm,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// A trigger whose message is meant to bring the customer back: its assignments count a
    /// recovery (active again, or paying again after churning) as success.
    pub fn seeks_recovery(self) -> bool {
        matches!(
            self,
            Trigger::RiskCaution | Trigger::RiskWarning | Trigger::RiskDanger | Trigger::WinBack
        )
    }

    /// One of the risk levels' triggers.
    pub fn is_risk(self) -> bool {
        matches!(
            self,
            Trigger::RiskCaution | Trigger::RiskWarning | Trigger::RiskDanger
        )
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
    /// A text to the customer's phone: a KakaoTalk 알림톡 with the provider's SMS/LMS
    /// fallback, or SMS/LMS where no Kakao channel is set up.
    Text,
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
    /// Template of the text to the customer's phone (`infra/templates/text/`): 알림톡 where the
    /// template has one and the deployment a Kakao channel, else SMS/LMS. Goes beside the
    /// e-mail when both are named; counted once against `fatigue`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// With both `text` and `email`: the text first, the e-mail only if the text cannot go —
    /// no phone, texts refused, the sender skipped or failed it, or its final report says it
    /// was not delivered (e.g. payment failed → 알림톡, then e-mail). Off: both go.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub email_fallback: bool,
    /// Template of the Slack alert to staff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack: Option<String>,
    /// Also send the staff alert by e-mail to the owner (uses the `slack` template's text).
    #[serde(default)]
    pub owner_email: bool,
    /// A/B variants of the customer e-mail.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<String>,
    /// The share of each variant, as calibration last set it from the outcomes (Thompson
    /// sampling); unset or `experiments.adaptive = false`: an even split, each customer always
    /// in the same variant. A name that is no longer a variant is ignored.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub allocation: BTreeMap<String, f64>,
    /// The share of the customers this e-mail would go to who get nothing: the control group
    /// its effect is measured against (0 to 0.5; never for `transactional` notices).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub holdout: f64,
    /// Hold the staff alert back from the control group too (by default staff are still
    /// alerted about a held-out customer).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub holdout_staff: bool,
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

/// The resolution of the stable hash that places customers in a share: 1 in 10,000.
const SHARE_BUCKETS: u32 = 10_000;

impl Plan {
    /// The variant `customer` gets for `trigger`: a stable hash, so a replay (or a redelivery)
    /// chooses the same. With an `allocation` (and `adaptive`), the variants get its shares,
    /// each at least `exploration`; otherwise the split is even and each customer always
    /// gets the same variant.
    pub fn variant_for(
        &self,
        customer: &CustomerId,
        trigger: Trigger,
        adaptive: Option<f64>,
    ) -> Option<String> {
        if self.variants.is_empty() {
            return None;
        }
        let key = format!("{customer}/{}", trigger.as_str());
        let Some(shares) = adaptive.and_then(|floor| self.shares(floor)) else {
            let bucket = stable_bucket(&key, self.variants.len() as u32) as usize;
            return self.variants.get(bucket).cloned();
        };
        let point = f64::from(stable_bucket(&format!("{key}/allocation"), SHARE_BUCKETS))
            / f64::from(SHARE_BUCKETS);
        let mut upto = 0.0;
        for (variant, share) in self.variants.iter().zip(&shares) {
            upto += share;
            if point < upto {
                return Some(variant.clone());
            }
        }
        self.variants.last().cloned()
    }

    /// Each variant's share under `allocation`, at least `floor` each, summing to 1; `None`
    /// without an allocation for the current variants.
    pub fn shares(&self, floor: f64) -> Option<Vec<f64>> {
        let weights: Vec<f64> = self
            .variants
            .iter()
            .map(|v| self.allocation.get(v).copied().unwrap_or(0.0).max(0.0))
            .collect();
        let total: f64 = weights.iter().sum();
        if total <= 0.0 || !total.is_finite() {
            return None;
        }
        let n = weights.len() as f64;
        let floor = floor.clamp(0.0, 1.0 / n);
        Some(
            weights
                .iter()
                .map(|w| floor + (1.0 - n * floor) * w / total)
                .collect(),
        )
    }

    /// Whether `customer` is in the control group of `trigger`: a stable hash apart from the
    /// variant's, so the control group is a random share of every variant's customers.
    pub fn holds_out(&self, customer: &CustomerId, trigger: Trigger) -> bool {
        if self.holdout <= 0.0 || self.transactional {
            return false;
        }
        let key = format!("{customer}/{}/holdout", trigger.as_str());
        f64::from(stable_bucket(&key, SHARE_BUCKETS)) < self.holdout * f64::from(SHARE_BUCKETS)
    }
}

fn is_zero(share: &f64) -> bool {
    *share == 0.0
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
        let v = plan.variant_for(&c, Trigger::RiskWarning, Some(0.1));
        assert_eq!(v, plan.variant_for(&c, Trigger::RiskWarning, None));
        assert!(
            (400..600).contains(&share_of_a(&plan, None)),
            "uneven split"
        );
        assert_eq!(
            Plan::default().variant_for(&c, Trigger::RiskWarning, None),
            None
        );
    }

    fn share_of_a(plan: &Plan, floor: Option<f64>) -> usize {
        (0..1000)
            .filter(|i| {
                let c = CustomerId::new(format!("c{i}")).unwrap();
                plan.variant_for(&c, Trigger::RiskWarning, floor).as_deref() == Some("a")
            })
            .count()
    }

    #[test]
    fn an_allocation_gives_its_shares_above_the_floor() {
        let plan = Plan {
            email: Some("special_offer".into()),
            variants: vec!["a".into(), "b".into()],
            allocation: [("a".into(), 1.0), ("gone".into(), 5.0)].into(),
            ..Plan::default()
        };
        assert_eq!(plan.shares(0.1), Some(vec![0.9, 0.1]), "b keeps the floor");
        assert!((860..940).contains(&share_of_a(&plan, Some(0.1))));
        // adaptive allocation off: the even split
        assert!((400..600).contains(&share_of_a(&plan, None)));
        let none = Plan {
            allocation: BTreeMap::new(),
            ..plan.clone()
        };
        assert_eq!(none.shares(0.1), None, "no allocation yet: even");
    }

    #[test]
    fn the_control_group_is_its_share_and_never_a_notice() {
        let mut plan = Plan {
            email: Some("special_offer".into()),
            holdout: 0.2,
            ..Plan::default()
        };
        let held = |plan: &Plan| {
            (0..2000)
                .filter(|i| {
                    plan.holds_out(
                        &CustomerId::new(format!("c{i}")).unwrap(),
                        Trigger::RiskWarning,
                    )
                })
                .count()
        };
        assert!((340..460).contains(&held(&plan)), "{}", held(&plan));
        plan.transactional = true;
        assert_eq!(held(&plan), 0);
    }
}

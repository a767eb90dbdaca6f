//! What applying an event produces: the new state, history entries, effects to deliver, counter
//! changes and milestones.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::customer::{ChurnReason, Customer};
use crate::event::{ContactOutcome, MailFeedback};
use crate::ids::{CustomerId, EventId, InterventionId};
use crate::intervention::{Channel, Intervention, Trigger};
use crate::stage::{RiskLevel, Stage};

/// What applying one event produced. The store writes `customer`, `history` and `tallies`
/// together; `effects` are delivered after that write.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub customer: Customer,
    pub history: Vec<HistoryEntry>,
    pub effects: Vec<Effect>,
    pub tallies: Vec<Tally>,
    /// Churns and recoveries, for the monthly trend counters.
    pub milestones: Vec<Milestone>,
    /// The event had already been applied: nothing changed.
    pub duplicate: bool,
    /// The event was dropped unapplied and is not stored: nothing changed.
    pub dropped: Option<Dropped>,
}

/// Why an event changes nothing and is not stored (the caller counts it; nothing is kept).
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Dropped {
    /// The customer was erased: nothing about them is kept, not even that they came back.
    #[strum(serialize = "customer_erased")]
    Erased,
    /// SES's feedback on a customer the store does not know.
    UnknownCustomer,
    /// From outside and older than `inactivity.max_event_age_days`: a stale replay (a
    /// provider's old webhook re-posted after its dedup marker expired) or a wrong clock.
    TooOld,
    /// From outside and stamped more than `inactivity.max_event_lead_minutes` after it
    /// arrived: a wrong clock or a forged time.
    FromTheFuture,
}

impl Dropped {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A recorded change of stage or risk: the customer's journey, replayable and auditable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub change: Change,
    pub cause: Cause,
    /// The risk score right after the change.
    pub score: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Change {
    Stage {
        from: Option<Stage>,
        to: Stage,
    },
    Risk {
        from: RiskLevel,
        to: RiskLevel,
    },
    /// Not a change of state, but part of the journey: staff contact, erasure, ignored events.
    Note {
        note: String,
    },
}

/// A moment the dashboard's trend counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Milestone {
    Churned {
        reason: ChurnReason,
        at: DateTime<Utc>,
    },
    Recovered {
        at: DateTime<Utc>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cause {
    pub event_id: EventId,
    pub event_type: String,
    /// Why, in words an operator reads: "no activity for 7 days", "refund requested".
    pub reason: String,
}

/// Something to do once the new state is stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// Send a message (e-mail or Slack).
    Send(Intervention),
    /// Publish a domain event on the bus.
    Publish(DomainEvent),
    /// Remove the erased customer's personal data from every record of theirs the store keeps
    /// beside the state (logged events, send details); idempotent, so a redelivery repeats it.
    Erase,
    /// Note a text's final report on its send record (the first final report stays).
    NoteText(crate::text::TextNote),
}

/// A fact other systems may subscribe to. `id` is deterministic, for consumers' dedup.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DomainEvent {
    pub id: String,
    pub customer_id: CustomerId,
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub detail: DomainEventDetail,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DomainEventDetail {
    StageChanged {
        from: Option<Stage>,
        to: Stage,
        reason: String,
    },
    RiskChanged {
        from: RiskLevel,
        to: RiskLevel,
        reason: String,
    },
    InterventionPlanned {
        intervention_id: InterventionId,
        trigger: Trigger,
        channel: Channel,
        template: String,
        variant: Option<String>,
    },
    InterventionRecovered {
        intervention_id: InterventionId,
        template: String,
        variant: Option<String>,
    },
}

impl DomainEventDetail {
    pub fn name(&self) -> &'static str {
        self.into()
    }
}

/// A count to add to the per-template × variant outcome counters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub template: String,
    pub variant: Option<String>,
    pub metric: TallyMetric,
    /// The month (`YYYY-MM`) of the assignment or alert it belongs to, for the counts kept
    /// per month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cohort: Option<String>,
    /// Whose or which: the owner of a staff alert, the currency of a revenue sum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// What to add: 1 for a count, minutes or minor units for a sum.
    pub amount: i64,
}

impl Tally {
    /// One more of `metric` for `template` × `variant`.
    pub fn count(template: &str, variant: Option<&str>, metric: TallyMetric) -> Tally {
        Tally {
            template: template.to_string(),
            variant: variant.map(str::to_string),
            metric,
            cohort: None,
            by: None,
            amount: 1,
        }
    }

    /// The counter attribute it adds to: `metric`, or `metric@cohort[@by]` (see
    /// [`crate::experiment::AttributeKey`]).
    pub fn attribute(&self) -> String {
        match (&self.cohort, &self.by) {
            (None, None) => self.metric.as_str().to_string(),
            (cohort, None) => format!(
                "{}@{}",
                self.metric.as_str(),
                cohort.as_deref().unwrap_or("-")
            ),
            (cohort, Some(by)) => format!(
                "{}@{}@{by}",
                self.metric.as_str(),
                cohort.as_deref().unwrap_or("-")
            ),
        }
    }
}

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum TallyMetric {
    Sent,
    Recovered,
    Failed,
    Skipped,
    /// Sent or not: the provider's answer was lost (see `docs/reliability.md`).
    Unknown,
    /// Assigned to get the message (whether or not it then went out).
    Treated,
    /// Assigned to the control group: the message was held back.
    HeldOut,
    TreatedRecovered,
    HeldOutRecovered,
    TreatedChurned,
    HeldOutChurned,
    /// The treated customers' monthly revenue, summed (`by` the currency).
    TreatedValue,
    /// A staff alert planned (`by` the owner).
    Alerted,
    /// Someone on staff recorded a contact after the alert.
    Contacted,
    /// … and it was the alert's owner (the note's author is the owner's id).
    ContactedByOwner,
    /// Minutes from the alert to the contact, summed.
    ContactMinutes,
    /// The customer recovered within the outcome window after the alert.
    AlertRecovered,
    /// The customer churned within the outcome window after the alert.
    AlertChurned,
    /// What staff said came of their contacts after the alert (each once per alert).
    OutcomeReached,
    OutcomeNoAnswer,
    OutcomeSaved,
    OutcomeLost,
    /// SES's feedback on the e-mails it accepted (see [`MailFeedback`]); opens and clicks
    /// count each message once.
    Delivered,
    Delayed,
    Opened,
    Clicked,
    SoftBounced,
    Bounced,
    Complained,
    Rejected,
    /// E-mails among the sends (SES's rates are of these).
    Emailed,
    /// A hard bounce or complaint suppressed the customer's address.
    Suppressed,
    /// A retention message withheld: the customer had had `fatigue.max_messages` already.
    Fatigued,
    /// A text's final report (under [`TEXTS`], by month and by the channel that delivered,
    /// `failed` when none did): delivered, failed, by the 알림톡's fallback, and its cost in KRW.
    TextDelivered,
    TextFailed,
    /// No final report within `[texts.polls] expire_hours` (`by` is `expired`).
    TextExpired,
    TextFellBack,
    TextCostKrw,
}

/// The counter row the texts' reports are tallied under: per channel, not per template (a
/// report names the send, not what it said).
pub const TEXTS: &str = "_texts";

impl From<MailFeedback> for TallyMetric {
    fn from(feedback: MailFeedback) -> Self {
        match feedback {
            MailFeedback::Delivered => TallyMetric::Delivered,
            MailFeedback::Delayed => TallyMetric::Delayed,
            MailFeedback::Opened => TallyMetric::Opened,
            MailFeedback::Clicked => TallyMetric::Clicked,
            MailFeedback::SoftBounce => TallyMetric::SoftBounced,
            MailFeedback::HardBounce => TallyMetric::Bounced,
            MailFeedback::Complaint => TallyMetric::Complained,
            MailFeedback::Rejected => TallyMetric::Rejected,
        }
    }
}

impl From<ContactOutcome> for TallyMetric {
    fn from(outcome: ContactOutcome) -> Self {
        match outcome {
            ContactOutcome::Reached => TallyMetric::OutcomeReached,
            ContactOutcome::NoAnswer => TallyMetric::OutcomeNoAnswer,
            ContactOutcome::Saved => TallyMetric::OutcomeSaved,
            ContactOutcome::Lost => TallyMetric::OutcomeLost,
        }
    }
}

impl TallyMetric {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(name: &str) -> Option<TallyMetric> {
        name.parse().ok()
    }
}

impl Outcome {
    pub(super) fn unchanged(state: &Customer, duplicate: bool, dropped: Option<Dropped>) -> Self {
        Outcome {
            customer: state.clone(),
            history: Vec::new(),
            effects: Vec::new(),
            tallies: Vec::new(),
            milestones: Vec::new(),
            duplicate,
            dropped,
        }
    }
}

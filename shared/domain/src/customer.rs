//! The customer's state: everything the rules need to decide what happens next.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::activity::Activity;
use super::compact::RecentIds;
use sha2::{Digest, Sha256};

use super::event::{ContactChannel, ContactOutcome, MailFeedback, Owner, Profile};
use super::experiment::Exposure;
use super::ids::{CustomerId, EventId};
use super::intervention::{Intervention, InterventionRef, Trigger};
use super::occasion::Occasion;
use super::score::{NpsAnswer, RiskScore};
use super::stage::{RiskLevel, Stage};

/// How many recent event ids a customer remembers, so a redelivered event changes nothing even
/// before the store's dedup marker is consulted.
pub const RECENT_EVENTS: usize = 16;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: CustomerId,
    /// Optimistic-lock version: 0 until first stored, then +1 with every write.
    #[serde(default)]
    pub version: u64,
    /// `None` while we only know events that arrived before any sign-up or payment: they are
    /// kept here and count once the customer appears.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<Stage>,
    #[serde(default)]
    pub risk: RiskLevel,
    #[serde(default)]
    pub score: RiskScore,
    #[serde(default)]
    pub activity: Activity,
    #[serde(default)]
    pub progress: Progress,
    /// Payments failed since the last successful one.
    #[serde(default)]
    pub open_failed_payments: u32,
    /// When the period paid for ends (the latest renewal date a payment or notice named): the
    /// renewal a customer using less than their peers may not make.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renews_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_nps: Option<NpsAnswer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    /// When the inactivity clock (re)started: creation, or a win-back payment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_started_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_changed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_changed_at: Option<DateTime<Utc>>,
    /// When the risk last went up: a contact before it is out of date (today's list), one
    /// before an improvement is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_rose_at: Option<DateTime<Utc>>,
    /// Counts the times risk left `none`: each episode gets its own interventions.
    #[serde(default)]
    pub risk_episode: u32,
    /// The highest level the current episode reached: a flag that continues it sends only
    /// the levels above (`fatigue.continue_days`).
    #[serde(default, skip_serializing_if = "RiskLevel::is_none")]
    pub episode_peak: RiskLevel,
    /// When the customer last recovered (risk back to `none` by their own activity); cleared
    /// when an episode ends otherwise (churn, completion).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovered_at: Option<DateTime<Utc>>,
    /// When the retention messages of the last `fatigue.window_days` were planned, held-out
    /// customers' included (so both groups of an experiment meet the same limit).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub risk_messages: Vec<DateTime<Utc>>,
    /// E-mails held back while their text is on its way (`email_fallback`): each goes if its
    /// text fails, and is dropped when the text is delivered or its reports stop being awaited.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub text_fallbacks: Vec<TextFallback>,
    /// When the next time-based rule may fire; `None` when nothing is pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_check_at: Option<DateTime<Utc>>,
    /// Follow-ups planned in advance (NPS survey, review request, win-back …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scheduled: Vec<Scheduled>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub churn: Option<Churn>,
    #[serde(default)]
    pub profile: ProfileState,
    /// Revenue to date per currency, in minor units.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub revenue: BTreeMap<String, i64>,
    /// The last customer-facing intervention, for outcome attribution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_intervention: Option<InterventionRef>,
    /// Assignments to a message or its control group whose outcome is still open.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exposures: Vec<Exposure>,
    /// The last staff alert about the customer, until its outcome is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_alert: Option<OpenAlert>,
    /// The latest contact staff recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_contact: Option<StaffContact>,
    #[serde(default, skip_serializing_if = "RecentIds::is_empty")]
    pub recent_events: RecentIds,
    /// Where the store last put the customer in its due index (`None` out of it), read back
    /// with the state and not part of it: the store may keep an earlier check than
    /// `next_check_at` rather than move the entry at every event (docs/data-model.md).
    #[serde(skip)]
    pub indexed_check_at: Option<DateTime<Utc>>,
    /// Erased on request: personal data gone, later events ignored (and recorded as such).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub erased: bool,
}

/// A contact staff recorded: who (the staff member's id), when, and what came of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffContact {
    pub at: DateTime<Utc>,
    pub by: String,
    pub channel: ContactChannel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<ContactOutcome>,
}

/// A staff alert waiting for its outcome: did the owner get in touch, how soon, and did the
/// customer come back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpenAlert {
    pub template: String,
    /// The owner's id when the alert went out (`unassigned` without one).
    pub owner: String,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub contacted: bool,
    /// The outcomes staff recorded since the alert, each counted once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outcomes: Vec<ContactOutcome>,
}

/// Milestones seen, even before the customer appeared, so a payment that arrives after the
/// first submission still lands the customer in the right stage.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onboarding_completed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_submission_at: Option<DateTime<Utc>>,
}

impl Progress {
    pub fn has_started(&self) -> bool {
        self.onboarding_completed_at.is_some() || self.first_submission_at.is_some()
    }
}

/// The profile as stored: the latest value of each field any event carried.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProfileState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Owner>,
    #[serde(default)]
    pub unsubscribed: bool,
    /// SES's hard bounce or complaint on an address: no e-mail of any kind goes to it while
    /// it is the customer's address ([`ProfileState::suppression`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppression>,
    /// Mobile number, E.164.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Marketing and night consent, with when and how each was given.
    #[serde(default, skip_serializing_if = "crate::consent::Consents::is_empty")]
    pub consents: crate::consent::Consents,
    /// Channels the customer cannot be reached on (a provider's opt-out or block code).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub text_blocks: std::collections::BTreeMap<crate::text::TextChannel, TextBlock>,
    /// When each field above was last set (by event time).
    #[serde(default, skip_serializing_if = "ProfileTimes::is_empty")]
    pub written: ProfileTimes,
}

/// An address SES reported as gone or complaining, kept as its [`address_key`] (no address in
/// clear beside the profile's own).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    pub reason: MailFeedback,
    pub address: String,
}

/// A channel a provider reported the customer refuses or cannot receive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextBlock {
    pub block: crate::text::Block,
    pub at: DateTime<Utc>,
}

/// An e-mail address as a key: SHA-256 of it trimmed and in lower case (the case of an
/// address's domain never matters, and providers fold the local part too), first 16 bytes.
pub fn address_key(email: &str) -> String {
    let digest = Sha256::digest(email.trim().to_lowercase().as_bytes());
    hex::encode(&digest[..16])
}

impl ProfileState {
    /// Whether a text could reach the customer: a phone, and SMS/LMS not refused (a number
    /// off KakaoTalk still gets the 알림톡's SMS/LMS fallback).
    pub fn reachable_by_text(&self) -> bool {
        use crate::text::TextChannel;
        let refused = |c| self.text_blocks.contains_key(&c);
        self.phone.is_some() && !(refused(TextChannel::Sms) && refused(TextChannel::Lms))
    }

    /// Why the customer's current address gets no e-mail, if SES reported it: a suppression
    /// of a former address does not apply to a new one, and applies again if it comes back.
    pub fn suppression(&self) -> Option<MailFeedback> {
        let suppressed = self.suppressed.as_ref()?;
        let email = self.email.as_deref()?;
        (address_key(email) == suppressed.address).then_some(suppressed.reason)
    }

    /// Takes every field the event carries unless a later event already set it (a provider's
    /// late retry must not bring back an old address: security review L6); absent fields keep
    /// their value.
    pub fn merge(&mut self, p: &Profile, at: DateTime<Utc>) {
        fn take<T: Clone>(
            slot: &mut Option<T>,
            since: &mut Option<DateTime<Utc>>,
            v: &Option<T>,
            at: DateTime<Utc>,
        ) {
            if let Some(v) = v
                && since.is_none_or(|t| at >= t)
            {
                *slot = Some(v.clone());
                *since = Some(at);
            }
        }
        let w = &mut self.written;
        take(&mut self.email, &mut w.email, &p.email, at);
        take(&mut self.locale, &mut w.locale, &p.locale, at);
        take(&mut self.time_zone, &mut w.time_zone, &p.time_zone, at);
        take(&mut self.program, &mut w.program, &p.program, at);
        take(&mut self.owner, &mut w.owner, &p.owner, at);
        take(&mut self.phone, &mut w.phone, &p.phone, at);
        if let Some(change) = &p.consent
            && w.consent.is_none_or(|t| at >= t)
        {
            self.consents.apply(change, at);
            w.consent = Some(at);
        }
    }
}

/// When each profile field was last set, by the time of the event that set it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileTimes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<DateTime<Utc>>,
}

impl ProfileTimes {
    pub fn is_empty(&self) -> bool {
        *self == ProfileTimes::default()
    }
}

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
pub enum ChurnReason {
    RefundRequested,
    SubscriptionCancelled,
    Inactivity,
}

impl ChurnReason {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Churn {
    pub reason: ChurnReason,
    pub at: DateTime<Utc>,
    /// The provider's or customer's own words, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// An e-mail that goes only if the text before it fails.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextFallback {
    /// The text it waits on.
    pub text: crate::InterventionId,
    /// The e-mail, planned with its id when the text was; sent as it is if the text fails.
    pub email: Intervention,
    /// Reports come up to two days late; after this the e-mail is dropped unsent (an unknown
    /// text may have arrived: not sending beats sending twice).
    pub until: DateTime<Utc>,
}

/// A follow-up planned for later; the sweep's check sends it once it is due.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scheduled {
    pub due_at: DateTime<Utc>,
    pub trigger: Trigger,
    /// Distinguishes repeated follow-ups of one trigger (which completion, which onboarding).
    pub occasion: Occasion,
    /// A message deferred by quiet hours: sent as it is (same id) once due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intervention: Option<Intervention>,
}

impl Customer {
    /// A customer we have never seen: no stage until a sign-up or payment.
    pub fn new(id: CustomerId) -> Self {
        Customer {
            id,
            version: 0,
            stage: None,
            risk: RiskLevel::None,
            score: RiskScore::default(),
            activity: Activity::default(),
            progress: Progress::default(),
            open_failed_payments: 0,
            renews_at: None,
            last_nps: None,
            created_at: None,
            clock_started_at: None,
            stage_changed_at: None,
            risk_changed_at: None,
            risk_rose_at: None,
            risk_episode: 0,
            episode_peak: RiskLevel::None,
            recovered_at: None,
            risk_messages: Vec::new(),
            text_fallbacks: Vec::new(),
            next_check_at: None,
            scheduled: Vec::new(),
            churn: None,
            profile: ProfileState::default(),
            revenue: BTreeMap::new(),
            last_intervention: None,
            exposures: Vec::new(),
            open_alert: None,
            last_contact: None,
            recent_events: RecentIds::default(),
            indexed_check_at: None,
            erased: false,
        }
    }

    /// Whether an event with this id was applied recently.
    pub fn has_applied(&self, id: &EventId) -> bool {
        self.recent_events.contains(id)
    }

    pub(crate) fn remember(&mut self, id: EventId) {
        self.recent_events.push(&id, RECENT_EVENTS);
    }

    /// Revenue per month of tenure in the main currency, in minor units: the value a churn
    /// prevented keeps each month.
    pub fn monthly_revenue(&self, at: DateTime<Utc>) -> Option<(&str, i64)> {
        let (currency, total) = self.main_revenue()?;
        let days = self.created_at.map_or(0, |c| (at - c).num_days());
        let months = (days / 30).max(1);
        Some((currency, total / months))
    }

    /// Staff reached (or resolved) the customer since the risk last rose: off today's list
    /// until it rises again (an improvement keeps them off). An attempt without an answer
    /// leaves the customer on it.
    pub fn contacted_since_risk_rose(&self) -> bool {
        let rose = self.risk_rose_at.or(self.risk_changed_at);
        self.last_contact.as_ref().is_some_and(|c| {
            !c.outcome.is_some_and(ContactOutcome::is_attempt_only)
                && rose.is_none_or(|r| c.at >= r)
        })
    }

    /// On today's list: a customer (not churned) at `from` or above whom nobody has reached
    /// since the risk last rose.
    pub fn needs_contact(&self, from: RiskLevel) -> bool {
        self.stage.is_some_and(|s| s != Stage::Churned)
            && self.risk != RiskLevel::None
            && self.risk >= from
            && !self.contacted_since_risk_rose()
    }

    /// Revenue to date in the customer's main currency (the one paid most in), for ranking
    /// customers by value at risk.
    pub fn main_revenue(&self) -> Option<(&str, i64)> {
        self.revenue
            .iter()
            .max_by_key(|(_, v)| **v)
            .map(|(c, v)| (c.as_str(), *v))
    }
}

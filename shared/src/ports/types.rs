//! The data the ports carry.

use chrono::{DateTime, Utc};

use crate::domain::event::EventKind;
use crate::domain::{Customer, CustomerId, Event, HistoryEntry, Outcome, RiskLevel, Source, Stage};

/// Events of one customer applied in order, written atomically: the new customer state
/// (version + 1), each event's dedup marker carrying its effects, their history entries, and
/// the counter changes. Usually one event; the customer's other messages of the same SQS batch
/// share the write (see `service::apply_all`).
pub struct Commit<'a> {
    /// The state the first step was computed from; its version is the one expected in the store.
    pub before: &'a Customer,
    /// At least one; each step's outcome is computed from the previous one's state.
    pub steps: &'a [Step<'a>],
    /// Retry number, so counter writes of a retry land on another shard.
    pub attempt: u32,
}

/// One event of a commit and what applying it produced.
pub struct Step<'a> {
    pub event: &'a Event,
    pub outcome: &'a Outcome,
    /// When the event was received; its marker expires from then.
    pub now: DateTime<Utc>,
}

impl Commit<'_> {
    /// The state after the last step.
    pub fn after(&self) -> &Customer {
        self.steps
            .last()
            .map_or(self.before, |step| &step.outcome.customer)
    }

    /// Whether the commit changes the customer and nothing else, and none of its events needs
    /// a marker: then one conditional write of the customer is the whole commit (one write
    /// unit while the item stays under 1 KB), not a transaction.
    pub fn is_plain(&self) -> bool {
        self.steps.iter().all(Step::is_plain)
    }
}

impl Step<'_> {
    /// No history, effects, tallies or milestones, and an event whose repeats the customer's
    /// own list of recent event ids catches ([`Step::needs_marker`] is false).
    pub fn is_plain(&self) -> bool {
        let o = self.outcome;
        o.history.is_empty()
            && o.effects.is_empty()
            && o.tallies.is_empty()
            && o.milestones.is_empty()
            && !self.needs_marker()
    }

    /// Whether a repeat of this event can come back after the customer has forgotten it (it
    /// remembers its last 16 event ids), so only a marker can refuse it. Only the app's
    /// logins, content views, submitted assignments and profile changes, and the sweep's
    /// checks, go without: a redelivery from the events queue comes back before any
    /// later message of its customer (the FIFO group waits for it), and the queue drops a
    /// repeat sent within 5 minutes. An app retrying a batch later is caught by the recent ids
    /// unless the customer sent 16 newer events in between, and then only adds to that day's
    /// activity once more (docs/data-model.md). Money and stage events (payments, refunds,
    /// cancellations, renewals, trials) from any source, and everything from payment providers
    /// (which retry for days), staff, customers and SES keep a marker for `MARKER_TTL`. A
    /// plain step has no effects to deliver again, so its marker would hold nothing else.
    pub fn needs_marker(&self) -> bool {
        // only what a repeat merely counts again: a second ticket, missed assignment or NPS
        // answer can cross an alert's threshold, so those keep a marker
        let activity = matches!(
            self.event.kind,
            EventKind::Login
                | EventKind::ContentViewed { .. }
                | EventKind::AssignmentSubmitted
                | EventKind::ProfileUpdated
                | EventKind::CheckDue
        );
        !(activity && matches!(self.event.source, Source::App | Source::Sweep))
    }
}

/// What [`CustomerStore::erase_records`] removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Erasure {
    /// Logged events (the event log's copies) removed from markers.
    pub logged_events: usize,
    /// Send records whose provider detail was removed.
    pub send_details: usize,
    /// Staff contact notes in the history whose words were replaced.
    pub notes: usize,
}

/// A customer whose next check is due.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueCustomer {
    pub customer_id: CustomerId,
    pub due_at: DateTime<Utc>,
}

/// One page of the due index.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DuePage {
    pub due: Vec<DueCustomer>,
    /// Where the next page starts; `None` when the shard is exhausted.
    pub next: Option<String>,
    /// Index items read (for the sweep's items-read-per-due measure).
    pub items_read: usize,
}

/// One page of a customer's history, newest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HistoryPage {
    pub entries: Vec<HistoryEntry>,
    pub next: Option<String>,
}

/// The exact counters: customers per stage × risk level, churns per month and reason,
/// recoveries per month (`YYYY-MM`, UTC).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub cells: std::collections::BTreeMap<(Stage, RiskLevel), i64>,
    pub churned_by_month: std::collections::BTreeMap<String, i64>,
    pub recovered_by_month: std::collections::BTreeMap<String, i64>,
    pub churn_reasons: std::collections::BTreeMap<String, i64>,
}

impl Counts {
    pub fn get(&self, stage: Stage, risk: RiskLevel) -> i64 {
        self.cells.get(&(stage, risk)).copied().unwrap_or(0)
    }

    pub fn total(&self) -> i64 {
        self.cells.values().sum()
    }
}

/// How the at-risk list is ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListOrder {
    /// Highest risk score first.
    Score,
    /// Highest score × revenue to date first: the most valuable customers to call.
    Value,
}

/// A page request of the at-risk list; filters are optional.
#[derive(Clone, Debug, PartialEq)]
pub struct ListQuery {
    /// One level, or every level above `none`.
    pub risk: Option<RiskLevel>,
    /// Today's list: only customers at this level or above whom nobody on staff has reached
    /// since their risk last changed.
    pub needing_contact_from: Option<RiskLevel>,
    pub stage: Option<Stage>,
    pub program: Option<String>,
    pub owner: Option<String>,
    pub order: ListOrder,
    pub limit: usize,
    /// Continue after this sort key (the previous page's `next`).
    pub after: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListPage {
    pub customers: Vec<Customer>,
    pub next: Option<String>,
}

/// One intervention's send record (as `GET /customers/{id}` shows it).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SendRecord {
    pub intervention_id: String,
    pub template: String,
    pub channel: String,
    /// `in_progress`, `deferred`, `retry`, `sent`, `skipped`, `failed` or `unknown`.
    pub status: String,
    pub detail: String,
    pub updated_at: String,
    /// What SES reported after accepting it, by feedback (`delivered`, `opened`, `clicked`,
    /// `hard_bounce` …): when it first came.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub mail: std::collections::BTreeMap<String, String>,
    /// A text's final report: the channel that delivered it, and its cost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<TextDelivery>,
}

/// A text awaiting its final report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingText {
    /// Ours (the intervention's id), as the provider echoes it.
    pub send_id: String,
    pub customer_id: crate::domain::CustomerId,
    /// The provider's message id, which its lookup takes.
    pub provider_id: String,
    pub sent_at: DateTime<Utc>,
    /// When it is next polled.
    pub due_at: DateTime<Utc>,
}

/// How a text ended, from the provider's final report.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct TextDelivery {
    /// `alimtalk`, `sms` or `lms`; `failed` when nothing was delivered; `expired` when no
    /// final report came (it may have arrived).
    #[schema(example = "sms")]
    pub via: String,
    /// A 알림톡 delivered as its SMS/LMS fallback.
    pub fallback: bool,
    /// The provider's code.
    pub code: String,
    /// The delivering channel's price (`[texts.prices_krw]`).
    pub cost_krw: i64,
    pub at: String,
}

/// Outcomes of one template × variant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TemplateTally {
    pub template: String,
    pub variant: Option<String>,
    pub sent: i64,
    pub recovered: i64,
    pub failed: i64,
    pub skipped: i64,
    /// Perhaps sent: the provider's answer was lost, not repeated.
    pub unknown: i64,
    /// What SES reported after accepting the e-mails.
    pub mail: MailCounts,
    /// The experiment and staff-alert counts kept per month, by attribute name
    /// (`treated@2026-11`, `alerted@2026-11@owner` …; see `journey_domain::experiment`).
    pub by_month: std::collections::BTreeMap<String, i64>,
}

/// SES's feedback on one template × variant's e-mails (opens and clicks: messages, not events).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct MailCounts {
    /// E-mails among the sends (to customers or owners): what the rates are of.
    pub emailed: i64,
    pub delivered: i64,
    pub delayed: i64,
    pub opened: i64,
    pub clicked: i64,
    pub soft_bounced: i64,
    /// Hard bounces.
    pub bounced: i64,
    /// Marked as spam.
    pub complained: i64,
    pub rejected: i64,
    /// Customers' addresses a hard bounce or complaint suppressed (once per address; not an
    /// owner's, not a former address).
    pub suppressed: i64,
}

impl MailCounts {
    /// The counts from a counter item's attributes, by [`TallyMetric`] name.
    ///
    /// [`TallyMetric`]: crate::domain::TallyMetric
    pub fn from_attributes(get: impl Fn(&str) -> i64) -> MailCounts {
        MailCounts {
            emailed: get("emailed"),
            delivered: get("delivered"),
            delayed: get("delayed"),
            opened: get("opened"),
            clicked: get("clicked"),
            soft_bounced: get("soft_bounced"),
            bounced: get("bounced"),
            complained: get("complained"),
            rejected: get("rejected"),
            suppressed: get("suppressed"),
        }
    }

    pub fn add(&mut self, other: MailCounts) {
        self.emailed += other.emailed;
        self.delivered += other.delivered;
        self.delayed += other.delayed;
        self.opened += other.opened;
        self.clicked += other.clicked;
        self.soft_bounced += other.soft_bounced;
        self.bounced += other.bounced;
        self.complained += other.complained;
        self.rejected += other.rejected;
        self.suppressed += other.suppressed;
    }

    pub fn is_empty(&self) -> bool {
        *self == MailCounts::default()
    }
}

impl TemplateTally {
    /// The experiment counters of every template × variant, as stored.
    pub fn experiments(tallies: &[TemplateTally]) -> crate::domain::experiment::Experiments {
        use crate::domain::experiment::{Counters, Experiments};
        let rows = tallies
            .iter()
            .map(|t| {
                let attributes = t.by_month.iter().map(|(k, v)| (k.as_str(), *v));
                let key = (t.template.clone(), t.variant.clone());
                (key, Counters::from_attributes(attributes))
            })
            .filter(|(_, c)| !c.months.is_empty())
            .collect();
        Experiments { rows }
    }
}

/// Where one intervention's send stands, in the send ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum SendStatus {
    /// A sender holds it, until its lease ends.
    InProgress,
    /// Held by quiet hours; claimable again when it comes back.
    Deferred,
    /// Released after a transient error; claimable again.
    Retry,
    Sent,
    Skipped,
    Failed,
    /// The provider's answer was lost (or its sender died holding it) and the rules say not
    /// to repeat it: it may or may not have arrived. Final.
    Unknown,
}

impl SendStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(text: &str) -> Option<SendStatus> {
        [
            SendStatus::InProgress,
            SendStatus::Deferred,
            SendStatus::Retry,
            SendStatus::Sent,
            SendStatus::Skipped,
            SendStatus::Failed,
            SendStatus::Unknown,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// A final status: the intervention is never sent again.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            SendStatus::Sent | SendStatus::Skipped | SendStatus::Failed | SendStatus::Unknown
        )
    }
}

/// The right to send one intervention, held until `until`. A lease outlives the function
/// that holds it (see [`crate::sending::LEASE`]), so a lease that ran out means its holder is
/// dead: what it did is unknown, and the intervention is not simply claimed again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    pub token: String,
    pub until: DateTime<Utc>,
    /// How many earlier attempts ended with an unknown outcome.
    pub unknowns: u32,
}

/// The outcome of trying to claim an intervention.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Ours to send.
    Claimed(Lease),
    /// Already finished: do not send again.
    Done(SendStatus),
    /// Another sender holds a live lease: come back later.
    Busy,
    /// A sender claimed it and its lease ran out with nothing recorded: it died between the
    /// claim and the record, perhaps after the provider accepted. The old lease, to fence on.
    Abandoned(Lease),
}

/// One e-mail, ready to send.
#[derive(Clone, Debug, PartialEq)]
pub struct OutgoingEmail {
    pub from: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub headers: Vec<(String, String)>,
    /// Provider tags (SES `EmailTags`): they come back on delivery and bounce events.
    pub tags: Vec<(String, String)>,
}

/// What a deployed system recorded, as a backtest's input: the logged events, in time order,
/// and every churn as a label.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExportedLog {
    pub events: Vec<Event>,
    pub labels: Vec<crate::backtest::Label>,
}

/// How much of the log an export may hold: at most `events` events of whole customers, and
/// none of a customer with more than `per_customer` (left out whole).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SampleLimits {
    pub events: Option<usize>,
    pub per_customer: Option<usize>,
}

impl SampleLimits {
    /// The whole log.
    pub fn none() -> SampleLimits {
        SampleLimits::default()
    }

    /// At most `n` events, however many a customer has.
    pub fn events(n: usize) -> SampleLimits {
        SampleLimits {
            events: Some(n),
            per_customer: None,
        }
    }
}

/// Which customers an export holds: all of the log's, or a bounded sample of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Sampled {
    /// The customers in the export (erased ones left out).
    pub customers: usize,
    /// About how many customers the log holds, when the export is a sample of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub of_about: Option<u64>,
    /// Customers left out for having more events than one may take of the sample.
    #[serde(default)]
    pub over_cap: usize,
}

/// One read of personal data: who, what, when.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct AccessRecord {
    pub at: DateTime<Utc>,
    /// The staff member (`staff:<id>`) or the API key (`key:<first 8 hex of its SHA-256>`).
    pub who: String,
    /// The route, as `GET /customers/{id}`.
    pub route: String,
    /// The customer read, for a customer's page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    /// How many customers a list, a search or an export returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<u32>,
    /// The API request, so a retried write records it once.
    pub request_id: String,
    /// Kept until then (at least a year: `ACCESS_LOG_DAYS`).
    pub keep_until: DateTime<Utc>,
}

/// A page of [`AccessRecord`]s.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct AccessPage {
    pub reads: Vec<AccessRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// One text to a customer's phone, ready for a provider.
#[derive(Clone, Debug, PartialEq)]
pub struct OutgoingText {
    /// Our send id (the intervention's): echoed in the provider's own field (Solapi
    /// `customFields.send_id`, NHN `recipientGroupingKey` and its idempotency key), so reports and
    /// polls find the send.
    pub send_id: String,
    /// The customer it goes to: echoed where the provider has room (Solapi's `customFields`),
    /// so a delivery report reaches their record.
    pub customer_id: String,
    /// The recipient, E.164.
    pub to: String,
    /// The sender number, pre-registered with the provider (E.164 or domestic).
    pub from: String,
    pub content: TextContent,
}

/// What a text carries, by channel.
#[derive(Clone, Debug, PartialEq)]
pub enum TextContent {
    /// A 알림톡 from a Kakao-approved template, with the provider's own SMS/LMS fallback
    /// (대체발송) when given: one request, one final outcome.
    Alimtalk {
        /// The Kakao channel's sender profile (Solapi `pfId`, NHN `senderKey`).
        profile: String,
        /// The approved template's code at the provider.
        template_code: String,
        /// The template's variables, by name without `#{}`.
        variables: std::collections::BTreeMap<String, String>,
        /// The whole text after substitution (Kakao compares it with the template).
        text: String,
        buttons: Vec<TextButton>,
        fallback: Option<Fallback>,
    },
    Sms {
        text: String,
    },
    Lms {
        subject: String,
        text: String,
    },
}

/// A 알림톡 web-link button.
#[derive(Clone, Debug, PartialEq)]
pub struct TextButton {
    pub name: String,
    pub url: String,
}

/// The text the provider sends instead when a 알림톡 cannot be delivered: an SMS when it fits
/// in 90 bytes without a subject, else an LMS.
#[derive(Clone, Debug, PartialEq)]
pub struct Fallback {
    pub subject: Option<String>,
    pub text: String,
}

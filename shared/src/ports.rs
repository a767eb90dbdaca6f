//! The narrow traits the functions need from the outside world. Each function depends on the
//! ports it uses, so its tests can use an in-memory fake or the emulator.

use std::future::Future;

use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::domain::{
    Customer, CustomerId, Effect, Event, EventId, HistoryEntry, Outcome, RiskLevel, Stage,
};

/// What went wrong talking to the store, and whether trying again can help.
#[derive(Debug, Error)]
pub enum StoreError {
    /// Another writer changed the customer since it was read: re-read and apply again.
    #[error("customer {0} was changed by another writer")]
    VersionConflict(CustomerId),
    /// The event's marker is already there: it was applied before.
    #[error("event {0} was already applied")]
    AlreadyApplied(EventId),
    /// Throttling, a transaction conflict, a 5xx or the network: retry later.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The request itself is wrong (validation, permissions, missing table): retrying won't help.
    #[error("store rejected the request: {0}")]
    Rejected(String),
    /// A stored item we cannot read (unknown stage name, missing field): needs a person.
    #[error("stored item {key} is unreadable: {reason}")]
    Corrupt { key: String, reason: String },
}

impl StoreError {
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            StoreError::VersionConflict(_) | StoreError::Unavailable(_)
        )
    }
}

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
}

/// The customer records: the transition worker's port.
pub trait CustomerStore: Send + Sync {
    /// The customer as last committed (strongly consistent), or `None` if never stored.
    fn load(
        &self,
        id: &CustomerId,
    ) -> impl Future<Output = Result<Option<Customer>, StoreError>> + Send;

    /// Writes a commit in one conditional transaction. Fails with `VersionConflict` if the
    /// customer moved on, `AlreadyApplied` if the event's marker exists.
    fn commit(&self, commit: &Commit<'_>) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The effects recorded with an applied event, while its marker lives.
    fn applied_effects(
        &self,
        customer: &CustomerId,
        event: &EventId,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<Vec<Effect>>, StoreError>> + Send;

    /// Removes an erased customer's personal data from their records beside the state: the
    /// logged events on the markers, the send records' details (provider text), the staff
    /// contact notes' words. Markers, send statuses and the history of changes stay (dedup,
    /// at-most-once, the audit); idempotent.
    fn erase_records(
        &self,
        customer: &CustomerId,
    ) -> impl Future<Output = Result<Erasure, StoreError>> + Send;
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

/// The sparse index of customers with a check due: the sweep's port.
pub trait DueIndex: Send + Sync {
    /// Shards of the index; the sweep queries each.
    fn shards(&self) -> u32;

    /// Customers of `shard` due at or before `now`, oldest first.
    fn due_page(
        &self,
        shard: u32,
        now: DateTime<Utc>,
        limit: i32,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<DuePage, StoreError>> + Send;
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

/// What the read side needs: history and the counters.
pub trait JourneyReader: Send + Sync {
    fn history(
        &self,
        customer: &CustomerId,
        limit: i32,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<HistoryPage, StoreError>> + Send;

    fn counts(&self) -> impl Future<Output = Result<Counts, StoreError>> + Send;

    /// Intervention outcomes per template × variant, exact.
    fn tallies(&self) -> impl Future<Output = Result<Vec<TemplateTally>, StoreError>> + Send;

    /// The at-risk list, most at risk (or most valuable at risk) first.
    fn at_risk(
        &self,
        query: &ListQuery,
    ) -> impl Future<Output = Result<ListPage, StoreError>> + Send;

    /// What the senders did with a customer's interventions, newest first.
    fn sends(
        &self,
        customer: &CustomerId,
    ) -> impl Future<Output = Result<Vec<SendRecord>, StoreError>> + Send;
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

/// One intervention's send record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendRecord {
    pub intervention_id: String,
    pub template: String,
    pub channel: String,
    pub status: String,
    pub detail: String,
    pub updated_at: String,
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
}

/// What went wrong sending to a queue.
#[derive(Debug, Error)]
pub enum QueueError {
    /// Throttling, a 5xx or the network: the caller should make its caller retry.
    #[error("queue unavailable: {0}")]
    Unavailable(String),
    /// The message or the queue is wrong (too large, bad group id, no such queue).
    #[error("queue rejected the message: {0}")]
    Rejected(String),
}

/// The events FIFO queue: ingestion, the sweep and the senders write to it.
pub trait EventQueue: Send + Sync {
    /// Enqueues every message or fails; a retry after a failure is safe (dedup ids).
    fn enqueue(
        &self,
        messages: &[crate::messages::EventMessage],
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
}

/// A secret could not be had.
#[derive(Debug, Error)]
pub enum SecretError {
    #[error("secret `{name}` is not set: {hint}")]
    Missing { name: String, hint: String },
    #[error("secret `{name}` could not be read: {reason}")]
    Unavailable { name: String, reason: String },
}

/// Where secrets come from: SSM Parameter Store in AWS, environment variables locally.
pub trait SecretSource: Send + Sync {
    fn secret(&self, name: &str) -> impl Future<Output = Result<String, SecretError>> + Send;
}

/// The message queues: e-mail (customer and owner) and Slack interventions.
pub trait InterventionQueue: Send + Sync {
    /// Sends every intervention to its channel's queue, or fails; re-sending is safe.
    fn send(
        &self,
        interventions: &[crate::domain::Intervention],
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
}

/// The bus for domain events (`stage_changed`, `risk_changed`, `intervention_planned` …).
pub trait EventBus: Send + Sync {
    /// Publishes every event, or fails; consumers deduplicate by the event's `id`.
    fn publish(
        &self,
        events: &[crate::domain::DomainEvent],
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
}

/// The time, for decisions that depend on when a sender runs (quiet hours, leases): the
/// system clock in AWS, the simulated clock locally, a fixed instant in tests.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Where one intervention's send stands, in the send ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
        match self {
            SendStatus::InProgress => "in_progress",
            SendStatus::Deferred => "deferred",
            SendStatus::Retry => "retry",
            SendStatus::Sent => "sent",
            SendStatus::Skipped => "skipped",
            SendStatus::Failed => "failed",
            SendStatus::Unknown => "unknown",
        }
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

/// The send ledger: a conditional record per intervention id, claimed before calling the
/// provider and finished after, so a redelivered message never sends twice.
pub trait SendLedger: Send + Sync {
    fn claim(
        &self,
        intervention: &crate::domain::Intervention,
        now: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;

    /// Records an outcome decided without calling the provider (skipped, deferred, failed to
    /// compose) in one conditional write, with no claim before it: nothing was sent, so a crash
    /// around it must not leave an `unknown`. `None` once recorded; else what the record says.
    fn decide(
        &self,
        intervention: &crate::domain::Intervention,
        status: SendStatus,
        detail: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<Claim>, StoreError>> + Send;

    /// Takes over an abandoned claim (only if it is still `abandoned`'s), counting one more
    /// unknown outcome: `Claimed`, or `Busy` when another sender took it first.
    fn retake(
        &self,
        intervention: &crate::domain::Intervention,
        abandoned: &Lease,
        now: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;

    /// Records a final status (or `Deferred`/`Retry`, which make it claimable again), and the
    /// lease's count of unknown outcomes.
    fn finish(
        &self,
        intervention: &crate::domain::Intervention,
        lease: &Lease,
        status: SendStatus,
        detail: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
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

#[derive(Debug, Error, PartialEq)]
pub enum MailError {
    /// The provider's rate or quota: retry with back-off.
    #[error("throttled: {0}")]
    Throttled(String),
    /// Not accepted, and worth retrying: a 5xx answer, or a failure before the request was
    /// sent (or, for reads, any failure).
    #[error("transient: {0}")]
    Transient(String),
    /// Refused for good (bad address, unverified sender …): record and stop.
    #[error("rejected: {0}")]
    Rejected(String),
    /// The request may have been accepted: it was written and no answer came back (a
    /// timeout, a dropped connection). Never retried blindly.
    #[error("outcome unknown: {0}")]
    Unknown(String),
}

/// Sends e-mail: SES in AWS.
pub trait Mailer: Send + Sync {
    /// Returns the provider's message id.
    fn send(&self, email: &OutgoingEmail)
    -> impl Future<Output = Result<String, MailError>> + Send;

    /// Whether the provider suppresses this address (bounces, complaints).
    fn is_suppressed(&self, address: &str) -> impl Future<Output = Result<bool, MailError>> + Send;
}

#[derive(Debug, Error, PartialEq)]
pub enum ChatError {
    /// 429: wait this long, as the platform asked.
    #[error("rate limited, retry after {0:?}")]
    RateLimited(std::time::Duration),
    /// Not accepted (a 5xx answer, no connection): retry.
    #[error("transient: {0}")]
    Transient(String),
    /// The channel or webhook is gone (404/410): an operator must fix it.
    #[error("permanent: {0}")]
    Permanent(String),
    /// The post was written and no answer came back: it may have been posted.
    #[error("outcome unknown: {0}")]
    Unknown(String),
}

/// Posts staff alerts: a Slack incoming webhook in AWS, a local log otherwise.
pub trait Chat: Send + Sync {
    fn post(
        &self,
        payload: &serde_json::Value,
    ) -> impl Future<Output = Result<(), ChatError>> + Send;
}

/// Holds an SQS message back for a while before it is delivered again (back-off).
pub trait Redelivery: Send + Sync {
    fn delay(
        &self,
        receipt_handle: &str,
        by: std::time::Duration,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
}

/// The stored versions of the rules (see `journey::rules_versions`).
pub trait RulesRegistry: Send + Sync {
    /// The active version, if any was ever stored (none: the deployed file applies as it is).
    fn active_rules(
        &self,
    ) -> impl Future<Output = Result<Option<crate::rules_versions::ActiveRules>, StoreError>> + Send;

    /// Every stored version, oldest first.
    fn rules_versions(
        &self,
    ) -> impl Future<Output = Result<Vec<crate::rules_versions::RulesVersion>, StoreError>> + Send;

    /// Stores a new version (its number must be unused) and, if `activate`, makes it the
    /// active one, provided the active version is still `expected` (`None`: none yet).
    fn add_rules_version(
        &self,
        version: &crate::rules_versions::RulesVersion,
        activate: bool,
        expected: Option<u32>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Makes stored version `number` the active one (a roll-back), provided the active
    /// version is still `expected`.
    fn activate_rules(
        &self,
        number: u32,
        expected: Option<u32>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// What a deployed system recorded, as a backtest's input: the logged events, in time order,
/// and every churn as a label.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExportedLog {
    pub events: Vec<Event>,
    pub labels: Vec<crate::backtest::Label>,
}

/// The recorded history, read back for the backtest and calibration.
pub trait EventArchive: Send + Sync {
    fn export_log(&self) -> impl Future<Output = Result<ExportedLog, StoreError>> + Send;
}

//! The narrow traits the functions need from the outside world. Each function depends on the
//! ports it uses, so its tests can use an in-memory fake or the emulator. The data they carry
//! are in `types.rs`, their errors (each knowing whether a retry can help) in `errors.rs`.

mod errors;
mod types;

pub use errors::*;
pub use types::*;

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::domain::{Customer, CustomerId, Effect, EventId};

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

/// The record of who read personal data (PIPA's access records): the read API's port.
pub trait AccessLog: Send + Sync {
    /// Keeps one read until `record.keep_until`; the same request recorded twice is one record.
    fn record_read(
        &self,
        record: &AccessRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The reads of one UTC day, oldest first, a page at a time.
    fn reads_on(
        &self,
        day: chrono::NaiveDate,
        limit: i32,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<AccessPage, StoreError>> + Send;
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

    /// Customers (not erased) whose e-mail address starts with `prefix`, ignoring case, in
    /// the addresses' order: at most `limit` (1–100).
    fn search_email(
        &self,
        prefix: &str,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Customer>, StoreError>> + Send;

    /// What the senders did with a customer's interventions, newest first.
    fn sends(
        &self,
        customer: &CustomerId,
    ) -> impl Future<Output = Result<Vec<SendRecord>, StoreError>> + Send;
}

/// The events FIFO queue: ingestion, the sweep and the senders write to it.
pub trait EventQueue: Send + Sync {
    /// Enqueues every message or fails; a retry after a failure is safe (dedup ids).
    fn enqueue(
        &self,
        messages: &[crate::messages::EventMessage],
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
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

/// What SES said about each e-mail, noted on its send record so staff see it per message (the
/// `ses-feedback` function's port; the counts go through the single writer).
pub trait FeedbackNotes: Send + Sync {
    /// Notes the first time of `feedback` on `intervention`'s send record; a repeat keeps the
    /// first. `false` when there is no such record (expired, or never ours).
    fn note_feedback(
        &self,
        customer: &crate::domain::CustomerId,
        intervention: &crate::domain::InterventionId,
        feedback: crate::domain::MailFeedback,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// A text's final report noted on its send record, so staff see which channel delivered it
/// and what it cost (the transition's port: reports come through the single writer).
pub trait TextNotes: Send + Sync {
    /// Notes `note` on its send record unless a final report is there already (the first
    /// stays); `false` when there is no record (expired, or never ours).
    fn note_text(
        &self,
        customer: &crate::domain::CustomerId,
        note: &crate::domain::text::TextNote,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Whose a text is, while it awaits its final report: routes a provider's report that names no
/// customer (NHN's hooks carry only our send id; Solapi's field drops an id over 100 chars).
pub trait TextOwners: Send + Sync {
    /// The customer `send_id` was sent to; `None` once its polls ended, or if never ours.
    fn text_owner(
        &self,
        send_id: &str,
    ) -> impl Future<Output = Result<Option<CustomerId>, StoreError>> + Send;
}

/// Texts accepted by the provider and not yet finally reported: what the reconciler polls
/// (`functions/text-sender`, `reconcile`). A final report ends a text's polls wherever it
/// comes from ([`TextNotes::note_text`] ends them too).
pub trait PendingTexts: Send + Sync {
    /// Records `text` as awaiting its final report; a repeat writes the same.
    fn await_report(
        &self,
        text: &PendingText,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Those whose poll is due by `now`, at most `limit`.
    fn due_texts(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<PendingText>, StoreError>> + Send;

    /// Moves `text`'s next poll to `due_at` (nothing if it has ended meanwhile).
    fn repoll(
        &self,
        text: &PendingText,
        due_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// No more polls for `send_id`.
    fn end_polls(&self, send_id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Sends e-mail: SES in AWS.
pub trait Mailer: Send + Sync {
    /// Returns the provider's message id.
    fn send(&self, email: &OutgoingEmail)
    -> impl Future<Output = Result<String, MailError>> + Send;

    /// Whether the provider suppresses this address (bounces, complaints).
    fn is_suppressed(&self, address: &str) -> impl Future<Output = Result<bool, MailError>> + Send;
}

/// Sends texts to customers' phones: KakaoTalk 알림톡 with its SMS/LMS fallback, or SMS/LMS
/// (Solapi or NHN Cloud, chosen per deployment; a local stand-in otherwise).
pub trait TextProvider: Send + Sync {
    /// One send request, never retried inside (the sender decides): the provider's message id.
    fn send(&self, text: &OutgoingText) -> impl Future<Output = Result<String, TextError>> + Send;

    /// The provider's latest report on a send, for the reconciler (`None`: it knows nothing
    /// yet). Reads may be retried freely.
    fn poll(
        &self,
        send_id: &str,
        provider_id: &str,
    ) -> impl Future<Output = Result<Option<crate::domain::text::TextReport>, TextError>> + Send;
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

/// Where the transition worker appends the event log (S3 through Firehose in AWS): at least
/// once, so a reader deduplicates (`journey::event_log::Collector`).
pub trait EventLog: Send + Sync {
    fn append(
        &self,
        records: &[crate::backtest::LogRecord],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The recorded history, read back for the backtest and calibration.
pub trait EventArchive: Send + Sync {
    /// The whole log, or within `limits` at most that many events of whole customers: the
    /// same customers every time (`journey::backtest::sample`), so that memory and time are
    /// bounded by the limit rather than by the size of the business.
    fn export_log(
        &self,
        limits: SampleLimits,
    ) -> impl Future<Output = Result<(ExportedLog, Sampled), StoreError>> + Send;
}

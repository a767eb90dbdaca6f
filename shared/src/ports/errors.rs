//! What can go wrong behind each port, and whether trying again can help.

use thiserror::Error;

use crate::domain::{CustomerId, EventId};

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

/// A secret could not be had.
#[derive(Debug, Error)]
pub enum SecretError {
    #[error("secret `{name}` is not set: {hint}")]
    Missing { name: String, hint: String },
    #[error("secret `{name}` could not be read: {reason}")]
    Unavailable { name: String, reason: String },
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

/// A text provider's answer when it did not take a text.
#[derive(Debug, Error, PartialEq)]
pub enum TextError {
    /// The provider's rate limit: retry after `after` (its `Retry-After`), else back-off.
    #[error("throttled: {reason}")]
    Throttled {
        reason: String,
        after: Option<std::time::Duration>,
    },
    /// Provably not taken (a 5xx answer, no connection): worth retrying.
    #[error("transient: {0}")]
    Transient(String),
    /// Refused for good: the provider's `code`, and the block it means for the recipient.
    #[error("rejected ({code}): {reason}")]
    Rejected {
        code: String,
        reason: String,
        block: Option<crate::domain::text::Block>,
    },
    /// The request was written and no answer came back: perhaps sent. Never retried blindly
    /// (neither provider's SDK retry may leak in).
    #[error("outcome unknown: {0}")]
    Unknown(String),
}

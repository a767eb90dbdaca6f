//! SDK errors → `StoreError`: retryable or not, decided once, here.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;

use journey::domain::CustomerId;
use journey::ports::{Step, StoreError};

use crate::sdk_error::{self, Failure};

/// Error codes that say "not now" rather than "never".
const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
    "TransactionConflict",
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
];

/// Any operation's error.
pub fn classify<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    match sdk_error::read(&err) {
        Failure::Service { code, message } if TRANSIENT_CODES.contains(&code.as_str()) => {
            StoreError::Unavailable(message)
        }
        Failure::Service { message, .. } | Failure::Construction(message) => {
            StoreError::Rejected(message)
        }
        Failure::NoAnswer(message) => StoreError::Unavailable(message),
    }
}

/// A conditional write's outcome: `false` when DynamoDB refused it for its condition (for an
/// idempotent note, the normal "already done" or "not ours"), an error for anything else.
pub fn condition_held<T, E, R>(result: Result<T, SdkError<E, R>>) -> Result<bool, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(_) => Ok(true),
        Err(SdkError::ServiceError(se))
            if se.err().code() == Some("ConditionalCheckFailedException") =>
        {
            Ok(false)
        }
        Err(e) => Err(classify(e)),
    }
}

/// A cancelled transaction says, item by item, why: the customer's version condition (item 0)
/// means another writer; the marker's (item 1) means the event was applied already.
pub fn classify_commit<R: std::fmt::Debug>(
    err: SdkError<TransactWriteItemsError, R>,
    customer: &CustomerId,
    steps: &[Step<'_>],
) -> StoreError {
    let SdkError::ServiceError(se) = &err else {
        return classify(err);
    };
    let TransactWriteItemsError::TransactionCanceledException(cancelled) = se.err() else {
        return classify(err);
    };
    let codes: Vec<&str> = cancelled
        .cancellation_reasons()
        .iter()
        .map(|r| r.code().unwrap_or("None"))
        .collect();
    let failed = |i: usize| codes.get(i) == Some(&"ConditionalCheckFailed");
    // the customer at 0, then one marker per step
    let marker = steps.iter().enumerate().find(|(i, _)| failed(i + 1));
    if failed(0) {
        StoreError::VersionConflict(customer.clone())
    } else if let Some((_, step)) = marker {
        StoreError::AlreadyApplied(step.event.id.clone())
    } else if codes.iter().any(|c| TRANSIENT_CODES.contains(c)) {
        StoreError::Unavailable(format!("transaction cancelled: {codes:?}"))
    } else {
        StoreError::Rejected(format!(
            "transaction cancelled: {codes:?} {}",
            cancelled.message().unwrap_or_default()
        ))
    }
}

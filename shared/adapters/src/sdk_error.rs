//! What an SDK call's failure was, read the same way for every service; each adapter then
//! decides, for its own error codes, what is worth retrying.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

pub enum Failure {
    /// AWS answered with an error: its code, and `code: message` to report.
    Service { code: String, message: String },
    /// The request could not be built: never worth retrying.
    Construction(String),
    /// No answer, or none that could be read (timeout, connection, dispatch): worth retrying.
    NoAnswer(String),
}

pub fn read<E, R>(err: &SdkError<E, R>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or("Unknown").to_string();
            let message = format!("{code}: {}", se.err().message().unwrap_or_default());
            Failure::Service { code, message }
        }
        SdkError::ConstructionFailure(_) => Failure::Construction(describe(err)),
        _ => Failure::NoAnswer(describe(err)),
    }
}

/// The error and its sources, one after the other (the SDK's top-level text alone often says
/// only "dispatch failure").
pub fn describe(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

//! SES v2: e-mail as `Simple` content (rendered by us: SES templates report a missing variable
//! only asynchronously), with our headers, a configuration set and `EmailTags`.

use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::types::{
    Body, Content, Destination, EmailContent, Message, MessageHeader, MessageTag,
};

use journey::ports::{MailError, Mailer, OutgoingEmail};

#[derive(Clone, Debug)]
pub struct SesMailer {
    client: Client,
    configuration_set: Option<String>,
    /// Whether to ask SES's suppression list before sending (off where it is not available).
    check_suppression: bool,
}

impl SesMailer {
    pub fn new(client: Client, configuration_set: Option<String>, check_suppression: bool) -> Self {
        SesMailer {
            client,
            configuration_set,
            check_suppression,
        }
    }
}

fn content(text: &str) -> Result<Content, MailError> {
    Content::builder()
        .data(text)
        .charset("UTF-8")
        .build()
        .map_err(|e| MailError::Rejected(e.to_string()))
}

fn message(email: &OutgoingEmail) -> Result<Message, MailError> {
    let mut builder = Message::builder().subject(content(&email.subject)?).body(
        Body::builder()
            .text(content(&email.text)?)
            .html(content(&email.html)?)
            .build(),
    );
    for (name, value) in &email.headers {
        builder = builder.headers(
            MessageHeader::builder()
                .name(name)
                .value(value)
                .build()
                .map_err(|e| MailError::Rejected(e.to_string()))?,
        );
    }
    Ok(builder.build())
}

/// SES tag names and values allow letters, digits, `_` and `-`; anything else becomes `_`.
fn tag_value(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl Mailer for SesMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError> {
        let mut request = self
            .client
            .send_email()
            .from_email_address(&email.from)
            .destination(Destination::builder().to_addresses(&email.to).build())
            .content(EmailContent::builder().simple(message(email)?).build())
            .set_configuration_set_name(self.configuration_set.clone());
        for (name, value) in &email.tags {
            request = request.email_tags(
                MessageTag::builder()
                    .name(name)
                    .value(tag_value(value))
                    .build()
                    .map_err(|e| MailError::Rejected(e.to_string()))?,
            );
        }
        let out = request.send().await.map_err(classify)?;
        Ok(out.message_id.unwrap_or_default())
    }

    async fn is_suppressed(&self, address: &str) -> Result<bool, MailError> {
        if !self.check_suppression {
            return Ok(false);
        }
        match self
            .client
            .get_suppressed_destination()
            .email_address(address)
            .send()
            .await
        {
            Ok(out) => Ok(out.suppressed_destination.is_some()),
            Err(SdkError::ServiceError(se)) if se.err().code() == Some("NotFoundException") => {
                Ok(false)
            }
            Err(e) => Err(classify(e)),
        }
    }
}

/// An error answer from SES proves what happened: throttling and 5xx were not accepted and come
/// back; every other refusal is final (SES reference, §5). A request that could not be built
/// never left. Anything else — a timeout, a reset or dropped connection, an unreadable answer —
/// may have been accepted: unknown.
fn classify<E>(err: SdkError<E, aws_smithy_runtime_api::http::Response>) -> MailError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &err {
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or("Unknown");
            let message = format!("{code}: {}", se.err().message().unwrap_or_default());
            let status = se.raw().status().as_u16();
            if (200..300).contains(&status) {
                // a success status with an answer that could not be read: accepted, id unknown
                MailError::Unknown(format!("unreadable answer ({status}): {message}"))
            } else if code == "TooManyRequestsException" || code.contains("Throttl") {
                MailError::Throttled(message)
            } else if status >= 500 || code.contains("InternalFailure") {
                MailError::Transient(message)
            } else {
                MailError::Rejected(message)
            }
        }
        SdkError::ConstructionFailure(_) => MailError::Rejected(format!("{err:?}")),
        _ => MailError::Unknown(format!("{err:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_values_keep_only_what_ses_allows() {
        assert_eq!(tag_value("iv_0a1b#x y"), "iv_0a1b_x_y");
    }
}

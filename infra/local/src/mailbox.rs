//! SES's event destination, stood in for: the emulator's SES accepts mail but publishes no
//! events, so the local stack's mailer hands the feedback function what SES would publish for
//! each accepted e-mail, through the same notification shape (`events/ses/`). Addresses of SES's
//! mailbox simulator behave as they do in AWS — `bounce@simulator.amazonses.com` bounces for
//! good, `complaint@…` is delivered and then marked as spam — and every other address is
//! delivered.

use journey::ports::{Clock, MailError, Mailer, OutgoingEmail};
use serde_json::{Value, json};
use ses_feedback::notification::compose;

use crate::clock::SharedClock;

/// A mailer that sends through `inner`, then reports SES's events on what it accepted (with a
/// `feedback` function to report them to).
pub struct MailboxSimulator<M> {
    pub inner: M,
    pub feedback: Option<std::sync::Arc<ses_feedback::AwsFeedback>>,
    pub clock: SharedClock,
}

impl<M: Mailer> Mailer for MailboxSimulator<M> {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError> {
        let message_id = self.inner.send(email).await?;
        let Some(feedback) = &self.feedback else {
            return Ok(message_id);
        };
        let at = self.clock.now();
        let notifications =
            events_for(&email.to)
                .into_iter()
                .enumerate()
                .map(|(n, (kind, detail))| {
                    let body = compose(&email.tags, &email.to, &message_id, kind, detail, at);
                    (format!("{message_id}-{n}"), body.to_string())
                });
        let batch = ses_feedback::queued(notifications, at);
        let response = feedback.handle(batch).await;
        if !response.batch_item_failures.is_empty() {
            tracing::warn!(
                message_id,
                "local SES events: the feedback function refused some"
            );
        }
        Ok(message_id)
    }

    async fn is_suppressed(&self, address: &str) -> Result<bool, MailError> {
        self.inner.is_suppressed(address).await
    }
}

/// What SES publishes for a message to `to`: `(eventType, its object)`.
fn events_for(to: &str) -> Vec<(&'static str, Value)> {
    let local = to.split('@').next().unwrap_or_default();
    let simulator = to.ends_with("@simulator.amazonses.com");
    let mailbox = local.split('+').next().unwrap_or_default();
    match (simulator, mailbox) {
        (true, "bounce" | "suppressionlist") => vec![(
            "Bounce",
            json!({"bounceType": "Permanent", "bounceSubType": "General"}),
        )],
        (true, "complaint") => vec![
            ("Delivery", json!({})),
            ("Complaint", json!({"complaintFeedbackType": "abuse"})),
        ],
        _ => vec![("Delivery", json!({}))],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_simulators_addresses_behave_as_in_aws() {
        let kinds = |to: &str| {
            events_for(to)
                .into_iter()
                .map(|(k, _)| k)
                .collect::<Vec<_>>()
        };
        assert_eq!(kinds("bounce@simulator.amazonses.com"), ["Bounce"]);
        assert_eq!(kinds("bounce+yoon@simulator.amazonses.com"), ["Bounce"]);
        assert_eq!(
            kinds("complaint@simulator.amazonses.com"),
            ["Delivery", "Complaint"]
        );
        assert_eq!(kinds("kim@example.com"), ["Delivery"]);
        assert_eq!(kinds("bounce@example.com"), ["Delivery"]);
    }
}

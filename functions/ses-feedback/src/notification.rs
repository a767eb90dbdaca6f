//! SES's event notifications, as its configuration set's EventBridge destination delivers them
//! (the rule's target queue carries the EventBridge event as the message body), read into the
//! canonical event they become.
//!
//! The e-mail sender tags every message with what the feedback needs (`customer`, `channel`,
//! `intervention_id`, `template`, `variant`), so no lookup is needed here: SES hands the tags
//! back in `detail.mail.tags`, each as a list of strings.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use journey::domain::{Channel, Delivery, DomainError, Event, InterventionId, MailFeedback};
use journey::mail_tags;
use serde::Deserialize;
use serde_json::{Value, json};
use thiserror::Error;

/// What a notification is to Journey.
#[derive(Debug, PartialEq)]
pub enum Reading {
    /// Feedback on one of our messages: the customer event it becomes.
    Feedback(Box<Event>),
    /// An event type that changes nothing here (`Send`, `Rendering Failure`, `Subscription`).
    Ignored(String),
    /// Not one of our messages (no tags of ours: a test send from the console in this
    /// configuration set): acknowledged and counted.
    Unmatched(&'static str),
}

/// A notification that cannot be read: it goes to the dead-letter queue for a look.
#[derive(Debug, Error, PartialEq)]
pub enum Malformed {
    #[error("not an SES event notification: {0}")]
    Shape(String),
    #[error("tag `{tag}` is missing")]
    Tag { tag: &'static str },
    #[error(transparent)]
    Domain(#[from] DomainError),
}

#[derive(Deserialize)]
struct Envelope {
    detail: Detail,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Detail {
    event_type: String,
    mail: Mail,
    #[serde(default)]
    bounce: Option<Bounce>,
    #[serde(default)]
    complaint: Option<Complaint>,
    #[serde(default)]
    delivery: Option<Stamped>,
    #[serde(default)]
    open: Option<Stamped>,
    #[serde(default)]
    click: Option<Stamped>,
    #[serde(default)]
    delivery_delay: Option<Stamped>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Mail {
    timestamp: DateTime<Utc>,
    message_id: String,
    #[serde(default)]
    destination: Vec<String>,
    #[serde(default)]
    tags: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bounce {
    bounce_type: String,
    timestamp: Option<DateTime<Utc>>,
    #[serde(default)]
    bounced_recipients: Vec<Recipient>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Complaint {
    #[serde(default)]
    complaint_feedback_type: Option<String>,
    timestamp: Option<DateTime<Utc>>,
    #[serde(default)]
    complained_recipients: Vec<Recipient>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Recipient {
    email_address: String,
}

#[derive(Deserialize)]
struct Stamped {
    timestamp: Option<DateTime<Utc>>,
}

/// Reads one notification body.
pub fn read(body: &str) -> Result<Reading, Malformed> {
    let envelope: Envelope =
        serde_json::from_str(body).map_err(|e| Malformed::Shape(e.to_string()))?;
    let d = envelope.detail;
    let Some((feedback, at)) = feedback(&d)? else {
        return Ok(Reading::Ignored(d.event_type));
    };
    let tags = Tags(&d.mail.tags);
    let (Some(customer), Some(intervention)) = (
        tags.get(mail_tags::CUSTOMER),
        tags.get(mail_tags::INTERVENTION),
    ) else {
        return Ok(Reading::Unmatched("no customer or intervention tag"));
    };
    let channel = match tags.get(mail_tags::CHANNEL) {
        Some("email") => Channel::Email,
        Some("owner_email") => Channel::OwnerEmail,
        _ => return Ok(Reading::Unmatched("no e-mail channel tag")),
    };
    let delivery = Delivery {
        intervention_id: InterventionId::new(intervention)?,
        channel,
        template: tags.required(mail_tags::TEMPLATE)?.to_string(),
        variant: tags
            .get(mail_tags::VARIANT)
            .filter(|v| *v != mail_tags::NO_VARIANT)
            .map(str::to_string),
    };
    let event = Event::mail_feedback(
        mail_tags::customer_of(customer)?,
        &d.mail.message_id,
        delivery,
        feedback,
        recipient(&d),
        at.unwrap_or(d.mail.timestamp),
    )?;
    Ok(Reading::Feedback(Box::new(event)))
}

/// A feedback and, when SES gives one, its own time.
type Stamp = (MailFeedback, Option<DateTime<Utc>>);

/// The feedback an event type carries, with its own time when SES gives one; `None` for a
/// type that changes nothing. A bounce or complaint without its object is unreadable.
fn feedback(d: &Detail) -> Result<Option<Stamp>, Malformed> {
    let stamp = |s: &Option<Stamped>| s.as_ref().and_then(|s| s.timestamp);
    let missing =
        |what: &str| Malformed::Shape(format!("a {} event without `{what}`", d.event_type));
    Ok(Some(match d.event_type.as_str() {
        "Delivery" => (MailFeedback::Delivered, stamp(&d.delivery)),
        "DeliveryDelay" => (MailFeedback::Delayed, stamp(&d.delivery_delay)),
        "Open" => (MailFeedback::Opened, stamp(&d.open)),
        "Click" => (MailFeedback::Clicked, stamp(&d.click)),
        "Reject" => (MailFeedback::Rejected, None),
        "Bounce" => {
            let bounce = d.bounce.as_ref().ok_or_else(|| missing("bounce"))?;
            // `Transient` and `Undetermined` may deliver later or elsewhere: only a
            // `Permanent` bounce says the address is gone
            let kind = match bounce.bounce_type.as_str() {
                "Permanent" => MailFeedback::HardBounce,
                _ => MailFeedback::SoftBounce,
            };
            (kind, bounce.timestamp)
        }
        "Complaint" => {
            let complaint = d.complaint.as_ref().ok_or_else(|| missing("complaint"))?;
            // a mailbox provider's "not spam" report withdraws nothing and complains of nothing
            if complaint.complaint_feedback_type.as_deref() == Some("not-spam") {
                return Ok(None);
            }
            (MailFeedback::Complaint, complaint.timestamp)
        }
        _ => return Ok(None),
    }))
}

/// The address the feedback is about: the bounced or complaining recipient, else the message's
/// (Journey sends each e-mail to one address).
fn recipient(d: &Detail) -> Option<&str> {
    let bounced = d.bounce.as_ref().and_then(|b| b.bounced_recipients.first());
    let complained = d
        .complaint
        .as_ref()
        .and_then(|c| c.complained_recipients.first());
    bounced
        .or(complained)
        .map(|r| r.email_address.as_str())
        .or(d.mail.destination.first().map(String::as_str))
}

struct Tags<'a>(&'a BTreeMap<String, Vec<String>>);

impl<'a> Tags<'a> {
    fn get(&self, name: &str) -> Option<&'a str> {
        self.0.get(name)?.first().map(String::as_str)
    }

    fn required(&self, name: &'static str) -> Result<&'a str, Malformed> {
        self.get(name).ok_or(Malformed::Tag { tag: name })
    }
}

/// A notification in SES's shape (the inverse of [`read`]): a message to `to` with `tags`,
/// reporting `event_type` (`Delivery`, `Bounce` …) with its object `detail` at `at`. The local
/// stack's stand-in for SES's event destination and the tests hand the function these.
pub fn compose(
    tags: &[(String, String)],
    to: &str,
    message_id: &str,
    event_type: &str,
    mut detail: Value,
    at: DateTime<Utc>,
) -> Value {
    let mut tags: serde_json::Map<String, Value> = tags
        .iter()
        .map(|(name, value)| (name.clone(), json!([value])))
        .collect();
    tags.insert("ses:configuration-set".into(), json!(["journey-local"]));
    detail["timestamp"] = json!(at);
    let mut key = event_type.to_string();
    key[..1].make_ascii_lowercase(); // `deliveryDelay`, `bounce` …
    json!({
        "version": "0",
        "detail-type": format!("Email {event_type}"),
        "source": "aws.ses",
        "time": at,
        "detail": {
            "eventType": event_type,
            "mail": {"timestamp": at, "messageId": message_id, "destination": [to], "tags": tags},
            key: detail,
        }
    })
}

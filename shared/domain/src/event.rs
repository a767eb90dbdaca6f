//! The canonical event: every trigger of docs/product.md, whatever provider or app it came from.
//! Ingestion maps provider payloads to it; the sweep produces `check_due`; the transition worker
//! applies it. Its JSON form (tagged by `type`) is the `/events` API schema and the queue format.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::DomainError;
use super::ids::{CustomerId, EventId};
use super::intervention::{Delivery, Intervention};

/// One thing that happened to one customer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Unique per source; the dedup key.
    pub id: EventId,
    pub customer_id: CustomerId,
    pub occurred_at: DateTime<Utc>,
    pub source: Source,
    #[serde(flatten)]
    pub kind: EventKind,
    /// Profile fields the sender knew at the time; any event may carry them.
    #[serde(default, skip_serializing_if = "Profile::is_empty")]
    pub profile: Profile,
}

impl Event {
    /// The sweep's tick for a customer whose check was due at `due_at`, applied as of `now`.
    /// Its id names the due time, so overlapping sweeps emit the same check and it applies once.
    pub fn check_due(customer_id: CustomerId, due_at: DateTime<Utc>, now: DateTime<Utc>) -> Event {
        let due = due_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        Event {
            // a customer id (≤ 128) and a time (20) always fit an event id (≤ 256)
            id: EventId(format!("check:{customer_id}:{due}")),
            customer_id,
            occurred_at: now,
            source: Source::Sweep,
            kind: EventKind::CheckDue,
            profile: Profile::default(),
        }
    }
}

impl Event {
    /// The customer's opt-out from marketing e-mail; one id per customer, so clicking the link
    /// twice changes nothing.
    pub fn unsubscribed(customer_id: CustomerId, now: DateTime<Utc>) -> Event {
        Event {
            id: EventId(format!("unsubscribe:{customer_id}")),
            customer_id,
            occurred_at: now,
            source: Source::Customer,
            kind: EventKind::Unsubscribed,
            profile: Profile::default(),
        }
    }

    /// SES's word on an e-mail it accepted, with an id naming the SES message and the kind of
    /// feedback: a repeated notification applies once, and so does every open or click after
    /// the first (the rates count messages opened, not opens).
    pub fn mail_feedback(
        customer_id: CustomerId,
        message_id: &str,
        delivery: Delivery,
        feedback: MailFeedback,
        recipient: Option<&str>,
        occurred_at: DateTime<Utc>,
    ) -> Result<Event, DomainError> {
        Ok(Event {
            id: EventId::new(format!("ses:{message_id}:{}", feedback.as_str()))?,
            customer_id,
            occurred_at,
            source: Source::Ses,
            kind: EventKind::MailFeedback {
                delivery,
                feedback,
                recipient: recipient.map(crate::customer::address_key),
            },
            profile: Profile::default(),
        })
    }

    /// A text provider's report on `customer_id`'s text, its id from the provider's message id
    /// and code: the same report twice is one event.
    pub fn text_report(
        customer_id: CustomerId,
        provider: &str,
        report: &crate::text::TextReport,
    ) -> Result<Event, DomainError> {
        if report.provider_id.is_empty() || report.code.is_empty() {
            return Err(DomainError::invalid(
                "report",
                "names no provider message id or code: it cannot be told from another",
            ));
        }
        let id = format!("{provider}:{}:{}", report.provider_id, report.code);
        Ok(Event {
            id: EventId::new(id)?,
            customer_id,
            occurred_at: report.at,
            source: Source::TextProvider,
            kind: EventKind::TextReported {
                intervention_id: crate::InterventionId::new(report.send_id.clone())?,
                code: report.code.clone(),
                status: report.status.clone(),
                fallback: report.fallback,
            },
            profile: Profile::default(),
        })
    }

    /// A staff action from the read API, with the request's id as the dedup key.
    pub fn staff(
        customer_id: CustomerId,
        request_id: &str,
        kind: EventKind,
        now: DateTime<Utc>,
    ) -> Result<Event, DomainError> {
        Ok(Event {
            id: EventId::new(format!("staff:{customer_id}:{request_id}"))?,
            customer_id,
            occurred_at: now,
            source: Source::Staff,
            kind,
            profile: Profile::default(),
        })
    }

    /// A sender's report, with an id naming the intervention and the outcome so a repeated
    /// report applies once. A deferral also names its time: the same message deferred again
    /// (quiet hours once more when it came due) is a new report, and must reach the schedule,
    /// or the message is held for good.
    pub fn report(intervention: &Intervention, kind: EventKind, now: DateTime<Utc>) -> Event {
        let id = match &kind {
            EventKind::InterventionDeferred { until, .. } => format!(
                "report:{}:{}:{}",
                intervention.id,
                kind.name(),
                until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            _ => format!("report:{}:{}", intervention.id, kind.name()),
        };
        Event {
            // an intervention id (≤ 128), the outcome (≤ 25) and a time (20) fit (≤ 256)
            id: EventId(id),
            customer_id: intervention.customer_id.clone(),
            occurred_at: now,
            source: Source::Sender,
            kind,
            profile: Profile::default(),
        }
    }
}

/// Who produced the event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Stripe,
    Toss,
    Portone,
    /// The business's own app, through `POST /events`.
    App,
    /// The scheduled sweep's clock tick.
    Sweep,
    /// A sender's report on a message (sent, skipped, failed, deferred).
    Sender,
    /// The customer, through a link we sent (unsubscribe).
    Customer,
    /// Staff, through the read API (notes, erasure).
    Staff,
    /// Amazon SES's events on the e-mails it accepted (bounces, complaints, opens …).
    Ses,
    /// A text provider's delivery report (Solapi, NHN Cloud).
    TextProvider,
}

/// What happened. Tagged by `type` in JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum EventKind {
    /// A lead or free-trial sign-up before any payment.
    SignedUp {
        #[serde(default)]
        plan: SignUpPlan,
    },
    PaymentSucceeded {
        amount: Money,
        /// When the period this payment pays for ends: the renewal date (Stripe's subscription
        /// period end, the app's `renews_at` or `expires_at`). Providers that do not say leave
        /// it to a later event (`renewal_upcoming`) or the app.
        #[serde(
            default,
            alias = "expires_at",
            alias = "paid_through",
            skip_serializing_if = "Option::is_none"
        )]
        renews_at: Option<DateTime<Utc>>,
    },
    PaymentFailed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        amount: Option<Money>,
    },
    RefundRequested {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Part of a payment refunded (a discount after the fact, one course of several): the
    /// customer stays; the revenue shrinks by `amount` when the provider says how much.
    PartialRefund {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        amount: Option<Money>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    SubscriptionCancelled {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    RenewalUpcoming {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        renews_at: Option<DateTime<Utc>>,
    },
    TrialEnding {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ends_at: Option<DateTime<Utc>>,
    },
    Login,
    OnboardingCompleted,
    AssignmentSubmitted,
    AssignmentMissed,
    ContentViewed {
        seconds: u32,
    },
    ProgramCompleted,
    SupportTicket,
    NpsResponse {
        score: NpsScore,
    },
    /// Only profile fields changed (e-mail, locale, owner …).
    ProfileUpdated,
    /// The sweep's tick: re-evaluate this customer's time-based rules as of `occurred_at`.
    CheckDue,
    /// The customer opted out of marketing e-mail (one-click unsubscribe).
    Unsubscribed,
    /// A sender delivered an intervention.
    InterventionSent {
        delivery: Delivery,
    },
    /// A sender did not send an intervention on purpose (unsubscribed, no address …).
    InterventionSkipped {
        delivery: Delivery,
        reason: String,
    },
    /// The provider refused an intervention for good.
    InterventionFailed {
        delivery: Delivery,
        reason: String,
    },
    /// The sender cannot know whether the provider accepted it (the request was written, no
    /// answer came back), and the rules say not to repeat it: it may or may not have arrived.
    InterventionUnknown {
        delivery: Delivery,
        reason: String,
    },
    /// What the text provider reported about a text after accepting it: delivered (and by
    /// which channel), failed, or the recipient's block.
    TextReported {
        intervention_id: crate::InterventionId,
        /// The provider's own code, as it sent it.
        code: String,
        status: crate::text::TextStatus,
        /// Delivered by the 알림톡's SMS/LMS fallback.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        fallback: bool,
    },
    /// What SES reported about an e-mail after accepting it.
    MailFeedback {
        delivery: Delivery,
        feedback: MailFeedback,
        /// The [`address_key`](crate::customer::address_key) of the address it concerns (the
        /// bounced or complaining recipient), so a late bounce of a former address suppresses
        /// nothing.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recipient: Option<String>,
    },
    /// Quiet hours: the intervention goes out at `until` instead, through the due index.
    InterventionDeferred {
        intervention: Intervention,
        until: DateTime<Utc>,
    },
    /// A staff member contacted the customer (the dashboard's "contacted" and "resolved"
    /// buttons), with what came of it when they said.
    StaffNote {
        author: String,
        channel: ContactChannel,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        outcome: Option<ContactOutcome>,
    },
    /// Erasure on request (PIPA, GDPR): personal data removed across the customer's records,
    /// later events dropped. `by` names who asked (an API key's id, a staff member).
    Erased {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
}

/// What became of an e-mail SES accepted (its configuration set's event destination).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum MailFeedback {
    /// The receiving server took it.
    Delivered,
    /// The receiving server has not taken it yet; SES keeps trying.
    Delayed,
    /// The recipient opened it (or their mail client fetched its images).
    Opened,
    /// The recipient followed a link in it.
    Clicked,
    /// A temporary failure (mailbox full, message too large): nothing changes.
    SoftBounce,
    /// The address does not exist: no more e-mail to it.
    HardBounce,
    /// The recipient marked it as spam: no more e-mail to them.
    Complaint,
    /// SES refused to send it (a virus in it).
    Rejected,
}

impl MailFeedback {
    pub const ALL: [MailFeedback; 8] = [
        MailFeedback::Delivered,
        MailFeedback::Delayed,
        MailFeedback::Opened,
        MailFeedback::Clicked,
        MailFeedback::SoftBounce,
        MailFeedback::HardBounce,
        MailFeedback::Complaint,
        MailFeedback::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Feedback after which the address gets no more e-mail of any kind.
    pub fn suppresses(self) -> bool {
        matches!(self, MailFeedback::HardBounce | MailFeedback::Complaint)
    }

    /// The recipient did something with the message.
    pub fn is_engagement(self) -> bool {
        matches!(self, MailFeedback::Opened | MailFeedback::Clicked)
    }
}

/// How staff reached a customer. No free text: notes are not a place for personal data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ContactChannel {
    Phone,
    Email,
    Message,
    Meeting,
    NoAnswer,
}

impl ContactChannel {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What came of a contact: `reached` and `no_answer` record an attempt, `saved` and `lost`
/// resolve the case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ContactOutcome {
    Reached,
    NoAnswer,
    Saved,
    Lost,
}

impl ContactOutcome {
    pub const ALL: [ContactOutcome; 4] = [
        ContactOutcome::Reached,
        ContactOutcome::NoAnswer,
        ContactOutcome::Saved,
        ContactOutcome::Lost,
    ];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The customer was not reached: the case stays on today's list.
    pub fn is_attempt_only(self) -> bool {
        self == ContactOutcome::NoAnswer
    }
}

impl EventKind {
    /// A payment of `amount` that says nothing of the renewal date.
    pub fn paid(amount: Money) -> EventKind {
        EventKind::PaymentSucceeded {
            amount,
            renews_at: None,
        }
    }

    /// The `type` tag, for logs, history causes and metrics.
    pub fn name(&self) -> &'static str {
        self.into()
    }

    /// Activity is what the customer does with the program itself: it resets the inactivity
    /// clock and brings an at-risk customer back. Payments (often automatic), tickets and
    /// survey answers are not activity.
    pub fn is_activity(&self) -> bool {
        matches!(
            self,
            EventKind::Login
                | EventKind::OnboardingCompleted
                | EventKind::AssignmentSubmitted
                | EventKind::ContentViewed { .. }
                | EventKind::ProgramCompleted
        )
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SignUpPlan {
    Lead,
    #[default]
    Trial,
}

/// An amount in the currency's minor unit (cents for USD, won for KRW), as providers send it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawMoney")]
pub struct Money {
    pub amount: i64,
    /// ISO 4217, upper case.
    pub currency: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMoney {
    amount: i64,
    currency: String,
}

impl TryFrom<RawMoney> for Money {
    type Error = DomainError;
    fn try_from(raw: RawMoney) -> Result<Self, Self::Error> {
        Money::new(raw.amount, &raw.currency)
    }
}

impl Money {
    pub fn new(amount: i64, currency: &str) -> Result<Self, DomainError> {
        if amount < 0 {
            return Err(DomainError::invalid("amount", "must not be negative"));
        }
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(DomainError::invalid(
                "currency",
                format!("`{currency}` is not an ISO 4217 code"),
            ));
        }
        Ok(Money {
            amount,
            currency: currency.to_ascii_uppercase(),
        })
    }
}

/// An NPS answer, 0–10.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct NpsScore(u8);

impl NpsScore {
    pub fn new(score: u8) -> Result<Self, DomainError> {
        if score > 10 {
            return Err(DomainError::invalid("score", "an NPS answer is 0 to 10"));
        }
        Ok(NpsScore(score))
    }

    pub fn value(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for NpsScore {
    type Error = DomainError;
    fn try_from(v: u8) -> Result<Self, Self::Error> {
        NpsScore::new(v)
    }
}

impl From<NpsScore> for u8 {
    fn from(s: NpsScore) -> u8 {
        s.0
    }
}

/// Profile fields an event may carry. Absent fields leave the stored value as it is.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// BCP 47 language tag (`ko`, `en-US`); picks the message language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// IANA time zone (`Asia/Seoul`); quiet hours are local to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Owner>,
    /// Mobile number in E.164 (`+821012345678`), for 알림톡 and texts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Marketing and night consent given or withdrawn, as the app recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<crate::consent::ConsentChange>,
}

/// Length limits on what comes from outside, in characters: at every limit, with the longest
/// ids, a customer's item stays far below DynamoDB's 400 KB (a test writes one).
pub mod limits {
    /// A program's name, an owner's name.
    pub const NAME: usize = 100;
    /// A refund's or cancellation's free-text reason.
    pub const REASON: usize = 500;
    /// A BCP 47 language tag (RFC 5646 advises supporting 35).
    pub const LOCALE: usize = 35;
    /// A Slack member id (`U0123ABCD`, 9 to 11 today).
    pub const SLACK_ID: usize = 32;
    /// An owner's id.
    pub const OWNER_ID: usize = 128;
}

/// `Err` naming `field` when `value` is longer than `max` characters.
pub fn within(field: &'static str, value: &str, max: usize) -> Result<(), DomainError> {
    if value.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    Ok(())
}

impl Profile {
    pub fn is_empty(&self) -> bool {
        *self == Profile::default()
    }

    /// Checks each field a sender may get wrong, naming it.
    pub fn validate(&self) -> Result<(), DomainError> {
        if let Some(email) = &self.email {
            let plausible = email.len() <= 254
                && email.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
                })
                && !email.chars().any(|c| c.is_whitespace() || c.is_control());
            if !plausible {
                return Err(DomainError::invalid("email", "is not an e-mail address"));
            }
        }
        if let Some(locale) = &self.locale {
            within("locale", locale, limits::LOCALE)?;
            let mut parts = locale.split(['-', '_']);
            let language_ok = parts.next().is_some_and(|l| {
                (2..=3).contains(&l.len()) && l.chars().all(|c| c.is_ascii_alphabetic())
            });
            let rest_ok = parts.all(|p| {
                (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric())
            });
            if !(language_ok && rest_ok) {
                return Err(DomainError::invalid(
                    "locale",
                    "is not a language tag such as `ko` or `en-US`",
                ));
            }
        }
        if let Some(zone) = &self.time_zone
            && zone.parse::<chrono_tz::Tz>().is_err()
        {
            return Err(DomainError::invalid(
                "time_zone",
                format!("`{zone}` is not an IANA time zone"),
            ));
        }
        if let Some(program) = &self.program
            && (program.is_empty() || program.chars().count() > limits::NAME)
        {
            return Err(DomainError::invalid(
                "program",
                format!("must be 1 to {} characters", limits::NAME),
            ));
        }
        if let Some(phone) = &self.phone
            && crate::text::e164(phone, None).as_deref() != Ok(phone.as_str())
        {
            return Err(DomainError::invalid(
                "phone",
                "is not a phone number in E.164 (`+821012345678`)",
            ));
        }
        if let Some(via) = self.consent.as_ref().and_then(|c| c.via.as_deref()) {
            within("consent.via", via, limits::NAME)?;
        }
        if let Some(owner) = &self.owner {
            if owner.id.trim().is_empty() || owner.id.chars().count() > limits::OWNER_ID {
                return Err(DomainError::invalid(
                    "owner.id",
                    format!("must be 1 to {} characters", limits::OWNER_ID),
                ));
            }
            if let Some(name) = &owner.name {
                within("owner.name", name, limits::NAME)?;
            }
            if let Some(slack_id) = &owner.slack_id {
                within("owner.slack_id", slack_id, limits::SLACK_ID)?;
            }
            let owner_mail = Profile {
                email: owner.email.clone(),
                ..Profile::default()
            };
            owner_mail
                .validate()
                .map_err(|_| DomainError::invalid("owner.email", "is not an e-mail address"))?;
        }
        Ok(())
    }
}

/// The staff member responsible for a customer (담당자): trainer, tutor or account manager.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Owner {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Slack member id (`U0123…`), so alerts can mention the owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Event, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn parses_a_tagged_event_with_profile() {
        let e = parse(
            r#"{"id":"app:1","customer_id":"c1","occurred_at":"2026-11-01T09:00:00Z",
                "source":"app","type":"nps_response","score":4,
                "profile":{"email":"kim@example.com","time_zone":"Asia/Seoul"}}"#,
        )
        .unwrap();
        assert_eq!(e.kind, EventKind::NpsResponse { score: NpsScore(4) });
        assert_eq!(e.profile.time_zone.as_deref(), Some("Asia/Seoul"));
    }

    #[test]
    fn round_trips_through_json() {
        let e = parse(
            r#"{"id":"stripe:evt_1","customer_id":"c1","occurred_at":"2026-11-01T09:00:00Z",
                "source":"stripe","type":"payment_succeeded","amount":{"amount":37400,"currency":"krw"}}"#,
        )
        .unwrap();
        let again = parse(&serde_json::to_string(&e).unwrap()).unwrap();
        assert_eq!(e, again);
        assert_eq!(
            again.kind,
            EventKind::PaymentSucceeded {
                amount: Money::new(37400, "KRW").unwrap(),
                renews_at: None,
            }
        );
    }

    #[test]
    fn profiles_are_validated_field_by_field() {
        let ok = Profile {
            email: Some("kim@example.com".into()),
            locale: Some("ko-KR".into()),
            time_zone: Some("Asia/Seoul".into()),
            ..Profile::default()
        };
        assert_eq!(ok.validate(), Ok(()));
        let field = |p: Profile| match p.validate() {
            Err(DomainError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(Profile {
                email: Some("kim".into()),
                ..ok.clone()
            }),
            "email"
        );
        assert_eq!(
            field(Profile {
                locale: Some("korean!".into()),
                ..ok.clone()
            }),
            "locale"
        );
        assert_eq!(
            field(Profile {
                time_zone: Some("Mars/Base".into()),
                ..ok.clone()
            }),
            "time_zone"
        );
        let owner = Owner {
            id: "t1".into(),
            name: None,
            email: Some("nope".into()),
            slack_id: None,
        };
        assert_eq!(
            field(Profile {
                owner: Some(owner),
                ..ok
            }),
            "owner.email"
        );
    }

    #[test]
    fn bad_fields_are_named() {
        let missing = parse(
            r#"{"id":"1","occurred_at":"2026-11-01T09:00:00Z","source":"app","type":"login"}"#,
        );
        assert!(missing.unwrap_err().to_string().contains("customer_id"));
        let nps = parse(
            r#"{"id":"1","customer_id":"c","occurred_at":"2026-11-01T09:00:00Z","source":"app","type":"nps_response","score":11}"#,
        );
        assert!(nps.unwrap_err().to_string().contains("NPS"));
        let kind = parse(
            r#"{"id":"1","customer_id":"c","occurred_at":"2026-11-01T09:00:00Z","source":"app","type":"teleported"}"#,
        );
        assert!(kind.unwrap_err().to_string().contains("teleported"));
        let money = parse(
            r#"{"id":"1","customer_id":"c","occurred_at":"2026-11-01T09:00:00Z","source":"app","type":"payment_succeeded","amount":{"amount":-1,"currency":"KRW"}}"#,
        );
        assert!(money.unwrap_err().to_string().contains("amount"));
    }
}

//! The e-mail sender: SQS (e-mail queue) → SES. Each intervention is sent at most once: the send
//! ledger is claimed before SES is called and finished after, so a redelivered message sends
//! nothing. Every outcome — sent, skipped (unsubscribed, suppressed, no address), deferred
//! (quiet hours), failed (rejected) — goes back to the transition worker as an event, which
//! counts it per template × variant and keeps it for outcome attribution.

pub mod build;

pub use crate::build::{AwsEmailSender, BuildError, Config, Ports, assemble, build};

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, Utc};
use journey::alerts;
use journey::domain::{Channel, Customer, Intervention, Rules};
use journey::mail_tags;
use journey::ports::{
    Clock, CustomerStore, EventQueue, MailError, Mailer, OutgoingEmail, Redelivery, SendLedger,
};
use journey::sending::{Delivered, Prepared, SendOutcome, Sending};
use journey::sqs_batch::{MessageFailure, Order, Within, process_batch_within};
use journey::templates::{Business, EmailContext, Lang, Templates};
use journey::unsubscribe;

use journey::domain::delivery::{Decision, decide};

/// One message's worst case: `SendEmail`'s 5 s attempt (no SDK retries) plus the reads before it and the record and report after.
pub const RESERVE: std::time::Duration = std::time::Duration::from_secs(15);

/// Messages sent in parallel in one batch.
pub const CONCURRENCY: usize = 5;

/// The business's settings every e-mail needs.
#[derive(Clone, Debug, PartialEq)]
pub struct EmailSettings {
    /// A verified SES identity.
    pub from: String,
    pub brand: String,
    pub app_url: String,
    /// Base URL of the HTTP API, for unsubscribe links.
    pub api_url: String,
    pub dashboard_url: String,
    pub offer_code: String,
    /// Language for customers whose locale is unknown, and for staff alerts.
    pub default_lang: Lang,
    /// The business as advertising must name it (정보통신망법 §50④): its name, postal address
    /// and a contact number; the brand when no name is set.
    pub sender_name: String,
    pub sender_address: String,
    pub sender_contact: String,
}

impl EmailSettings {
    /// The sender's address and contact are set (the name falls back to the brand).
    pub fn check_sender(&self) -> Result<(), BuildError> {
        let missing: Vec<&str> = [
            ("SENDER_ADDRESS", &self.sender_address),
            ("SENDER_CONTACT", &self.sender_contact),
        ]
        .into_iter()
        .filter(|(_, v)| v.trim().is_empty())
        .map(|(name, _)| name)
        .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(BuildError::NoSender(missing.join(", ")))
        }
    }
}

pub struct EmailSender<S, M, Q, R, C> {
    pub store: S,
    pub mailer: M,
    /// The events queue, for the outcome reports.
    pub reports: Q,
    pub redelivery: R,
    pub clock: C,
    pub rules: Rules,
    pub templates: Templates,
    pub settings: EmailSettings,
    /// Signs the unsubscribe links (from the `unsubscribe-secret`, read again on warm starts).
    pub unsubscribe_key: Vec<u8>,
    pub metrics: journey::metrics::Metrics,
}

impl<S, M, Q, R, C> EmailSender<S, M, Q, R, C>
where
    S: CustomerStore + SendLedger,
    M: Mailer,
    Q: EventQueue,
    R: Redelivery,
    C: Clock,
{
    pub async fn handle_batch(&self, event: SqsEvent) -> SqsBatchResponse {
        self.handle_batch_within(event, &|| std::time::Duration::MAX)
            .await
    }

    /// As Lambda runs it: no message is started with less than [`RESERVE`] of the invocation
    /// left; those go back unclaimed.
    pub async fn handle_batch_within(
        &self,
        event: SqsEvent,
        time_left: &(dyn Fn() -> std::time::Duration + Sync),
    ) -> SqsBatchResponse {
        let within = Within {
            time_left,
            reserve: RESERVE,
        };
        process_batch_within(event, Order::Independent, CONCURRENCY, within, |m| {
            self.handle_message(m)
        })
        .await
    }

    async fn handle_message(&self, message: SqsMessage) -> Result<(), MessageFailure> {
        let intervention = journey::sending::intervention_of(&message)?;
        let now = self.clock.now();
        let sending = Sending {
            ledger: &self.store,
            reports: &self.reports,
            redelivery: &self.redelivery,
            metrics: &self.metrics,
        };
        sending
            .once(
                &message,
                &intervention,
                now,
                self.prepare(&intervention, now),
                |email| self.deliver(email),
            )
            .await
    }

    /// Reads and decides: whether it is time, to whom, and the e-mail itself.
    async fn prepare(
        &self,
        intervention: &Intervention,
        now: DateTime<Utc>,
    ) -> Prepared<OutgoingEmail> {
        let retry = |reason: String| Prepared::Retry {
            reason,
            after: None,
        };
        let customer = match self.store.load(&intervention.customer_id).await {
            Ok(Some(customer)) => customer,
            Ok(None) => return Prepared::Done(SendOutcome::Skipped("unknown customer".into())),
            Err(e) => return retry(e.to_string()),
        };
        let policy = self.rules.policy(customer.profile.program.as_deref());
        let purpose = self.templates.catalogue().purpose(&intervention.template);
        let to = match decide(intervention, &customer, policy, purpose, now) {
            Decision::Send { to } => to,
            Decision::Defer { until } => return Prepared::Done(SendOutcome::Deferred(until)),
            Decision::Skip { reason } => return Prepared::Done(SendOutcome::Skipped(reason)),
        };
        match self.mailer.is_suppressed(&to).await {
            Ok(false) => {}
            Ok(true) => {
                return Prepared::Done(SendOutcome::Skipped(
                    "address on the suppression list".into(),
                ));
            }
            // refused (an account still in the SES sandbox, a missing permission): SES's own
            // suppression list still applies to the send, and a bounce comes back as feedback
            Err(MailError::Rejected(reason)) => {
                self.metrics.add("SuppressionCheckRefused", 1.0);
                tracing::warn!(%reason, "the suppression list cannot be read; sending anyway");
            }
            Err(e) => return retry(e.to_string()),
        }
        match self.compose(intervention, &customer, to, now) {
            Ok(email) => Prepared::Send(email),
            Err(reason) => Prepared::Done(SendOutcome::Failed(reason)),
        }
    }

    /// One `SendEmail`, its answer classified (`SesMailer` sends without SDK retries).
    async fn deliver(&self, email: OutgoingEmail) -> Delivered {
        match self.mailer.send(&email).await {
            Ok(message_id) => Delivered::Accepted(message_id),
            Err(MailError::Rejected(reason)) => Delivered::Refused(reason),
            Err(MailError::Unknown(reason)) => Delivered::Unknown(reason),
            Err(e @ (MailError::Throttled(_) | MailError::Transient(_))) => {
                Delivered::NotAccepted {
                    reason: e.to_string(),
                    after: None,
                }
            }
        }
    }

    /// The e-mail for a customer (its template) or an owner (the staff alert).
    fn compose(
        &self,
        intervention: &Intervention,
        customer: &Customer,
        to: String,
        now: DateTime<Utc>,
    ) -> Result<OutgoingEmail, String> {
        let unsubscribe =
            unsubscribe::link(&self.settings.api_url, &self.unsubscribe_key, &customer.id);
        let (subject, text, html) = if intervention.channel == Channel::OwnerEmail {
            let alert = alerts::build(
                &self.templates,
                &self.rules,
                customer,
                intervention,
                self.settings.default_lang,
                &self.settings.dashboard_url,
                now,
            )
            .map_err(|e| e.to_string())?;
            alert.email()
        } else {
            let lang = Lang::of(
                customer.profile.locale.as_deref(),
                self.settings.default_lang,
            );
            let ctx = self.context(customer, &unsubscribe, now);
            let e = self
                .templates
                .email(
                    &intervention.template,
                    lang,
                    intervention.variant.as_deref(),
                    intervention.transactional,
                    &ctx,
                )
                .map_err(|e| e.to_string())?;
            (e.subject, e.text, e.html)
        };
        let mut headers = Vec::new();
        if intervention.channel == Channel::Email && !intervention.transactional {
            headers.push(("List-Unsubscribe".to_string(), format!("<{unsubscribe}>")));
            headers.push((
                "List-Unsubscribe-Post".to_string(),
                "List-Unsubscribe=One-Click".to_string(),
            ));
        }
        Ok(OutgoingEmail {
            from: self.settings.from.clone(),
            to,
            subject,
            text,
            html,
            headers,
            tags: mail_tags::of(intervention),
        })
    }

    fn context(
        &self,
        customer: &Customer,
        unsubscribe_url: &str,
        now: DateTime<Utc>,
    ) -> EmailContext {
        let s = &self.settings;
        let business = Business {
            brand: s.brand.clone(),
            app_url: s.app_url.clone(),
            offer_code: s.offer_code.clone(),
            sender_name: s.sender_name.clone(),
            sender_address: s.sender_address.clone(),
            sender_contact: s.sender_contact.clone(),
        };
        EmailContext::of(customer, &business, unsubscribe_url, now)
    }
}

pub use journey::templates::referral_code;

//! The text sender: SQS (text queue) → a text provider (Solapi or NHN Cloud). Each
//! intervention is sent at most once, by the same ledger, claim and lease as e-mail
//! (`journey::sending`): a redelivered message sends nothing, an unknown outcome is recorded
//! and never repeated blindly. A 알림톡 goes with the provider's own SMS/LMS fallback — one
//! request, one outcome; the channel that delivered arrives later in the provider's report,
//! which the journey never waits for.

pub mod build;
pub mod pace;
pub mod reconcile;

pub use crate::build::{BuildError, Config, Ports, assemble};

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, Utc};
use journey::domain::delivery::{Decision, decide_text};
use journey::domain::text::{Block, TextChannel, check_alimtalk, check_text, text_channel_for};
use journey::domain::{Customer, Intervention, Rules};
use journey::ports::{
    Clock, CustomerStore, EventQueue, Fallback, OutgoingText, PendingTexts, Redelivery, SendLedger,
    TextButton, TextContent, TextError, TextProvider,
};
use journey::sending::{Delivered, Prepared, SendOutcome, Sending};
use journey::sqs_batch::{MessageFailure, Order, Within, process_batch_within};
use journey::templates::{Business, EmailContext, Lang};
use journey::text_templates::{Advertiser, RenderedText, TextTemplates};

/// One message's worst case: the provider's 5 s attempt plus the reads and records around it.
pub const RESERVE: std::time::Duration = std::time::Duration::from_secs(15);

/// The business's settings every text needs.
#[derive(Clone, Debug, PartialEq)]
pub struct TextSettings {
    /// The sender number, pre-registered with the provider (발신번호 사전등록제).
    pub from: String,
    /// The Kakao channel's sender profile (Solapi `pfId`, NHN `senderKey`); without it every
    /// text goes as SMS/LMS.
    pub kakao_profile: Option<String>,
    pub business: Business,
    /// What advertising texts must name: without it, an advertising template cannot be sent.
    pub advertiser: Option<Advertiser>,
    pub default_lang: Lang,
    /// Messages sent in parallel in one batch: with the queue's batch size and the function's
    /// maximum concurrency, the most requests the provider account sees at once.
    pub concurrency: usize,
    /// Sends a second per function instance at most (`TEXT_RATE_PER_SECOND`; 0: no limit).
    pub rate_per_second: f64,
}

pub struct TextSender<S, P, Q, R, C> {
    pub store: S,
    pub provider: P,
    /// The events queue, for the outcome reports.
    pub reports: Q,
    pub redelivery: R,
    pub clock: C,
    pub rules: Rules,
    pub templates: TextTemplates,
    pub settings: TextSettings,
    pub metrics: journey::metrics::Metrics,
    /// The provider's name in report event ids (`solapi:<messageId>:<code>`), as its webhook
    /// names them.
    pub provider_name: &'static str,
    /// Spaces the sends (`settings.rate_per_second`).
    pub pace: pace::Pace,
}

impl<S, P, Q, R, C> TextSender<S, P, Q, R, C>
where
    S: CustomerStore + SendLedger + PendingTexts,
    P: TextProvider,
    Q: EventQueue,
    R: Redelivery,
    C: Clock,
{
    pub async fn handle_batch(&self, event: SqsEvent) -> SqsBatchResponse {
        self.handle_batch_within(event, &|| std::time::Duration::MAX)
            .await
    }

    /// As Lambda runs it: no message is started with less than [`RESERVE`] left.
    pub async fn handle_batch_within(
        &self,
        event: SqsEvent,
        time_left: &(dyn Fn() -> std::time::Duration + Sync),
    ) -> SqsBatchResponse {
        let within = Within {
            time_left,
            reserve: RESERVE,
        };
        let concurrency = self.settings.concurrency.max(1);
        process_batch_within(event, Order::Independent, concurrency, within, |m| {
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
                |text| self.deliver(text),
            )
            .await
    }

    /// Reads and decides: whether it is time, to which number, and the text itself.
    async fn prepare(
        &self,
        intervention: &Intervention,
        now: DateTime<Utc>,
    ) -> Prepared<OutgoingText> {
        let customer = match self.store.load(&intervention.customer_id).await {
            Ok(Some(customer)) => customer,
            Ok(None) => return Prepared::Done(SendOutcome::Skipped("unknown customer".into())),
            Err(e) => {
                return Prepared::Retry {
                    reason: e.to_string(),
                    after: None,
                };
            }
        };
        let policy = self.rules.policy(customer.profile.program.as_deref());
        let purpose = self.templates.purpose(&intervention.template);
        let to = match decide_text(intervention, &customer, policy, purpose, now) {
            Decision::Send { to } => to,
            Decision::Defer { until } => return Prepared::Done(SendOutcome::Deferred(until)),
            Decision::Skip { reason } => return Prepared::Done(SendOutcome::Skipped(reason)),
        };
        match self.compose(intervention, &customer, to, now) {
            Ok(text) => Prepared::Send(text),
            Err(reason) => Prepared::Done(SendOutcome::Failed(reason)),
        }
    }

    /// One send request, its answer classified (the adapters never retry a POST); an accepted
    /// text awaits its report (the reconciler polls it if none comes).
    async fn deliver(&self, text: OutgoingText) -> Delivered {
        self.pace.wait().await;
        match self.provider.send(&text).await {
            Ok(id) => {
                self.await_report(&text.customer_id, &text.send_id, &id)
                    .await;
                Delivered::Accepted(id)
            }
            Err(TextError::Rejected { code, reason, .. }) => {
                Delivered::Refused(format!("{code}: {reason}"))
            }
            Err(TextError::Throttled { reason, after }) => Delivered::NotAccepted { reason, after },
            Err(TextError::Transient(reason)) => Delivered::NotAccepted {
                reason,
                after: None,
            },
            Err(TextError::Unknown(reason)) => Delivered::Unknown(reason),
        }
    }

    /// The text for `customer`: 알림톡 with its fallback where the template has one, the
    /// deployment a Kakao channel and the number KakaoTalk; else SMS/LMS. Over a limit: an
    /// error, never a truncated text.
    fn compose(
        &self,
        intervention: &Intervention,
        customer: &Customer,
        to: String,
        now: DateTime<Utc>,
    ) -> Result<OutgoingText, String> {
        let lang = Lang::of(
            customer.profile.locale.as_deref(),
            self.settings.default_lang,
        );
        let ctx = EmailContext::of(customer, &self.settings.business, "", now);
        let rendered = self
            .templates
            .render(
                &intervention.template,
                lang,
                &ctx,
                self.settings.advertiser.as_ref(),
            )
            .map_err(|e| e.to_string())?;
        let on_kakao = !customer
            .profile
            .text_blocks
            .get(&TextChannel::Alimtalk)
            .is_some_and(|b| b.block == Block::NotKakaoUser);
        let content = match (&self.settings.kakao_profile, on_kakao) {
            (Some(profile), true) if rendered.alimtalk.is_some() => alimtalk(profile, rendered)?,
            _ => plain(rendered)?,
        };
        Ok(OutgoingText {
            send_id: intervention.id.as_str().to_string(),
            customer_id: customer.id.as_str().to_string(),
            to,
            from: self.settings.from.clone(),
            content,
        })
    }
}

/// A 알림톡 with the fallback text, each within its limits.
fn alimtalk(profile: &str, r: RenderedText) -> Result<TextContent, String> {
    let Some((template_code, variables)) = r.alimtalk else {
        return plain(r);
    };
    let names: Vec<&str> = r.buttons.iter().map(|(n, _)| n.as_str()).collect();
    check_alimtalk(&r.text, r.buttons.len(), &names).map_err(|e| e.to_string())?;
    let channel = text_channel_for(r.subject.as_deref(), &r.fallback).map_err(|e| e.to_string())?;
    check_text(channel, r.subject.as_deref(), &r.fallback).map_err(|e| e.to_string())?;
    Ok(TextContent::Alimtalk {
        profile: profile.to_string(),
        template_code,
        variables,
        text: r.text,
        buttons: r
            .buttons
            .into_iter()
            .map(|(name, url)| TextButton { name, url })
            .collect(),
        fallback: Some(Fallback {
            subject: r.subject,
            text: r.fallback,
        }),
    })
}

/// An SMS when it fits in 90 bytes without a subject, else an LMS (its subject the
/// template's, or the text's first line cut to 40 bytes).
fn plain(r: RenderedText) -> Result<TextContent, String> {
    let channel = text_channel_for(r.subject.as_deref(), &r.fallback).map_err(|e| e.to_string())?;
    if channel == TextChannel::Sms {
        check_text(channel, None, &r.fallback).map_err(|e| e.to_string())?;
        return Ok(TextContent::Sms { text: r.fallback });
    }
    let subject = r.subject.unwrap_or_else(|| first_line_within(&r.fallback));
    check_text(TextChannel::Lms, Some(&subject), &r.fallback).map_err(|e| e.to_string())?;
    Ok(TextContent::Lms {
        subject,
        text: r.fallback,
    })
}

/// `text`'s first line, as many characters of it as fit an LMS subject.
fn first_line_within(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    let mut subject = String::new();
    for c in line.chars() {
        subject.push(c);
        let fits = journey::domain::text::euc_kr_bytes(&subject)
            .is_ok_and(|n| n <= journey::domain::text::limits::SUBJECT_BYTES);
        if !fits {
            subject.pop();
            break;
        }
    }
    subject
}

//! What the senders and SES report back: sends, failures and skips tallied once; bounces,
//! complaints, opens and clicks; and the credit a recovery gives the intervention that came
//! before it.

use chrono::Duration;

use crate::activity::Mark;
use crate::customer::{Suppression, address_key};
use crate::event::MailFeedback;
use crate::intervention::{Channel, Delivery, DeliveryStatus, InterventionRef};

use super::{Change, DomainEventDetail, Tally, TallyMetric, Transition};

impl Transition<'_> {
    /// A text provider's report. A block suppresses the channels it concerns, once, in the
    /// history: not on KakaoTalk, 알림톡 (texts then go by SMS/LMS); an 080 opt-out, a KISA
    /// report or a spam block, SMS and LMS. Delivery itself changes no state: the journey never
    /// waits for it; a final report is noted on the send record and counted per channel.
    pub(super) fn text_reported(
        &mut self,
        intervention: &crate::InterventionId,
        code: &str,
        status: &crate::text::TextStatus,
        fallback: bool,
    ) {
        self.text_final(intervention, code, status, fallback);
        self.text_blocked(code, status);
        if status.is_final() {
            let failed = matches!(status, crate::text::TextStatus::Failed { .. });
            self.text_ended(intervention, failed);
        }
    }

    /// A text ended: the e-mail held back for it (`email_fallback`) goes if it failed, and is
    /// dropped if it was delivered.
    pub(super) fn text_ended(&mut self, text: &crate::InterventionId, failed: bool) {
        let Some(i) = self.c.text_fallbacks.iter().position(|f| f.text == *text) else {
            return;
        };
        let held = self.c.text_fallbacks.remove(i);
        if !failed {
            return;
        }
        let email = held.email;
        self.published.push(DomainEventDetail::InterventionPlanned {
            intervention_id: email.id.clone(),
            trigger: email.trigger,
            channel: email.channel,
            template: email.template.clone(),
            variant: email.variant.clone(),
        });
        self.interventions.push(email);
    }

    /// A final report: its channel, fallback and price on the send record, and the month's
    /// counts per channel (`TEXTS`). Reports are deduplicated by provider id and code, so a
    /// report delivered twice counts once.
    fn text_final(
        &mut self,
        intervention: &crate::InterventionId,
        code: &str,
        status: &crate::text::TextStatus,
        fallback: bool,
    ) {
        use crate::text::{TextNote, TextStatus};
        let (via, metric) = match status {
            TextStatus::Delivered { via } => (Some(*via), TallyMetric::TextDelivered),
            TextStatus::Failed { .. } => (None, TallyMetric::TextFailed),
            TextStatus::Expired => (None, TallyMetric::TextExpired),
            _ => return,
        };
        let expired = metric == TallyMetric::TextExpired;
        let cost_krw = via.map_or(0, |c| self.policy.texts.prices_krw.of(c));
        let by = match via {
            Some(c) => c.as_str(),
            None if expired => "expired",
            None => "failed",
        };
        let month = self.at.format("%Y-%m").to_string();
        let mut count = |metric, amount| {
            self.tallies.push(Tally {
                template: super::TEXTS.into(),
                variant: None,
                metric,
                cohort: Some(month.clone()),
                by: Some(by.into()),
                amount,
            })
        };
        count(metric, 1);
        if fallback && via.is_some() {
            count(TallyMetric::TextFellBack, 1);
        }
        if cost_krw > 0 {
            count(TallyMetric::TextCostKrw, cost_krw);
        }
        self.text_notes.push(TextNote {
            intervention_id: intervention.clone(),
            via,
            expired,
            fallback: fallback && via.is_some(),
            code: code.to_string(),
            cost_krw,
            at: self.at,
        });
    }

    /// A block suppresses the channels it concerns, once, with a note in the history.
    fn text_blocked(&mut self, code: &str, status: &crate::text::TextStatus) {
        use crate::customer::TextBlock;
        use crate::text::{Block, TextChannel, TextStatus};
        let TextStatus::Failed {
            block: Some(block), ..
        } = status
        else {
            return;
        };
        let channels: &[TextChannel] = match block {
            Block::NotKakaoUser => &[TextChannel::Alimtalk],
            _ => &[TextChannel::Sms, TextChannel::Lms],
        };
        let blocks = &mut self.c.profile.text_blocks;
        if channels.iter().all(|c| blocks.contains_key(c)) {
            return;
        }
        for channel in channels {
            blocks.insert(
                *channel,
                TextBlock {
                    block: *block,
                    at: self.at,
                },
            );
        }
        let note = match block {
            Block::NotKakaoUser => {
                format!("not reachable on KakaoTalk (provider code {code}): texts go by SMS/LMS")
            }
            other => format!(
                "texts refused by the recipient's carrier or provider ({}, code {code}): no more texts",
                other.as_str()
            ),
        };
        self.record(Change::Note { note: note.clone() }, &note);
    }

    /// A sender's report: counted for its template × variant, and kept on the last
    /// intervention so only messages that went out are credited with a recovery.
    pub(super) fn report(
        &mut self,
        delivery: &Delivery,
        status: DeliveryStatus,
        metric: TallyMetric,
    ) {
        self.tallies.push(Tally::count(
            &delivery.template,
            delivery.variant.as_deref(),
            metric,
        ));
        // the e-mails among the sends: the denominator of SES's rates (a staff alert's template
        // goes to Slack and, with `owner_email`, by e-mail too)
        if metric == TallyMetric::Sent
            && matches!(delivery.channel, Channel::Email | Channel::OwnerEmail)
        {
            self.tallies.push(Tally::count(
                &delivery.template,
                delivery.variant.as_deref(),
                TallyMetric::Emailed,
            ));
        }
        if let Some(last) = self
            .c
            .last_intervention
            .as_mut()
            .filter(|l| l.id == delivery.intervention_id)
        {
            last.status = status;
        }
        // a text the sender could not send (no phone, no consent, a limit, a refusal): its
        // e-mail goes; one whose outcome is unknown may have arrived: its e-mail is dropped
        if delivery.channel == Channel::Text {
            match status {
                DeliveryStatus::Skipped | DeliveryStatus::Failed => {
                    self.text_ended(&delivery.intervention_id, true)
                }
                DeliveryStatus::Unknown => self.text_ended(&delivery.intervention_id, false),
                _ => {}
            }
        }
    }

    /// SES's feedback on an e-mail: counted for its template × variant. On the customer's own
    /// address (not their owner's), an open or click is engagement the score may weigh, and a
    /// hard bounce or complaint about the address they have now suppresses it, once, in the
    /// history and the counts.
    pub(super) fn mail_feedback(
        &mut self,
        delivery: &Delivery,
        feedback: MailFeedback,
        recipient: Option<&str>,
    ) {
        let count = |metric| Tally::count(&delivery.template, delivery.variant.as_deref(), metric);
        self.tallies.push(count(feedback.into()));
        if delivery.channel != Channel::Email {
            return;
        }
        if feedback.is_engagement() {
            self.c.activity.record(self.at, Mark::Engaged);
        }
        let profile = &mut self.c.profile;
        let Some(address) = profile.email.as_deref().map(address_key) else {
            return;
        };
        // a notification that names no recipient is about the address the message went to,
        // which is the current one unless it changed since
        let current = recipient.is_none_or(|r| r == address);
        if !feedback.suppresses() || !current || profile.suppression().is_some() {
            return;
        }
        profile.suppressed = Some(Suppression {
            reason: feedback,
            address,
        });
        self.tallies.push(count(TallyMetric::Suppressed));
        let why = match feedback {
            MailFeedback::Complaint => "the customer marked an e-mail as spam",
            _ => "the address does not exist (hard bounce)",
        };
        let note = format!("e-mail suppressed: {why}");
        self.record(Change::Note { note: note.clone() }, &note);
    }

    pub(super) fn credit_last_intervention(&mut self, eligible: impl Fn(&InterventionRef) -> bool) {
        let window = Duration::days(self.policy.attribution.window_days.into());
        let at = self.at;
        let Some(iv) = self.c.last_intervention.as_mut() else {
            return;
        };
        let in_window = iv.planned_at <= at && at - iv.planned_at <= window;
        if iv.credited || !in_window || !iv.status.may_have_reached() || !eligible(iv) {
            return;
        }
        iv.credited = true;
        self.tallies.push(Tally::count(
            &iv.template,
            iv.variant.as_deref(),
            TallyMetric::Recovered,
        ));
        self.published
            .push(DomainEventDetail::InterventionRecovered {
                intervention_id: iv.id.clone(),
                template: iv.template.clone(),
                variant: iv.variant.clone(),
            });
    }
}

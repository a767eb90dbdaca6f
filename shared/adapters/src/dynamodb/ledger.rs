//! The send ledger in the customer's partition: `SEND#<intervention id>`, claimed with a
//! conditional write just before the provider is called, finished after. A claim whose lease
//! ran out is never simply claimed again: its holder died (leases outlive the senders'
//! functions), perhaps after the provider accepted, so the caller decides (see
//! `journey::sending`), fenced on the old lease's token.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use chrono::{DateTime, Duration, TimeZone, Utc};
use sha2::{Digest, Sha256};

use super::DynamoStore;
use super::codec::{n, number, s, text};
use super::errors::{classify, condition_held};
use super::keys::{self, EXPIRES_AT, PK, SK};
use journey::domain::text::TextNote;
use journey::domain::{CustomerId, Intervention, InterventionId, MailFeedback};
use journey::ports::{Claim, FeedbackNotes, Lease, SendLedger, SendStatus, StoreError, TextNotes};

type Item = std::collections::HashMap<String, AttributeValue>;

/// Send records outlive any redelivery; kept half a year for audits.
const RECORD_TTL: Duration = Duration::days(180);

fn sk(intervention: &Intervention) -> String {
    send_sk(&intervention.id)
}

fn send_sk(intervention: &InterventionId) -> String {
    format!("SEND#{intervention}")
}

/// The send record's attribute for SES's `feedback`: `mail_delivered`, `mail_opened` …
pub(super) const FEEDBACK_PREFIX: &str = "mail_";

pub(super) fn feedback_attribute(feedback: MailFeedback) -> String {
    format!("{FEEDBACK_PREFIX}{}", feedback.as_str())
}

/// A token no other claim of this intervention has: the claim's instant and a random part (two
/// senders may claim in the same nanosecond on different hosts).
fn token(intervention: &Intervention, now: DateTime<Utc>) -> String {
    hex::encode(
        &Sha256::new()
            .chain_update(intervention.id.as_str())
            .chain_update(now.timestamp_nanos_opt().unwrap_or_default().to_be_bytes())
            .chain_update(fastrand::u64(..).to_be_bytes())
            .finalize()[..12],
    )
}

fn unknowns_of(item: &Item) -> u32 {
    number(item, "unknowns").unwrap_or(0).max(0) as u32
}

/// What a claim with `token` that could not be taken found. Its own token means the claim was
/// applied and its answer lost (the SDK retried it): it is ours.
fn found(item: &Item, token: &str, now: DateTime<Utc>) -> Claim {
    let status = text(item, "status").and_then(SendStatus::parse);
    match status {
        Some(status) if status.is_final() => Claim::Done(status),
        Some(SendStatus::InProgress) => {
            let until = number(item, "lease_until")
                .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
                .unwrap_or(DateTime::<Utc>::MIN_UTC);
            if text(item, "token") == Some(token) {
                Claim::Claimed(Lease {
                    token: token.to_string(),
                    until,
                    unknowns: unknowns_of(item),
                })
            } else if until < now {
                Claim::Abandoned(Lease {
                    token: text(item, "token").unwrap_or_default().to_string(),
                    until,
                    unknowns: unknowns_of(item),
                })
            } else {
                Claim::Busy
            }
        }
        _ => Claim::Busy,
    }
}

impl DynamoStore {
    async fn send_record(&self, intervention: &Intervention) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(keys::customer_pk(&intervention.customer_id)))
            .key(SK, s(sk(intervention)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        Ok(out.item)
    }

    /// Sets the record `in_progress` under a new lease if `condition` holds; else what the
    /// record says.
    async fn take(
        &self,
        intervention: &Intervention,
        condition: &str,
        values: &[(&str, AttributeValue)],
        unknowns: Option<u32>,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Claim, StoreError> {
        let until = now + lease;
        let token = token(intervention, now);
        let mut update = "SET #status = :in_progress, #lease = :until, #token = :token, \
             #template = :template, #channel = :channel, #updated = :updated, #expires = :expires"
            .to_string();
        if unknowns.is_some() {
            update.push_str(", #unknowns = :unknowns");
        }
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(keys::customer_pk(&intervention.customer_id)))
            .key(SK, s(sk(intervention)))
            .condition_expression(condition)
            .update_expression(update)
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#lease", "lease_until")
            .expression_attribute_names("#token", "token")
            .expression_attribute_names("#template", "template")
            .expression_attribute_names("#channel", "channel")
            .expression_attribute_names("#updated", "updated_at")
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_values(":in_progress", s(SendStatus::InProgress.as_str()))
            .expression_attribute_values(":until", n(until.timestamp_millis()))
            .expression_attribute_values(":token", s(&token))
            .expression_attribute_values(":template", s(&intervention.template))
            .expression_attribute_values(":channel", s(intervention.channel.as_str()))
            .expression_attribute_values(":updated", s(keys::instant(now)))
            .expression_attribute_values(":expires", n((now + RECORD_TTL).timestamp()))
            .return_values(ReturnValue::AllNew);
        if let Some(count) = unknowns {
            request = request
                .expression_attribute_names("#unknowns", "unknowns")
                .expression_attribute_values(":unknowns", n(count));
        }
        for (name, value) in values {
            request = request.expression_attribute_values(*name, value.clone());
        }
        match request.send().await {
            Ok(out) => Ok(Claim::Claimed(Lease {
                token,
                until,
                unknowns: out.attributes.as_ref().map(unknowns_of).unwrap_or(0),
            })),
            Err(SdkError::ServiceError(se))
                if se.err().code() == Some("ConditionalCheckFailedException") =>
            {
                Ok(match self.send_record(intervention).await? {
                    Some(item) => found(&item, &token, now),
                    // gone between the two requests (its TTL): come back
                    None => Claim::Busy,
                })
            }
            Err(e) => {
                // the write may have been applied with its answer lost: our token tells
                let error = classify(e);
                match self.send_record(intervention).await {
                    Ok(Some(item)) if text(&item, "token") == Some(token.as_str()) => {
                        Ok(found(&item, &token, now))
                    }
                    _ => Err(error),
                }
            }
        }
    }
}

impl SendLedger for DynamoStore {
    async fn claim(
        &self,
        intervention: &Intervention,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Claim, StoreError> {
        let condition = "attribute_not_exists(PK) OR #status IN (:deferred, :retry)";
        let values = [
            (":deferred", s(SendStatus::Deferred.as_str())),
            (":retry", s(SendStatus::Retry.as_str())),
        ];
        self.take(intervention, condition, &values, None, now, lease)
            .await
    }

    async fn decide(
        &self,
        intervention: &Intervention,
        status: SendStatus,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Claim>, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(keys::customer_pk(&intervention.customer_id)))
            .key(SK, s(sk(intervention)))
            .condition_expression("attribute_not_exists(PK) OR #status IN (:deferred, :retry)")
            .update_expression(
                "SET #status = :status, #detail = :detail, #template = :template, \
                 #channel = :channel, #updated = :updated, #expires = :expires \
                 REMOVE #lease, #token",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#detail", "detail")
            .expression_attribute_names("#template", "template")
            .expression_attribute_names("#channel", "channel")
            .expression_attribute_names("#updated", "updated_at")
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_names("#lease", "lease_until")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":deferred", s(SendStatus::Deferred.as_str()))
            .expression_attribute_values(":retry", s(SendStatus::Retry.as_str()))
            .expression_attribute_values(":status", s(status.as_str()))
            .expression_attribute_values(":detail", s(detail))
            .expression_attribute_values(":template", s(&intervention.template))
            .expression_attribute_values(":channel", s(intervention.channel.as_str()))
            .expression_attribute_values(":updated", s(keys::instant(now)))
            .expression_attribute_values(":expires", n((now + RECORD_TTL).timestamp()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(None),
            Err(SdkError::ServiceError(se))
                if se.err().code() == Some("ConditionalCheckFailedException") =>
            {
                Ok(Some(match self.send_record(intervention).await? {
                    Some(item) => found(&item, "", now),
                    None => Claim::Busy,
                }))
            }
            Err(e) => Err(classify(e)),
        }
    }

    async fn retake(
        &self,
        intervention: &Intervention,
        abandoned: &Lease,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Claim, StoreError> {
        let condition = "#status = :in_progress AND #token = :old_token";
        let values = [(":old_token", s(&abandoned.token))];
        let count = Some(abandoned.unknowns + 1);
        Ok(
            match self
                .take(intervention, condition, &values, count, now, lease)
                .await?
            {
                // someone else's claim since, or already finished: not ours to send
                Claim::Abandoned(_) => Claim::Busy,
                other => other,
            },
        )
    }

    async fn finish(
        &self,
        intervention: &Intervention,
        lease: &Lease,
        status: SendStatus,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(keys::customer_pk(&intervention.customer_id)))
            .key(SK, s(sk(intervention)))
            .condition_expression("#token = :token")
            .update_expression(
                "SET #status = :status, #detail = :detail, #updated = :updated, \
                 #unknowns = :unknowns REMOVE #lease",
            )
            .expression_attribute_names("#token", "token")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#detail", "detail")
            .expression_attribute_names("#updated", "updated_at")
            .expression_attribute_names("#unknowns", "unknowns")
            .expression_attribute_names("#lease", "lease_until")
            .expression_attribute_values(":token", s(&lease.token))
            .expression_attribute_values(":status", s(status.as_str()))
            .expression_attribute_values(":detail", s(detail))
            .expression_attribute_values(":updated", s(keys::instant(now)))
            .expression_attribute_values(":unknowns", n(lease.unknowns))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(se))
                if se.err().code() == Some("ConditionalCheckFailedException") =>
            {
                Err(StoreError::VersionConflict(
                    intervention.customer_id.clone(),
                ))
            }
            Err(e) => Err(classify(e)),
        }
    }
}

/// The send record's attributes for a text's final report.
pub(super) mod text_attributes {
    pub const VIA: &str = "text_via";
    pub const FALLBACK: &str = "text_fallback";
    pub const CODE: &str = "text_code";
    pub const COST: &str = "text_cost_krw";
    pub const AT: &str = "text_at";
}

/// A send record's final text report, when it has one.
pub(super) fn text_delivery(
    item: &std::collections::HashMap<String, AttributeValue>,
) -> Option<journey::ports::TextDelivery> {
    use text_attributes as t;
    let at = text(item, t::AT)?.to_string();
    Some(journey::ports::TextDelivery {
        via: text(item, t::VIA).unwrap_or("failed").to_string(),
        fallback: item
            .get(t::FALLBACK)
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false),
        code: text(item, t::CODE).unwrap_or_default().to_string(),
        cost_krw: number(item, t::COST).unwrap_or(0),
        at,
    })
}

impl TextNotes for DynamoStore {
    async fn note_text(&self, customer: &CustomerId, note: &TextNote) -> Result<bool, StoreError> {
        use text_attributes as t;
        let via = match note.via {
            Some(channel) => channel.as_str(),
            None if note.expired => "expired",
            None => "failed",
        };
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(keys::customer_pk(customer)))
            .key(SK, s(send_sk(&note.intervention_id)))
            // a record of ours (claimed before the text left, so it exists whenever a report
            // can), not one already final; nothing personal is written, so an erased record
            // may take it too
            .condition_expression("attribute_exists(#pk) AND attribute_not_exists(#at)")
            .update_expression(
                "SET #via = :via, #fb = :fb, #code = :code, #cost = :cost, #at = :at",
            )
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#via", t::VIA)
            .expression_attribute_names("#fb", t::FALLBACK)
            .expression_attribute_names("#code", t::CODE)
            .expression_attribute_names("#cost", t::COST)
            .expression_attribute_names("#at", t::AT)
            .expression_attribute_values(":via", s(via))
            .expression_attribute_values(":fb", AttributeValue::Bool(note.fallback))
            .expression_attribute_values(":code", s(&note.code))
            .expression_attribute_values(":cost", AttributeValue::N(note.cost_krw.to_string()))
            .expression_attribute_values(":at", s(keys::instant(note.at)))
            .send()
            .await;
        // whichever report came first, the reconciler need not ask again
        self.end_text_polls(note.intervention_id.as_str()).await?;
        condition_held(result)
    }
}

impl FeedbackNotes for DynamoStore {
    async fn note_feedback(
        &self,
        customer: &CustomerId,
        intervention: &InterventionId,
        feedback: MailFeedback,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(keys::customer_pk(customer)))
            .key(SK, s(send_sk(intervention)))
            // never creates a record: only one a sender finished (with its detail), and not
            // one an erasure cleaned (it removes the detail)
            .condition_expression("attribute_exists(#pk) AND attribute_exists(#detail)")
            .update_expression("SET #f = if_not_exists(#f, :at)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#detail", "detail")
            .expression_attribute_names("#f", feedback_attribute(feedback))
            .expression_attribute_values(":at", s(keys::instant(at)))
            .send()
            .await;
        condition_held(result)
    }
}

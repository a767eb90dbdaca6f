//! The send ledger in the customer's partition: `SEND#<intervention id>`, claimed with a
//! conditional write before the provider is called, finished after.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use super::DynamoStore;
use super::codec::{n, s, text};
use super::errors::classify;
use super::keys::{self, EXPIRES_AT, PK, SK};
use crate::domain::Intervention;
use crate::ports::{Claim, Lease, SendLedger, SendStatus, StoreError};

/// Send records outlive any redelivery; kept half a year for audits.
const RECORD_TTL: Duration = Duration::days(180);

fn sk(intervention: &Intervention) -> String {
    format!("SEND#{}", intervention.id)
}

impl DynamoStore {
    async fn current_status(
        &self,
        intervention: &Intervention,
    ) -> Result<Option<SendStatus>, StoreError> {
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
        Ok(out
            .item
            .as_ref()
            .and_then(|item| text(item, "status"))
            .and_then(SendStatus::parse))
    }
}

impl SendLedger for DynamoStore {
    async fn claim(
        &self,
        intervention: &Intervention,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Claim, StoreError> {
        let until = now + lease;
        let token = hex::encode(
            &Sha256::new()
                .chain_update(intervention.id.as_str())
                .chain_update(now.timestamp_nanos_opt().unwrap_or_default().to_be_bytes())
                .finalize()[..12],
        );
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(keys::customer_pk(&intervention.customer_id)))
            .key(SK, s(sk(intervention)))
            .condition_expression(
                "attribute_not_exists(PK) OR #status IN (:deferred, :retry) \
                 OR (#status = :in_progress AND #lease < :now)",
            )
            .update_expression(
                "SET #status = :in_progress, #lease = :until, #token = :token, #template = :template, \
                 #channel = :channel, #updated = :updated, #expires = :expires",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#lease", "lease_until")
            .expression_attribute_names("#token", "token")
            .expression_attribute_names("#template", "template")
            .expression_attribute_names("#channel", "channel")
            .expression_attribute_names("#updated", "updated_at")
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_values(":deferred", s(SendStatus::Deferred.as_str()))
            .expression_attribute_values(":retry", s(SendStatus::Retry.as_str()))
            .expression_attribute_values(":in_progress", s(SendStatus::InProgress.as_str()))
            .expression_attribute_values(":now", n(now.timestamp_millis()))
            .expression_attribute_values(":until", n(until.timestamp_millis()))
            .expression_attribute_values(":token", s(&token))
            .expression_attribute_values(":template", s(&intervention.template))
            .expression_attribute_values(":channel", s(intervention.channel.as_str()))
            .expression_attribute_values(":updated", s(keys::instant(now)))
            .expression_attribute_values(":expires", n((now + RECORD_TTL).timestamp()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Claim::Claimed(Lease { token, until })),
            Err(SdkError::ServiceError(se))
                if se.err().code() == Some("ConditionalCheckFailedException") =>
            {
                match self.current_status(intervention).await? {
                    Some(status) if status.is_final() => Ok(Claim::Done(status)),
                    _ => Ok(Claim::Busy),
                }
            }
            Err(e) => Err(classify(e)),
        }
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
                "SET #status = :status, #detail = :detail, #updated = :updated REMOVE #lease",
            )
            .expression_attribute_names("#token", "token")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#detail", "detail")
            .expression_attribute_names("#updated", "updated_at")
            .expression_attribute_names("#lease", "lease_until")
            .expression_attribute_values(":token", s(&lease.token))
            .expression_attribute_values(":status", s(status.as_str()))
            .expression_attribute_values(":detail", s(detail))
            .expression_attribute_values(":updated", s(keys::instant(now)))
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

//! Erasure beyond the state: an erased customer's partition is read page by page and each
//! record holding personal data loses it — the logged event on a marker (free-text reasons,
//! program, locale, time zone), the provider's detail on a send record, the staff member's
//! words on a contact note in the history, SES's feedback (opens, clicks) on a send record. Keys, statuses and the history of stage and risk
//! changes (in the system's words) stay.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;

use super::DynamoStore;
use super::codec::{Item, LOGGED_EVENT, s, text};
use super::errors::classify;
use super::keys::{PK, SK, customer_pk};
use super::ledger::feedback_attribute;
use journey::domain::{CustomerId, MailFeedback};
use journey::ports::{Erasure, StoreError};

/// The send record's provider text (an SES message id or error, a Slack answer).
const SEND_DETAIL: &str = "detail";
/// What a staff contact note says once erased (it named the staff member and the channel).
const ERASED_NOTE: &str = "staff contact (details erased)";

impl DynamoStore {
    pub(super) async fn erase_partition(&self, id: &CustomerId) -> Result<Erasure, StoreError> {
        let pk = customer_pk(id);
        let mut erasure = Erasure::default();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk")
                .filter_expression(
                    "attribute_exists(#event) OR attribute_exists(#detail) \
                     OR (#cause.#type = :staff AND #note <> :erased)",
                )
                .projection_expression("#pk, #sk, #event, #detail, #cause.#type")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_names("#event", LOGGED_EVENT)
                .expression_attribute_names("#detail", SEND_DETAIL)
                .expression_attribute_names("#cause", "cause")
                .expression_attribute_names("#type", "event_type")
                .expression_attribute_names("#note", "note")
                .expression_attribute_values(":pk", s(&pk))
                .expression_attribute_values(":staff", s("staff_note"))
                .expression_attribute_values(":erased", s(ERASED_NOTE))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(classify)?;
            for item in page.items() {
                let sk = text(item, SK).unwrap_or_default();
                if item.contains_key(LOGGED_EVENT) && self.remove(&pk, sk, LOGGED_EVENT).await? {
                    erasure.logged_events += 1;
                }
                if item.contains_key(SEND_DETAIL) && self.erase_send(&pk, sk).await? {
                    erasure.send_details += 1;
                }
                if item.contains_key("cause") && self.erase_note(&pk, sk).await? {
                    erasure.notes += 1;
                }
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(erasure);
            }
        }
    }

    /// A staff contact note's words (the note and its cause's reason) replaced.
    async fn erase_note(&self, pk: &str, sk: &str) -> Result<bool, StoreError> {
        let update = self
            .update_present(pk, sk)
            .update_expression("SET #note = :erased, #cause.#reason = :erased")
            .expression_attribute_names("#note", "note")
            .expression_attribute_names("#cause", "cause")
            .expression_attribute_names("#reason", "reason")
            .expression_attribute_values(":erased", s(ERASED_NOTE));
        applied(update.send().await)
    }

    /// A send record's provider detail and SES's feedback on it (when the customer opened or
    /// clicked: behaviour) removed. Without `detail`, no later feedback is noted on it
    /// ([`journey::ports::FeedbackNotes`] requires it).
    async fn erase_send(&self, pk: &str, sk: &str) -> Result<bool, StoreError> {
        let mut names = vec!["#a".to_string()];
        let mut update = self
            .update_present(pk, sk)
            .expression_attribute_names("#a", SEND_DETAIL);
        for (n, feedback) in MailFeedback::ALL.iter().enumerate() {
            let name = format!("#f{n}");
            update = update.expression_attribute_names(&name, feedback_attribute(*feedback));
            names.push(name);
        }
        let update = update.update_expression(format!("REMOVE {}", names.join(", ")));
        applied(update.send().await)
    }

    /// `REMOVE attribute` on an item still there; `false` if it expired meanwhile.
    async fn remove(&self, pk: &str, sk: &str, attribute: &str) -> Result<bool, StoreError> {
        let update = self
            .update_present(pk, sk)
            .update_expression("REMOVE #a")
            .expression_attribute_names("#a", attribute);
        applied(update.send().await)
    }

    /// An update of the item `pk`/`sk` only while it exists (TTL may have taken it).
    fn update_present(&self, pk: &str, sk: &str) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(pk))
            .key(SK, s(sk))
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK)
    }
}

/// `true` if the update was made, `false` if the item was gone.
fn applied<O, R: std::fmt::Debug>(
    out: Result<O, SdkError<UpdateItemError, R>>,
) -> Result<bool, StoreError> {
    match out {
        Ok(_) => Ok(true),
        Err(e) if is_condition_failed(&e) => Ok(false),
        Err(e) => Err(classify(e)),
    }
}

fn is_condition_failed<R>(e: &SdkError<UpdateItemError, R>) -> bool {
    e.as_service_error()
        .is_some_and(|se| se.is_conditional_check_failed_exception())
}

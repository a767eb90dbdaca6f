//! Rules versions in the table: `RULES / VERSION#<n:08>` per version and `RULES / ACTIVE`, a
//! copy of the active one, so a function reads the rules in force with one `GetItem`.

use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use chrono::{DateTime, Utc};

use super::DynamoStore;
use super::codec::{Item, n, s, text};
use super::errors::classify;
use super::keys::{PK, SK};
use journey::ports::{RulesRegistry, StoreError};
use journey::rules_versions::{ActiveRules, RulesVersion};

const RULES_PK: &str = "RULES";
const ACTIVE_SK: &str = "ACTIVE";
const VERSION_PREFIX: &str = "VERSION#";

fn version_sk(number: u32) -> String {
    format!("{VERSION_PREFIX}{number:08}")
}

fn item(sk: String, version: &RulesVersion) -> Result<Item, StoreError> {
    let doc = serde_json::to_string(version).map_err(|e| StoreError::Rejected(e.to_string()))?;
    Ok(Item::from([
        (PK.into(), s(RULES_PK)),
        (SK.into(), s(sk)),
        ("number".into(), n(version.number)),
        ("origin".into(), s(version.origin.as_str())),
        ("doc".into(), s(doc)),
    ]))
}

fn version_of(item: &Item) -> Result<RulesVersion, StoreError> {
    let key = text(item, SK).unwrap_or("?").to_string();
    let doc = text(item, "doc").ok_or_else(|| StoreError::Corrupt {
        key: key.clone(),
        reason: "no doc".into(),
    })?;
    serde_json::from_str(doc).map_err(|e| StoreError::Corrupt {
        key,
        reason: e.to_string(),
    })
}

impl DynamoStore {
    async fn get_rules_item(&self, sk: String) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(RULES_PK))
            .key(SK, s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        Ok(out.item)
    }

    /// The `ACTIVE` copy of `version`, conditional on the active version being `expected`.
    fn put_active(
        &self,
        version: &RulesVersion,
        expected: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut active = item(ACTIVE_SK.into(), version)?;
        active.insert("activated_at".into(), s(super::keys::instant(now)));
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(active));
        let put = match expected {
            None => put.condition_expression("attribute_not_exists(PK)"),
            Some(e) => put
                .condition_expression("#number = :expected")
                .expression_attribute_names("#number", "number")
                .expression_attribute_values(":expected", n(e)),
        };
        let put = put.build().map_err(Self::rejected)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), StoreError> {
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| match classify(e) {
                StoreError::Rejected(m) if m.contains("TransactionCanceled") => {
                    StoreError::Rejected(format!(
                        "the rules changed meanwhile (another version was stored or activated): {m}"
                    ))
                }
                other => other,
            })
    }
}

impl RulesRegistry for DynamoStore {
    async fn active_rules(&self) -> Result<Option<ActiveRules>, StoreError> {
        let Some(item) = self.get_rules_item(ACTIVE_SK.into()).await? else {
            return Ok(None);
        };
        let version = version_of(&item)?;
        let activated_at = text(&item, "activated_at")
            .and_then(|t| t.parse().ok())
            .unwrap_or(version.created_at);
        Ok(Some(ActiveRules {
            version,
            activated_at,
        }))
    }

    async fn rules_versions(&self) -> Result<Vec<RulesVersion>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                .expression_attribute_values(":pk", s(RULES_PK))
                .expression_attribute_values(":prefix", s(VERSION_PREFIX))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(classify)?;
            for item in page.items() {
                out.push(version_of(item)?);
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        out.sort_by_key(|v| v.number);
        Ok(out)
    }

    async fn add_rules_version(
        &self,
        version: &RulesVersion,
        activate: bool,
        expected: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item(version_sk(version.number), version)?))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(Self::rejected)?;
        let mut items = vec![TransactWriteItem::builder().put(put).build()];
        if activate {
            items.push(self.put_active(version, expected, now)?);
        }
        self.transact(items).await
    }

    async fn activate_rules(
        &self,
        number: u32,
        expected: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let item = self
            .get_rules_item(version_sk(number))
            .await?
            .ok_or_else(|| StoreError::Rejected(format!("no rules version {number}")))?;
        let version = version_of(&item)?;
        self.transact(vec![self.put_active(&version, expected, now)?])
            .await
    }
}

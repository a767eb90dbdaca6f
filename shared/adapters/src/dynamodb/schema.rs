//! The table's shape, as code: the local stack and the tests create it from here, and a test
//! checks it against `template.yaml`.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};

use super::errors::classify;
use super::keys::{
    AT_RISK_BY_SCORE, AT_RISK_BY_VALUE, DUE_AT, DUE_INDEX, DUE_SHARD, EXPIRES_AT, LAST_ACTIVITY_AT,
    PK, RISK_LIST, SCORE_KEY, SEARCH_INDEX, SEARCH_KEY, SEARCH_SORT, SK, VALUE_KEY,
};
use journey::ports::StoreError;

/// A key attribute: (name, `HASH` or `RANGE`).
pub type KeySpec = (&'static str, &'static str);

/// A global secondary index.
pub struct IndexSpec {
    pub name: &'static str,
    pub keys: [KeySpec; 2],
    pub projection: &'static str,
    /// For `INCLUDE`: the attributes copied into the index besides the keys.
    pub include: &'static [&'static str],
}

pub const TABLE_KEYS: [KeySpec; 2] = [(PK, "HASH"), (SK, "RANGE")];

/// What the at-risk list shows of a customer, without reading the table.
pub const LIST_ATTRIBUTES: &[&str] = &[
    "id",
    "stage",
    "risk",
    "score",
    "profile",
    "revenue",
    "last_intervention",
    "risk_changed_at",
    "clock_started_at",
    LAST_ACTIVITY_AT,
];

pub const INDEXES: [IndexSpec; 4] = [
    IndexSpec {
        name: DUE_INDEX,
        keys: [(DUE_SHARD, "HASH"), (DUE_AT, "RANGE")],
        projection: "KEYS_ONLY",
        include: &[],
    },
    IndexSpec {
        name: AT_RISK_BY_SCORE,
        keys: [(RISK_LIST, "HASH"), (SCORE_KEY, "RANGE")],
        projection: "INCLUDE",
        include: LIST_ATTRIBUTES,
    },
    IndexSpec {
        name: AT_RISK_BY_VALUE,
        keys: [(RISK_LIST, "HASH"), (VALUE_KEY, "RANGE")],
        projection: "INCLUDE",
        include: LIST_ATTRIBUTES,
    },
    // keys only: the entry changes with the address alone, not at every write of the customer
    IndexSpec {
        name: SEARCH_INDEX,
        keys: [(SEARCH_KEY, "HASH"), (SEARCH_SORT, "RANGE")],
        projection: "KEYS_ONLY",
        include: &[],
    },
];
pub const TTL_ATTRIBUTE: &str = EXPIRES_AT;

fn key(name: &str, kind: &str) -> Result<KeySchemaElement, StoreError> {
    let kind = if kind == "HASH" {
        KeyType::Hash
    } else {
        KeyType::Range
    };
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .map_err(|e| StoreError::Rejected(e.to_string()))
}

fn string_attribute(name: &str) -> Result<AttributeDefinition, StoreError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(|e| StoreError::Rejected(e.to_string()))
}

/// Creates the table (on-demand, with the due index and TTL), as `template.yaml` does.
pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
    let mut request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest);
    for name in [
        PK,
        SK,
        DUE_SHARD,
        DUE_AT,
        RISK_LIST,
        SCORE_KEY,
        VALUE_KEY,
        SEARCH_KEY,
        SEARCH_SORT,
    ] {
        request = request.attribute_definitions(string_attribute(name)?);
    }
    for (name, kind) in TABLE_KEYS {
        request = request.key_schema(key(name, kind)?);
    }
    for index in INDEXES {
        let mut gsi = GlobalSecondaryIndex::builder()
            .index_name(index.name)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::from(index.projection))
                    .set_non_key_attributes(
                        (!index.include.is_empty())
                            .then(|| index.include.iter().map(|a| a.to_string()).collect()),
                    )
                    .build(),
            );
        for (name, kind) in index.keys {
            gsi = gsi.key_schema(key(name, kind)?);
        }
        request = request.global_secondary_indexes(
            gsi.build()
                .map_err(|e| StoreError::Rejected(e.to_string()))?,
        );
    }
    request.send().await.map_err(classify)?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(TTL_ATTRIBUTE)
                .enabled(true)
                .build()
                .map_err(|e| StoreError::Rejected(e.to_string()))?,
        )
        .send()
        .await
        .map_err(classify)?;
    Ok(())
}

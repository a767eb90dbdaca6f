//! `template.yaml` and the code agree: what the local stack creates is what AWS gets.

use journey::adapters::dynamodb::schema;
use journey_tests::template::{key_schema, properties, template, text};

fn pairs(keys: &[(&str, &str)]) -> Vec<(String, String)> {
    keys.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn the_table_in_the_template_matches_the_one_the_code_creates() {
    let template = template();
    let table = properties(&template, "JourneyTable");
    assert_eq!(key_schema(&table["KeySchema"]), pairs(&schema::TABLE_KEYS));
    let indexes = table["GlobalSecondaryIndexes"]
        .as_sequence()
        .expect("indexes");
    assert_eq!(indexes.len(), schema::INDEXES.len());
    for (index, spec) in indexes.iter().zip(schema::INDEXES) {
        assert_eq!(text(&index["IndexName"]), spec.name);
        assert_eq!(key_schema(&index["KeySchema"]), pairs(&spec.keys));
        assert_eq!(
            text(&index["Projection"]["ProjectionType"]),
            spec.projection
        );
    }
    let ttl = &table["TimeToLiveSpecification"];
    assert_eq!(text(&ttl["AttributeName"]), schema::TTL_ATTRIBUTE);
    assert_eq!(ttl["Enabled"].as_bool(), Some(true));
    assert_eq!(text(&table["BillingMode"]), "PAY_PER_REQUEST");
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(),
        Some(true)
    );
}

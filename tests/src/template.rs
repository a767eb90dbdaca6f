//! Reading `template.yaml`, so tests can hold the code and the template to each other.

use serde_norway::Value;

use crate::workspace_root;

/// The SAM template, parsed (CloudFormation tags such as `!Sub` become tagged values).
pub fn template() -> Value {
    let path = workspace_root().join("template.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("template.yaml: {e}"))
}

/// The resource named `name`'s `Properties`.
pub fn properties<'a>(template: &'a Value, name: &str) -> &'a Value {
    &template["Resources"][name]["Properties"]
}

/// `[{AttributeName, KeyType}]` as (name, type) pairs.
pub fn key_schema(keys: &Value) -> Vec<(String, String)> {
    keys.as_sequence()
        .map(|s| {
            s.iter()
                .map(|k| (text(&k["AttributeName"]), text(&k["KeyType"])))
                .collect()
        })
        .unwrap_or_default()
}

pub fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

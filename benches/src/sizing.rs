//! DynamoDB's capacity arithmetic, from its published rules: an item's size is the sum of its
//! attribute names' and values' sizes; a write costs one unit per started KB (two inside a
//! transaction), a strongly consistent read one unit per started 4 KB (half when eventually
//! consistent). The emulator reports no capacity for transactions, so the harness computes it.

pub use journey_adapters::dynamodb::item_size;

/// Write units for an item of `size` bytes.
pub fn write_units(size: usize) -> f64 {
    size.max(1).div_ceil(1024) as f64
}

/// Read units for `size` bytes read in one request.
pub fn read_units(size: usize, consistent: bool) -> f64 {
    let units = size.max(1).div_ceil(4096) as f64;
    if consistent { units } else { units / 2.0 }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use aws_sdk_dynamodb::types::AttributeValue;

    use super::*;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }

    #[test]
    fn sizes_follow_the_published_rules() {
        let item = HashMap::from([
            ("PK".to_string(), s("C#cust-1")),                    // 2 + 8
            ("n".to_string(), AttributeValue::N("12345".into())), // 1 + 4
            ("ok".to_string(), AttributeValue::Bool(true)),       // 2 + 1
            (
                "m".to_string(),
                AttributeValue::M(HashMap::from([("a".to_string(), s("xy"))])), // 1 + 3 + 1 + 1 + 2
            ),
        ]);
        assert_eq!(item_size(&item), 10 + 5 + 3 + 8);
        assert_eq!(write_units(1024), 1.0);
        assert_eq!(write_units(1025), 2.0);
        assert_eq!(read_units(4097, true), 2.0);
        assert_eq!(read_units(100, false), 0.5);
    }
}

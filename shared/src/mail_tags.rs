//! The tags every e-mail carries through SES and back in its event notifications: what the
//! feedback function needs to turn a bounce or an open into a customer event, with no lookup.
//! SES tag values allow only letters, digits, `_` and `-`, so the customer id (any printable
//! ASCII) travels as base64url.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::domain::{CustomerId, DomainError, Intervention};

pub const CUSTOMER: &str = "customer";
pub const CHANNEL: &str = "channel";
pub const INTERVENTION: &str = "intervention_id";
pub const TEMPLATE: &str = "template";
pub const VARIANT: &str = "variant";
/// The variant tag of a message without variants (a variant's name is never `-`: the rules
/// allow letters, digits and `_`).
pub const NO_VARIANT: &str = "-";

/// The tags of `intervention`'s e-mail.
pub fn of(intervention: &Intervention) -> Vec<(String, String)> {
    vec![
        (CUSTOMER.into(), customer_tag(&intervention.customer_id)),
        (CHANNEL.into(), intervention.channel.as_str().into()),
        (INTERVENTION.into(), intervention.id.to_string()),
        (TEMPLATE.into(), intervention.template.clone()),
        (
            VARIANT.into(),
            intervention
                .variant
                .clone()
                .unwrap_or_else(|| NO_VARIANT.into()),
        ),
    ]
}

/// A customer id as a tag value.
pub fn customer_tag(customer: &CustomerId) -> String {
    URL_SAFE_NO_PAD.encode(customer.as_str())
}

/// The customer id a `customer` tag holds.
pub fn customer_of(tag: &str) -> Result<CustomerId, DomainError> {
    let bad = |reason: String| DomainError::invalid("customer tag", reason);
    let bytes = URL_SAFE_NO_PAD
        .decode(tag)
        .map_err(|e| bad(e.to_string()))?;
    CustomerId::new(String::from_utf8(bytes).map_err(|e| bad(e.to_string()))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customer_id_survives_the_tag_alphabet() {
        let id = CustomerId::new("kim+1/2?=x").unwrap();
        let tag = customer_tag(&id);
        assert!(
            tag.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c)),
            "{tag}"
        );
        assert_eq!(customer_of(&tag).unwrap(), id);
        assert!(customer_of("not base64!").is_err());
    }
}

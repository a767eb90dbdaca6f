//! Identifiers. Each is validated once, where it enters the system, so the rest of the code can
//! rely on it being non-empty, bounded and free of control characters.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::DomainError;
use crate::intervention::{Channel, Trigger};
use crate::occasion::Occasion;

/// Longest customer id: SQS's limit for a message group id, which a customer id is.
const MAX_ID_BYTES: usize = 128;
/// Longest event id: a provider's id with our prefix, or a customer id with a check's time.
const MAX_EVENT_ID_BYTES: usize = 256;

/// Printable ASCII without spaces: what SQS accepts in group ids, and safe in keys and logs.
fn validate(field: &'static str, max: usize, value: String) -> Result<String, DomainError> {
    if value.is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    if value.len() > max {
        return Err(DomainError::invalid(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(DomainError::invalid(
            field,
            "may hold only printable ASCII characters, without spaces",
        ));
    }
    Ok(value)
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(pub(crate) String);

        impl $name {
            /// Validates an id coming from outside.
            pub fn new(value: impl Into<String>) -> Result<Self, DomainError> {
                validate($field, $max, value.into()).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = DomainError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::new(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        /// As validated: printable ASCII without spaces, at most the limit.
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .min_length(Some(1))
                    .max_length(Some($max))
                    .pattern(Some("^[!-~]+$"))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}

id_type!(
    /// A customer's id as the business's app (or its payment metadata) names it.
    CustomerId,
    "customer_id",
    MAX_ID_BYTES
);
id_type!(
    /// An event's id, unique per source: the dedup key (`stripe:evt_…`, `app:msg_…`, `check:…`).
    EventId,
    "id",
    MAX_EVENT_ID_BYTES
);
id_type!(
    /// A planned intervention's id: derived from what caused it, so a retry plans the same id
    /// and the senders can refuse to send it twice.
    InterventionId,
    "intervention_id",
    MAX_ID_BYTES
);

impl InterventionId {
    /// The id of the intervention planned for `customer` by `trigger` on `occasion` over `channel`.
    /// The same inputs give the same id on every run, machine and retry.
    pub fn derive(
        customer: &CustomerId,
        trigger: Trigger,
        occasion: &Occasion,
        channel: Channel,
    ) -> Self {
        let digest = Sha256::new()
            .chain_update(customer.as_str())
            .chain_update([0])
            .chain_update(trigger.as_str())
            .chain_update([0])
            .chain_update(occasion.to_string())
            .chain_update([0])
            .chain_update(channel.as_str())
            .finalize();
        Self(format!("iv_{}", hex::encode(&digest[..10])))
    }
}

/// A stable bucket in `0..buckets` for `key`: A/B variants and key shards use it, so the
/// assignment never changes between runs or builds (unlike `std`'s randomly seeded hasher).
pub fn stable_bucket(key: &str, buckets: u32) -> u32 {
    let digest = Sha256::digest(key.as_bytes());
    let mut head = [0u8; 8];
    head.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(head) % u64::from(buckets.max(1))) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_empty_and_control_characters() {
        assert!(CustomerId::new("").is_err());
        assert!(CustomerId::new("a b").is_err());
        assert!(CustomerId::new("a\nb").is_err());
        assert!(CustomerId::new("고객").is_err());
        assert!(CustomerId::new("x".repeat(MAX_ID_BYTES + 1)).is_err());
        assert_eq!(
            CustomerId::new("cus_1").map(String::from).ok(),
            Some("cus_1".into())
        );
    }

    #[test]
    fn deserializing_validates() {
        let err = serde_json::from_str::<CustomerId>("\"\"").unwrap_err();
        assert!(err.to_string().contains("customer_id"), "{err}");
    }

    #[test]
    fn intervention_ids_are_deterministic_and_distinct() {
        use Channel::{Email, Slack};
        let c = CustomerId::new("c1").unwrap();
        let (first, second) = (Occasion::Episode(1), Occasion::Episode(2));
        let a = InterventionId::derive(&c, Trigger::RiskCaution, &first, Email);
        assert_eq!(
            a,
            InterventionId::derive(&c, Trigger::RiskCaution, &first, Email)
        );
        assert_ne!(
            a,
            InterventionId::derive(&c, Trigger::RiskCaution, &second, Email)
        );
        assert_ne!(
            a,
            InterventionId::derive(&c, Trigger::RiskCaution, &first, Slack)
        );
        assert!(a.as_str().starts_with("iv_") && a.as_str().len() == 23);
        // the id of the same cause never changes between releases: a send already recorded
        // under it stays recognised
        assert_eq!(a.as_str(), "iv_bb126fd02dfa5738116d");
    }

    #[test]
    fn stable_bucket_is_stable_and_in_range() {
        assert_eq!(stable_bucket("c1", 16), stable_bucket("c1", 16));
        assert!((0..1000).all(|i| stable_bucket(&format!("c{i}"), 7) < 7));
    }
}

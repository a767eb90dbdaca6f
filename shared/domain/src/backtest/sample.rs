//! Which customers a bounded read of the event log keeps: the same ones every time, whatever
//! order the lines come in, and found by reading as little of the log as possible.
//!
//! The deployed log is partitioned by [`shard`] (Firehose computes it from each line with the
//! same formula, in JQ: see `template.yaml`, `EventLogStream`), and a customer's
//! [`sample_key`] starts with their shard. Keeping the customers with the smallest keys (a
//! bottom-k sample) therefore reads the shards in order and stops at the first one after which
//! enough customers are held: every later shard's keys are larger. Within a shard the key is a
//! hash, so the customers kept are a uniform draw from it.

use sha2::{Digest, Sha256};

use crate::CustomerId;

/// The event log's partitions by customer. Fixed: changing it re-partitions only new lines.
pub const LOG_SHARDS: u32 = 16;

/// A polynomial hash's modulus: the largest prime below 2^16, so every step stays exact in
/// JQ's double-precision numbers.
const SHARD_PRIME: u32 = 65_521;

/// [`shard`] in JQ 1.6 (which has no hash function), on any line of the log: the delivery
/// stream's partition key (`template.yaml`, `EventLogStream`).
pub const SHARD_JQ: &str = "((.customer_id // .erased) | reduce explode[] as $c (0; (. * 131 + $c) % 65521) % 16 | tostring)";

/// The customer's partition of the event log: a polynomial hash of the id's characters modulo
/// [`LOG_SHARDS`], which [`SHARD_JQ`] computes alike.
pub fn shard(customer: &CustomerId) -> u32 {
    let hash = customer
        .as_str()
        .chars()
        .fold(0, |h, c| (h * 131 + u32::from(c)) % SHARD_PRIME);
    hash % LOG_SHARDS
}

/// The customer's place in the sample order: the shard in the top four bits, then the first
/// bits of the id's SHA-256.
pub fn sample_key(customer: &CustomerId) -> u64 {
    let digest = Sha256::digest(customer.as_str().as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from(shard(customer)) << 60) | (u64::from_be_bytes(first) >> 4)
}

/// The smallest sample key of a shard's customers.
pub fn first_key(shard: u32) -> u64 {
    u64::from(shard) << 60
}

/// About how many customers the log holds when the `held` with the smallest keys reach up to
/// `largest` (keys spread evenly over the key space).
pub fn estimate_population(held: usize, largest: u64) -> u64 {
    let covered = (largest as f64 + 1.0) / 2f64.powi(64);
    (held as f64 / covered).round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> CustomerId {
        CustomerId::new(s).unwrap()
    }

    #[test]
    fn the_shard_is_what_firehose_computes() {
        // `jq -c "{shard: $SHARD_JQ}"` (jq 1.6) on lines with these ids
        assert_eq!(shard(&id("cus_9aZ")), 6);
        assert_eq!(shard(&id("12345")), 0);
        assert_eq!(shard(&id("member-77@example.com")), 5);
        assert_eq!(sample_key(&id("cus_9aZ")) >> 60, 6);
    }

    #[test]
    fn shards_spread_ids_of_every_usual_form() {
        for form in [
            |n: usize| format!("cus_{n:014x}"),
            |n: usize| n.to_string(),
            |n: usize| format!("member-{n}@example.com"),
            |n: usize| format!("u{n}"),
        ] {
            let mut counts = [0usize; LOG_SHARDS as usize];
            for n in 0..16_000 {
                counts[shard(&id(&form(n))) as usize] += 1;
            }
            assert!(
                counts.iter().all(|c| (940..1_060).contains(c)),
                "{counts:?}"
            );
        }
    }

    #[test]
    fn the_population_is_estimated_from_the_largest_key_held() {
        let mut keys: Vec<u64> = (0..100_000)
            .map(|n| sample_key(&id(&format!("c{n}"))))
            .collect();
        keys.sort_unstable();
        let estimate = estimate_population(5_000, keys[4_999]);
        assert!((90_000..110_000).contains(&estimate), "{estimate}");
    }
}

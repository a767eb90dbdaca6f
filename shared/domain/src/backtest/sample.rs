//! Which customers a bounded read of the event log keeps: the same ones every time, whatever
//! order the lines come in, and found by reading as little of the log as possible.
//!
//! The deployed log is partitioned by [`shard`] (Firehose computes it from each line with the
//! same formula, in JQ: see `template.yaml`, `EventLogStream`), and a customer's sample key
//! ([`SampleOrder::key`]) starts with their shard's place in the order. Keeping the customers
//! with the smallest keys (a bottom-k sample) therefore reads the shards in that order and stops
//! at the first one after which enough customers are held: every later shard's keys are larger.
//!
//! The order is keyed with a secret (security review M4): the shards' order and each
//! customer's place within a shard are HMACs, so someone who can create customers (through the
//! app's webhook) cannot grind ids that sort first and crowd real customers out of what
//! calibration learns from. Only the shard itself is public (Firehose computes it without a
//! secret); with the shards in a secret order, ids ground into one shard are no likelier to be
//! read than any others.

use hmac::{Hmac, Mac};
use sha2::Sha256;

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

/// The order customers are sampled in, keyed with a secret (the `calibration-sample-key`
/// secret in AWS). Small and `Copy`, so readers on other threads each hold one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SampleOrder {
    key: [u8; 32],
    /// Each shard's place in the order.
    place: [u8; LOG_SHARDS as usize],
}

impl std::fmt::Debug for SampleOrder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // the secret is never printed
        f.debug_struct("SampleOrder")
            .field("place", &self.place)
            .finish_non_exhaustive()
    }
}

impl SampleOrder {
    /// The order `secret` gives.
    pub fn keyed(secret: &[u8]) -> SampleOrder {
        let mut key = [0u8; 32];
        key.copy_from_slice(&mac(secret, b"journey sample order"));
        let mut shards: Vec<(u64, u32)> = (0..LOG_SHARDS)
            .map(|s| (first_u64(&mac(&key, format!("shard {s}").as_bytes())), s))
            .collect();
        shards.sort_unstable();
        let mut place = [0u8; LOG_SHARDS as usize];
        for (rank, (_, s)) in shards.iter().enumerate() {
            place[*s as usize] = rank as u8;
        }
        SampleOrder { key, place }
    }

    /// The customer's place in the sample order: their shard's place in the top four bits,
    /// then the first bits of the id's HMAC.
    pub fn key(&self, customer: &CustomerId) -> u64 {
        let within = first_u64(&mac(&self.key, customer.as_str().as_bytes())) >> 4;
        (u64::from(self.place[shard(customer) as usize]) << 60) | within
    }

    /// The shards in the order their customers are sampled.
    pub fn shards(&self) -> impl Iterator<Item = u32> + '_ {
        let mut order: Vec<u32> = (0..LOG_SHARDS).collect();
        order.sort_by_key(|s| self.place[*s as usize]);
        order.into_iter()
    }

    /// The smallest sample key of a shard's customers.
    pub fn first_key(&self, shard: u32) -> u64 {
        u64::from(self.place[shard as usize % LOG_SHARDS as usize]) << 60
    }
}

fn mac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it
    let mut m = match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts every key length"),
    };
    m.update(data);
    m.finalize().into_bytes().into()
}

fn first_u64(bytes: &[u8; 32]) -> u64 {
    let mut first = [0u8; 8];
    first.copy_from_slice(&bytes[..8]);
    u64::from_be_bytes(first)
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
        let order = SampleOrder::keyed(b"secret");
        let key = order.key(&id("cus_9aZ"));
        assert_eq!(key >> 60, order.first_key(6) >> 60);
    }

    #[test]
    fn another_secret_is_another_order_and_ids_cannot_be_ground_without_it() {
        let (a, b) = (SampleOrder::keyed(b"one"), SampleOrder::keyed(b"two"));
        let shards = |o: &SampleOrder| o.shards().collect::<Vec<_>>();
        assert_ne!(shards(&a), shards(&b), "the shards' order is the secret's");
        let mut sorted = shards(&a);
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            (0..LOG_SHARDS).collect::<Vec<_>>(),
            "every shard once"
        );
        for s in a.shards().collect::<Vec<_>>().windows(2) {
            assert!(a.first_key(s[0]) < a.first_key(s[1]));
        }
        // the ids that sort first under one secret are a random draw under another: of the
        // 100 smallest of 10,000 under `a`, about 1 % are among the 100 smallest under `b`
        let ids: Vec<CustomerId> = (0..10_000).map(|n| id(&format!("u{n}"))).collect();
        let first = |o: &SampleOrder| {
            let mut keyed: Vec<(u64, &CustomerId)> = ids.iter().map(|c| (o.key(c), c)).collect();
            keyed.sort_unstable();
            keyed
                .into_iter()
                .take(100)
                .map(|(_, c)| c.clone())
                .collect::<Vec<_>>()
        };
        let (fa, fb) = (first(&a), first(&b));
        let both = fa.iter().filter(|c| fb.contains(c)).count();
        assert!(both <= 10, "{both} of 100 kept under both secrets");
        assert!(
            !format!("{a:?}").contains("key"),
            "the secret is not printed"
        );
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
        let order = SampleOrder::keyed(b"secret");
        let mut keys: Vec<u64> = (0..100_000)
            .map(|n| order.key(&id(&format!("c{n}"))))
            .collect();
        keys.sort_unstable();
        let estimate = estimate_population(5_000, keys[4_999]);
        assert!((90_000..110_000).contains(&estimate), "{estimate}");
    }
}

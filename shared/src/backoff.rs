//! Back-off for every retry loop the project owns: full jitter (a uniform wait between zero
//! and the exponential cap), so retries of many callers that failed together spread out
//! instead of arriving together again (AWS Architecture Blog, "Exponential Backoff And
//! Jitter").

use std::time::Duration;

/// The cap for attempt `attempt` (0-based): `base · 2^attempt`, at most `max`.
pub fn ceiling(base: Duration, attempt: u32, max: Duration) -> Duration {
    base.saturating_mul(1u32 << attempt.min(20)).min(max)
}

/// A uniform wait in `[0, ceiling(base, attempt, max)]`.
pub fn full_jitter(base: Duration, attempt: u32, max: Duration) -> Duration {
    let cap = ceiling(base, attempt, max).as_millis() as u64;
    Duration::from_millis(fastrand::u64(0..=cap))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_stay_under_a_doubling_cap_and_spread() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(2);
        assert_eq!(ceiling(base, 0, max), base);
        assert_eq!(ceiling(base, 3, max), Duration::from_millis(800));
        assert_eq!(ceiling(base, 30, max), max);
        let waits: Vec<Duration> = (0..200).map(|_| full_jitter(base, 3, max)).collect();
        assert!(waits.iter().all(|w| *w <= Duration::from_millis(800)));
        let distinct: std::collections::BTreeSet<_> = waits.iter().collect();
        assert!(distinct.len() > 50, "not jittered: {distinct:?}");
    }
}

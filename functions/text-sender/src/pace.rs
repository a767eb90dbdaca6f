//! The text sender's pace: at most `rate` sends a second per function instance, so a large
//! sweep drains at a rate the provider account takes (with the event source's maximum
//! concurrency, the account-wide ceiling) instead of in bursts — a known Korean incident sent
//! 100+ duplicates and took a dealer's API down.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Spaces sends `every` apart; `None`: no limit.
#[derive(Debug, Default)]
pub struct Pace {
    every: Option<Duration>,
    next: Mutex<Option<Instant>>,
}

impl Pace {
    /// `rate` sends a second (0 or less: unlimited).
    pub fn per_second(rate: f64) -> Pace {
        Pace {
            every: (rate > 0.0).then(|| Duration::from_secs_f64(1.0 / rate)),
            next: Mutex::new(None),
        }
    }

    /// Waits for this send's turn.
    pub async fn wait(&self) {
        let Some(every) = self.every else { return };
        let delay = {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            reserve(&mut next, Instant::now(), every)
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }
}

/// Takes the next slot at or after `now` and says how long to wait for it.
fn reserve(next: &mut Option<Instant>, now: Instant, every: Duration) -> Duration {
    let slot = next.map_or(now, |n| n.max(now));
    *next = Some(slot + every);
    slot - now
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_are_spaced_and_idle_time_is_not_saved_up() {
        let every = Duration::from_millis(100);
        let start = Instant::now();
        let mut next = None;
        let waits: Vec<u128> = (0..4)
            .map(|_| reserve(&mut next, start, every).as_millis())
            .collect();
        assert_eq!(waits, vec![0, 100, 200, 300], "a burst is spread out");
        // after a quiet second, the next send goes at once: no burst allowance builds up
        let later = start + Duration::from_secs(2);
        assert_eq!(reserve(&mut next, later, every), Duration::ZERO);
        assert_eq!(reserve(&mut next, later, every), every);
    }

    #[test]
    fn no_rate_is_no_limit() {
        assert!(Pace::per_second(0.0).every.is_none());
        assert_eq!(
            Pace::per_second(20.0).every,
            Some(Duration::from_millis(50))
        );
    }
}

//! Faults of our own making, to prove "sent once" under them (`journey-local faults`,
//! `make faults`, `docs/reliability.md`):
//!
//! - [`proxy`]: an HTTP proxy in front of the emulator that refuses requests before they reach
//!   it (the connection dropped, or a 503) and loses answers after it applied them (the
//!   connection dropped once the emulator answered), per service, at random with a seed;
//! - [`slack`]: a stand-in Slack incoming webhook that does the same to posts;
//! - [`interceptor`]: an SDK interceptor that scripts faults per operation (for targeted tests)
//!   and crashes a handler between two of its I/O calls ([`crash`]).
//!
//! Every injected fault is counted per service, operation and kind.

pub mod crash;
pub mod interceptor;
pub mod proxy;
pub mod slack;
pub mod suite;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

pub use interceptor::{Fault, Faults};

/// Shares of requests refused before they are applied, and of answers lost after.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Rates {
    pub refused: f64,
    pub lost: f64,
}

/// What the dice said for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Draw {
    Pass,
    /// Refused: the connection dropped before the request was read.
    Reset,
    /// Refused: a 503 answer, the request not applied.
    Unavailable,
    /// Applied, then the connection dropped before the answer.
    AnswerLost,
}

impl Draw {
    pub fn as_str(self) -> &'static str {
        match self {
            Draw::Pass => "pass",
            Draw::Reset => "refused_reset",
            Draw::Unavailable => "refused_503",
            Draw::AnswerLost => "answer_lost",
        }
    }
}

#[derive(Debug)]
struct DiceState {
    rng: fastrand::Rng,
    rates: HashMap<String, Rates>,
    counts: BTreeMap<(String, String, &'static str), u64>,
    /// Requests thrown for, per service.
    thrown: HashMap<String, u64>,
}

/// Seeded dice per service, and the count of what they injected; clones share both.
#[derive(Clone, Debug)]
pub struct Dice(Arc<Mutex<DiceState>>);

impl Dice {
    /// `rates` per service name (`dynamodb`, `sqs`, `ses`, `events`, `slack`); others pass.
    pub fn new(seed: u64, rates: &[(&str, Rates)]) -> Dice {
        Dice(Arc::new(Mutex::new(DiceState {
            rng: fastrand::Rng::with_seed(seed),
            rates: rates.iter().map(|(s, r)| (s.to_string(), *r)).collect(),
            counts: BTreeMap::new(),
            thrown: HashMap::new(),
        })))
    }

    /// Dice that never fault (the fault-free run).
    pub fn none() -> Dice {
        Dice::new(0, &[])
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DiceState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Throws for one request of `service`'s `operation`, and counts a fault. A faulted
    /// service's first request is refused and its second loses its answer, so each kind of
    /// fault reaches even a service that sees few requests (the text provider, SES); the rest
    /// are drawn.
    pub fn throw(&self, service: &str, operation: &str) -> Draw {
        let mut state = self.lock();
        let Some(rates) = state.rates.get(service).copied() else {
            return Draw::Pass;
        };
        let thrown = state.thrown.entry(service.to_string()).or_default();
        *thrown += 1;
        let nth = *thrown;
        let draw = state.rng.f64();
        let fault = if nth == 1 && rates.refused > 0.0 {
            Draw::Unavailable
        } else if nth == 2 && rates.lost > 0.0 {
            Draw::AnswerLost
        } else if draw < rates.refused / 2.0 {
            Draw::Reset
        } else if draw < rates.refused {
            Draw::Unavailable
        } else if draw < rates.refused + rates.lost {
            Draw::AnswerLost
        } else {
            Draw::Pass
        };
        if fault != Draw::Pass {
            self.count_locked(&mut state, service, operation, fault.as_str());
        }
        fault
    }

    /// A coin with probability `p`, from the same seeded sequence.
    pub fn chance(&self, p: f64) -> bool {
        p > 0.0 && self.lock().rng.f64() < p
    }

    /// A number in `0..n`.
    pub fn below(&self, n: u64) -> u64 {
        self.lock().rng.u64(0..n.max(1))
    }

    pub fn count(&self, service: &str, operation: &str, kind: &'static str) {
        let mut state = self.lock();
        self.count_locked(&mut state, service, operation, kind);
    }

    fn count_locked(
        &self,
        state: &mut DiceState,
        service: &str,
        operation: &str,
        kind: &'static str,
    ) {
        *state
            .counts
            .entry((service.to_string(), operation.to_string(), kind))
            .or_default() += 1;
    }

    /// Faults so far: `(service, operation, kind) → count`.
    pub fn counts(&self) -> BTreeMap<(String, String, &'static str), u64> {
        self.lock().counts.clone()
    }

    /// Stops faulting (keeps the counts).
    pub fn stop(&self) {
        self.lock().rates.clear();
    }
}

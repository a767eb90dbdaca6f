//! Replays each customer's events in time order through `apply`, with the sweep simulated: a
//! customer whose check is due gets a `check_due` at the next tick of the sweep's schedule,
//! exactly as the deployed sweep would send it.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::log::Label;
use crate::apply::Effect;
use crate::intervention::Channel;
use crate::{
    Change, Customer, CustomerId, Event, RiskLevel, Rules, Stage, apply, signal_context,
    signal_measures,
};

#[derive(Clone, Debug)]
pub struct ReplayConfig {
    /// How often the simulated sweep runs (the deployed schedule is every 15 minutes).
    pub interval: Duration,
    /// Where the replay stops; by default the last event's time.
    pub until: Option<DateTime<Utc>>,
    /// Sample every live customer's signal measures this often (for calibration); `None`
    /// samples nothing.
    pub sample_every: Option<Duration>,
}

impl Default for ReplayConfig {
    fn default() -> Self {
        ReplayConfig {
            interval: Duration::minutes(15),
            until: None,
            sample_every: None,
        }
    }
}

/// A change of risk level in the replay.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RiskPoint {
    pub at: DateTime<Utc>,
    pub level: RiskLevel,
    /// The score right after the change.
    pub score: f64,
    pub reason: String,
    /// The domain's episode counter after the change: a flag that continues an episode
    /// (`fatigue.continue_days`) keeps its number, so the backtest's episodes are the worker's.
    #[serde(default)]
    pub episode: u32,
}

/// A customer's signal measures at one moment, with the level the rules had them at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub at: DateTime<Utc>,
    /// In [`crate::Signal::ALL`] order.
    pub measures: [f64; crate::Signal::COUNT],
    /// What the signals against peers were measured from: calibration learns the peer tables
    /// from these and measures those signals again.
    #[serde(default)]
    pub context: crate::peers::Context,
}

/// One customer's replay.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Journey {
    pub customer_id: CustomerId,
    pub first_seen: DateTime<Utc>,
    pub risk: Vec<RiskPoint>,
    /// The churns the rules decided (inactivity) or the events declared (refund, cancellation).
    pub churns: Vec<Label>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<Sample>,
    /// The experiment counts the rules made of this customer: assignments and their outcomes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tallies: Vec<crate::apply::Tally>,
    /// When the customer was sent a retention message (an e-mail of a `fatigue.triggers`
    /// trigger), once per message: what the customer felt of the flags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<DateTime<Utc>>,
}

/// Every customer's replay, in customer-id order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Replay {
    pub until: DateTime<Utc>,
    pub events: usize,
    /// Simulated `check_due`s applied.
    pub checks: usize,
    /// Events the domain refused (and skipped).
    pub refused: usize,
    pub journeys: Vec<Journey>,
}

impl Replay {
    /// Each message against its control group, as the replayed rules assigned them.
    pub fn experiments(&self) -> crate::experiment::Experiments {
        crate::experiment::Experiments::from_tallies(self.journeys.iter().flat_map(|j| &j.tallies))
    }

    /// The churns of the replay itself, as labels: what the backtest measures against when the
    /// business has none of its own.
    pub fn churn_labels(&self) -> Vec<Label> {
        self.journeys
            .iter()
            .flat_map(|j| j.churns.iter().cloned())
            .collect()
    }
}

/// Replays `events` (any order) under `rules`. Customers are independent, so they are replayed
/// on all cores; the result does not depend on how many.
pub fn replay(events: &[Event], rules: &Rules, config: &ReplayConfig) -> Replay {
    let until = config
        .until
        .or_else(|| events.iter().map(|e| e.occurred_at).max())
        .unwrap_or(DateTime::UNIX_EPOCH);
    let mut by_customer: BTreeMap<&CustomerId, Vec<&Event>> = BTreeMap::new();
    for event in events {
        by_customer
            .entry(&event.customer_id)
            .or_default()
            .push(event);
    }
    let groups: Vec<Vec<&Event>> = by_customer.into_values().collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = groups.len().div_ceil(threads).max(1);
    let runs: Vec<Run> = std::thread::scope(|scope| {
        let handles: Vec<_> = groups
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|evs| Run::customer(evs, rules, config, until))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    Replay {
        until,
        events: events.len(),
        checks: runs.iter().map(|r| r.checks).sum(),
        refused: runs.iter().map(|r| r.refused).sum(),
        journeys: runs.into_iter().map(|r| r.journey).collect(),
    }
}

/// One customer's replay in progress.
struct Run<'a> {
    rules: &'a Rules,
    config: &'a ReplayConfig,
    c: Customer,
    journey: Journey,
    last_tick: Option<DateTime<Utc>>,
    next_sample: Option<DateTime<Utc>>,
    checks: usize,
    refused: usize,
    /// The retention messages' ids already counted: a deferred message is planned again.
    sent: Vec<crate::InterventionId>,
}

impl<'a> Run<'a> {
    /// Replays one customer's events (non-empty, all of that customer).
    fn customer(
        events: &[&Event],
        rules: &'a Rules,
        config: &'a ReplayConfig,
        until: DateTime<Utc>,
    ) -> Run<'a> {
        let mut events = events.to_vec();
        events.sort_by_key(|e| e.occurred_at); // stable: same-time events keep log order
        let first = events[0];
        let mut run = Run {
            rules,
            config,
            c: Customer::new(first.customer_id.clone()),
            journey: Journey {
                customer_id: first.customer_id.clone(),
                first_seen: first.occurred_at,
                risk: Vec::new(),
                churns: Vec::new(),
                samples: Vec::new(),
                tallies: Vec::new(),
                messages: Vec::new(),
            },
            sent: Vec::new(),
            last_tick: None,
            next_sample: config
                .sample_every
                .map(|every| on_grid(first.occurred_at, every)),
            checks: 0,
            refused: 0,
        };
        for event in events.into_iter().filter(|e| e.occurred_at <= until) {
            run.advance(event.occurred_at);
            run.apply(event, event.occurred_at);
        }
        run.advance(until);
        run
    }

    /// Runs the checks and samples due up to `to`, in time order.
    fn advance(&mut self, to: DateTime<Utc>) {
        loop {
            let check = self.next_tick().filter(|t| *t <= to);
            let sample = self.next_sample.filter(|t| *t <= to);
            match (check, sample) {
                (Some(c), Some(s)) if s < c => self.sample(s),
                (Some(c), _) => self.check(c),
                (None, Some(s)) => self.sample(s),
                (None, None) => return,
            }
        }
    }

    /// The sweep tick that finds the pending check: the first on the schedule at or after it
    /// is due, and never the same tick twice.
    fn next_tick(&self) -> Option<DateTime<Utc>> {
        let due = self.c.next_check_at?;
        let tick = on_grid(due, self.config.interval);
        Some(match self.last_tick {
            Some(last) if tick <= last => last + self.config.interval,
            _ => tick,
        })
    }

    fn check(&mut self, tick: DateTime<Utc>) {
        let Some(due) = self.c.next_check_at else {
            return;
        };
        self.last_tick = Some(tick);
        self.checks += 1;
        let event = Event::check_due(self.c.id.clone(), due, tick);
        self.apply(&event, tick);
    }

    fn sample(&mut self, at: DateTime<Utc>) {
        if let (Some(every), Some(stage)) = (self.config.sample_every, self.c.stage)
            && !stage.is_terminal()
        {
            let policy = self.rules.policy(self.c.profile.program.as_deref());
            self.journey.samples.push(Sample {
                at,
                measures: signal_measures(&self.c, policy, at),
                context: signal_context(&self.c, policy, at),
            });
            self.next_sample = Some(at + every);
            return;
        }
        self.next_sample = self.config.sample_every.map(|every| at + every);
    }

    fn apply(&mut self, event: &Event, now: DateTime<Utc>) {
        let outcome = match apply(&self.c, event, self.rules, now) {
            Ok(outcome) => outcome,
            Err(_) => {
                self.refused += 1;
                return;
            }
        };
        for entry in &outcome.history {
            match &entry.change {
                Change::Risk { to, .. } => self.journey.risk.push(RiskPoint {
                    at: entry.at,
                    level: *to,
                    score: entry.score,
                    reason: entry.cause.reason.clone(),
                    episode: outcome.customer.risk_episode,
                }),
                Change::Stage {
                    to: Stage::Churned, ..
                } => self.journey.churns.push(Label {
                    customer_id: self.c.id.clone(),
                    churned_at: entry.at,
                    how: outcome
                        .customer
                        .churn
                        .as_ref()
                        .map(|c| c.reason.as_str().into()),
                }),
                _ => {}
            }
        }
        self.journey
            .tallies
            .extend(outcome.tallies.into_iter().filter(|t| t.cohort.is_some()));
        let policy = self
            .rules
            .policy(outcome.customer.profile.program.as_deref());
        for effect in &outcome.effects {
            if let Effect::Send(i) = effect
                && i.channel == Channel::Email
                && !i.transactional
                && policy.fatigue.counts(i.trigger)
                && !self.sent.contains(&i.id)
            {
                self.sent.push(i.id.clone());
                self.journey.messages.push(i.planned_at);
            }
        }
        self.c = outcome.customer;
    }
}

/// The first multiple of `step` (counted from the Unix epoch) at or after `at`.
fn on_grid(at: DateTime<Utc>, step: Duration) -> DateTime<Utc> {
    let step_s = step.num_seconds().max(1);
    let t = at.timestamp();
    let ceil = t.div_euclid(step_s) * step_s + if t.rem_euclid(step_s) == 0 { 0 } else { step_s };
    DateTime::from_timestamp(ceil, 0).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_fall_on_the_schedule() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let q = Duration::minutes(15);
        assert_eq!(
            on_grid(at("2026-01-01T10:00:00Z"), q),
            at("2026-01-01T10:00:00Z")
        );
        assert_eq!(
            on_grid(at("2026-01-01T10:00:01Z"), q),
            at("2026-01-01T10:15:00Z")
        );
        assert_eq!(
            on_grid(at("2026-01-01T10:14:59Z"), q),
            at("2026-01-01T10:15:00Z")
        );
    }
}

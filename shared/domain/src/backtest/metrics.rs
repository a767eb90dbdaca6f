//! What the backtest measures. A *flag episode* is the domain's own: it runs from the moment a
//! customer's risk leaves `none` until it returns to `none` (recovery, completion, or the churn
//! itself) and is not flagged again within `fatigue.continue_days` — a customer who logs in once
//! and is flagged again two days later never really came back, and the worker sends them no
//! second message for it either. An episode is
//! *right* when the customer churns within `window` of its start without having come back
//! first, *wrong* when they do not (a false alarm), and *undecided* while the log ends too soon
//! to tell. A churn is *caught at a level* when the episode open at the churn started within
//! `window` before it and reached that level at least `lead` before it. A *retention message*
//! is *to a non-churner* when its customer did not churn within `window` of it: the false
//! alarms the customer feels, which calibration's budget is spent on.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::log::Label;
use super::replay::{Journey, Replay};
use crate::{CustomerId, RiskLevel};

#[derive(Clone, Debug)]
pub struct MetricsConfig {
    /// How long before the churn a flag must come to count (the product promises 72 hours).
    pub lead: Duration,
    /// How soon after a flag the churn must follow for the flag to be right.
    pub window: Duration,
    /// Judge only from here on: churns from then, episodes that began then or later, and the
    /// customer-months after it (a later-period holdout; the replay still runs from the start,
    /// so each customer arrives with their history).
    pub from: Option<DateTime<Utc>>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            lead: Duration::hours(72),
            window: Duration::days(30),
            from: None,
        }
    }
}

/// The backtest's figures. Shares are 0..=1; `None` when there is nothing to divide by.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub customers: usize,
    /// Churns in the labels (a customer may churn more than once).
    pub churns: usize,
    /// Customers with at least one churn.
    pub churned_customers: usize,
    pub lead_hours: i64,
    pub window_days: i64,
    /// Per level (caution, warning, danger): churns caught at that level at least `lead` ahead.
    pub recall: Vec<LevelRecall>,
    /// The same, for the churns that left by a request (refund, cancellation) and for the silent
    /// ones (inactivity), when the labels say how.
    #[serde(default)]
    pub recall_by_way: Vec<WayRecall>,
    pub episodes: usize,
    pub right_episodes: usize,
    pub false_alarms: usize,
    pub undecided_episodes: usize,
    pub precision: Option<f64>,
    /// Per level: of the decided episodes that reached it, how many ended in a churn.
    #[serde(default)]
    pub level_precision: Vec<LevelPrecision>,
    /// Customer-months observed: from each customer's first event to the end of the log.
    pub customer_months: f64,
    pub false_alarms_per_100_customer_months: f64,
    /// Retention messages customers were sent from `from` on and judged: a message of a flag
    /// episode is as right as its episode; one outside any (a ticket, an NPS answer) is right
    /// when the customer churned within `window`, wrong when they did not and the log runs
    /// that long past it.
    #[serde(default)]
    pub messages: usize,
    /// … of which to customers who did not churn within `window`.
    #[serde(default)]
    pub messages_to_non_churners: usize,
    /// Per 100 customer-months, as false alarms are.
    #[serde(default)]
    pub messages_to_non_churners_per_100_customer_months: f64,
    pub lead_times: LeadTimes,
    /// The share of churns whose customer was at risk (caution or above) at some moment in
    /// the `window` before the churn and at least `lead` ahead of it, however long before the
    /// flag began: renewal churn's measure (a light user flagged for weeks was still warned in
    /// time), where [`Metrics::recall`] wants the episode to begin within the window.
    #[serde(default)]
    pub at_risk_before: Option<f64>,
}

impl Metrics {
    /// The share of decided episodes reaching `level` that ended in a churn (`None`: none
    /// reached it).
    pub fn precision_at(&self, level: RiskLevel) -> Option<f64> {
        self.level_precision
            .iter()
            .find(|p| p.level == level)
            .and_then(|p| p.share)
    }

    /// What calibration's budget is spent on, per 100 customer-months: retention messages to
    /// customers who stayed, or the episodes' false alarms where the rules sent no retention
    /// message at all (staff alerts only: then a false alarm costs staff time instead).
    pub fn spent(&self) -> f64 {
        if self.messages > 0 {
            self.messages_to_non_churners_per_100_customer_months
        } else {
            self.false_alarms_per_100_customer_months
        }
    }

    /// Scales what [`Metrics::spent`] reads by `factor` (a learned model's margin).
    pub fn scale_spent(&mut self, factor: f64) {
        if self.messages > 0 {
            self.messages_to_non_churners_per_100_customer_months *= factor;
        } else {
            self.false_alarms_per_100_customer_months *= factor;
        }
    }

    /// The share of churns caught at `level` (or above) at least `lead` ahead.
    pub fn recall_at(&self, level: RiskLevel) -> f64 {
        self.recall
            .iter()
            .find(|r| r.level == level)
            .and_then(|r| r.share)
            .unwrap_or(0.0)
    }
}

/// Recall for one way of leaving: `requested` (a refund, a cancellation, any stated reason) or
/// `silent` (inactivity).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WayRecall {
    pub way: String,
    pub churns: usize,
    pub recall: Vec<LevelRecall>,
}

/// How a labelled churn left: `None` when the label does not say.
fn way_of(label: &Label) -> Option<&'static str> {
    match label.how.as_deref()? {
        "inactivity" => Some("silent"),
        _ => Some("requested"),
    }
}

/// How often an episode that reached a level was right.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LevelPrecision {
    pub level: RiskLevel,
    pub right: usize,
    pub wrong: usize,
    pub share: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LevelRecall {
    pub level: RiskLevel,
    pub caught: usize,
    pub share: Option<f64>,
}

/// How long before each churn its customer was first flagged (at caution or above).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LeadTimes {
    /// Churns with a flag open when they churned.
    pub flagged: usize,
    pub not_flagged: usize,
    /// Nearest-rank percentiles of the lead in hours, over the flagged churns.
    pub percentiles_hours: BTreeMap<String, f64>,
    /// Counts per bucket: `< 24 h`, `24–72 h`, `3–7 d`, `7–14 d`, `≥ 14 d`.
    pub buckets: Vec<(String, usize)>,
}

const LEVELS: [RiskLevel; 3] = [RiskLevel::Caution, RiskLevel::Warning, RiskLevel::Danger];

/// One flag episode of one customer.
#[derive(Debug)]
struct Episode {
    /// The domain's episode counter.
    number: u32,
    start: DateTime<Utc>,
    /// When it first reached caution, warning, danger.
    reached: [Option<DateTime<Utc>>; 3],
    end: Option<DateTime<Utc>>,
}

/// Measures a replay against labels.
pub fn measure(replay: &Replay, labels: &[Label], config: &MetricsConfig) -> Metrics {
    let from = config.from.unwrap_or(DateTime::<Utc>::MIN_UTC);
    let labels: Vec<&Label> = labels.iter().filter(|l| l.churned_at >= from).collect();
    let mut churns_of: BTreeMap<&CustomerId, Vec<DateTime<Utc>>> = BTreeMap::new();
    for label in &labels {
        churns_of
            .entry(&label.customer_id)
            .or_default()
            .push(label.churned_at);
    }
    let ways: BTreeMap<(&CustomerId, DateTime<Utc>), &str> = labels
        .iter()
        .filter_map(|l| Some(((&l.customer_id, l.churned_at), way_of(l)?)))
        .collect();
    let mut by_way: BTreeMap<&str, (usize, [usize; 3])> = BTreeMap::new();
    for way in ways.values() {
        by_way.entry(way).or_default().0 += 1;
    }
    let mut caught = [0usize; 3];
    let mut leads = Vec::new();
    let (mut right, mut wrong, mut undecided, mut episodes_total) = (0, 0, 0, 0);
    let mut by_level = [(0usize, 0usize); 3];
    let (mut messages, mut unwanted) = (0usize, 0usize);
    let mut at_risk = 0usize;
    for journey in &replay.journeys {
        let episodes = episodes(journey);
        let churns = churns_of.get(&journey.customer_id).map_or(&[][..], |v| v);
        for sent in journey.messages.iter().filter(|t| **t >= from) {
            if let Some(wanted) = message_verdict(*sent, &episodes, churns, replay.until, config) {
                messages += 1;
                unwanted += usize::from(!wanted);
            }
        }
        for churn in churns {
            at_risk += usize::from(at_risk_between(
                journey,
                *churn - config.window,
                *churn - config.lead,
            ));
            let Some(ep) = episodes.iter().find(|e| open_at_churn(e, *churn, config)) else {
                continue;
            };
            let way = ways
                .get(&(&journey.customer_id, *churn))
                .and_then(|w| by_way.get_mut(w));
            let mut caught_here = [false; 3];
            for (i, reached) in ep.reached.iter().enumerate() {
                if reached.is_some_and(|t| *churn - t >= config.lead) {
                    caught[i] += 1;
                    caught_here[i] = true;
                }
            }
            if let Some((_, tally)) = way {
                for (n, hit) in tally.iter_mut().zip(caught_here) {
                    *n += usize::from(hit);
                }
            }
            if let Some(first) = ep.reached[0] {
                leads.push((*churn - first).num_seconds() as f64 / 3600.0);
            }
        }
        for ep in episodes.iter().filter(|e| e.start >= from) {
            episodes_total += 1;
            let decided = verdict(ep, churns, replay.until, config);
            match decided {
                Some(true) => right += 1,
                Some(false) => wrong += 1,
                None => undecided += 1,
            }
            for (tally, reached) in by_level.iter_mut().zip(ep.reached) {
                match (reached, decided) {
                    (Some(_), Some(true)) => tally.0 += 1,
                    (Some(_), Some(false)) => tally.1 += 1,
                    _ => {}
                }
            }
        }
    }
    let customer_months = replay
        .journeys
        .iter()
        .map(|j| {
            let observed = replay.until - j.first_seen.max(from);
            observed.num_seconds().max(0) as f64 / (30.0 * 86_400.0)
        })
        .sum::<f64>();
    let churns = labels.len();
    Metrics {
        customers: replay
            .journeys
            .iter()
            .filter(|j| replay.until > j.first_seen.max(from))
            .count(),
        churns,
        churned_customers: churns_of.len(),
        lead_hours: config.lead.num_hours(),
        window_days: config.window.num_days(),
        recall: level_recall(caught, churns),
        recall_by_way: by_way
            .into_iter()
            .map(|(way, (churns, caught))| WayRecall {
                way: way.to_string(),
                churns,
                recall: level_recall(caught, churns),
            })
            .collect(),
        episodes: episodes_total,
        right_episodes: right,
        false_alarms: wrong,
        undecided_episodes: undecided,
        precision: ratio(right, right + wrong),
        level_precision: LEVELS
            .iter()
            .zip(by_level)
            .map(|(level, (right, wrong))| LevelPrecision {
                level: *level,
                right,
                wrong,
                share: ratio(right, right + wrong),
            })
            .collect(),
        customer_months: round4(customer_months),
        false_alarms_per_100_customer_months: per_100(wrong, customer_months),
        messages,
        messages_to_non_churners: unwanted,
        messages_to_non_churners_per_100_customer_months: per_100(unwanted, customer_months),
        lead_times: lead_times(leads, churns),
        at_risk_before: ratio(at_risk, churns),
    }
}

/// Whether the customer's risk was above `none` at some moment in `[from, to]`.
fn at_risk_between(journey: &Journey, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
    let at_start = journey
        .risk
        .iter()
        .take_while(|p| p.at <= from)
        .last()
        .is_some_and(|p| !p.level.is_none());
    at_start
        || journey
            .risk
            .iter()
            .any(|p| p.at > from && p.at <= to && !p.level.is_none())
}

/// `n` per 100 customer-months.
fn per_100(n: usize, customer_months: f64) -> f64 {
    if customer_months > 0.0 {
        round4(n as f64 * 100.0 / customer_months)
    } else {
        0.0
    }
}

/// The customer's flag episodes, in time order: a flag the domain counted as the same episode
/// (its number unchanged) resumes the one before.
fn episodes(journey: &Journey) -> Vec<Episode> {
    let mut out: Vec<Episode> = Vec::new();
    let mut open: Option<Episode> = None;
    for point in &journey.risk {
        match (&mut open, point.level) {
            (Some(ep), RiskLevel::None) => {
                ep.end = Some(point.at);
                out.extend(open.take());
            }
            (Some(ep), level) => mark(ep, level, point.at),
            (None, RiskLevel::None) => {}
            (None, level) => {
                let resumed = out.pop_if(|last| last.number == point.episode);
                let mut ep = resumed.unwrap_or(Episode {
                    number: point.episode,
                    start: point.at,
                    reached: [None; 3],
                    end: None,
                });
                ep.end = None;
                mark(&mut ep, level, point.at);
                open = Some(ep);
            }
        }
    }
    out.extend(open);
    out
}

fn mark(ep: &mut Episode, level: RiskLevel, at: DateTime<Utc>) {
    for (i, l) in LEVELS.iter().enumerate() {
        if level >= *l && ep.reached[i].is_none() {
            ep.reached[i] = Some(at);
        }
    }
}

/// The episode was open when the customer churned, and began within the window before.
fn open_at_churn(ep: &Episode, churn: DateTime<Utc>, config: &MetricsConfig) -> bool {
    ep.start <= churn && churn - ep.start <= config.window && ep.end.is_none_or(|end| end >= churn)
}

/// Whether a message sent at `sent` was wanted (`Some(true)`: the customer churned), not
/// (`Some(false)`), or cannot be told yet. A message of a flag episode shares its episode's
/// verdict, decided as soon as the episode ends, so a short later period is judged as well as
/// its false alarms are.
fn message_verdict(
    sent: DateTime<Utc>,
    episodes: &[Episode],
    churns: &[DateTime<Utc>],
    until: DateTime<Utc>,
    config: &MetricsConfig,
) -> Option<bool> {
    let open = |ep: &&Episode| ep.start <= sent && ep.end.is_none_or(|end| sent <= end);
    if let Some(ep) = episodes.iter().find(open) {
        return verdict(ep, churns, until, config);
    }
    if churns
        .iter()
        .any(|c| *c >= sent && *c - sent <= config.window)
    {
        Some(true)
    } else {
        (until - sent >= config.window).then_some(false)
    }
}

/// Right (`Some(true)`), wrong, or undecided when the log ends before the window does.
fn verdict(
    ep: &Episode,
    churns: &[DateTime<Utc>],
    until: DateTime<Utc>,
    config: &MetricsConfig,
) -> Option<bool> {
    if churns.iter().any(|c| open_at_churn(ep, *c, config)) {
        Some(true)
    } else if ep.end.is_some() || until - ep.start >= config.window {
        Some(false)
    } else {
        None
    }
}

fn lead_times(mut leads: Vec<f64>, churns: usize) -> LeadTimes {
    leads.sort_by(f64::total_cmp);
    let percentile = |p: f64| {
        let rank = ((p / 100.0) * leads.len() as f64).ceil().max(1.0) as usize;
        round4(leads[rank.min(leads.len()) - 1])
    };
    let percentiles_hours = if leads.is_empty() {
        BTreeMap::new()
    } else {
        [10.0, 25.0, 50.0, 75.0, 90.0]
            .into_iter()
            .map(|p| (format!("p{p}"), percentile(p)))
            .collect()
    };
    let bounds = [
        ("< 24 h", 24.0),
        ("24–72 h", 72.0),
        ("3–7 d", 168.0),
        ("7–14 d", 336.0),
        ("≥ 14 d", f64::INFINITY),
    ];
    let mut buckets: Vec<(String, usize)> =
        bounds.iter().map(|(n, _)| (n.to_string(), 0)).collect();
    for lead in &leads {
        if let Some(i) = bounds.iter().position(|(_, upper)| lead < upper) {
            buckets[i].1 += 1;
        }
    }
    LeadTimes {
        flagged: leads.len(),
        not_flagged: churns - leads.len(),
        percentiles_hours,
        buckets,
    }
}

fn level_recall(caught: [usize; 3], churns: usize) -> Vec<LevelRecall> {
    LEVELS
        .iter()
        .zip(caught)
        .map(|(level, n)| LevelRecall {
            level: *level,
            caught: n,
            share: ratio(n, churns),
        })
        .collect()
}

fn ratio(n: usize, d: usize) -> Option<f64> {
    (d > 0).then(|| round4(n as f64 / d as f64))
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

//! The signals that compare a customer with others, or with the business's history rather than
//! with their own past: engagement against peers, low engagement as the renewal comes near, and
//! the churn hazard of their week of tenure.
//!
//! Renewal churn is why they exist: a customer who has always used the product less than their
//! peers never drops against their own baseline, goes quiet no more than usual, and cancels at
//! the renewal date (docs/detection.md, *Signals against peers*). The tables they read
//! ([`Peers`]) are learnt from the business's own history by the weekly calibration and kept in
//! the rules, so the worker reads them with the rules it already has: no scan of other customers
//! per event.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::rules::SignalRules;

/// What the business's customers look like, learnt by calibration from its history. Empty
/// tables (the shipped rules) leave the signals that read them at 0.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Peers {
    /// The share of days a paying customer was active over `score.signals.peer_window_days`
    /// (or their tenure, if shorter), at evenly spaced percentiles from the lowest (first) to
    /// the highest (last), ascending.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub active_share: Vec<f64>,
    /// How likely a customer is to churn within the calibration window, by week of tenure,
    /// relative to the most likely week (1); the last week stands for every week after it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tenure_hazard: Vec<f64>,
}

impl Peers {
    pub fn is_empty(&self) -> bool {
        self.active_share.is_empty() && self.tenure_hazard.is_empty()
    }

    /// Why the tables cannot be used, if they cannot: they come from a rules file.
    pub fn problem(&self) -> Option<&'static str> {
        let share = &self.active_share;
        if share.len() == 1 {
            return Some("active_share needs at least two percentiles");
        }
        if share.windows(2).any(|w| w[0] > w[1]) || share.iter().any(|x| !(0.0..=1.0).contains(x)) {
            return Some("active_share must ascend within 0..=1");
        }
        if self.tenure_hazard.iter().any(|x| !(0.0..=1.0).contains(x)) {
            return Some("tenure_hazard values must be within 0..=1");
        }
        None
    }
}

/// What the peer signals are measured from, as of one moment: kept with calibration's samples,
/// so the signals can be measured again against tables learnt after the replay.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Context {
    /// The share of days active over the peer window (or the tenure); `None` for a customer
    /// too new to compare.
    pub active_share: Option<f64>,
    /// Days until the paid period ends; `None` when no renewal date is known.
    pub days_to_renewal: Option<f64>,
    pub tenure_days: f64,
}

/// How far into the bottom `peer_low_share` of their peers the customer is: 0 at its top edge
/// and above, 1 at the very bottom.
pub fn low_engagement(ctx: &Context, peers: &Peers, s: &SignalRules) -> f64 {
    let (Some(share), false) = (ctx.active_share, peers.active_share.len() < 2) else {
        return 0.0;
    };
    let low = s.peer_low_share.clamp(0.01, 1.0);
    ((low - percentile(&peers.active_share, share)) / low).clamp(0.0, 1.0)
}

/// [`low_engagement`] while the renewal is at most `renewal_window_days` away: the one
/// moment a customer who always used it little decides, and the last one to act in.
pub fn low_before_renewal(ctx: &Context, peers: &Peers, s: &SignalRules) -> f64 {
    match ctx.days_to_renewal {
        Some(days) if (0.0..=f64::from(s.renewal_window_days)).contains(&days) => {
            low_engagement(ctx, peers, s)
        }
        _ => 0.0,
    }
}

/// The hazard of the customer's week of tenure.
pub fn tenure_hazard(ctx: &Context, peers: &Peers) -> f64 {
    let table = &peers.tenure_hazard;
    let week = (ctx.tenure_days.max(0.0) / 7.0) as usize;
    table
        .get(week.min(table.len().saturating_sub(1)))
        .copied()
        .unwrap_or(0.0)
}

/// The context as of `now`: `active_days` is how many of the last `days` days (today
/// included) were active, `days` being the peer window or the tenure, if shorter.
pub fn context(
    active_days: impl Fn(i64) -> u64,
    since: DateTime<Utc>,
    renews_at: Option<DateTime<Utc>>,
    s: &SignalRules,
    now: DateTime<Utc>,
) -> Context {
    let days = |d: chrono::TimeDelta| d.num_seconds() as f64 / 86_400.0;
    let tenure_days = days(now - since).max(0.0);
    let compared = tenure_days >= f64::from(s.peer_min_tenure_days);
    let window = (tenure_days.floor() as i64 + 1).min(i64::from(s.peer_window_days.max(1)));
    Context {
        active_share: compared.then(|| active_days(window) as f64 / window as f64),
        days_to_renewal: renews_at.map(|at| days(at - now)),
        tenure_days,
    }
}

/// Where `x` falls among the percentiles `table` (evenly spaced, lowest to highest), 0..=1; on
/// a run of equal values (many peers at 0), the middle of the run.
pub fn percentile(table: &[f64], x: f64) -> f64 {
    let n = table.len();
    if n < 2 {
        return 0.5;
    }
    let step = 1.0 / (n - 1) as f64;
    let below = table.partition_point(|v| *v < x);
    let upto = table.partition_point(|v| *v <= x);
    if upto > below {
        return (below + upto - 1) as f64 / 2.0 * step;
    }
    match below {
        0 => 0.0,
        k if k == n => 1.0,
        k => {
            let (a, b) = (table[k - 1], table[k]);
            ((k - 1) as f64 + (x - a) / (b - a)) * step
        }
    }
}

/// The percentiles of `values` at `points` evenly spaced probabilities, lowest to highest: the
/// table [`percentile`] reads. Empty when there are no values.
pub fn percentiles(mut values: Vec<f64>, points: usize) -> Vec<f64> {
    values.retain(|v| v.is_finite());
    if values.is_empty() || points < 2 {
        return Vec::new();
    }
    values.sort_by(f64::total_cmp);
    let last = (values.len() - 1) as f64;
    (0..points)
        .map(|k| {
            let at = last * k as f64 / (points - 1) as f64;
            let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
            let v = values[lo] + (values[hi] - values[lo]) * (at - lo as f64);
            (v * 1e4).round() / 1e4
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_placed_among_the_percentiles_with_ties_at_their_middle() {
        let table = [0.0, 0.0, 0.0, 0.2, 0.4];
        assert_eq!(percentile(&table, 0.0), 0.25, "three of five at 0");
        assert_eq!(percentile(&table, 0.3), 0.875);
        assert_eq!(percentile(&table, 0.5), 1.0);
        assert_eq!(percentile(&table, -1.0), 0.0);
        assert_eq!(percentiles(vec![0.4, 0.0, 0.2, 0.0, 0.0], 5), table);
    }

    #[test]
    fn low_engagement_rises_through_the_bottom_share_and_only_counts_before_a_renewal_near() {
        let s = crate::rules::Rules::embedded().unwrap();
        let s = &s.default_policy().score.signals;
        let peers = Peers {
            active_share: percentiles((0..=100).map(|k| k as f64 / 100.0).collect(), 21),
            tenure_hazard: vec![1.0, 0.5],
        };
        let at = |share: f64, renewal: Option<f64>| Context {
            active_share: Some(share),
            days_to_renewal: renewal,
            tenure_days: 30.0,
        };
        let low = f64::from(s.peer_low_share as f32);
        assert!(low_engagement(&at(0.5, None), &peers, s) == 0.0);
        assert!((low_engagement(&at(0.0, None), &peers, s) - 1.0).abs() < 1e-9);
        let mid = low_engagement(&at(low / 2.0, None), &peers, s);
        assert!((mid - 0.5).abs() < 0.01, "{mid}");
        let window = f64::from(s.renewal_window_days);
        assert_eq!(
            low_before_renewal(&at(0.0, Some(window + 1.0)), &peers, s),
            0.0
        );
        assert_eq!(
            low_before_renewal(&at(0.0, Some(window - 1.0)), &peers, s),
            1.0
        );
        assert_eq!(low_before_renewal(&at(0.0, Some(-1.0)), &peers, s), 0.0);
        assert_eq!(tenure_hazard(&at(0.0, None), &peers), 0.5);
        let new = Context {
            tenure_days: 3.0,
            ..at(0.0, None)
        };
        assert_eq!(tenure_hazard(&new, &peers), 1.0);
        assert_eq!(low_engagement(&new, &Peers::default(), s), 0.0);
    }
}

//! From a replay to weights: each live customer's signal measures, sampled daily, labelled
//! "churned within the window, at least the lead time later", and a logistic regression over
//! them. A signal's weight is its coefficient (never below 0: a weight adds points), scaled so
//! that every signal at full strength scores 100.

use std::collections::BTreeMap;

use chrono::Duration;
use linfa::Dataset;
use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};
use serde::Serialize;

use journey::backtest::{Label, Replay};
use journey::domain::{CustomerId, Signal};

/// The labelled samples the model is fitted on.
#[derive(Debug, Default)]
pub struct Samples {
    pub x: Vec<[f64; Signal::COUNT]>,
    pub y: Vec<bool>,
}

impl Samples {
    pub fn positives(&self) -> usize {
        self.y.iter().filter(|y| **y).count()
    }

    /// The same samples with `signals` measured as 0 everywhere: a fit that cannot use them
    /// (their weights come out 0).
    pub fn without(&self, signals: &[Signal]) -> Samples {
        let columns: Vec<usize> = Signal::ALL
            .iter()
            .enumerate()
            .filter(|(_, s)| signals.contains(s))
            .map(|(i, _)| i)
            .collect();
        let x = self
            .x
            .iter()
            .map(|row| {
                let mut row = *row;
                for c in &columns {
                    row[*c] = 0.0;
                }
                row
            })
            .collect();
        Samples {
            x,
            y: self.y.clone(),
        }
    }
}

/// Every sample at least `lead` before the customer's next churn (or with no churn after it),
/// positive when that churn comes within `window`. Samples closer to a churn than `lead` are
/// left out: a flag then would come too late to count. So are those whose window runs past the
/// end of the history with no churn yet: whether they churn is not known.
pub fn samples(replay: &Replay, labels: &[Label], lead: Duration, window: Duration) -> Samples {
    let mut churns: BTreeMap<&CustomerId, Vec<_>> = BTreeMap::new();
    for l in labels {
        churns.entry(&l.customer_id).or_default().push(l.churned_at);
    }
    let mut out = Samples::default();
    for journey in &replay.journeys {
        let mine = churns.get(&journey.customer_id);
        for sample in &journey.samples {
            let next = mine.and_then(|c| c.iter().filter(|t| **t > sample.at).min());
            let until = next.map(|t| *t - sample.at);
            let positive = until.is_some_and(|d| d <= window);
            let unknown = !positive && sample.at + window > replay.until;
            if until.is_some_and(|d| d < lead) || unknown {
                continue;
            }
            out.x.push(sample.measures);
            out.y.push(positive);
        }
    }
    out
}

/// The fitted model and the weights it gives.
#[derive(Clone, Debug, Serialize)]
pub struct Fitted {
    /// Per signal, in [`Signal::ALL`] order.
    pub coefficients: Vec<f64>,
    pub intercept: f64,
    pub weights: BTreeMap<Signal, f64>,
    pub samples: usize,
    pub positives: usize,
}

/// Fits a logistic regression (L2-regularised) and turns it into weights. `None` when the
/// samples hold only one class or no signal raises the odds of churning.
pub fn fit(samples: &Samples) -> Result<Option<Fitted>, String> {
    let positives = samples.positives();
    if positives == 0 || positives == samples.y.len() {
        return Ok(None);
    }
    let flat: Vec<f64> = samples.x.iter().flatten().copied().collect();
    let x = Array2::from_shape_vec((samples.x.len(), Signal::COUNT), flat)
        .map_err(|e| e.to_string())?;
    let y = Array1::from_vec(samples.y.clone());
    let model = LogisticRegression::default()
        .alpha(0.01)
        .max_iterations(200)
        .fit(&Dataset::new(x, y))
        .map_err(|e| e.to_string())?;
    // linfa picks which class is "positive" itself; turn the model around if it chose "stays"
    let sign = if model.labels().pos.class { 1.0 } else { -1.0 };
    let coefficients: Vec<f64> = model.params().iter().map(|c| sign * c).collect();
    let positive: f64 = coefficients.iter().map(|c| c.max(0.0)).sum();
    if positive <= 0.0 {
        return Ok(None);
    }
    let weights = Signal::ALL
        .iter()
        .zip(&coefficients)
        .map(|(s, c)| (*s, round1(100.0 * c.max(0.0) / positive)))
        .collect();
    Ok(Some(Fitted {
        coefficients,
        intercept: sign * model.intercept(),
        weights,
        samples: samples.y.len(),
        positives,
    }))
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0 + 0.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use journey::backtest::{Journey, Sample};

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn samples_are_labelled_by_the_next_churn_and_too_late_ones_left_out() {
        let id = CustomerId::new("c").unwrap();
        let at = |d: u32| t(&format!("2026-01-{d:02}T00:00:00Z"));
        let replay = Replay {
            until: at(31),
            events: 0,
            checks: 0,
            refused: 0,
            journeys: vec![Journey {
                customer_id: id.clone(),
                first_seen: at(1),
                risk: vec![],
                churns: vec![],
                samples: [1, 10, 27, 29]
                    .map(|d| Sample {
                        at: at(d),
                        measures: [0.0; Signal::COUNT],
                    })
                    .to_vec(),
            }],
        };
        let labels = [Label {
            customer_id: id,
            churned_at: at(30),
            how: None,
        }];
        let s = samples(&replay, &labels, Duration::hours(72), Duration::days(25));
        // day 1: 29 days ahead (outside the window); 10 and 27: within; 29: too late
        assert_eq!(s.y, vec![false, true, true]);
    }

    #[test]
    fn the_signal_that_predicts_churn_gets_the_weight() {
        let mut s = Samples::default();
        for n in 0..400 {
            let churns = n % 4 == 0;
            let mut x = [0.0; Signal::COUNT];
            x[1] = if churns { 0.9 } else { 0.1 }; // missed assignments
            x[3] = f64::from(n % 10) / 10.0; // content drop: noise
            s.x.push(x);
            s.y.push(churns);
        }
        let fitted = fit(&s).unwrap().expect("a model");
        let top = fitted
            .weights
            .iter()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap();
        assert_eq!(*top.0, Signal::MissedAssignments);
        assert!(fitted.coefficients[1] > 0.0, "churn is the positive class");
        assert!((fitted.weights.values().sum::<f64>() - 100.0).abs() < 0.5);

        let one_class = Samples {
            x: vec![[0.0; Signal::COUNT]; 3],
            y: vec![false; 3],
        };
        assert!(fit(&one_class).unwrap().is_none());
    }
}

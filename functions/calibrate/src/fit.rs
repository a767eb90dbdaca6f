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

use forust_ml::constraints::{Constraint, ConstraintMap};
use forust_ml::objective::ObjectiveType;
use forust_ml::{GradientBooster, Matrix};
use journey::backtest::{Label, Replay, Sample};
use journey::domain::model::{Forest, Tree};
use journey::domain::peers::{Peers, percentiles};
use journey::domain::rules::Policy;
use journey::domain::{CustomerId, Signal, score};

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
/// with its label: positive when that churn comes within `window`. Samples closer to a churn
/// than `lead` are left out: a flag then would come too late to count. So are those whose
/// window runs past the end of the history with no churn yet: whether they churn is not known.
fn labelled<'a>(
    replay: &'a Replay,
    labels: &[Label],
    lead: Duration,
    window: Duration,
) -> Vec<(&'a Sample, bool)> {
    let mut churns: BTreeMap<&CustomerId, Vec<_>> = BTreeMap::new();
    for l in labels {
        churns.entry(&l.customer_id).or_default().push(l.churned_at);
    }
    let mut out = Vec::new();
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
            out.push((sample, positive));
        }
    }
    out
}

/// The labelled samples ([`labelled`]), the signals against peers measured again against
/// `policy`'s tables (the replay measured them against the tables then in force).
pub fn samples(
    replay: &Replay,
    labels: &[Label],
    lead: Duration,
    window: Duration,
    policy: &Policy,
) -> Samples {
    let mut out = Samples::default();
    for (sample, positive) in labelled(replay, labels, lead, window) {
        out.x.push(row(sample, policy));
        out.y.push(positive);
    }
    out
}

/// A sample's measures, the signals against peers measured again against `policy`'s tables.
fn row(sample: &Sample, policy: &Policy) -> [f64; Signal::COUNT] {
    let mut row = sample.measures;
    for (slot, signal) in row.iter_mut().zip(Signal::ALL) {
        if Signal::PEERS.contains(&signal) {
            *slot = score::peer_measure(signal, &sample.context, policy);
        }
    }
    row
}

/// The area under the ROC curve of `policy`'s score over the labelled samples ([`labelled`])
/// taken from `from` on: the chance that a sample of a customer about to churn scores above
/// one of a customer who stays (ties count half), the figure published work on churn reports.
/// `None` without both kinds of sample.
pub fn auc(
    replay: &Replay,
    labels: &[Label],
    lead: Duration,
    window: Duration,
    policy: &Policy,
    from: chrono::DateTime<chrono::Utc>,
) -> Option<f64> {
    let mut scored: Vec<(f64, bool)> = labelled(replay, labels, lead, window)
        .into_iter()
        .filter(|(sample, _)| sample.at >= from)
        .map(|(sample, positive)| (score::total_of(&row(sample, policy), policy), positive))
        .collect();
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    let positives = scored.iter().filter(|(_, p)| *p).count();
    let negatives = scored.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    // the positives' rank sum, ties given their average rank (Mann–Whitney U)
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < scored.len() {
        let j = scored[i..].partition_point(|s| s.0 == scored[i].0) + i;
        let rank = (i + 1 + j) as f64 / 2.0;
        rank_sum += rank * scored[i..j].iter().filter(|(_, p)| *p).count() as f64;
        i = j;
    }
    let (p, n) = (positives as f64, negatives as f64);
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

/// Percentiles kept of the active share: every 5 %.
const SHARE_PERCENTILES: usize = 21;
/// Weeks of tenure the hazard is learnt for; later weeks share the last one's.
const TENURE_WEEKS: usize = 26;
/// Samples a week of tenure needs for a hazard of its own; with fewer, the table ends there.
const MIN_WEEK_SAMPLES: usize = 50;

/// The business's [`Peers`] tables from a replay of its history: the active share's
/// percentiles over the samples of customers old enough to compare, and per week of tenure
/// the share of samples that churn within `window` ([`labelled`]), relative to the highest.
pub fn peers(replay: &Replay, labels: &[Label], lead: Duration, window: Duration) -> Peers {
    let shares = replay
        .journeys
        .iter()
        .flat_map(|j| &j.samples)
        .filter_map(|s| s.context.active_share)
        .collect();
    let mut weeks = vec![(0_usize, 0_usize); TENURE_WEEKS];
    for (sample, positive) in labelled(replay, labels, lead, window) {
        let week = ((sample.context.tenure_days / 7.0) as usize).min(TENURE_WEEKS - 1);
        weeks[week].0 += 1;
        weeks[week].1 += usize::from(positive);
    }
    let rates: Vec<f64> = weeks
        .iter()
        .take_while(|(n, _)| *n >= MIN_WEEK_SAMPLES)
        .map(|(n, churned)| *churned as f64 / *n as f64)
        .collect();
    let top = rates.iter().copied().fold(0.0, f64::max);
    let tenure_hazard = if top > 0.0 {
        rates
            .iter()
            .map(|r| (r / top * 100.0).round() / 100.0)
            .collect()
    } else {
        Vec::new()
    };
    Peers {
        active_share: percentiles(shares, SHARE_PERCENTILES),
        tenure_hazard,
    }
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

/// How the trees are grown: few and shallow (the history is a few thousand customers), and
/// every signal may only raise the risk as it grows, as its name says. That keeps the model
/// explainable and makes a quiet customer's risk rise with time alone, as the sweep expects.
const TREES: usize = 40;
const DEPTH: usize = 3;
const LEARNING_RATE: f32 = 0.2;

/// Boosted trees (forust) on the samples: the log-odds of churning within the window. `None`
/// when the samples hold only one class.
pub fn boost(samples: &Samples) -> Result<Option<Forest>, String> {
    let positives = samples.positives();
    if positives == 0 || positives == samples.y.len() {
        return Ok(None);
    }
    let rising: ConstraintMap = (0..Signal::COUNT)
        .map(|c| (c, Constraint::Positive))
        .collect();
    let mut booster = GradientBooster::default()
        .set_objective_type(ObjectiveType::LogLoss)
        .set_iterations(TREES)
        .set_learning_rate(LEARNING_RATE)
        .set_max_depth(DEPTH)
        .set_min_leaf_weight(5.0)
        .set_l2(1.0)
        .set_nbins(64)
        .set_initialize_base_score(true)
        .set_monotone_constraints(Some(rising))
        .set_seed(7);
    train(&mut booster, samples)?;
    Ok(Some(forest(&booster)))
}

/// The samples' measures column by column, as forust's `Matrix` reads them.
fn columns(samples: &Samples) -> Vec<f64> {
    (0..Signal::COUNT)
        .flat_map(|c| samples.x.iter().map(move |row| row[c]))
        .collect()
}

/// Fits `booster` to the samples, every sample weighing the same.
fn train(booster: &mut GradientBooster, samples: &Samples) -> Result<(), String> {
    let rows = samples.x.len();
    let y: Vec<f64> = samples.y.iter().map(|y| f64::from(u8::from(*y))).collect();
    booster
        .fit(
            &Matrix::new(&columns(samples), rows, Signal::COUNT),
            &y,
            &vec![1.0; rows],
            None,
        )
        .map_err(|e| e.to_string())
}

/// forust's trees in the domain's compact form, naming only the signals some split uses (the
/// others need not be measured when scoring). Leaf values and covers are kept at forust's own
/// (f32) precision, which also keeps them short in the TOML.
fn forest(booster: &GradientBooster) -> Forest {
    let used: Vec<usize> = (0..Signal::COUNT)
        .filter(|c| {
            let splits = |t: &forust_ml::tree::Tree| {
                t.nodes.iter().any(|n| !n.is_leaf && n.split_feature == *c)
            };
            booster.trees.iter().any(splits)
        })
        .collect();
    let place = |c: usize| used.iter().position(|u| *u == c).map_or(-1, |p| p as i64);
    let short = |v: f32| v.to_string().parse::<f64>().unwrap_or(f64::from(v));
    let trees = booster
        .trees
        .iter()
        .map(|t| {
            let nodes = &t.nodes;
            Tree {
                split_on: nodes
                    .iter()
                    .map(|n| {
                        if n.is_leaf {
                            -1
                        } else {
                            place(n.split_feature)
                        }
                    })
                    .collect(),
                split_at: nodes
                    .iter()
                    .map(|n| if n.is_leaf { 0.0 } else { n.split_value })
                    .collect(),
                left: nodes.iter().map(|n| n.left_child as u32).collect(),
                right: nodes.iter().map(|n| n.right_child as u32).collect(),
                value: nodes
                    .iter()
                    .map(|n| {
                        if n.is_leaf {
                            short(n.weight_value)
                        } else {
                            0.0
                        }
                    })
                    .collect(),
                cover: nodes.iter().map(|n| short(n.hessian_sum)).collect(),
            }
        })
        .collect();
    Forest {
        signals: used.iter().map(|c| Signal::ALL[*c]).collect(),
        base: booster.base_score,
        trees,
    }
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
                        context: Default::default(),
                    })
                    .to_vec(),
                tallies: vec![],
                messages: vec![],
            }],
        };
        let labels = [Label {
            customer_id: id,
            churned_at: at(30),
            how: None,
        }];
        let rules = journey::domain::Rules::embedded().unwrap();
        let policy = rules.default_policy();
        let s = samples(
            &replay,
            &labels,
            Duration::hours(72),
            Duration::days(25),
            policy,
        );
        // day 1: 29 days ahead (outside the window); 10 and 27: within; 29: too late
        assert_eq!(s.y, vec![false, true, true]);
    }

    #[test]
    fn the_auc_is_the_chance_a_churner_s_sample_outscores_a_stayer_s() {
        let at = |d: u32| t(&format!("2026-01-{d:02}T00:00:00Z"));
        // inactivity measured 0.9 for the churner, 0.1 / 0.9 for two stayers
        let journey = |id: &str, inactivity: f64| Journey {
            customer_id: CustomerId::new(id).unwrap(),
            first_seen: at(1),
            risk: vec![],
            churns: vec![],
            samples: vec![Sample {
                at: at(2),
                measures: {
                    let mut x = [0.0; Signal::COUNT];
                    x[0] = inactivity;
                    x
                },
                context: Default::default(),
            }],
            tallies: vec![],
            messages: vec![],
        };
        let replay = |stayer: f64| Replay {
            until: at(31),
            events: 0,
            checks: 0,
            refused: 0,
            journeys: vec![
                journey("churner", 0.9),
                journey("a", 0.1),
                journey("b", stayer),
            ],
        };
        let labels = [Label {
            customer_id: CustomerId::new("churner").unwrap(),
            churned_at: at(20),
            how: None,
        }];
        let rules = journey::domain::Rules::embedded().unwrap();
        let policy = rules.default_policy();
        let (lead, window) = (Duration::hours(72), Duration::days(25));
        let auc_with = |stayer| auc(&replay(stayer), &labels, lead, window, policy, at(1));
        assert_eq!(auc_with(0.0), Some(1.0));
        assert_eq!(auc_with(0.9), Some(0.75), "a tie counts half");
        assert_eq!(auc(&replay(0.0), &[], lead, window, policy, at(1)), None);
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

    /// Samples where churn comes with long inactivity or a failed payment together with a
    /// login drop: an interaction no sum of weights holds.
    fn interacting() -> Samples {
        let mut s = Samples::default();
        for n in 0..2000_u32 {
            let mut x = [0.0; Signal::COUNT];
            x[0] = f64::from(n % 17) / 16.0; // inactivity
            x[2] = f64::from(n % 5) / 4.0; // login drop
            x[5] = f64::from(n % 3 == 0); // failed payments
            x[3] = f64::from(n % 7) / 6.0; // content drop: noise
            let churns = x[0] > 0.8 || (x[5] > 0.5 && x[2] > 0.6);
            s.x.push(x);
            s.y.push(churns);
        }
        s
    }

    #[test]
    fn boosted_trees_learn_an_interaction_and_predict_as_forust_does() {
        let s = interacting();
        let forest = boost(&s).unwrap().expect("a model");
        assert!(forest.validate().is_ok());
        assert!(forest.trees.len() <= TREES);
        let p = |x: &[f64; Signal::COUNT]| {
            let mine: Vec<f64> = forest
                .signals
                .iter()
                .map(|s| x[Signal::ALL.iter().position(|a| a == s).unwrap()])
                .collect();
            1.0 / (1.0 + (-forest.margin(&mine)).exp())
        };
        let mut quiet = [0.0; Signal::COUNT];
        quiet[0] = 0.9;
        let mut both = [0.0; Signal::COUNT];
        both[2] = 1.0;
        both[5] = 1.0;
        let mut payment_only = [0.0; Signal::COUNT];
        payment_only[5] = 1.0;
        assert!(p(&quiet) > 0.8, "{}", p(&quiet));
        assert!(p(&both) > 0.8, "{}", p(&both));
        assert!(p(&payment_only) < 0.2, "{}", p(&payment_only));
    }

    #[test]
    fn the_domains_tree_shap_gives_forusts_shapley_values() {
        let s = interacting();
        let rows = s.x.len();
        let columns = columns(&s);
        let mut booster = GradientBooster::default()
            .set_iterations(20)
            .set_max_depth(4)
            .set_initialize_base_score(true);
        train(&mut booster, &s).unwrap();
        let ours = forest(&booster);
        let theirs = booster.predict_contributions(
            &Matrix::new(&columns, rows, Signal::COUNT),
            forust_ml::gradientbooster::ContributionsMethod::Shapley,
            false,
        );
        let margins = booster.predict(&Matrix::new(&columns, rows, Signal::COUNT), false);
        // forust gives per row the signals' values, then the bias
        let places: Vec<usize> = ours
            .signals
            .iter()
            .map(|s| Signal::ALL.iter().position(|a| a == s).unwrap())
            .collect();
        assert!(
            places.len() < Signal::COUNT,
            "noise-free signals are left out"
        );
        for (row, x) in s.x.iter().enumerate().step_by(37) {
            let mine: Vec<f64> = places.iter().map(|c| x[*c]).collect();
            let phi = ours.contributions(&mine);
            let expected = &theirs[row * (Signal::COUNT + 1)..(row + 1) * (Signal::COUNT + 1)];
            for (c, e) in expected[..Signal::COUNT].iter().enumerate() {
                let v = places.iter().position(|p| *p == c).map_or(0.0, |i| phi[i]);
                assert!((v - e).abs() < 1e-3, "row {row} signal {c}: {v} vs {e}");
            }
            assert!((ours.margin(&mine) - margins[row]).abs() < 1e-3);
        }
    }
}

//! One calibration: split the history in time into an earlier training period and a later
//! holdout, fit the weights on the training period, search the thresholds that catch the most
//! churners there at no more false alarms than the rules in force, then judge the proposal
//! against the rules in force on the later period, as the business would have lived it. The
//! weekly job stores the proposal as a rules version and activates it only if it wins.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use thiserror::Error;

use journey::backtest::{Metrics, MetricsConfig, ReplayConfig, backtest, replay};
use journey::domain::model::Forest;
use journey::domain::peers::Peers;
use journey::domain::rules::{CalibrationGoals, Inactivity, NO_MODEL, Thresholds};
use journey::domain::{CustomerId, EventKind, RiskLevel, Rules, RulesError, Signal};
use journey::ports::{EventArchive, ExportedLog, RulesRegistry, SampleLimits, Sampled, StoreError};
use journey::rules_versions::{Approval, Origin, RulesVersion, judge, next_number};

use crate::fit::{self, Fitted};

#[derive(Clone, Debug)]
pub struct Settings {
    pub lead: Duration,
    pub window: Duration,
    /// The simulated sweep's interval.
    pub interval: Duration,
    /// How often each live customer's signals are sampled for the fit.
    pub sample_every: Duration,
    /// The last share of the history's time span, in percent, kept out of the fit and judged
    /// on: the rules are fitted on the earlier months and judged on the later ones.
    pub holdout_percent: u32,
    /// Fewer churned or fewer retained customers than this: no proposal.
    pub min_outcomes: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            lead: Duration::hours(72),
            window: Duration::days(30),
            interval: Duration::minutes(15),
            sample_every: Duration::days(1),
            holdout_percent: 30,
            min_outcomes: 100,
        }
    }
}

impl Settings {
    fn metrics(&self, from: Option<DateTime<Utc>>) -> MetricsConfig {
        MetricsConfig {
            lead: self.lead,
            window: self.window,
            from,
        }
    }

    fn replay(&self, sample: bool) -> ReplayConfig {
        ReplayConfig {
            interval: self.interval,
            until: None,
            sample_every: sample.then_some(self.sample_every),
        }
    }
}

/// Why there is no proposal. None of these is a failure of the job.
#[derive(Debug, Error, PartialEq)]
pub enum Calibration {
    #[error(
        "too little history: {churned} churned and {retained} retained customers (at least {min} of each are needed)"
    )]
    TooLittleHistory {
        churned: usize,
        retained: usize,
        min: usize,
    },
    #[error("no signal raises the odds of churning in this history: the weights stay as they are")]
    NoSignal,
    #[error("no thresholds catch churners without more false alarms than the rules in force")]
    NoThresholds,
}

#[derive(Debug, Error)]
pub enum CalibrationError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("rules: {0}")]
    Rules(#[from] RulesError),
    #[error("fitting the model: {0}")]
    Fit(String),
}

/// A proposal and the evidence for it.
#[derive(Clone, Debug, Serialize)]
pub struct Proposal {
    /// What the version changes: the score's weights and thresholds, as TOML.
    pub overlay: String,
    /// The programs that got rules of their own (`[programs.<name>]` in the overlay): those
    /// with enough outcomes whose own rules beat the business's on their training period.
    pub programs: Vec<String>,
    /// The overlay for the whole business alone, before any program's rules.
    pub business_overlay: String,
    pub fitted: Fitted,
    /// The weights chosen: a fit's (with the trend signals or without), or the same without
    /// inactivity.
    pub weights: BTreeMap<Signal, f64>,
    /// The trees of the learned model, when the business's rules use one (its thresholds are
    /// then probabilities in percent).
    pub model_trees: Option<usize>,
    pub thresholds: Thresholds,
    /// The inactivity clock's caution, warning and danger days, when it was changed.
    pub inactivity: Option<[u32; 3]>,
    pub training: Metrics,
    /// Judged on the period from here to the end of the history.
    pub holdout_from: DateTime<Utc>,
    pub holdout: Metrics,
    pub active_training: Metrics,
    pub active_holdout: Metrics,
    /// The operator's limits it was searched within (the active rules' `[calibration]`).
    pub goals: CalibrationGoals,
    /// How well the proposal's score separates the later period's churners from the others
    /// (area under the ROC curve of daily samples, [`fit::auc`]); and the rules in force's.
    pub auc: Option<f64>,
    pub active_auc: Option<f64>,
}

/// Fits and searches a proposal on `log`, against the rules `active` (the deployed file `base`
/// with the active version's overlay): for the whole business, then for each program with
/// enough outcomes of its own, whose rules are kept only where they beat the business's on
/// that program's training period.
pub fn propose(
    log: &ExportedLog,
    base: &str,
    active: &str,
    settings: &Settings,
) -> Result<Result<Proposal, Calibration>, CalibrationError> {
    // a broken overlay in force is named before anything is said of the history
    let active_rules = Rules::from_toml_with_overlay(base, active)?;
    let log = &paying_only(log);
    if let Err(too_little) = enough_history(log, settings.min_outcomes) {
        return Ok(Err(too_little));
    }
    let (train, cutoff) = split(log, settings.holdout_percent);
    let found = match search(&train, base, active, settings, None)? {
        Ok(found) => found,
        Err(why) => return Ok(Err(why)),
    };
    let mut overlay = found.best.overlay.clone();
    let mut programs = Vec::new();
    for (program, part) in by_program(log) {
        if enough_history(&part, settings.min_outcomes).is_err() {
            continue;
        }
        let Ok(mine) = search(
            &before(&part, cutoff),
            base,
            &overlay,
            settings,
            Some(&program),
        )?
        else {
            continue;
        };
        let ceiling = ceiling(&mine.goals, &mine.active_training);
        if ranks_above(&mine.best.ranked, Some(&mine.active_training), ceiling) {
            overlay = mine.best.overlay;
            programs.push(program);
        }
    }
    let Found {
        best,
        fitted,
        active_training,
        goals,
    } = found;
    let rules = Rules::from_toml_with_overlay(base, &overlay)?;
    Ok(Ok(Proposal {
        auc: auc(settings, &rules, log, cutoff),
        active_auc: auc(settings, &active_rules, log, cutoff),
        holdout: evaluate(settings, &rules, log, Some(cutoff)),
        active_holdout: evaluate(settings, &active_rules, log, Some(cutoff)),
        holdout_from: cutoff,
        business_overlay: best.overlay.clone(),
        overlay,
        programs,
        fitted,
        weights: best.weights,
        model_trees: best.model.as_ref().map(|m| m.trees.len()),
        thresholds: best.thresholds,
        inactivity: best.inactivity,
        training: best.training,
        active_training,
        goals,
    }))
}

/// What a search found for one scope (the business, or one program).
struct Found {
    best: Candidate,
    fitted: Fitted,
    /// The rules in force on the scope's training period.
    active_training: Metrics,
    goals: CalibrationGoals,
}

/// Replays `part` under `rules` and measures it (from `from` on, when given).
fn evaluate(
    settings: &Settings,
    rules: &Rules,
    part: &ExportedLog,
    from: Option<DateTime<Utc>>,
) -> Metrics {
    let cfg = settings.replay(false);
    backtest(
        &part.events,
        Some(&part.labels),
        rules,
        &cfg,
        &settings.metrics(from),
    )
    .1
}

/// The AUC of `rules`' score on the samples of the period from `from` on (the whole log is
/// replayed, so each customer arrives there with their history).
fn auc(settings: &Settings, rules: &Rules, log: &ExportedLog, from: DateTime<Utc>) -> Option<f64> {
    let sampled = replay(&log.events, rules, &settings.replay(true));
    let policy = rules.default_policy();
    fit::auc(
        &sampled,
        &log.labels,
        settings.lead,
        settings.window,
        policy,
        from,
    )
}

/// What a proposal may spend on its training months (retention messages to customers who
/// stayed, see [`Metrics::spent`]): the budget less `budget_margin`, so that the months after,
/// where the guard holds it to the whole budget, keep it too; without a budget, what the rules
/// in force spend.
fn ceiling(goals: &CalibrationGoals, active: &Metrics) -> f64 {
    goals
        .false_alarm_budget
        .map_or(active.spent(), |b| b * (1.0 - goals.budget_margin))
}

/// Fits and searches the weights, thresholds and clock of `program` (`None`: the business's
/// own rules) on the training period `train`, over the overlay `active`.
fn search(
    train: &ExportedLog,
    base: &str,
    active: &str,
    settings: &Settings,
    program: Option<&str>,
) -> Result<Result<Found, Calibration>, CalibrationError> {
    let active_rules = Rules::from_toml_with_overlay(base, active)?;
    let sampled = replay(&train.events, &active_rules, &settings.replay(true));
    // what the business's customers look like now: every candidate is judged with these tables
    let peers = fit::peers(&sampled, &train.labels, settings.lead, settings.window);
    let active = &with_peers(active, program, &peers)?;
    let measured = Rules::from_toml_with_overlay(base, active)?;
    let policy = measured.policy(program);
    // the tenure hazard is learnt and shown but not weighed yet: in a history where most
    // customers joined together, a week of tenure is a week of the calendar, and a weight
    // learnt on it flagged everyone past the training period's last week (docs/detection.md)
    let unweighed = [Signal::TenureHazard];
    let samples = fit::samples(
        &sampled,
        &train.labels,
        settings.lead,
        settings.window,
        policy,
    )
    .without(&unweighed);
    // and on the churns of the next renewal window alone: a light user churns at the renewal,
    // so what predicts a churn that close (low use with the renewal near) weighs more there
    let near = Duration::days(policy.score.signals.renewal_window_days.into()).max(settings.lead);
    let renewal =
        fit::samples(&sampled, &train.labels, settings.lead, near, policy).without(&unweighed);
    let mut fits: Vec<Fitted> = [
        fit::fit(&samples),
        fit::fit(&samples.without(&Signal::TRENDS)),
        fit::fit(&renewal),
    ]
    .into_iter()
    .collect::<Result<Vec<_>, _>>()
    .map_err(CalibrationError::Fit)?
    .into_iter()
    .flatten()
    .collect();
    if fits.is_empty() {
        return Ok(Err(Calibration::NoSignal));
    }
    let active_training = evaluate(settings, &active_rules, train, None);
    let policy = active_rules.policy(program);
    let goals = policy.calibration.clone();
    let ceiling = ceiling(&goals, &active_training);
    let judge_with = |weights: &BTreeMap<Signal, f64>,
                      model: Option<&Forest>,
                      thresholds: &Thresholds,
                      inactivity: Option<[u32; 3]>| {
        let mut overlay = overlay(active, program, weights, model, thresholds)?;
        if let Some(days) = inactivity {
            overlay = with_inactivity(&overlay, program, days)?;
        }
        let rules = Rules::from_toml_with_overlay(base, &overlay)?;
        let training = evaluate(settings, &rules, train, None);
        let mut ranked = training.clone();
        if model.is_some() {
            ranked.scale_spent(1.0 + goals.model_margin);
        }
        Ok::<_, CalibrationError>(Candidate {
            training,
            ranked,
            overlay,
            weights: weights.clone(),
            model: model.cloned(),
            thresholds: thresholds.clone(),
            inactivity,
            fit: 0,
        })
    };
    let ranks_above = |c: &Candidate, than: Option<&Candidate>| {
        ranks_above(&c.ranked, than.map(|t| &t.ranked), ceiling)
    };
    // the inactivity clock first, coarsely: its false alarms come on top of whatever the score
    // adds, so a clock far too eager leaves no thresholds within the budget
    let clock = &policy.inactivity;
    let first = fits.first().and_then(|f| variants(f).into_iter().next());
    let mut pick: Option<Candidate> = None;
    if let Some(weights) = first {
        for days in CLOCK_FACTORS.iter().filter_map(|f| scaled(clock, *f)) {
            for thresholds in candidates(20.0, 50.0, 15.0) {
                let c = judge_with(&weights, None, &thresholds, Some(days))?;
                if ranks_above(&c, pick.as_ref()) {
                    pick = Some(c);
                }
            }
        }
    }
    let clock_days = pick
        .and_then(|c| c.inactivity)
        .filter(|d| *d != steps(clock));
    // then caution (where the first intervention goes out), warning and danger split the rest:
    // for each set of weights, and for the learned model (whose score is a probability, so
    // its range is wider), on a grid of one point, found by halving
    let learned = learn(&samples, train, &goals)?;
    let scorers = fits
        .iter()
        .enumerate()
        .flat_map(|(n, f)| variants(f).into_iter().map(move |w| (n, w, None)))
        .chain(renewals_known(&samples).then(|| (0, peer_rule(), None)))
        .chain(learned.map(|m| (0, fits[0].weights.clone(), Some(m))));
    let within = |c: &Candidate| fa(&c.ranked) <= ceiling + 1e-9;
    let higher = |c: &Candidate, than: &Candidate| ranks_above(c, Some(than));
    let mut best: Option<Candidate> = None;
    for (fit, weights, model) in scorers {
        let (from, to) = if model.is_some() {
            (20.0, 95.0)
        } else {
            (10.0, 80.0)
        };
        let grid: Vec<Thresholds> = candidates(from, to, 1.0).collect();
        let judge = |t: &Thresholds| judge_with(&weights, model.as_ref(), t, clock_days);
        if let Some(c) =
            halving(&grid, judge, within, higher)?.filter(|c| ranks_above(c, best.as_ref()))
        {
            best = Some(Candidate { fit, ..c });
        }
    }
    let Some(mut best) = best else {
        return Ok(Err(Calibration::NoThresholds));
    };
    // then the clock again, finely, around the one chosen
    let chosen = best
        .inactivity
        .map_or_else(|| clock.clone(), |d| with_steps(clock, d));
    let around = [0.8, 0.9, 1.1, 1.25].map(|f| scaled(&chosen, f));
    let mut tried = vec![steps(&chosen)];
    for days in around.into_iter().flatten() {
        if tried.contains(&days) {
            continue;
        }
        tried.push(days);
        let c = judge_with(
            &best.weights,
            best.model.as_ref(),
            &best.thresholds,
            Some(days),
        )?;
        let better = if within(&c) && within(&best) {
            clock_is_better(&c, &best)
        } else {
            ranks_above(&c, Some(&best))
        };
        if better {
            best = Candidate { fit: best.fit, ..c };
        }
    }
    // the best so far with other thresholds
    let rethresholded = |best: &Candidate, thresholds: &Thresholds| {
        judge_with(
            &best.weights,
            best.model.as_ref(),
            thresholds,
            best.inactivity,
        )
    };
    // caution once more, within 5 points, under the clock now chosen
    let caution = best.thresholds.caution;
    // (never above 95: warning and danger need room above caution)
    let grid: Vec<Thresholds> = candidates(caution - 5.0, (caution + 5.0).min(95.0), 1.0).collect();
    if let Some(c) = halving(&grid, |t| rethresholded(&best, t), within, higher)?
        .filter(|c| ranks_above(c, Some(&best)))
    {
        best = Candidate { fit: best.fit, ..c };
    }
    if !(fa(&best.ranked) <= ceiling + 1e-9 || fa(&best.ranked) < fa(&active_training)) {
        return Ok(Err(Calibration::NoThresholds));
    }
    // then warning, then danger: as low as their precision goals allow, or raised until they
    // meet them (danger may take warning down with it, as long as warning keeps its goal too)
    let meets = |level: RiskLevel, m: &Metrics| {
        let goal = |level, goal: f64| m.precision_at(level).unwrap_or(0.0) >= goal;
        goal(RiskLevel::Warning, goals.warning_precision)
            && (level == RiskLevel::Warning || goal(RiskLevel::Danger, goals.danger_precision))
    };
    for level in [RiskLevel::Warning, RiskLevel::Danger] {
        for thresholds in stepped(&best.thresholds, level) {
            let c = rethresholded(&best, &thresholds)?;
            let (mine, theirs) = (&c.training, &best.training);
            // their messages spend the budget too: a step may not cross it
            let affordable = within(&c) || fa(&c.ranked) <= fa(&best.ranked);
            if affordable
                && meets(level, mine)
                && (!meets(level, theirs) || mine.recall_at(level) > theirs.recall_at(level))
            {
                best = Candidate { fit: best.fit, ..c };
            }
        }
    }
    let fitted = fits.swap_remove(best.fit);
    Ok(Ok(Found {
        best,
        fitted,
        active_training,
        goals,
    }))
}

/// Boosted trees on the samples, when the training period has at least the goals'
/// `model_min_churners` churned customers: with fewer, the linear score stays.
fn learn(
    samples: &fit::Samples,
    train: &ExportedLog,
    goals: &CalibrationGoals,
) -> Result<Option<Forest>, CalibrationError> {
    let churned: BTreeSet<_> = train.labels.iter().map(|l| &l.customer_id).collect();
    if churned.len() < goals.model_min_churners {
        return Ok(None);
    }
    fit::boost(samples).map_err(CalibrationError::Fit)
}

/// The best caution threshold of `grid` (ascending), found by halving instead of trying every
/// step: the higher caution is, the fewer customers cross it, so false alarms and churners
/// caught mostly fall as it rises, and the best `within` the false-alarm ceiling is then the
/// lowest threshold within it; with none within it, the highest (the fewest false alarms).
/// "Mostly": an episode that starts earlier may start too early to count, and a higher caution
/// may split one episode in two, so the few steps just above the one found are judged too and
/// kept where they rank `better` (as many caught with fewer false alarms, say). Two judgements,
/// one per halving and [`NEIGHBOURS`]: 12 for a grid of 76 steps.
fn halving<T, E>(
    grid: &[Thresholds],
    mut judge: impl FnMut(&Thresholds) -> Result<T, E>,
    within: impl Fn(&T) -> bool,
    better: impl Fn(&T, &T) -> bool,
) -> Result<Option<T>, E> {
    let (Some(first), Some(last)) = (grid.first(), grid.last()) else {
        return Ok(None);
    };
    let top = judge(last)?;
    if !within(&top) || grid.len() == 1 {
        return Ok(Some(top));
    }
    let bottom = judge(first)?;
    if within(&bottom) {
        return Ok(Some(bottom));
    }
    // `lo` is over the ceiling, `hi` within it
    let (mut lo, mut hi, mut found) = (0, grid.len() - 1, top);
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        let c = judge(&grid[mid])?;
        if within(&c) {
            (hi, found) = (mid, c);
        } else {
            lo = mid;
        }
    }
    let above = (hi + 1..grid.len().saturating_sub(1)).take(NEIGHBOURS);
    for next in above {
        let c = judge(&grid[next])?;
        if better(&c, &found) {
            found = c;
        }
    }
    Ok(Some(found))
}

/// The steps above the threshold halving finds that are judged too.
const NEIGHBOURS: usize = 3;

/// The inactivity clock's steps tried, as factors of the clock in force.
const CLOCK_FACTORS: [f64; 7] = [0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 2.5];

fn fa(m: &Metrics) -> f64 {
    m.spent()
}

/// Whether `c` is a better pick than `than`: within the false-alarm ceiling before over it;
/// within it, the one that catches more (see [`catches_more`]); over it, the one with fewer
/// false alarms (then the one that catches more).
fn ranks_above(c: &Metrics, than: Option<&Metrics>, ceiling: f64) -> bool {
    let Some(b) = than else { return true };
    match (fa(c) <= ceiling + 1e-9, fa(b) <= ceiling + 1e-9) {
        (true, false) => true,
        (false, true) => false,
        (true, true) => catches_more(c, Some(b)),
        (false, false) => {
            fa(c) < fa(b)
                || (fa(c) == fa(b)
                    && c.recall_at(RiskLevel::Caution) > b.recall_at(RiskLevel::Caution))
        }
    }
}

/// A set of weights (or a model) and thresholds, as an overlay, with its figures on the
/// training period.
struct Candidate {
    overlay: String,
    weights: BTreeMap<Signal, f64>,
    model: Option<Forest>,
    thresholds: Thresholds,
    inactivity: Option<[u32; 3]>,
    training: Metrics,
    /// The training figures it is ranked by: a model's false alarms raised by the goals'
    /// `model_margin`, since its closer fit to the training period flatters them there.
    ranked: Metrics,
    /// Which fit the weights come from.
    fit: usize,
}

/// A changed clock must catch more at caution, or as many with fewer false alarms and no fewer
/// at warning or danger: the clock escalates those too, so a quieter clock that loses them is
/// not a gain.
fn clock_is_better(c: &Candidate, than: &Candidate) -> bool {
    let (m, b) = (&c.training, &than.training);
    let at = |m: &Metrics, level| m.recall_at(level);
    at(m, RiskLevel::Caution) > at(b, RiskLevel::Caution)
        || (at(m, RiskLevel::Caution) == at(b, RiskLevel::Caution)
            && at(m, RiskLevel::Warning) >= at(b, RiskLevel::Warning)
            && at(m, RiskLevel::Danger) >= at(b, RiskLevel::Danger)
            && m.spent() < b.spent())
}

/// The clock's caution, warning and danger days times `factor`, still ascending and before the
/// churn day; `None` when they cannot be.
fn scaled(clock: &Inactivity, factor: f64) -> Option<[u32; 3]> {
    let times = |d: u32| (f64::from(d) * factor).round().max(1.0) as u32;
    let caution = times(clock.caution_days);
    let warning = times(clock.warning_days).max(caution + 1);
    let danger = times(clock.danger_days).max(warning + 1);
    (danger < clock.churn_days).then_some([caution, warning, danger])
}

/// The clock's caution, warning and danger days.
fn steps(clock: &Inactivity) -> [u32; 3] {
    [clock.caution_days, clock.warning_days, clock.danger_days]
}

fn with_steps(
    clock: &Inactivity,
    [caution_days, warning_days, danger_days]: [u32; 3],
) -> Inactivity {
    Inactivity {
        caution_days,
        warning_days,
        danger_days,
        ..clock.clone()
    }
}

/// `overlay` with the inactivity clock's three steps set to `days` (for `program`, or the
/// business).
fn with_inactivity(
    overlay: &str,
    program: Option<&str>,
    days: [u32; 3],
) -> Result<String, RulesError> {
    let mut root: toml::Table = overlay
        .parse()
        .map_err(|e: toml::de::Error| RulesError::Syntax(e.to_string()))?;
    in_scope(&mut root, program, |table| {
        let mut clock = take_table(table, "inactivity");
        for (name, d) in ["caution_days", "warning_days", "danger_days"]
            .iter()
            .zip(days)
        {
            clock.insert((*name).into(), toml::Value::Integer(i64::from(d)));
        }
        table.insert("inactivity".into(), toml::Value::Table(clock));
    });
    Ok(root.to_string())
}

/// Whether `c` catches more churners at caution than `than` (or as many with fewer false
/// alarms).
fn catches_more(c: &Metrics, than: Option<&Metrics>) -> bool {
    let Some(b) = than else { return true };
    let (r, br) = (
        c.recall_at(RiskLevel::Caution),
        b.recall_at(RiskLevel::Caution),
    );
    r > br || (r == br && fa(c) < fa(b))
}

/// `thresholds` with `level`'s threshold lowered or raised: warning in steps of 5 between
/// caution and danger; danger in steps of 2.5 from just above caution up to 97.5, warning
/// lowered to stay below it.
fn stepped(thresholds: &Thresholds, level: RiskLevel) -> Vec<Thresholds> {
    let t = thresholds;
    let (step, above) = match level {
        RiskLevel::Warning => (5.0, t.danger),
        _ => (2.5, 100.0),
    };
    (1..)
        .map(|k| t.caution + step * f64::from(k))
        .take_while(|v| *v < above && *v <= 97.5)
        .filter_map(|v| match level {
            RiskLevel::Warning => Some(Thresholds {
                warning: v,
                ..t.clone()
            }),
            _ => (v - 2.5 > t.caution).then(|| Thresholds {
                warning: t.warning.min(v - 2.5),
                danger: v,
                ..t.clone()
            }),
        })
        .collect()
}

/// The customers who ever paid, with their events and churns (security review M4): anyone can
/// create customers through the app's webhook and make them "churn", but not pay for them, so
/// calibration learns only from customers a payment provider vouches for.
fn paying_only(log: &ExportedLog) -> ExportedLog {
    let paying: BTreeSet<&CustomerId> = log
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::PaymentSucceeded { .. }))
        .map(|e| &e.customer_id)
        .collect();
    ExportedLog {
        events: log
            .events
            .iter()
            .filter(|e| paying.contains(&e.customer_id))
            .cloned()
            .collect(),
        labels: log
            .labels
            .iter()
            .filter(|l| paying.contains(&l.customer_id))
            .cloned()
            .collect(),
    }
}

/// Why a proposal the guard accepts may not be activated without an admin (security review
/// M4): the first weight, threshold or inactivity day it moves further than the weekly step
/// (`calibration.max_step`, `max_day_step` of the rules in force), or a learned model it adds,
/// drops or changes. `None`: within the step.
pub fn beyond_step(active: &Rules, proposed: &Rules) -> Option<String> {
    let goals = &active.default_policy().calibration;
    let scopes = std::iter::once(None)
        .chain(active.programs().map(|(p, _)| Some(p)))
        .chain(proposed.programs().map(|(p, _)| Some(p)));
    for scope in scopes {
        let (was, now) = (&active.policy(scope).score, &proposed.policy(scope).score);
        let name = |what: &str| match scope {
            Some(p) => format!("programs.{p}.{what}"),
            None => what.to_string(),
        };
        if was.model != now.model {
            return Some(format!(
                "{} is added, dropped or changed",
                name("score.model")
            ));
        }
        for signal in Signal::ALL {
            let (a, b) = (weight(was, signal), weight(now, signal));
            if (b - a).abs() > goals.max_step {
                return Some(format!(
                    "{} moves {a:.1} → {b:.1}, more than max_step {}",
                    name(&format!("score.weights.{}", signal.as_str())),
                    goals.max_step
                ));
            }
        }
        let (t, u) = (&was.thresholds, &now.thresholds);
        for (level, a, b) in [
            ("caution", t.caution, u.caution),
            ("warning", t.warning, u.warning),
            ("danger", t.danger, u.danger),
        ] {
            if (b - a).abs() > goals.max_step {
                return Some(format!(
                    "{} moves {a:.1} → {b:.1}, more than max_step {}",
                    name(&format!("score.thresholds.{level}")),
                    goals.max_step
                ));
            }
        }
        let (i, j) = (
            &active.policy(scope).inactivity,
            &proposed.policy(scope).inactivity,
        );
        for (what, a, b) in [
            ("caution_days", i.caution_days, j.caution_days),
            ("warning_days", i.warning_days, j.warning_days),
            ("danger_days", i.danger_days, j.danger_days),
        ] {
            if a.abs_diff(b) > goals.max_day_step {
                return Some(format!(
                    "{} moves {a} → {b}, more than max_day_step {}",
                    name(&format!("inactivity.{what}")),
                    goals.max_day_step
                ));
            }
        }
    }
    None
}

fn weight(score: &journey::domain::rules::ScoreRules, signal: Signal) -> f64 {
    score.weights.get(&signal).copied().unwrap_or(0.0)
}

fn enough_history(log: &ExportedLog, min: usize) -> Result<(), Calibration> {
    let customers: BTreeSet<_> = log.events.iter().map(|e| &e.customer_id).collect();
    let churned: BTreeSet<_> = log.labels.iter().map(|l| &l.customer_id).collect();
    let retained = customers.difference(&churned).count();
    if churned.len() < min || retained < min {
        return Err(Calibration::TooLittleHistory {
            churned: churned.len(),
            retained,
            min,
        });
    }
    Ok(())
}

/// The training period (the events and churns before the cutoff) and the cutoff: the last
/// `holdout_percent` of the history's time span is kept for judging.
fn split(log: &ExportedLog, holdout_percent: u32) -> (ExportedLog, DateTime<Utc>) {
    let Some((first, last)) = span(log.events.iter().map(|e| e.occurred_at).collect()) else {
        return (log.clone(), DateTime::<Utc>::MAX_UTC);
    };
    let cutoff = last - (last - first) * holdout_percent.min(100) as i32 / 100;
    (before(log, cutoff), cutoff)
}

/// The history's time span, its outermost 0.1 % of events left out at either end: one event
/// stamped a year ahead (a wrong clock, a forged time in an older log) must not empty the later
/// period and so refuse every proposal for as long as the log keeps it.
fn span(mut times: Vec<DateTime<Utc>>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    times.sort_unstable();
    let trim = times.len() / 1000;
    let first = *times.get(trim)?;
    let last = *times.get(times.len().checked_sub(1 + trim)?)?;
    Some((first, last))
}

/// The events and churns of `log` before `cutoff`.
fn before(log: &ExportedLog, cutoff: DateTime<Utc>) -> ExportedLog {
    ExportedLog {
        events: log
            .events
            .iter()
            .filter(|e| e.occurred_at < cutoff)
            .cloned()
            .collect(),
        labels: log
            .labels
            .iter()
            .filter(|l| l.churned_at < cutoff)
            .cloned()
            .collect(),
    }
}

/// Each program's part of `log`: the events and churns of the customers whose profile names
/// it (the last program an event gave them).
fn by_program(log: &ExportedLog) -> BTreeMap<String, ExportedLog> {
    let mut program_of: BTreeMap<&CustomerId, &str> = BTreeMap::new();
    for event in &log.events {
        if let Some(p) = event.profile.program.as_deref() {
            program_of.insert(&event.customer_id, p);
        }
    }
    let mut parts: BTreeMap<String, ExportedLog> = BTreeMap::new();
    for event in &log.events {
        if let Some(program) = program_of.get(&event.customer_id) {
            let part = parts.entry((*program).into()).or_default();
            part.events.push(event.clone());
        }
    }
    for label in &log.labels {
        if let Some(program) = program_of.get(&label.customer_id) {
            let part = parts.entry((*program).into()).or_default();
            part.labels.push(label.clone());
        }
    }
    parts
}

/// The fitted weights, and the same without the inactivity signal: the inactivity clock
/// escalates on its own, and counting it twice often buys recall with false alarms.
fn variants(fitted: &Fitted) -> Vec<BTreeMap<Signal, f64>> {
    let mut without = fitted.weights.clone();
    without.insert(Signal::Inactivity, 0.0);
    let total: f64 = without.values().sum();
    if total <= 0.0 {
        return vec![fitted.weights.clone()];
    }
    for w in without.values_mut() {
        *w = (*w * 1000.0 / total).round() / 10.0;
    }
    vec![fitted.weights.clone(), without]
}

/// The published baseline for renewal churn as a candidate: low engagement against peers with
/// the renewal near, alone. A regression fitted on "churns within the window" spreads its
/// weight over signals that are on all the time for a light user (inactivity, low engagement),
/// and an alarm that is always on warns of nothing; this rule's alarms end with each renewal.
/// It is judged like the fitted weights, and kept only where it ranks above them.
fn peer_rule() -> BTreeMap<Signal, f64> {
    Signal::ALL
        .into_iter()
        .map(|s| {
            (
                s,
                if s == Signal::LowBeforeRenewal {
                    100.0
                } else {
                    0.0
                },
            )
        })
        .collect()
}

/// Whether any sample measured low engagement with a renewal near: without renewal dates in
/// the history the renewal rule scores 0 everywhere and would only judge the clock.
fn renewals_known(samples: &fit::Samples) -> bool {
    let at = Signal::ALL
        .iter()
        .position(|s| *s == Signal::LowBeforeRenewal);
    at.is_some_and(|i| samples.x.iter().any(|row| row[i] > 0.0))
}

/// Caution from `from` to `to` by `step`; warning and danger split the rest of the scale in
/// thirds.
fn candidates(from: f64, to: f64, step: f64) -> impl Iterator<Item = Thresholds> {
    let steps = ((to - from) / step).round().max(0.0) as u32;
    (0..=steps).map(move |k| {
        let caution = from + step * f64::from(k);
        let third = (100.0 - caution) / 3.0;
        let half = |x: f64| (x * 2.0).round() / 2.0;
        Thresholds {
            caution,
            warning: half(caution + third),
            danger: half(caution + 2.0 * third),
        }
    })
}

/// The active overlay with `weights` and `thresholds` written over it.
fn overlay(
    active: &str,
    program: Option<&str>,
    weights: &BTreeMap<Signal, f64>,
    model: Option<&Forest>,
    thresholds: &Thresholds,
) -> Result<String, RulesError> {
    let mut root: toml::Table = active
        .parse()
        .map_err(|e: toml::de::Error| RulesError::Syntax(e.to_string()))?;
    let learned = model
        .map(toml::Value::try_from)
        .transpose()
        .map_err(|e| RulesError::Syntax(e.to_string()))?;
    let mut w = toml::Table::new();
    for signal in Signal::ALL {
        let points = weights.get(&signal).copied().unwrap_or(0.0);
        w.insert(signal.as_str().into(), toml::Value::Float(points));
    }
    let mut t = toml::Table::new();
    for (name, v) in [
        ("caution", thresholds.caution),
        ("warning", thresholds.warning),
        ("danger", thresholds.danger),
    ] {
        t.insert(name.into(), toml::Value::Float(v));
    }
    in_scope(&mut root, program, |table| {
        let mut score = take_table(table, "score");
        score.insert("weights".into(), toml::Value::Table(w));
        score.insert("thresholds".into(), toml::Value::Table(t));
        score.remove("model");
        match (&learned, program) {
            (Some(model), _) => {
                score.insert("model".into(), model.clone());
            }
            // a program's weights must not fall back to the business's model
            (None, Some(_)) => {
                score.insert("model".into(), NO_MODEL.into());
            }
            (None, None) => {}
        }
        table.insert("score".into(), toml::Value::Table(score));
    });
    Ok(root.to_string())
}

/// The active overlay with the peer tables learnt from the history in the scope's
/// `score.peers` (left as they were if nothing could be learnt).
fn with_peers(active: &str, program: Option<&str>, peers: &Peers) -> Result<String, RulesError> {
    let mut root: toml::Table = active
        .parse()
        .map_err(|e: toml::de::Error| RulesError::Syntax(e.to_string()))?;
    if peers.is_empty() {
        return Ok(active.to_string());
    }
    let table = toml::Value::try_from(peers).map_err(|e| RulesError::Syntax(e.to_string()))?;
    in_scope(&mut root, program, |scope| {
        let mut score = take_table(scope, "score");
        score.insert("peers".into(), table);
        scope.insert("score".into(), toml::Value::Table(score));
    });
    Ok(root.to_string())
}

/// Runs `edit` on the table a scope's keys go in: `[programs.<name>]`, or the root for the
/// business's own rules.
fn in_scope(root: &mut toml::Table, program: Option<&str>, edit: impl FnOnce(&mut toml::Table)) {
    let Some(name) = program else {
        return edit(root);
    };
    let mut programs = take_table(root, "programs");
    let mut section = take_table(&mut programs, name);
    edit(&mut section);
    programs.insert(name.into(), toml::Value::Table(section));
    root.insert("programs".into(), toml::Value::Table(programs));
}

/// The sub-table `key`, taken out of `table` (empty when there is none).
fn take_table(table: &mut toml::Table, key: &str) -> toml::Table {
    match table.remove(key) {
        Some(toml::Value::Table(t)) => t,
        _ => toml::Table::new(),
    }
}

/// What the job did, for its logs and the command's output.
#[derive(Debug, Serialize)]
pub struct Report {
    pub message: String,
    /// The customers it learnt from: all of the log's, or a sample of them.
    pub sample: Sampled,
    /// The version stored for the proposal, if there was one.
    pub stored: Option<u32>,
    /// Whether that version became the active one.
    pub applied: bool,
    pub proposal: Option<Proposal>,
    /// What the variants' re-allocation did (the weekly job's second step).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocation: Option<crate::allocate::Allocated>,
}

/// The weekly job: export the history, propose, store the proposal as a version (activated if
/// it wins on the holdout). The deployed file becomes version 1 the first time. `dry_run`
/// stores nothing.
pub async fn calibrate<S: RulesRegistry, A: EventArchive>(
    store: &S,
    archive: &A,
    base: &str,
    settings: &Settings,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<Report, CalibrationError> {
    let active = store.active_rules().await?;
    let active_overlay = active.as_ref().map_or("", |a| a.version.overlay.as_str());
    let active_rules = Rules::from_toml_with_overlay(base, active_overlay)?;
    let goals = &active_rules.default_policy().calibration;
    let limits = SampleLimits {
        events: Some(goals.sample_events),
        per_customer: Some(goals.customer_events),
    };
    let (log, sample) = archive.export_log(limits).await?;
    tracing::info!(
        customers = sample.customers,
        of_about = sample.of_about,
        events = log.events.len(),
        over_cap = sample.over_cap,
        "event log read"
    );
    let proposal = match propose(&log, base, active_overlay, settings)? {
        Ok(p) => p,
        Err(why) => {
            return Ok(Report {
                message: format!("no proposal: {why}"),
                sample,
                stored: None,
                applied: false,
                proposal: None,
                allocation: None,
            });
        }
    };
    let verdict = judge(&proposal.holdout, &proposal.active_holdout, &proposal.goals);
    let held = match verdict {
        Ok(()) => beyond_step(
            &active_rules,
            &Rules::from_toml_with_overlay(base, &proposal.overlay)?,
        ),
        Err(_) => None,
    };
    let message = match (&verdict, &held) {
        (Ok(()), None) => "proposal beats the rules in force on the holdout".to_string(),
        (Ok(()), Some(why)) => format!(
            "proposal beats the rules in force on the holdout, but waits for an admin's approval: {why}"
        ),
        (Err(why), _) => format!("proposal refused: {why}"),
    };
    let applied = verdict.is_ok() && held.is_none();
    if dry_run {
        return Ok(Report {
            message: format!("{message} (dry run: nothing stored)"),
            sample,
            stored: None,
            applied: false,
            proposal: Some(proposal),
            allocation: None,
        });
    }
    let mut expected = active.as_ref().map(|a| a.version.number);
    let mut next = next_number(store).await?;
    if expected.is_none() {
        let default = RulesVersion {
            number: next,
            origin: Origin::Default,
            created_at: now,
            overlay: String::new(),
            metrics: Some(proposal.active_holdout.clone()),
            note: "the deployed rules file".into(),
            approval: None,
        };
        store.add_rules_version(&default, true, None, now).await?;
        expected = Some(next);
        next += 1;
    }
    let version = RulesVersion {
        number: next,
        origin: Origin::Calibrated,
        created_at: now,
        overlay: proposal.overlay.clone(),
        metrics: Some(proposal.holdout.clone()),
        note: message.clone(),
        approval: held.map(|reason| Approval::Awaiting {
            reason,
            judged_against: expected,
        }),
    };
    store
        .add_rules_version(&version, applied, expected, now)
        .await?;
    Ok(Report {
        message,
        sample,
        stored: Some(next),
        applied,
        proposal: Some(proposal),
        allocation: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use journey::domain::rules::DEFAULT_RULES_TOML;

    /// Security review M4: a proposal moving any weight, threshold or inactivity day further
    /// than the weekly step, or a learned model, waits for an admin.
    #[test]
    fn a_move_beyond_the_weekly_step_is_named() {
        let base = Rules::from_toml(DEFAULT_RULES_TOML).unwrap();
        let with =
            |overlay: &str| Rules::from_toml_with_overlay(DEFAULT_RULES_TOML, overlay).unwrap();
        assert_eq!(beyond_step(&base, &base), None);
        assert_eq!(
            beyond_step(&base, &with("[score.weights]\ninactivity = 49.0")),
            None
        );
        let far = beyond_step(&base, &with("[score.weights]\ninactivity = 51.0")).unwrap();
        assert!(
            far.contains("score.weights.inactivity moves 40.0 → 51.0"),
            "{far}"
        );
        let t = beyond_step(
            &base,
            &with("[score.thresholds]\ncaution = 28.0\nwarning = 60.0\ndanger = 80.0"),
        );
        assert!(t.unwrap().contains("score.thresholds.caution"));
        let days = beyond_step(
            &base,
            &with(
                "[inactivity]\ncaution_days = 3\nwarning_days = 10\ndanger_days = 14\nchurn_days = 30",
            ),
        );
        assert!(days.is_some_and(|d| d.contains("inactivity.")), "days");
        let wider =
            Rules::from_toml(&DEFAULT_RULES_TOML.replace("max_step = 10.0", "max_step = 20.0"))
                .unwrap();
        assert_eq!(
            beyond_step(&wider, &with("[score.weights]\ninactivity = 55.0")),
            None,
            "the rules in force set the step"
        );
    }

    /// Security review M4: customers nobody ever paid for are not learnt from.
    #[test]
    fn only_paying_customers_are_learnt_from() {
        use journey::backtest::Label;
        use journey::testing::{Events, krw, t};
        let mut paid = Events::new("paid");
        let mut free = Events::new("made-up");
        let at = t("2026-03-01T00:00:00Z");
        let log = ExportedLog {
            events: vec![
                paid.at(at, EventKind::paid(krw(10_000))),
                free.at(at, EventKind::Login),
            ],
            labels: ["paid", "made-up"]
                .map(|id| Label {
                    customer_id: CustomerId::new(id).unwrap(),
                    churned_at: at + Duration::days(30),
                    how: None,
                })
                .to_vec(),
        };
        let kept = paying_only(&log);
        assert_eq!(kept.events.len(), 1);
        assert_eq!(kept.labels.len(), 1);
        assert_eq!(kept.labels[0].customer_id.as_str(), "paid");
    }

    #[test]
    fn a_proposal_is_an_overlay_the_rules_accept() {
        let weights: BTreeMap<Signal, f64> = Signal::ALL
            .iter()
            .map(|s| (*s, 100.0 / Signal::COUNT as f64))
            .collect();
        for thresholds in candidates(10.0, 55.0, 2.5) {
            let text = overlay(
                "[inactivity]\ncaution_days = 5\n",
                None,
                &weights,
                None,
                &thresholds,
            )
            .unwrap();
            let rules = Rules::from_toml_with_overlay(DEFAULT_RULES_TOML, &text).unwrap();
            let policy = rules.default_policy();
            assert_eq!(policy.score.thresholds, thresholds);
            assert_eq!(policy.score.weights, weights);
            assert_eq!(
                policy.inactivity.caution_days, 5,
                "the active overlay is kept"
            );
        }
    }

    #[test]
    fn without_inactivity_the_other_weights_still_sum_to_100() {
        let weights = Signal::ALL
            .iter()
            .map(|s| (*s, 100.0 / Signal::COUNT as f64))
            .collect();
        let fitted = Fitted {
            coefficients: vec![1.0; Signal::COUNT],
            intercept: 0.0,
            weights,
            samples: 1,
            positives: 1,
        };
        let v = variants(&fitted);
        assert_eq!(v[1][&Signal::Inactivity], 0.0);
        // each rounded to tenths: off by at most half a tenth apiece
        let off = (v[1].values().sum::<f64>() - 100.0).abs();
        assert!(off <= 0.05 * Signal::COUNT as f64, "{off}");
    }

    #[test]
    fn the_clock_scales_as_a_whole_and_stays_a_valid_overlay() {
        let rules = Rules::from_toml(DEFAULT_RULES_TOML).unwrap();
        let clock = &rules.default_policy().inactivity;
        assert_eq!(scaled(clock, 0.6), Some([4, 6, 8]));
        assert_eq!(scaled(clock, 1.5), Some([11, 15, 21]));
        assert_eq!(scaled(clock, 3.0), None, "danger would pass the churn day");
        let text =
            with_inactivity("[score.thresholds]\ncaution = 30.0\n", None, [4, 6, 8]).unwrap();
        let rules = Rules::from_toml_with_overlay(DEFAULT_RULES_TOML, &text).unwrap();
        let policy = rules.default_policy();
        assert_eq!(
            (
                policy.inactivity.caution_days,
                policy.inactivity.danger_days
            ),
            (4, 8)
        );
        assert_eq!(policy.score.thresholds.caution, 30.0, "the rest is kept");
    }

    fn candidate(caution_recall: f64, false_alarms: f64) -> Metrics {
        let recall = vec![journey::backtest::LevelRecall {
            level: RiskLevel::Caution,
            caught: (caution_recall * 100.0) as usize,
            share: Some(caution_recall),
        }];
        Metrics {
            lead_hours: 72,
            recall,
            customer_months: 100.0,
            false_alarms_per_100_customer_months: false_alarms,
            ..Metrics::default()
        }
    }

    /// False alarms fall as caution rises: halving finds the lowest caution within the ceiling
    /// (the one catching the most) in a handful of judgements, and the highest when none is.
    #[test]
    fn halving_finds_the_lowest_caution_within_the_ceiling_in_few_judgements() {
        let grid: Vec<Thresholds> = candidates(20.0, 95.0, 1.0).collect();
        let false_alarms = |t: &Thresholds| 60.0 - t.caution / 2.0;
        for (ceiling, expected) in [(25.0, 70.0), (40.0, 40.0), (50.0, 20.0), (5.0, 95.0)] {
            let mut judged = 0;
            let judge = |t: &Thresholds| {
                judged += 1;
                Ok::<_, ()>((t.caution, false_alarms(t)))
            };
            let within = |(_, fa): &(f64, f64)| *fa <= ceiling;
            let found = halving(&grid, judge, within, |_, _| false).unwrap();
            assert_eq!(found.map(|(c, _)| c), Some(expected), "ceiling {ceiling}");
            assert!(judged <= 12, "{judged} judgements for ceiling {ceiling}");
        }
    }

    /// Where a step just above the lowest one within the ceiling catches as many with fewer
    /// false alarms, it is kept.
    #[test]
    fn a_step_just_above_that_ranks_better_is_kept() {
        let grid: Vec<Thresholds> = candidates(20.0, 60.0, 1.0).collect();
        // within the ceiling from 40 on; 42 catches as many as 40 with fewer false alarms
        let judge = |t: &Thresholds| {
            let fa = if t.caution == 42.0 {
                5.0
            } else {
                60.0 - t.caution
            };
            Ok::<_, ()>((t.caution, fa, if t.caution <= 42.0 { 10 } else { 9 }))
        };
        let within = |(_, fa, _): &(f64, f64, u32)| *fa <= 20.0;
        let better =
            |a: &(f64, f64, u32), b: &(f64, f64, u32)| a.2 > b.2 || (a.2 == b.2 && a.1 < b.1);
        let found = halving(&grid, judge, within, better).unwrap();
        assert_eq!(found.map(|(c, _, _)| c), Some(42.0));
    }

    #[test]
    fn within_the_ceiling_recall_wins_and_over_it_fewer_false_alarms() {
        let ceiling = 20.0;
        let (eager, quiet, noisy) = (
            candidate(0.9, 25.0),
            candidate(0.5, 15.0),
            candidate(0.95, 60.0),
        );
        assert!(
            ranks_above(&quiet, Some(&eager), ceiling),
            "within before over"
        );
        assert!(!ranks_above(&eager, Some(&quiet), ceiling));
        assert!(
            ranks_above(&candidate(0.6, 19.0), Some(&quiet), ceiling),
            "then more caught"
        );
        assert!(
            ranks_above(&eager, Some(&noisy), ceiling),
            "over: fewer false alarms"
        );
        assert!(ranks_above(&eager, None, ceiling));
    }

    #[test]
    fn danger_steps_down_to_just_above_caution_taking_warning_with_it() {
        let t = Thresholds {
            caution: 30.0,
            warning: 40.0,
            danger: 50.0,
        };
        let steps = stepped(&t, RiskLevel::Danger);
        assert_eq!(
            steps.first().map(|s| (s.warning, s.danger)),
            Some((32.5, 35.0))
        );
        assert!(
            steps
                .iter()
                .all(|s| s.caution < s.warning && s.warning < s.danger)
        );
        assert!(steps.iter().any(|s| s.warning == 40.0 && s.danger == 60.0));
        assert_eq!(steps.last().map(|s| s.danger), Some(97.5));
        let warning = stepped(&t, RiskLevel::Warning);
        assert_eq!(
            warning.iter().map(|s| s.warning).collect::<Vec<_>>(),
            vec![35.0, 40.0, 45.0]
        );
    }

    #[test]
    fn a_program_s_rules_go_under_its_name_and_leave_the_business_s_alone() {
        let weights: BTreeMap<Signal, f64> = Signal::ALL
            .iter()
            .map(|s| (*s, 0.0))
            .chain([(Signal::SlowFade, 100.0)])
            .collect();
        let thresholds = candidates(35.0, 35.0, 5.0).next().unwrap();
        let active = "[score.thresholds]\ncaution = 30.0\nwarning = 50.0\ndanger = 70.0\n";
        let text = overlay(active, Some("fitness"), &weights, None, &thresholds).unwrap();
        let text = with_inactivity(&text, Some("fitness"), [5, 9, 12]).unwrap();
        let rules = Rules::from_toml_with_overlay(DEFAULT_RULES_TOML, &text).unwrap();
        let fitness = rules.policy(Some("fitness"));
        assert_eq!(fitness.score.thresholds, thresholds);
        assert_eq!(fitness.score.weights[&Signal::SlowFade], 100.0);
        assert_eq!(steps(&fitness.inactivity), [5, 9, 12]);
        let business = rules.default_policy();
        assert_eq!(
            business.score.thresholds.caution, 30.0,
            "the active overlay is kept"
        );
        assert_eq!(steps(&business.inactivity), [7, 10, 14]);
        assert_eq!(rules.policy(Some("other")), business);
    }

    #[test]
    fn a_program_with_weights_of_its_own_does_not_inherit_the_business_s_model() {
        let weights: BTreeMap<Signal, f64> = Signal::ALL.iter().map(|s| (*s, 10.0)).collect();
        let model = Forest {
            signals: vec![Signal::Inactivity],
            base: -1.0,
            trees: vec![journey::domain::model::Tree {
                split_on: vec![0, -1, -1],
                split_at: vec![0.5, 0.0, 0.0],
                left: vec![1, 0, 0],
                right: vec![2, 0, 0],
                value: vec![0.0, -1.0, 2.0],
                cover: vec![10.0, 6.0, 4.0],
            }],
        };
        let thresholds = candidates(40.0, 40.0, 5.0).next().unwrap();
        let business = overlay("", None, &weights, Some(&model), &thresholds).unwrap();
        let both = overlay(&business, Some("fitness"), &weights, None, &thresholds).unwrap();
        let rules = Rules::from_toml_with_overlay(DEFAULT_RULES_TOML, &both).unwrap();
        let forest = |program| {
            rules
                .policy(program)
                .score
                .model
                .as_ref()
                .map(|m| m.forest())
        };
        assert_eq!(forest(None), Some(&model));
        assert_eq!(forest(Some("fitness")), None);
        assert_eq!(forest(Some("other")), Some(&model));
    }

    #[test]
    fn an_event_far_ahead_does_not_move_the_split() {
        let start = journey::testing::t("2026-01-01T00:00:00Z");
        let mut times: Vec<DateTime<Utc>> =
            (0..2_000).map(|m| start + Duration::hours(m)).collect();
        times.push(start + Duration::days(365 * 3));
        let (first, last) = span(times).unwrap();
        assert_eq!(
            (first, last),
            (start + Duration::hours(2), start + Duration::hours(1_998))
        );
        assert_eq!(span(vec![start]), Some((start, start)));
        assert_eq!(span(vec![]), None);
    }

    #[test]
    fn a_customer_belongs_to_the_last_program_their_events_named() {
        use journey::domain::{Event, EventId, EventKind, Profile, Source};
        let event = |id: &str, customer: &str, program: Option<&str>| Event {
            id: EventId::new(id).unwrap(),
            customer_id: CustomerId::new(customer).unwrap(),
            occurred_at: DateTime::UNIX_EPOCH,
            source: Source::App,
            kind: EventKind::Login,
            profile: Profile {
                program: program.map(str::to_string),
                ..Profile::default()
            },
        };
        let log = ExportedLog {
            events: vec![
                event("1", "a", Some("yoga")),
                event("2", "a", None),
                event("3", "a", Some("pilates")),
                event("4", "b", Some("yoga")),
                event("5", "c", None),
            ],
            labels: vec![journey::backtest::Label {
                customer_id: CustomerId::new("a").unwrap(),
                churned_at: DateTime::UNIX_EPOCH,
                how: None,
            }],
        };
        let parts = by_program(&log);
        assert_eq!(parts.keys().collect::<Vec<_>>(), ["pilates", "yoga"]);
        assert_eq!(parts["pilates"].events.len(), 3);
        assert_eq!(parts["pilates"].labels.len(), 1);
        assert_eq!(parts["yoga"].events.len(), 1);
        assert!(parts["yoga"].labels.is_empty());
    }
}

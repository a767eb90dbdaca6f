//! Whether a message works: a control group held out of each intervention, the outcomes of
//! both groups counted by month of assignment, and the difference between them with a 95 %
//! confidence interval.
//!
//! A customer is *assigned* when the rules plan a customer message for them: treated (the
//! message goes out, in its variant) or held out (nothing goes out), decided by a stable hash
//! so a replay makes the same choice. Each channel is its own experiment: a text counts under
//! `text:<template>` ([`text_key`]); a plan sending a text with its e-mail as the fallback
//! counts under the text for customers a text can reach and under the e-mail for the others
//! (the held-out split the same way), and one sending both at once under its e-mail. The assignment's outcome is whether the customer
//! recovered, or churned, within `experiments.outcome_days`. Both groups are counted from the
//! moment of assignment whatever happens to the message after (intention to treat): a skipped
//! or failed send stays in the treated group, as a held-out customer who would have been
//! skipped stays in the control.
//!
//! Intervals: Wilson score intervals for each rate, and Newcombe's hybrid score interval
//! (method 10 of Newcombe 1998) for their difference, at 95 %.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::apply::{Tally, TallyMetric};
use crate::intervention::Trigger;

/// The normal quantile of a two-sided 95 % interval.
const Z95: f64 = 1.959_963_984_540_054;

/// One open assignment, on the customer until its outcome or the end of its window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Exposure {
    pub trigger: Trigger,
    pub template: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// In the control group: nothing was sent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub held_out: bool,
    pub at: DateTime<Utc>,
}

/// What happened to an assigned customer within the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    Recovered,
    Churned,
}

impl Exposure {
    /// Whether `at` still falls in this assignment's outcome window.
    pub fn open_at(&self, at: DateTime<Utc>, outcome_days: u32) -> bool {
        within(self.at, at, outcome_days)
    }

    /// The month the assignment counts in.
    pub fn cohort(&self) -> String {
        month(self.at)
    }

    /// The count of this assignment itself.
    pub fn assigned(&self) -> Tally {
        let metric = if self.held_out {
            TallyMetric::HeldOut
        } else {
            TallyMetric::Treated
        };
        self.tally(metric)
    }

    /// The count of its outcome.
    pub fn resolved(&self, result: Resolution) -> Tally {
        let metric = match (result, self.held_out) {
            (Resolution::Recovered, false) => TallyMetric::TreatedRecovered,
            (Resolution::Recovered, true) => TallyMetric::HeldOutRecovered,
            (Resolution::Churned, false) => TallyMetric::TreatedChurned,
            (Resolution::Churned, true) => TallyMetric::HeldOutChurned,
        };
        self.tally(metric)
    }

    fn tally(&self, metric: TallyMetric) -> Tally {
        Tally {
            cohort: Some(self.cohort()),
            ..Tally::count(&self.template, self.variant.as_deref(), metric)
        }
    }
}

/// What a text template's experiment is counted under: apart from an e-mail template of the
/// same name, so each channel has its own control group and uplift.
pub fn text_key(template: &str) -> String {
    format!("{TEXT_EXPERIMENT}{template}")
}

/// The prefix of a text's experiment (see [`text_key`]).
pub const TEXT_EXPERIMENT: &str = "text:";

/// When every assignment of `month` (`YYYY-MM`) has had `outcome_days`: the month's end plus
/// the window.
pub fn settles_at(month: &str, outcome_days: u32) -> Option<DateTime<Utc>> {
    let first = chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").ok()?;
    let next = first.checked_add_months(chrono::Months::new(1))?;
    Some(next.and_time(chrono::NaiveTime::MIN).and_utc() + Duration::days(outcome_days.into()))
}

/// Whether `at` falls in the `outcome_days` from `from` (an assignment, an alert).
pub fn within(from: DateTime<Utc>, at: DateTime<Utc>, outcome_days: u32) -> bool {
    from <= at && at - from <= Duration::days(outcome_days.into())
}

/// A month as `YYYY-MM`, the cohorts' key.
pub fn month(at: DateTime<Utc>) -> String {
    at.format("%Y-%m").to_string()
}

// ---- the figures ---------------------------------------------------------------------------

/// A share with its 95 % interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Estimate {
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
}

impl Estimate {
    /// Every figure times `k` (a count of customers, an amount).
    pub fn scaled(self, k: f64) -> Estimate {
        Estimate {
            estimate: self.estimate * k,
            low: self.low * k,
            high: self.high * k,
        }
    }

    pub fn contains(&self, value: f64) -> bool {
        self.low <= value && value <= self.high
    }
}

/// The Wilson score interval of `x` successes in `n` trials; `None` without trials.
pub fn wilson(x: u64, n: u64) -> Option<Estimate> {
    if n == 0 {
        return None;
    }
    let (x, n) = (x.min(n) as f64, n as f64);
    let p = x / n;
    let z2 = Z95 * Z95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = Z95 / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(Estimate {
        estimate: p,
        low: (centre - half).max(0.0),
        high: (centre + half).min(1.0),
    })
}

/// Newcombe's hybrid score interval of the difference `x1/n1 − x2/n2`.
pub fn difference(x1: u64, n1: u64, x2: u64, n2: u64) -> Option<Estimate> {
    let (a, b) = (wilson(x1, n1)?, wilson(x2, n2)?);
    let d = a.estimate - b.estimate;
    Some(Estimate {
        estimate: d,
        low: d - ((a.estimate - a.low).powi(2) + (b.high - b.estimate).powi(2)).sqrt(),
        high: d + ((a.high - a.estimate).powi(2) + (b.estimate - b.low).powi(2)).sqrt(),
    })
}

/// One group's counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Group {
    pub assigned: u64,
    pub recovered: u64,
    pub churned: u64,
}

impl Group {
    fn add(&mut self, other: Group) {
        self.assigned += other.assigned;
        self.recovered += other.recovered;
        self.churned += other.churned;
    }
}

/// What the data say of a message, in words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Verdict {
    /// Fewer than `experiments.min_sample` customers in a group (or no control group).
    NotEnoughData,
    /// The whole interval of the recovery uplift is above zero.
    Works,
    /// The interval holds both no effect and an effect worth having.
    NoEvidenceYet,
    /// The interval rules out an uplift of `experiments.min_uplift` or more.
    DoesNotWork,
    /// The whole interval is below zero: customers who got it recovered less.
    Harms,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The settings that judge: `[experiments]` in the rules.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Judging {
    pub min_sample: u64,
    pub min_uplift: f64,
}

/// One message (template × variant) against its template's control group.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Comparison {
    pub template: String,
    pub variant: Option<String>,
    pub treated: Group,
    pub control: Group,
    /// Treated − held-out share recovered; absent while a group is empty.
    pub recovery_uplift: Option<Estimate>,
    /// Held-out − treated share churned: the churn the message prevented, per customer.
    pub churn_reduction: Option<Estimate>,
    pub verdict: Verdict,
    /// Assignments of months not yet settled (see [`Experiments::settled`]): counted here,
    /// not in the groups, until every one of them has had its whole outcome window.
    pub awaiting_treated: u64,
    pub awaiting_control: u64,
}

impl Comparison {
    pub fn new(
        template: &str,
        variant: Option<&str>,
        treated: Group,
        control: Group,
        judging: Judging,
    ) -> Comparison {
        let recovery_uplift = difference(
            treated.recovered,
            treated.assigned,
            control.recovered,
            control.assigned,
        );
        let churn_reduction = difference(
            control.churned,
            control.assigned,
            treated.churned,
            treated.assigned,
        );
        let enough =
            treated.assigned >= judging.min_sample && control.assigned >= judging.min_sample;
        let verdict = match recovery_uplift {
            Some(_) if !enough => Verdict::NotEnoughData,
            None => Verdict::NotEnoughData,
            Some(u) if u.low > 0.0 => Verdict::Works,
            Some(u) if u.high < 0.0 => Verdict::Harms,
            Some(u) if u.high < judging.min_uplift => Verdict::DoesNotWork,
            Some(_) => Verdict::NoEvidenceYet,
        };
        Comparison {
            template: template.to_string(),
            variant: variant.map(str::to_string),
            treated,
            control,
            recovery_uplift,
            churn_reduction,
            verdict,
            awaiting_treated: 0,
            awaiting_control: 0,
        }
    }
}

/// What one message saved in one month of assignments.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Saved {
    pub template: String,
    /// `YYYY-MM`, or `all` for every month together.
    pub month: String,
    pub treated: u64,
    pub held_out: u64,
    /// Churns prevented: (held-out churn rate − treated churn rate) × treated customers.
    pub churns_prevented: Option<Estimate>,
    /// Revenue kept per currency, in minor units: churns prevented × the treated customers'
    /// mean monthly revenue.
    pub revenue: BTreeMap<String, Estimate>,
}

/// The experiment counters of one template × variant, read back from the attributes
/// [`Tally::attribute`] wrote.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counters {
    /// Per cohort month.
    pub months: BTreeMap<String, MonthCounts>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct MonthCounts {
    pub treated: Group,
    pub held_out: Group,
    /// Sum of the treated customers' monthly revenue per currency, in minor units.
    pub value: BTreeMap<String, i64>,
}

impl Counters {
    /// From the stored attributes (`treated@2026-12`, `treated_value@2026-12@KRW` …); other
    /// attributes are ignored.
    pub fn from_attributes<'a>(attributes: impl IntoIterator<Item = (&'a str, i64)>) -> Counters {
        let mut counters = Counters::default();
        for (name, n) in attributes {
            let Some(key) = AttributeKey::parse(name) else {
                continue;
            };
            let Some(cohort) = key.cohort else { continue };
            let m = counters.months.entry(cohort.to_string()).or_default();
            let count = u64::try_from(n).unwrap_or(0);
            match key.metric {
                TallyMetric::Treated => m.treated.assigned += count,
                TallyMetric::TreatedRecovered => m.treated.recovered += count,
                TallyMetric::TreatedChurned => m.treated.churned += count,
                TallyMetric::HeldOut => m.held_out.assigned += count,
                TallyMetric::HeldOutRecovered => m.held_out.recovered += count,
                TallyMetric::HeldOutChurned => m.held_out.churned += count,
                TallyMetric::TreatedValue => {
                    *m.value
                        .entry(key.by.unwrap_or("-").to_string())
                        .or_default() += n
                }
                _ => {}
            }
        }
        counters
    }

    pub fn add(&mut self, other: &Counters) {
        for (month, c) in &other.months {
            let m = self.months.entry(month.clone()).or_default();
            m.treated.add(c.treated);
            m.held_out.add(c.held_out);
            for (currency, v) in &c.value {
                *m.value.entry(currency.clone()).or_default() += v;
            }
        }
    }

    /// Every month together.
    pub fn total(&self) -> MonthCounts {
        let mut all = MonthCounts::default();
        for m in self.months.values() {
            all.treated.add(m.treated);
            all.held_out.add(m.held_out);
            for (currency, v) in &m.value {
                *all.value.entry(currency.clone()).or_default() += v;
            }
        }
        all
    }
}

/// The per-template × variant counters of every message.
pub struct Experiments {
    /// `(template, variant)` → counters; the held-out group has no variant.
    pub rows: BTreeMap<(String, Option<String>), Counters>,
}

impl Experiments {
    /// Only the months whose assignments have all had their whole outcome window by `now`: an
    /// assignment still waiting counts in its group without an outcome yet, which would pull
    /// every difference toward zero (and hold back the variant given most recently).
    pub fn settled(&self, now: DateTime<Utc>, outcome_days: u32) -> Experiments {
        let rows = self
            .rows
            .iter()
            .map(|(key, c)| {
                let months = c
                    .months
                    .iter()
                    .filter(|(month, _)| {
                        settles_at(month, outcome_days).is_some_and(|at| at <= now)
                    })
                    .map(|(m, counts)| (m.clone(), counts.clone()))
                    .collect();
                (key.clone(), Counters { months })
            })
            .collect();
        Experiments { rows }
    }

    /// From tallies as `apply` produced them (a replay, a simulation), summed.
    pub fn from_tallies<'a>(tallies: impl IntoIterator<Item = &'a Tally>) -> Experiments {
        let mut sums: BTreeMap<(String, Option<String>), BTreeMap<String, i64>> = BTreeMap::new();
        // the counts kept by month; `Counters` reads the experiment's and ignores the alerts'
        for t in tallies.into_iter().filter(|t| t.cohort.is_some()) {
            let row = sums
                .entry((t.template.clone(), t.variant.clone()))
                .or_default();
            *row.entry(t.attribute()).or_default() += t.amount;
        }
        let rows = sums
            .into_iter()
            .map(|(key, attributes)| {
                let counters =
                    Counters::from_attributes(attributes.iter().map(|(k, v)| (k.as_str(), *v)));
                (key, counters)
            })
            .collect();
        Experiments { rows }
    }

    /// The treated counts of each variant of `template`, every month.
    pub fn variants(&self, template: &str) -> BTreeMap<String, Group> {
        self.rows
            .iter()
            .filter_map(|((t, v), c)| Some((v.clone()?, c)).filter(|_| t == template))
            .map(|(v, c)| (v, c.total().treated))
            .collect()
    }
    /// Each treated template × variant against its template's held-out customers. Templates
    /// that hold nobody out still show their treated counts, as "not enough data".
    pub fn comparisons(&self, judging: Judging) -> Vec<Comparison> {
        self.compare_on(self, judging)
    }

    /// [`Experiments::comparisons`] on the months settled by `now`, each saying how many
    /// assignments still await their outcome.
    pub fn comparisons_as_of(
        &self,
        now: DateTime<Utc>,
        outcome_days: u32,
        judging: Judging,
    ) -> Vec<Comparison> {
        self.compare_on(&self.settled(now, outcome_days), judging)
    }

    /// Every row with a treated assignment, judged on `counted`'s counts (these or a part of
    /// them); the assignments `counted` leaves out await their outcome.
    fn compare_on(&self, counted: &Experiments, judging: Judging) -> Vec<Comparison> {
        self.rows
            .iter()
            .filter(|(_, c)| c.total().treated.assigned > 0)
            .map(|((template, variant), all)| {
                let key = (template.clone(), variant.clone());
                let treated = counted
                    .rows
                    .get(&key)
                    .map(|c| c.total().treated)
                    .unwrap_or_default();
                let control = counted.control(template).held_out;
                Comparison {
                    awaiting_treated: all.total().treated.assigned - treated.assigned,
                    awaiting_control: self.control(template).held_out.assigned - control.assigned,
                    ..Comparison::new(template, variant.as_deref(), treated, control, judging)
                }
            })
            .collect()
    }

    /// The held-out customers of `template`, every month.
    fn control(&self, template: &str) -> MonthCounts {
        let mut all = Counters::default();
        for ((t, _), c) in &self.rows {
            if t == template {
                all.add(c);
            }
        }
        all.total()
    }

    /// Churns prevented per message (template) and month of assignment, then `all` months,
    /// each against the message's own control group in the same month. Messages are not summed:
    /// a customer who got the caution, warning and danger e-mails is in three experiments, and
    /// the effects of a sequence are not the sum of its messages'.
    pub fn saved(&self) -> Vec<Saved> {
        let mut templates: BTreeMap<&str, Counters> = BTreeMap::new();
        for ((template, _), c) in &self.rows {
            templates.entry(template).or_default().add(c);
        }
        let mut out = Vec::new();
        for (template, counters) in templates {
            let all = counters.total();
            // no control group, or customers who cannot churn in the window (a win-back goes
            // to customers who already left): no claim either way
            let churns = all.treated.churned + all.held_out.churned;
            if all.held_out.assigned == 0 || churns == 0 {
                continue;
            }
            for (month, m) in &counters.months {
                out.push(saved(template, month, std::slice::from_ref(m)));
            }
            let every: Vec<MonthCounts> = counters.months.values().cloned().collect();
            out.push(saved(template, "all", &every));
        }
        out
    }
}

/// Churns prevented over `parts` (months of one message), each month against its own control
/// group: the sum of the estimates, with the intervals' half-widths combined in quadrature.
fn saved(template: &str, month: &str, parts: &[MonthCounts]) -> Saved {
    let mut treated = 0;
    let mut held_out = 0;
    let mut sum: Option<(f64, f64, f64)> = None;
    let mut revenue: BTreeMap<String, (f64, f64, f64)> = BTreeMap::new();
    for m in parts {
        treated += m.treated.assigned;
        held_out += m.held_out.assigned;
        let Some(d) = difference(
            m.held_out.churned,
            m.held_out.assigned,
            m.treated.churned,
            m.treated.assigned,
        ) else {
            continue;
        };
        let n = m.treated.assigned as f64;
        let prevented = d.scaled(n);
        let (e, lo, hi) = sum.get_or_insert((0.0, 0.0, 0.0));
        *e += prevented.estimate;
        *lo += (prevented.estimate - prevented.low).powi(2);
        *hi += (prevented.high - prevented.estimate).powi(2);
        for (currency, total) in &m.value {
            let mean = *total as f64 / n;
            let kept = prevented.scaled(mean);
            let (e, lo, hi) = revenue.entry(currency.clone()).or_default();
            *e += kept.estimate;
            *lo += (kept.estimate - kept.low).powi(2);
            *hi += (kept.high - kept.estimate).powi(2);
        }
    }
    let estimate = |(e, lo, hi): (f64, f64, f64)| Estimate {
        estimate: e,
        low: e - lo.sqrt(),
        high: e + hi.sqrt(),
    };
    Saved {
        template: template.to_string(),
        month: month.to_string(),
        treated,
        held_out,
        churns_prevented: sum.map(estimate),
        revenue: revenue.into_iter().map(|(c, v)| (c, estimate(v))).collect(),
    }
}

/// Thompson sampling's shares: the probability that each group has the highest recovery rate,
/// under a Beta(1 + recovered, 1 + not recovered) posterior each. Computed on a grid instead
/// of by drawing, so the same counts always give the same shares (a replay reproduces them);
/// a customer's place in the shares is then a stable hash (`Plan::variant_for`).
pub fn probability_best(groups: &[Group]) -> Vec<f64> {
    const GRID: usize = 20_000;
    let densities: Vec<Vec<f64>> = groups.iter().map(|g| posterior(g, GRID)).collect();
    let cumulative: Vec<Vec<f64>> = densities
        .iter()
        .map(|d| {
            d.iter()
                .scan(0.0, |sum, p| {
                    *sum += p;
                    Some(*sum)
                })
                .collect()
        })
        .collect();
    let mut best: Vec<f64> = (0..groups.len())
        .map(|i| {
            (0..GRID)
                .map(|k| {
                    let others: f64 = (0..groups.len())
                        .filter(|j| *j != i)
                        // below x, or tied at x (half)
                        .map(|j| cumulative[j][k] - densities[j][k] / 2.0)
                        .product();
                    densities[i][k] * others
                })
                .sum()
        })
        .collect();
    let total: f64 = best.iter().sum();
    if total > 0.0 {
        best.iter_mut().for_each(|p| *p /= total);
    }
    best
}

/// A Beta(1 + recovered, 1 + the rest) posterior on `grid` mid-points, summing to 1.
fn posterior(g: &Group, grid: usize) -> Vec<f64> {
    let a = g.recovered.min(g.assigned) as f64;
    let b = (g.assigned - g.recovered.min(g.assigned)) as f64;
    let logs: Vec<f64> = (0..grid)
        .map(|k| {
            let x = (k as f64 + 0.5) / grid as f64;
            a * x.ln() + b * (1.0 - x).ln()
        })
        .collect();
    let top = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let raw: Vec<f64> = logs.iter().map(|l| (l - top).exp()).collect();
    let sum: f64 = raw.iter().sum();
    raw.into_iter().map(|p| p / sum).collect()
}

/// The allocation calibration writes for a plan's variants (`[interventions.<trigger>]
/// allocation`): each variant's probability of being best, to three decimals. The exploration
/// floor is applied where the allocation is used.
pub fn allocation(variants: &BTreeMap<String, Group>) -> BTreeMap<String, f64> {
    let groups: Vec<Group> = variants.values().copied().collect();
    variants
        .keys()
        .cloned()
        .zip(probability_best(&groups))
        .map(|(v, p)| (v, (p * 1000.0).round() / 1000.0))
        .collect()
}

/// What became of one owner's alerts of one template.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertOutcome {
    pub template: String,
    /// The owner's id, or `unassigned`.
    pub owner: String,
    pub alerted: u64,
    /// Alerts followed by a contact someone on staff recorded (a note) within the outcome
    /// window …
    pub contacted: u64,
    /// … of which the alert's owner recorded.
    pub contacted_by_owner: u64,
    pub contact_rate: Option<Estimate>,
    /// The mean time from the alert to the first contact, in minutes.
    pub mean_minutes_to_contact: Option<f64>,
    /// Customers who recovered (or churned) within the window after the alert.
    pub recovered: u64,
    pub churned: u64,
    pub recovery_rate: Option<Estimate>,
    /// What staff said came of their contacts (each outcome once per alert).
    pub reached: u64,
    pub no_answer: u64,
    pub saved: u64,
    pub lost: u64,
}

/// The alert outcomes per template × owner, from each template's stored attributes.
pub fn alert_outcomes<'a>(
    rows: impl IntoIterator<Item = (&'a str, &'a BTreeMap<String, i64>)>,
) -> Vec<AlertOutcome> {
    let mut by: BTreeMap<(String, String), (AlertOutcome, i64)> = BTreeMap::new();
    for (template, attributes) in rows {
        for (name, n) in attributes {
            let Some(AttributeKey {
                metric,
                by: Some(owner),
                ..
            }) = AttributeKey::parse(name)
            else {
                continue;
            };
            let (row, minutes) = by
                .entry((template.to_string(), owner.to_string()))
                .or_insert_with(|| {
                    let row = AlertOutcome {
                        template: template.to_string(),
                        owner: owner.to_string(),
                        ..AlertOutcome::default()
                    };
                    (row, 0)
                });
            let count = u64::try_from(*n).unwrap_or(0);
            match metric {
                TallyMetric::Alerted => row.alerted += count,
                TallyMetric::Contacted => row.contacted += count,
                TallyMetric::ContactedByOwner => row.contacted_by_owner += count,
                TallyMetric::ContactMinutes => *minutes += n,
                TallyMetric::AlertRecovered => row.recovered += count,
                TallyMetric::AlertChurned => row.churned += count,
                TallyMetric::OutcomeReached => row.reached += count,
                TallyMetric::OutcomeNoAnswer => row.no_answer += count,
                TallyMetric::OutcomeSaved => row.saved += count,
                TallyMetric::OutcomeLost => row.lost += count,
                _ => {}
            }
        }
    }
    by.into_values()
        .filter(|(row, _)| row.alerted > 0)
        .map(|(mut row, minutes)| {
            row.contact_rate = wilson(row.contacted, row.alerted);
            row.recovery_rate = wilson(row.recovered, row.alerted);
            row.mean_minutes_to_contact =
                (row.contacted > 0).then(|| minutes as f64 / row.contacted as f64);
            row
        })
        .collect()
}

/// A counter attribute's name, `metric[@cohort[@by]]`: `by` (an owner, a currency) comes last
/// and may hold anything.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AttributeKey<'a> {
    pub metric: TallyMetric,
    pub cohort: Option<&'a str>,
    pub by: Option<&'a str>,
}

impl<'a> AttributeKey<'a> {
    pub fn parse(name: &'a str) -> Option<AttributeKey<'a>> {
        let mut parts = name.splitn(3, '@');
        let metric = TallyMetric::parse(parts.next()?)?;
        Some(AttributeKey {
            metric,
            cohort: parts.next().filter(|c| *c != "-"),
            by: parts.next(),
        })
    }
}

#[cfg(test)]
mod tests;

//! The risk score: a weighted sum of signals, each measured between 0 and 1 (NPS between -1
//! and 1), kept with its parts so staff can see why a customer is at risk. Where calibration
//! has learned a model ([`super::model`]), the score is instead the model's probability of
//! churning within the window, in percent, and each signal's part is its share of the rise
//! above the business's base rate.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::activity::{Activity, Count, Tallies};
use super::model::Model;
use super::peers::{self, Context};
use super::rules::Policy;
use super::stage::RiskLevel;

/// A signal of churn risk. Its weight in the rules is the points it adds at full strength.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Signal {
    /// Days since the last activity.
    Inactivity,
    /// Assignments missed recently.
    MissedAssignments,
    /// Fewer logins than the customer's own baseline.
    LoginDrop,
    /// Less content viewing time than the customer's own baseline.
    ContentDrop,
    /// Support tickets recently.
    SupportTickets,
    /// Payments failed since the last successful one.
    FailedPayments,
    /// The last NPS answer: detractors add, promoters subtract.
    Nps,
    /// Days since the last activity, in units of the customer's own usual gap between active
    /// days: a daily user quiet for three days, not a weekly one.
    LoginGap,
    /// Fewer active days over the last fortnight than the fortnight before: the slow fade that
    /// a one-week drop misses.
    SlowFade,
    /// Fewer assignments handed in than the customer's own baseline.
    SubmissionDrop,
    /// A new customer, who has not settled in yet.
    Newness,
    /// Customer e-mails opened or clicked recently (SES's feedback), as a negative measure:
    /// a customer who reads what we send is listening. Opens are noisy (some mail clients fetch
    /// every image), so the weight is left to calibration.
    EmailEngagement,
    /// Fewer active days than most of the business's customers (its bottom
    /// `peer_low_share`): the customer who never really took to it, though never quieter than
    /// their own usual.
    LowEngagement,
    /// Low engagement with the renewal at most `renewal_window_days` away: renewal churn,
    /// in time to act.
    LowBeforeRenewal,
    /// How likely customers of the same week of tenure are to churn, from the business's own
    /// history (most churn early).
    TenureHazard,
}

impl Signal {
    /// The signals measured against the customer's own rhythm or tenure. They overlap the
    /// others (a login gap is inactivity, seen differently), so calibration fits the weights
    /// with and without them and keeps what catches more.
    pub const TRENDS: [Signal; 4] = [
        Signal::LoginGap,
        Signal::SlowFade,
        Signal::SubmissionDrop,
        Signal::Newness,
    ];

    /// How many signals there are: the length of a measures vector.
    pub const COUNT: usize = 15;

    pub const ALL: [Signal; Signal::COUNT] = [
        Signal::Inactivity,
        Signal::MissedAssignments,
        Signal::LoginDrop,
        Signal::ContentDrop,
        Signal::SupportTickets,
        Signal::FailedPayments,
        Signal::Nps,
        Signal::LoginGap,
        Signal::SlowFade,
        Signal::SubmissionDrop,
        Signal::Newness,
        Signal::EmailEngagement,
        Signal::LowEngagement,
        Signal::LowBeforeRenewal,
        Signal::TenureHazard,
    ];

    /// The signals read against the business's [`crate::peers::Peers`] tables: calibration
    /// measures them again once it has learnt the tables.
    pub const PEERS: [Signal; 3] = [
        Signal::LowEngagement,
        Signal::LowBeforeRenewal,
        Signal::TenureHazard,
    ];

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One signal's part of the score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contribution {
    pub signal: Signal,
    /// How strongly the signal is present: 0..=1 (NPS -1..=1, e-mail engagement -1..=0).
    pub measure: f64,
    /// `measure × weight`, the points it adds.
    pub points: f64,
}

/// The score (0–100) with its explanation, largest contribution first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RiskScore {
    pub total: f64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contributions: Vec<Contribution>,
}

impl RiskScore {
    /// The `n` signals that add the most, for alerts and the dashboard.
    pub fn top(&self, n: usize) -> impl Iterator<Item = &Contribution> {
        self.contributions.iter().filter(|c| c.points > 0.0).take(n)
    }
}

/// The last NPS answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NpsAnswer {
    pub score: u8,
    pub at: DateTime<Utc>,
}

/// What the score is computed from.
pub struct Inputs<'a> {
    pub activity: &'a Activity,
    /// When the inactivity clock started, if there was no activity since (creation, payment).
    pub clock_start: DateTime<Utc>,
    pub open_failed_payments: u32,
    pub last_nps: Option<NpsAnswer>,
    /// When the customer was first seen: tenure is counted from here.
    pub since: DateTime<Utc>,
    /// When the period paid for ends, if a payment or notice said.
    pub renews_at: Option<DateTime<Utc>>,
}

/// The inputs with the activity laid out for measuring ([`Tallies`]).
struct Window<'a> {
    inputs: &'a Inputs<'a>,
    tallies: Tallies,
}

/// What the signals against peers are measured from, as of `now` (kept with calibration's
/// samples).
pub fn context(inputs: &Inputs<'_>, policy: &Policy, now: DateTime<Utc>) -> Context {
    context_of(&Tallies::of(inputs.activity), inputs, policy, now)
}

fn context_of(a: &Tallies, inputs: &Inputs<'_>, policy: &Policy, now: DateTime<Utc>) -> Context {
    peers::context(
        |days| a.sum(now, days, Count::ActiveDays),
        inputs.since,
        inputs.renews_at,
        &policy.score.signals,
        now,
    )
}

/// The measure of a signal against peers from its context (0 for the others).
pub fn peer_measure(signal: Signal, ctx: &Context, policy: &Policy) -> f64 {
    let (table, s) = (&policy.score.peers, &policy.score.signals);
    round(match signal {
        Signal::LowEngagement => peers::low_engagement(ctx, table, s),
        Signal::LowBeforeRenewal => peers::low_before_renewal(ctx, table, s),
        Signal::TenureHazard => peers::tenure_hazard(ctx, table),
        _ => 0.0,
    })
}

impl<'a> Window<'a> {
    fn of(inputs: &'a Inputs<'a>) -> Window<'a> {
        Window {
            inputs,
            tallies: Tallies::of(inputs.activity),
        }
    }
}

/// Every signal's measure as of `now`, in [`Signal::ALL`] order, weights aside: what the
/// backtest samples and calibration fits the weights to.
pub fn measures(inputs: &Inputs<'_>, policy: &Policy, now: DateTime<Utc>) -> [f64; Signal::COUNT] {
    let w = Window::of(inputs);
    Signal::ALL.map(|signal| round(measure(signal, &w, policy, now)))
}

/// Measures every weighed signal as of `now` and weighs it by the policy (or asks its model).
pub fn score(inputs: &Inputs<'_>, policy: &Policy, now: DateTime<Utc>) -> RiskScore {
    let w = Window::of(inputs);
    let (total, mut contributions) = match &policy.score.model {
        Some(model) => explained(model, &w, policy, now),
        None => {
            let parts: Vec<Contribution> = weighed(&w, policy, now).collect();
            (sum(parts.iter().map(|c| c.points)), parts)
        }
    };
    contributions.sort_by(|a, b| b.points.total_cmp(&a.points).then(a.signal.cmp(&b.signal)));
    RiskScore {
        total,
        contributions,
    }
}

/// The score (0–100) of one row of measures in [`Signal::ALL`] order, as [`score`] would give
/// it: what calibration ranks samples by to measure how well a score separates churners (AUC).
pub fn total_of(measures: &[f64; Signal::COUNT], policy: &Policy) -> f64 {
    let at = |signal: Signal| {
        Signal::ALL
            .iter()
            .position(|s| *s == signal)
            .map_or(0.0, |i| measures[i])
    };
    match &policy.score.model {
        Some(model) => {
            let mut x = [0.0; Signal::COUNT];
            for (slot, signal) in x.iter_mut().zip(model.signals()) {
                *slot = at(*signal);
            }
            percent(model.margin(&x))
        }
        None => sum(Signal::ALL.into_iter().map(|signal| {
            let weight = policy.score.weights.get(&signal).copied().unwrap_or(0.0);
            round(at(signal) * weight)
        })),
    }
}

/// The score's total alone, as [`score`] computes it: what the search for a crossing needs,
/// without the explanation.
fn total(w: &Window<'_>, policy: &Policy, now: DateTime<Utc>) -> f64 {
    match &policy.score.model {
        Some(model) => percent(model.margin(&inputs_of(model, w, policy, now))),
        None => sum(weighed(w, policy, now).map(|c| c.points)),
    }
}

/// The model's inputs as of `now`, in its order (the first `model.signals.len()` places).
fn inputs_of(
    model: &Model,
    w: &Window<'_>,
    policy: &Policy,
    now: DateTime<Utc>,
) -> [f64; Signal::COUNT] {
    let mut x = [0.0; Signal::COUNT];
    for (slot, signal) in x.iter_mut().zip(model.signals()) {
        *slot = round(measure(*signal, w, policy, now));
    }
    x
}

/// The model's probability in percent, with each signal's Shapley value turned into points:
/// the values add up, in log-odds, to the rise from the model's average customer to this one,
/// so each signal gets its share of that rise in percent (a signal that lowers the risk gets
/// negative points, and the alerts name only those that add).
fn explained(
    model: &Model,
    w: &Window<'_>,
    policy: &Policy,
    now: DateTime<Utc>,
) -> (f64, Vec<Contribution>) {
    let x = inputs_of(model, w, policy, now);
    let margin = model.margin(&x);
    let phi = model.contributions(&x);
    let expected = model.expected();
    let total = percent(margin);
    let rise = margin - expected;
    let per_log_odds = if rise.abs() > 1e-9 {
        (total - percent(expected)) / rise
    } else {
        0.0
    };
    let parts = model
        .signals()
        .iter()
        .zip(x)
        .zip(phi)
        .filter_map(|((signal, measure), phi)| {
            let points = round(phi * per_log_odds);
            (points != 0.0).then_some(Contribution {
                signal: *signal,
                measure,
                points,
            })
        })
        .collect();
    (total, parts)
}

/// A log-odds as a probability in percent.
fn percent(log_odds: f64) -> f64 {
    round(100.0 / (1.0 + (-log_odds).exp()))
}

/// The contributions of the signals the policy gives a weight, in [`Signal::ALL`] order; a
/// signal without weight is not measured.
fn weighed<'a>(
    w: &'a Window<'_>,
    policy: &'a Policy,
    now: DateTime<Utc>,
) -> impl Iterator<Item = Contribution> + 'a {
    Signal::ALL.into_iter().filter_map(move |signal| {
        let weight = policy.score.weights.get(&signal).copied().unwrap_or(0.0);
        if weight == 0.0 {
            return None;
        }
        let measure = round(measure(signal, w, policy, now));
        let points = round(measure * weight);
        (points != 0.0).then_some(Contribution {
            signal,
            measure,
            points,
        })
    })
}

/// The points added up in [`Signal::ALL`] order, held to 0–100.
fn sum(points: impl Iterator<Item = f64>) -> f64 {
    round(points.sum::<f64>().clamp(0.0, 100.0))
}

fn measure(signal: Signal, w: &Window<'_>, policy: &Policy, now: DateTime<Utc>) -> f64 {
    let s = &policy.score.signals;
    let (inputs, a) = (w.inputs, &w.tallies);
    match signal {
        Signal::Inactivity => {
            inputs.activity.days_inactive(inputs.clock_start, now)
                / f64::from(s.inactivity_full_days)
        }
        Signal::MissedAssignments => {
            a.sum(now, s.missed_window_days.into(), Count::Missed) as f64 / f64::from(s.missed_full)
        }
        Signal::LoginDrop => {
            drop_from_baseline(a, policy, now, s.min_baseline_logins, Count::Logins)
        }
        Signal::ContentDrop => drop_from_baseline(
            a,
            policy,
            now,
            s.min_baseline_content_seconds,
            Count::ContentSeconds,
        ),
        Signal::SupportTickets => {
            a.sum(now, policy.support.window_days.into(), Count::Tickets) as f64
                / f64::from(policy.support.alert_tickets)
        }
        Signal::FailedPayments => {
            f64::from(inputs.open_failed_payments) / f64::from(s.failed_payments_full)
        }
        Signal::Nps => nps_measure(inputs.last_nps, policy, now),
        Signal::LoginGap => login_gap(w, policy, now),
        Signal::SlowFade => slow_fade(a, policy, now),
        Signal::SubmissionDrop => drop_from_baseline(
            a,
            policy,
            now,
            s.min_baseline_submissions,
            Count::Submissions,
        ),
        Signal::Newness => {
            let tenure = now.signed_duration_since(inputs.since).num_seconds() as f64 / 86_400.0;
            (1.0 - tenure.max(0.0) / f64::from(s.newness_full_days)).max(0.0)
        }
        Signal::EmailEngagement => {
            let engaged = a.sum(now, s.email_engagement_days.into(), Count::Engaged);
            -(engaged as f64 / f64::from(s.email_engagement_full))
        }
        Signal::LowEngagement | Signal::LowBeforeRenewal | Signal::TenureHazard => {
            peer_measure(signal, &context_of(a, inputs, policy, now), policy)
        }
    }
    .clamp(-1.0, 1.0)
}

/// 0 while the current gap is within the customer's usual gap between active days, rising to 1
/// at `login_gap_full_ratio` times it. Without enough active days to know the usual gap: 0.
fn login_gap(w: &Window<'_>, policy: &Policy, now: DateTime<Utc>) -> f64 {
    let s = &policy.score.signals;
    let Some((first, last, count)) = w.tallies.active_span() else {
        return 0.0;
    };
    if count < s.min_baseline_active_days.max(2) {
        return 0.0;
    }
    let usual = (last - first) as f64 / f64::from(count - 1);
    let inputs = w.inputs;
    let ratio = inputs.activity.days_inactive(inputs.clock_start, now) / usual.max(1.0);
    ((ratio - 1.0) / (s.login_gap_full_ratio - 1.0)).clamp(0.0, 1.0)
}

/// 1 − (active days over the last `fade_days` ÷ active days over the `fade_days` before).
fn slow_fade(a: &Tallies, policy: &Policy, now: DateTime<Utc>) -> f64 {
    let s = &policy.score.signals;
    let days = i64::from(s.fade_days);
    let recent = a.sum(now, days, Count::ActiveDays);
    let before = a.sum_between(now, 2 * days, days, Count::ActiveDays);
    if before < u64::from(s.min_baseline_active_days) {
        return 0.0;
    }
    (1.0 - recent as f64 / before as f64).clamp(0.0, 1.0)
}

/// The first moment after `now` and up to `until` at which the score, with no new event, calls
/// for a level above `risk`; `None` if it does not within that time.
///
/// With no event the score moves in two ways only: inactivity grows by the minute, and the
/// windows slide at each UTC midnight (recent logins fall away, old tickets expire, an NPS
/// answer ages out). So the end of each day and its next midnight are looked at, and the first
/// that calls for more is narrowed down to the minute by halving.
pub fn rises_at(
    inputs: &Inputs<'_>,
    policy: &Policy,
    risk: RiskLevel,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if risk == RiskLevel::Danger {
        return None;
    }
    let w = Window::of(inputs);
    let above = |at: DateTime<Utc>| policy.score.thresholds.level_for(total(&w, policy, at)) > risk;
    let mut below = now;
    for at in day_ends(now, until) {
        if above(at) {
            return Some(narrow(below, at, above));
        }
        below = at;
    }
    None
}

/// The instant before each UTC midnight after `now` and the midnight, then `until` itself.
fn day_ends(now: DateTime<Utc>, until: DateTime<Utc>) -> impl Iterator<Item = DateTime<Utc>> {
    let first = super::activity::day_of(now) + 1;
    (first..)
        .filter_map(|day| DateTime::from_timestamp(day * 86_400, 0))
        .take_while(move |midnight| *midnight < until)
        .flat_map(|midnight| [midnight - Duration::seconds(1), midnight])
        .chain((until > now).then_some(until))
}

/// The earliest minute in `(below, above]` where `is_above` holds, given it holds at `above`;
/// on a whole minute, as a person would schedule it.
fn narrow(
    mut below: DateTime<Utc>,
    mut above: DateTime<Utc>,
    is_above: impl Fn(DateTime<Utc>) -> bool,
) -> DateTime<Utc> {
    while above - below > Duration::minutes(1) {
        let mid = below + (above - below) / 2;
        if is_above(mid) {
            above = mid;
        } else {
            below = mid;
        }
    }
    let minute = (above.timestamp() + 59).div_euclid(60) * 60;
    DateTime::from_timestamp(minute, 0).unwrap_or(above)
}

/// 1 − (recent daily rate ÷ baseline daily rate), when there is a baseline to compare with.
fn drop_from_baseline(
    a: &Tallies,
    policy: &Policy,
    now: DateTime<Utc>,
    min_baseline: u32,
    field: Count,
) -> f64 {
    let s = &policy.score.signals;
    let (recent_days, baseline_days) = (i64::from(s.recent_days), i64::from(s.baseline_days));
    let baseline = a.sum_between(now, baseline_days, recent_days, field);
    if baseline < u64::from(min_baseline) {
        return 0.0;
    }
    let baseline_rate = baseline as f64 / (baseline_days - recent_days) as f64;
    let recent_rate = a.sum(now, recent_days, field) as f64 / recent_days as f64;
    (1.0 - recent_rate / baseline_rate).clamp(0.0, 1.0)
}

fn nps_measure(last: Option<NpsAnswer>, policy: &Policy, now: DateTime<Utc>) -> f64 {
    let max_age = Duration::days(policy.score.signals.nps_max_age_days.into());
    match last {
        Some(answer) if now.signed_duration_since(answer.at) <= max_age => {
            if answer.score <= policy.nps.detractor_max {
                1.0
            } else if answer.score >= policy.nps.promoter_min {
                -1.0
            } else {
                0.0
            }
        }
        _ => 0.0,
    }
}

/// Two decimals, and never `-0`.
fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0 + 0.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activity::Mark;
    use crate::rules::Rules;
    use chrono::TimeZone;

    fn day(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 10, d, 12, 0, 0).unwrap()
    }

    fn rules() -> Rules {
        Rules::embedded().unwrap()
    }

    fn daily_logins_until(last: u32) -> Activity {
        let mut activity = Activity::default();
        for d in 1..=last {
            activity.record(day(d), Mark::Login);
        }
        activity
    }

    /// A customer since day 1 with only `activity`: no failed payment, no NPS answer.
    fn quiet_inputs(activity: &Activity) -> Inputs<'_> {
        Inputs {
            activity,
            clock_start: day(1),
            open_failed_payments: 0,
            last_nps: None,
            since: day(1),
            renews_at: None,
        }
    }

    #[test]
    fn a_quiet_customer_scores_on_inactivity_and_the_drop_from_their_baseline() {
        let rules = rules();
        let policy = rules.default_policy();
        let activity = daily_logins_until(20);
        let inputs = quiet_inputs(&activity);
        let fresh = score(&inputs, policy, day(20));
        assert_eq!(fresh.total, 0.0);
        assert!(fresh.contributions.is_empty());

        let quiet = score(&inputs, policy, day(30));
        let signals: Vec<Signal> = quiet.contributions.iter().map(|c| c.signal).collect();
        assert_eq!(signals[0], Signal::Inactivity);
        assert!(signals.contains(&Signal::LoginDrop));
        let sum: f64 = quiet.contributions.iter().map(|c| c.points).sum();
        assert!((quiet.total - sum).abs() < 1e-9);
    }

    #[test]
    fn nps_promoters_lower_the_score_and_old_answers_expire() {
        let rules = rules();
        let policy = rules.default_policy();
        let activity = Activity::default();
        let with_nps = |score_value, at| Inputs {
            activity: &activity,
            clock_start: day(1),
            open_failed_payments: 1,
            last_nps: Some(NpsAnswer {
                score: score_value,
                at,
            }),
            since: day(1),
            renews_at: None,
        };
        let detractor = score(&with_nps(3, day(1)), policy, day(1));
        let promoter = score(&with_nps(10, day(1)), policy, day(1));
        assert!(detractor.total > promoter.total);
        assert!(
            promoter
                .contributions
                .iter()
                .any(|c| c.signal == Signal::Nps && c.points < 0.0)
        );
        let much_later = day(1) + Duration::days(200);
        let expired = score(&with_nps(3, day(1)), policy, much_later);
        assert!(
            !expired
                .contributions
                .iter()
                .any(|c| c.signal == Signal::Nps)
        );
    }

    fn measured(activity: &Activity, since: u32, signal: Signal, now: DateTime<Utc>) -> f64 {
        let rules = rules();
        let inputs = Inputs {
            activity,
            clock_start: day(since),
            open_failed_payments: 0,
            last_nps: None,
            since: day(since),
            renews_at: None,
        };
        let at = Signal::ALL.iter().position(|s| *s == signal).unwrap();
        measures(&inputs, rules.default_policy(), now)[at]
    }

    #[test]
    fn the_login_gap_is_measured_against_the_customer_s_own_rhythm() {
        let (mut daily, mut weekly) = (Activity::default(), Activity::default());
        for d in 1..=20 {
            daily.record(day(d), Mark::Login);
        }
        for d in [1, 8, 15, 22] {
            weekly.record(day(d), Mark::Login);
        }
        // quiet for 3 days: three times a daily user's gap, under a weekly user's
        let gap = measured(&daily, 1, Signal::LoginGap, day(23));
        assert!((gap - 2.0 / 3.0).abs() < 0.01, "{gap}");
        assert_eq!(measured(&weekly, 1, Signal::LoginGap, day(25)), 0.0);
        // 4 gaps of the usual kind: full strength
        assert_eq!(measured(&daily, 1, Signal::LoginGap, day(24)), 1.0);
    }

    #[test]
    fn a_slow_fade_compares_two_fortnights_of_active_days() {
        let mut a = Activity::default();
        for d in 1..=10 {
            a.record(day(d), Mark::Login); // 10 active days in the first fortnight
        }
        for d in [16, 20, 24] {
            a.record(day(d), Mark::Login); // 3 in the second
        }
        let fade = measured(&a, 1, Signal::SlowFade, day(28));
        assert!((fade - 0.7).abs() < 1e-9, "{fade}");
        let steady = measured(&a, 1, Signal::SlowFade, day(14));
        assert_eq!(steady, 0.0, "no fortnight before to compare with");
    }

    #[test]
    fn submissions_drop_from_the_baseline_and_newness_wears_off() {
        let mut a = Activity::default();
        for d in [1, 8, 15] {
            a.record(day(d), Mark::Submission);
        }
        assert_eq!(measured(&a, 1, Signal::SubmissionDrop, day(29)), 1.0);
        assert_eq!(measured(&a, 1, Signal::SubmissionDrop, day(16)), 0.0);
        assert_eq!(measured(&a, 1, Signal::Newness, day(1)), 1.0);
        assert_eq!(measured(&a, 1, Signal::Newness, day(31)), 0.5);
        let much_later = day(1) + Duration::days(90);
        assert_eq!(measured(&a, 1, Signal::Newness, much_later), 0.0);
    }

    /// A model in a rules overlay: two stumps, on inactivity (from 0.5, two weeks' quiet at
    /// the embedded rules) and on the login drop.
    const MODEL: &str = r#"
[score.thresholds]
caution = 30.0
warning = 50.0
danger = 70.0

[score.model]
signals = ["inactivity", "login_drop"]
base = -2.0

[[score.model.trees]]
split_on = [0, -1, -1]
split_at = [0.5, 0.0, 0.0]
left = [1, 0, 0]
right = [2, 0, 0]
value = [0.0, -0.5, 3.0]
cover = [100.0, 80.0, 20.0]

[[score.model.trees]]
split_on = [1, -1, -1]
split_at = [0.5, 0.0, 0.0]
left = [1, 0, 0]
right = [2, 0, 0]
value = [0.0, -0.2, 1.0]
cover = [100.0, 70.0, 30.0]
"#;

    #[test]
    fn with_a_learned_model_the_score_is_its_probability_explained_signal_by_signal() {
        let rules = Rules::from_toml_with_overlay(crate::rules::DEFAULT_RULES_TOML, MODEL).unwrap();
        let policy = rules.default_policy();
        let activity = daily_logins_until(20);
        let inputs = quiet_inputs(&activity);
        let fresh = score(&inputs, policy, day(20));
        let p = |margin: f64| round(100.0 / (1.0 + (-margin).exp()));
        assert_eq!(fresh.total, p(-2.0 - 0.5 - 0.2));
        assert!(
            fresh.top(3).next().is_none(),
            "nothing adds to a fresh customer's risk"
        );

        // quiet since day 20: inactivity (14 days for full strength) passes 0.5 after 7 days
        let quiet = score(&inputs, policy, day(30));
        assert_eq!(quiet.total, p(-2.0 + 3.0 + 1.0));
        let top: Vec<Signal> = quiet.top(3).map(|c| c.signal).collect();
        assert_eq!(top, vec![Signal::Inactivity, Signal::LoginDrop]);
        let rise: f64 = quiet.contributions.iter().map(|c| c.points).sum();
        let model = policy.score.model.as_ref().unwrap();
        assert!(
            (rise - (quiet.total - p(model.expected()))).abs() < 0.05,
            "{rise}"
        );

        // time alone carries the model over caution: the moment is found without an event
        let at = rises_at(&inputs, policy, RiskLevel::None, day(20), day(31)).unwrap();
        assert!(at > day(26) && at < day(28), "{at}");
    }

    /// Peers measured (most customers active on half their days), low engagement weighed
    /// only with the renewal near.
    const RENEWAL: &str = r#"
[score.thresholds]
caution = 30.0
warning = 60.0
danger = 90.0

[score.weights]
inactivity = 0.0
missed_assignments = 0.0
login_drop = 0.0
content_drop = 0.0
support_tickets = 0.0
failed_payments = 0.0
nps = 0.0
low_before_renewal = 100.0

[score.peers]
active_share = [0.0, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0]
"#;

    #[test]
    fn a_light_user_is_flagged_as_the_renewal_nears_without_any_event() {
        let rules =
            Rules::from_toml_with_overlay(crate::rules::DEFAULT_RULES_TOML, RENEWAL).unwrap();
        let policy = rules.default_policy();
        // active one day in ten since October 1st: never quieter than their own usual
        let mut activity = Activity::default();
        for d in (1..=30).step_by(10) {
            activity.record(day(d), Mark::Login);
        }
        let renews_at = day(30) + Duration::days(10);
        let inputs = Inputs {
            renews_at: Some(renews_at),
            ..quiet_inputs(&activity)
        };
        assert_eq!(
            score(&inputs, policy, day(21)).total,
            0.0,
            "renewal 19 days away"
        );
        let near = score(&inputs, policy, day(30));
        assert!(near.total >= 30.0, "{near:?}");
        assert_eq!(near.contributions[0].signal, Signal::LowBeforeRenewal);
        // the sweep finds the moment the window opens, 14 days before the renewal
        let at = rises_at(&inputs, policy, RiskLevel::None, day(21), day(30)).unwrap();
        assert_eq!(at, renews_at - Duration::days(14));
        // a heavy user is not flagged, nor anyone after the renewal date passed
        let mut heavy = Activity::default();
        for d in 1..=30 {
            heavy.record(day(d), Mark::Login);
        }
        let heavy = Inputs {
            renews_at: Some(renews_at),
            ..quiet_inputs(&heavy)
        };
        assert_eq!(score(&heavy, policy, day(30)).total, 0.0);
        assert_eq!(
            score(&inputs, policy, renews_at + Duration::days(1)).total,
            0.0
        );
    }

    #[test]
    fn a_model_that_does_not_hold_together_is_refused_at_load_naming_the_key() {
        let broken = MODEL.replacen("left = [1, 0, 0]", "left = [0, 0, 0]", 1);
        let err =
            Rules::from_toml_with_overlay(crate::rules::DEFAULT_RULES_TOML, &broken).unwrap_err();
        assert!(err.to_string().contains("score.model.trees[0]"), "{err}");
    }
}

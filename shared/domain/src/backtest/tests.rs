//! The backtest on a log small enough to work out by hand (default rules, 15-minute sweep,
//! 72-hour lead, 30-day window).

use super::*;
use crate::{CustomerId, RiskLevel};
use chrono::{DateTime, Utc};

/// The log of `events/backtest/events.jsonl`:
/// A: pays, logs in once, goes quiet, asks for a refund 19 days later.
/// B: pays, logs in once, goes quiet for 8 days (a false alarm), then logs in every 6 days.
/// C: pays, logs in every day, cancels on day 20 without ever being flagged.
const LOG: &str = include_str!("../../../../events/backtest/events.jsonl");
/// `events/backtest/labels.jsonl`: the same churns, as the business would record them.
const LABELS: &str = include_str!("../../../../events/backtest/labels.jsonl");

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn run(labels: Option<&[Label]>) -> (Replay, Metrics) {
    let events = read_events(LOG.as_bytes()).unwrap();
    let rules = Rules::embedded().unwrap();
    backtest(
        &events,
        labels,
        &rules,
        &ReplayConfig::default(),
        &MetricsConfig::default(),
    )
}

#[test]
fn the_timeline_follows_the_clock() {
    let (replay, _) = run(None);
    let a = &replay.journeys[0];
    let levels: Vec<(DateTime<Utc>, RiskLevel)> = a.risk.iter().map(|p| (p.at, p.level)).collect();
    assert_eq!(
        levels,
        vec![
            (t("2026-01-08T01:00:00Z"), RiskLevel::Caution),
            (t("2026-01-11T01:00:00Z"), RiskLevel::Warning),
            (t("2026-01-15T01:00:00Z"), RiskLevel::Danger),
            (t("2026-01-20T00:00:00Z"), RiskLevel::None),
        ]
    );
    assert_eq!(a.churns[0].how.as_deref(), Some("refund_requested"));
    assert_eq!(replay.until, t("2026-02-02T00:00:00Z"));
}

#[test]
fn the_metrics_equal_the_ones_worked_out_by_hand() {
    let (_, m) = run(None);
    assert_eq!((m.customers, m.churns, m.churned_customers), (3, 2, 2));
    // A is caught at every level (first flag 287 h ahead, danger 119 h); C never.
    for level in [RiskLevel::Caution, RiskLevel::Warning, RiskLevel::Danger] {
        assert_eq!(m.recall_at(level), 0.5, "{level:?}");
    }
    // A's episode ends in churn (right); B's ends when B logs in again (false alarm).
    assert_eq!((m.episodes, m.right_episodes, m.false_alarms), (2, 1, 1));
    assert_eq!(m.undecided_episodes, 0);
    assert_eq!(m.precision, Some(0.5));
    // three customers watched 32 days each: 3.2 customer-months, one false alarm
    assert_eq!(m.customer_months, 3.2);
    assert_eq!(m.false_alarms_per_100_customer_months, 31.25);
    assert_eq!((m.lead_times.flagged, m.lead_times.not_flagged), (1, 1));
    assert_eq!(m.lead_times.percentiles_hours["p50"], 287.0);
    let bucket = |name: &str| {
        m.lead_times
            .buckets
            .iter()
            .find(|(b, _)| b == name)
            .unwrap()
            .1
    };
    assert_eq!(bucket("7–14 d"), 1);
}

#[test]
fn labels_from_the_business_replace_the_replays_own_churns() {
    // The business says B left on 10 January: B's flag had ended the day before, so it is
    // not caught, and only a flag open at the churn counts.
    let labels = [Label {
        customer_id: CustomerId::new("b").unwrap(),
        churned_at: t("2026-01-10T00:00:00Z"),
        how: None,
    }];
    let (_, m) = run(Some(&labels));
    assert_eq!(m.churns, 1);
    assert_eq!(m.recall_at(RiskLevel::Caution), 0.0);
    // nor at risk in time: B's flag (8 January, 01:00) came under 72 h before the churn
    assert_eq!(m.at_risk_before, Some(0.0));
    let later = [Label {
        churned_at: t("2026-01-12T00:00:00Z"),
        ..labels[0].clone()
    }];
    // two days later the same flag, over by then, was in time: at risk before, not caught
    let (_, m) = run(Some(&later));
    assert_eq!(m.at_risk_before, Some(1.0));
    assert_eq!(m.recall_at(RiskLevel::Caution), 0.0);
    // A's episode has no labelled churn within 30 days: now a false alarm too
    assert_eq!(m.false_alarms, 2);
    assert_eq!(m.lead_times.not_flagged, 1);
}

#[test]
fn the_labels_file_says_what_the_replay_found() {
    let labels = read_labels(LABELS.as_bytes()).unwrap();
    assert_eq!(run(Some(&labels)).1, run(None).1);
}

#[test]
fn the_same_log_gives_the_same_report() {
    let (r1, m1) = run(None);
    let (r2, m2) = run(None);
    assert_eq!(r1, r2);
    assert_eq!(m1, m2);
    assert!(report::table(&m1).contains("false alarms per 100 customers per month 31.25"));
}

#[test]
fn recall_is_split_by_how_the_customer_left() {
    let (_, m) = run(None);
    assert_eq!(m.recall_by_way.len(), 1, "{:?}", m.recall_by_way);
    assert_eq!(
        (m.recall_by_way[0].way.as_str(), m.recall_by_way[0].churns),
        ("requested", 2)
    );
    // C, who never was flagged, left silently according to the business
    let mut labels = read_labels(LABELS.as_bytes()).unwrap();
    for l in &mut labels {
        if l.customer_id.as_str() == "c" {
            l.how = Some("inactivity".into());
        }
    }
    let (_, m) = run(Some(&labels));
    let share = |way: &str| {
        let w = m.recall_by_way.iter().find(|w| w.way == way).unwrap();
        (w.churns, w.recall[0].share)
    };
    assert_eq!(share("requested"), (1, Some(1.0)));
    assert_eq!(share("silent"), (1, Some(0.0)));
    assert!(report::table(&m).contains("of the 1 silent: caution 0.0 %"));
}

#[test]
fn a_message_is_as_right_as_its_episode() {
    let (replay, m) = run(None);
    let sent: Vec<usize> = replay.journeys.iter().map(|j| j.messages.len()).collect();
    // A: caution, warning and danger, all before the refund (right); B: the caution of the
    // false alarm, judged wrong when B logs in again, not 30 days later; C: none
    assert_eq!(sent, vec![3, 1, 0]);
    assert_eq!((m.messages, m.messages_to_non_churners), (4, 1));
    let per_100 = 100.0 / m.customer_months;
    assert!((m.messages_to_non_churners_per_100_customer_months - per_100).abs() < 1e-3);
    assert_eq!(
        m.spent(),
        m.messages_to_non_churners_per_100_customer_months
    );
}

//! Messages that do not nag, as properties over random customers replayed with the sweep: the
//! fatigue limit holds in every window, a flag soon after a recovery continues its episode, and
//! the backtest counts the worker's episodes, not episodes of its own.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test: a panic is its failure report"
)]

use chrono::Duration;
use journey_domain::backtest::{MetricsConfig, ReplayConfig, backtest};
use journey_domain::testing::{Events, krw, t};
use journey_domain::{Event, EventKind, RiskLevel, Rules, SignUpPlan};
use proptest::prelude::*;

/// The shipped rules with the fatigue limits given.
fn rules(max_messages: u32, window_days: u32, continue_days: u32) -> Rules {
    let overlay = format!(
        "[fatigue]\nmax_messages = {max_messages}\nwindow_days = {window_days}\n\
         continue_days = {continue_days}\n"
    );
    Rules::from_toml_with_overlay(journey_domain::rules::DEFAULT_RULES_TOML, &overlay)
        .expect("fatigue overlay loads")
}

/// A customer who pays monthly and is active on the given days (hours after the start):
/// bursts and gaps of any length, so they are flagged, recover and are flagged again.
fn customer(name: &str, active_hours: &[i64], tickets: &[i64]) -> Vec<Event> {
    let start = t("2026-03-01T09:00:00Z");
    let mut events = Events::new(name);
    let mut out = vec![events.at(
        start,
        EventKind::SignedUp {
            plan: SignUpPlan::Trial,
        },
    )];
    for month in 0..5 {
        out.push(events.at(
            start + Duration::days(30 * month),
            EventKind::PaymentSucceeded {
                amount: krw(29_000),
                renews_at: None,
            },
        ));
    }
    for h in active_hours {
        out.push(events.at(start + Duration::hours(*h), EventKind::Login));
    }
    for h in tickets {
        out.push(events.at(start + Duration::hours(*h), EventKind::SupportTicket));
    }
    out
}

fn population() -> impl Strategy<Value = Vec<(Vec<i64>, Vec<i64>)>> {
    let hours: i64 = 150 * 24;
    prop::collection::vec(
        (
            prop::collection::vec(0..hours, 0..40),
            prop::collection::vec(0..hours, 0..6),
        ),
        1..6,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn no_customer_hears_more_than_the_limit_and_the_backtest_counts_the_workers_episodes(
        people in population(),
        max_messages in 1u32..4,
        window_days in 7u32..45,
        continue_days in 0u32..21,
    ) {
        let rules = rules(max_messages, window_days, continue_days);
        let events: Vec<Event> = people
            .iter()
            .enumerate()
            .flat_map(|(n, (active, tickets))| customer(&format!("f{n}"), active, tickets))
            .collect();
        let (replayed, metrics) =
            backtest(&events, None, &rules, &ReplayConfig::default(), &MetricsConfig::default());
        let window = Duration::days(window_days.into());
        let continued = Duration::days(continue_days.into());
        let mut episodes = 0;
        for journey in &replayed.journeys {
            // the limit, in every window: any max_messages + 1 messages span at least the window
            let sent = &journey.messages;
            for pair in sent.windows(max_messages as usize + 1) {
                prop_assert!(
                    pair[max_messages as usize] - pair[0] >= window,
                    "{} messages within {window_days} days: {sent:?}",
                    max_messages + 1
                );
            }
            // a flag after a recovery: the same episode within continue_days, a new one after
            let mut last: Option<(chrono::DateTime<chrono::Utc>, &str, u32)> = None;
            let mut numbers = std::collections::BTreeSet::new();
            for point in &journey.risk {
                if point.level != RiskLevel::None {
                    numbers.insert(point.episode);
                    if let Some((at, reason, number)) = last.filter(|(_, _, n)| *n > 0)
                        && reason.starts_with("recovered")
                    {
                        let same = point.at - at < continued;
                        prop_assert_eq!(
                            point.episode == number,
                            same,
                            "flag at {} after a recovery at {}",
                            point.at,
                            at
                        );
                    }
                }
                last = Some((point.at, &point.reason, point.episode));
            }
            episodes += numbers.len();
        }
        prop_assert_eq!(metrics.episodes, episodes, "the backtest's episodes are the worker's");
    }
}

//! The uplift the counters estimate recovers the truth of a population that answers messages
//! with a known effect per variant (`journey_tests::experiment`): the 95 % intervals hold it,
//! the verdicts name the variant that works and the one that hurts, Thompson sampling moves
//! the allocation to the better variant, and the backtest's replay of the log counts the same.
//! No emulator: the domain alone.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use journey::backtest::{ReplayConfig, replay};
use journey::domain::experiment::{Comparison, Verdict};
use journey::domain::rules::ExperimentRules;
use journey_tests::experiment::{Settings, TEMPLATE, Truth, rules, run};

fn settings(seed: u64, adaptive: bool) -> Settings {
    Settings {
        customers: 1500,
        join_days: 90,
        seed,
        adaptive,
        truth: Truth::default(),
    }
}

fn comparisons(seed: u64) -> Vec<Comparison> {
    let judging = ExperimentRules::default().judging();
    run(&settings(seed, false))
        .experiments()
        .comparisons(judging)
}

fn of<'a>(all: &'a [Comparison], variant: &str) -> &'a Comparison {
    all.iter()
        .find(|c| c.template == TEMPLATE && c.variant.as_deref() == Some(variant))
        .unwrap()
}

#[test]
fn the_intervals_hold_the_true_uplift_and_the_verdicts_name_what_works() {
    let truth = Truth::default();
    let (mut inside, mut total) = (0, 0);
    let mut works_a = 0;
    let mut harms_c = 0;
    let seeds = 1..=8;
    for seed in seeds.clone() {
        let all = comparisons(seed);
        for c in &all {
            let Some(u) = c.recovery_uplift else { continue };
            total += 1;
            if u.contains(truth.uplift(&c.template, c.variant.as_deref())) {
                inside += 1;
            }
        }
        works_a += usize::from(of(&all, "a").verdict == Verdict::Works);
        harms_c += usize::from(of(&all, "c").verdict == Verdict::Harms);
        assert_ne!(
            of(&all, "b").verdict,
            Verdict::Works,
            "b does nothing (seed {seed})"
        );
        let churn = of(&all, "a").churn_reduction.unwrap();
        assert!(
            churn.estimate > 0.0,
            "a cuts churn (seed {seed}): {churn:?}"
        );
    }
    let share = f64::from(inside) / f64::from(total);
    // 95 % intervals: over 64 of them, fewer than 85 % holding the truth would be a defect
    assert!(share >= 0.85, "{inside}/{total} intervals hold the truth");
    assert!(works_a >= 7, "a works in {works_a} of 8 seeds");
    assert!(harms_c >= 6, "c harms in {harms_c} of 8 seeds");
}

#[test]
fn not_enough_data_is_said_as_such() {
    let tiny = Settings {
        customers: 60,
        ..settings(3, false)
    };
    let judging = ExperimentRules::default().judging();
    let all = run(&tiny).experiments().comparisons(judging);
    assert!(!all.is_empty());
    assert!(
        all.iter().all(|c| c.verdict == Verdict::NotEnoughData),
        "{all:?}"
    );
}

#[test]
fn thompson_sampling_moves_the_allocation_to_the_variant_that_works() {
    let sim = run(&settings(1, true));
    let (_, last) = sim.allocations.last().unwrap();
    assert!(last["a"] > 0.8, "{last:?}");
    let treated = sim.experiments().variants(TEMPLATE);
    assert!(
        treated["a"].assigned > treated["b"].assigned + treated["c"].assigned,
        "{treated:?}"
    );
    // the floor keeps exploring: b and c still get customers late in the run
    let late = sim
        .tallies
        .iter()
        .filter(|t| t.template == TEMPLATE && t.cohort.as_deref() >= Some("2026-04"))
        .filter(|t| t.variant.as_deref() == Some("c"))
        .count();
    assert!(late > 0, "c is still explored");
}

#[test]
fn the_backtest_replays_the_log_to_the_same_assignments() {
    let sim = run(&settings(2, false));
    let config = ReplayConfig {
        interval: chrono::Duration::minutes(15),
        until: None,
        sample_every: None,
    };
    let rules = rules(&Default::default());
    let replayed = replay(&sim.events, &rules, &config);
    // the backtest's report shows each message against its control group
    let report = journey::backtest::report::experiments(&replayed.experiments(), &rules, sim.end);
    let offer_a = report
        .lines()
        .find(|l| l.starts_with("special_offer a"))
        .unwrap();
    assert!(offer_a.ends_with("works"), "{report}");
    let judging = ExperimentRules::default().judging();
    let live = sim.experiments().comparisons(judging);
    let again = replayed
        .experiments()
        .settled(sim.end, ExperimentRules::default().outcome_days)
        .comparisons(judging);
    for variant in ["a", "b", "c"] {
        let (l, r) = (of(&live, variant), of(&again, variant));
        assert_eq!(l.treated.assigned, r.treated.assigned, "{variant}");
        assert_eq!(l.treated.recovered, r.treated.recovered, "{variant}");
        assert_eq!(l.control, r.control, "{variant}");
    }
}

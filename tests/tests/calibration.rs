//! Calibration on a synthetic population (tests/src/population/): the fitted weights catch
//! more churners at least 72 hours ahead than the default rules, at no more false alarms, on
//! customers the fit never saw. The figures printed here are the ones in docs/detection.md
//! (`cargo test -p journey-tests --test calibration -- --nocapture`).

use calibrate::{Calibration, Settings, propose};
use journey::backtest::{Metrics, report};
use journey::backtest::{MetricsConfig, ReplayConfig, backtest};
use journey::domain::RiskLevel;
use journey::domain::Rules;
use journey::domain::rules::DEFAULT_RULES_TOML;
use journey::ports::ExportedLog;
use journey::rules_versions::judge;
use journey_tests::population::{World, generate_programs, generate_world};

fn log(customers: usize) -> ExportedLog {
    world_log(World::Course, customers)
}

fn world_log(world: World, customers: usize) -> ExportedLog {
    let p = generate_world(world, customers, 120, 7);
    ExportedLog {
        events: p.events,
        labels: p.labels,
    }
}

fn row(name: &str, m: &Metrics) -> String {
    format!(
        "| {name} | {:.1} % | {:.1} % | {:.1} % | {} | {:.2} | {:.2} | {} | {} |",
        m.recall_at(RiskLevel::Caution) * 100.0,
        m.recall_at(RiskLevel::Warning) * 100.0,
        m.recall_at(RiskLevel::Danger) * 100.0,
        m.precision
            .map_or("–".into(), |p| format!("{:.1} %", p * 100.0)),
        m.false_alarms_per_100_customer_months,
        m.messages_to_non_churners_per_100_customer_months,
        m.lead_times
            .percentiles_hours
            .get("p50")
            .map_or("–".into(), |h| format!("{h:.0} h")),
        m.at_risk_before
            .map_or("–".into(), |p| format!("{:.1} %", p * 100.0)),
    )
}

#[test]
fn calibration_catches_more_churners_early_at_no_more_false_alarms() {
    let log = log(700);
    let started = std::time::Instant::now();
    let proposal = propose(&log, DEFAULT_RULES_TOML, "", &Settings::default())
        .unwrap()
        .unwrap_or_else(|why| panic!("no proposal: {why}"));
    println!(
        "calibrated in {:.1?} on {} events\n",
        started.elapsed(),
        log.events.len()
    );
    println!(
        "proposed overlay: {} bytes, {:?} trees\n{}",
        proposal.overlay.len(),
        proposal.model_trees,
        proposal
            .business_overlay
            .lines()
            .take(40)
            .collect::<Vec<_>>()
            .join("\n")
    );
    println!(
        "| rules | caught ≥ 72 h at caution | at warning | at danger | precision | false alarms / 100 customer-months | messages to non-churners / 100 customer-months | median lead | at risk in the 30 days before |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    println!(
        "{}",
        row("default, training part", &proposal.active_training)
    );
    println!("{}", row("calibrated, training part", &proposal.training));
    println!("{}", row("default, holdout", &proposal.active_holdout));
    println!("{}", row("calibrated, holdout", &proposal.holdout));
    println!(
        "\nholdout: from {} to the end of the history",
        proposal.holdout_from
    );
    println!("\n{}", report::table(&proposal.holdout));
    println!(
        "AUC on the holdout: calibrated {:?}, default {:?}",
        proposal.auc, proposal.active_auc
    );
    // the learned score separates churners from stayers better than chance, and than before
    assert!(proposal.auc.is_some_and(|a| a > 0.5), "{:?}", proposal.auc);
    let (before, after) = (&proposal.active_holdout, &proposal.holdout);
    assert!(
        after.recall_at(RiskLevel::Caution) > before.recall_at(RiskLevel::Caution),
        "recall did not rise on the holdout"
    );
    // the budget is spent on retention messages to customers who stayed (not on episodes)
    let budget = proposal.goals.false_alarm_budget.unwrap_or(before.spent());
    assert!(after.messages > 0, "the rules send retention messages");
    assert!(
        after.spent() <= budget + 1e-9,
        "{} over {budget}",
        after.spent()
    );
    assert_eq!(judge(after, before, &proposal.goals), Ok(()));
    // danger is raised until it is right as often as the operator asked, on the training months
    assert!(
        proposal
            .training
            .precision_at(RiskLevel::Danger)
            .is_some_and(|p| p >= proposal.goals.danger_precision),
        "danger short of its precision goal"
    );
    // what is stored is what is judged: the overlay's text, loaded as the transition worker
    // loads it and replayed, gives the proposal's figures (the weights or the trees: since the
    // budget is spent on messages, either may win here)
    println!("learned model chosen: {}", proposal.model_trees.is_some());
    let rules = Rules::from_toml_with_overlay(DEFAULT_RULES_TOML, &proposal.overlay).unwrap();
    let metrics = MetricsConfig {
        from: Some(proposal.holdout_from),
        ..MetricsConfig::default()
    };
    let (_, replayed) = backtest(
        &log.events,
        Some(&log.labels),
        &rules,
        &ReplayConfig::default(),
        &metrics,
    );
    assert_eq!(&replayed, after);
}

#[test]
fn too_little_history_gives_no_proposal_and_says_why() {
    let log = log(120);
    let outcome = propose(&log, DEFAULT_RULES_TOML, "", &Settings::default()).unwrap();
    let Err(Calibration::TooLittleHistory {
        churned,
        retained,
        min,
    }) = outcome
    else {
        panic!("expected too little history, got {outcome:?}");
    };
    assert!(churned < 100 && retained < 100 && min == 100);
    let message = Calibration::TooLittleHistory {
        churned,
        retained,
        min,
    }
    .to_string();
    assert!(message.contains("at least 100"), "{message}");
}

/// The fitness club (the seed's 3 / 7 / 10-day clock) and the self-serve tool (long holidays,
/// noisy tickets, slow fades) start far over the false-alarm budget. Calibration must still
/// find rules that come closer to it, or keep it, while catching no fewer — and say so on the
/// later months it never saw.
#[test]
fn on_other_businesses_calibration_keeps_the_budget_and_the_guard_holds() {
    for world in [World::Fitness, World::SelfServe] {
        let log = world_log(world, 500);
        let proposal = propose(
            &log,
            DEFAULT_RULES_TOML,
            world.rules_overlay(),
            &Settings::default(),
        )
        .unwrap()
        .unwrap_or_else(|why| panic!("{}: no proposal: {why}", world.name()));
        println!("{}:\n{}", world.name(), proposal.overlay);
        println!(
            "{}",
            row("rules in force, holdout", &proposal.active_holdout)
        );
        println!("{}", row("calibrated, holdout", &proposal.holdout));
        println!(
            "AUC: calibrated {:?}, rules in force {:?}",
            proposal.auc, proposal.active_auc
        );
        let (before, after) = (&proposal.active_holdout, &proposal.holdout);
        // what the budget is spent on: retention messages to customers who stayed
        assert!(
            after.spent() <= before.spent().max(20.0) + 1e-9,
            "{}: more unwanted messages than the budget or the rules in force ({:.2} against {:.2})",
            world.name(),
            after.spent(),
            before.spent()
        );
        assert!(
            after.recall_at(RiskLevel::Caution) >= 0.8 * before.recall_at(RiskLevel::Caution),
            "{}: quieter, but blind",
            world.name()
        );
        assert_eq!(
            judge(
                &proposal.training,
                &proposal.active_training,
                &proposal.goals
            ),
            Ok(()),
            "{}: the proposal must pass the guard on the training months",
            world.name()
        );
    }
}

/// The worlds the rules were not developed on ([`World::HELD_OUT`]): renewal churn, where
/// leavers never go quiet, and a mixed business. Calibration learns the peer tables and the
/// weights on one history; the proposal is judged on that history's later months and on the
/// whole of a second business of the same kind (another seed: customers it never saw).
#[test]
fn on_worlds_the_rules_were_not_developed_on_calibration_catches_more_within_the_budget() {
    for world in World::HELD_OUT {
        let log = world_log(world, 500);
        let started = std::time::Instant::now();
        let proposal = propose(&log, DEFAULT_RULES_TOML, "", &Settings::default())
            .unwrap()
            .unwrap_or_else(|why| panic!("{}: no proposal: {why}", world.name()));
        println!(
            "{} ({} events, calibrated in {:.1?}):\n{}",
            world.name(),
            log.events.len(),
            started.elapsed(),
            proposal.business_overlay
        );
        let (before, after) = (&proposal.active_holdout, &proposal.holdout);
        println!(
            "AUC on the later months: calibrated {:?}, rules in force {:?}",
            proposal.auc, proposal.active_auc
        );
        println!("{}", row("rules in force, later months", before));
        println!("{}", row("calibrated, later months", after));
        let other = generate_world(world, 500, 120, 8);
        let on_other = |overlay: &str| {
            let rules = Rules::from_toml_with_overlay(DEFAULT_RULES_TOML, overlay).unwrap();
            backtest(
                &other.events,
                Some(&other.labels),
                &rules,
                &ReplayConfig::default(),
                &MetricsConfig::default(),
            )
            .1
        };
        let (shipped, learned) = (on_other(""), on_other(&proposal.overlay));
        println!("{}", row("rules in force, new customers", &shipped));
        println!("{}", row("calibrated, new customers", &learned));
        // the budget holds on both (the caught figures are printed: calibration trades recall
        // for far fewer messages here, and the guard refuses what catches fewer — a known gap,
        // docs/detection.md)
        for (name, before, after) in [
            ("later months", before, after),
            ("new customers", &shipped, &learned),
        ] {
            assert!(
                after.spent() <= before.spent().max(20.0) + 1e-9,
                "{} ({name}): {:.2} messages to non-churners",
                world.name(),
                after.spent()
            );
        }
        // a proposal that catches fewer on the later months is never activated, unless the
        // rules in force break the budget and it keeps it (what the operator asked for)
        let verdict = judge(after, before, &proposal.goals);
        println!("guard: {verdict:?}");
        let budget = proposal.goals.false_alarm_budget.unwrap_or(before.spent());
        if before.spent() <= budget
            && after.recall_at(RiskLevel::Caution) < before.recall_at(RiskLevel::Caution)
        {
            assert!(
                verdict.is_err(),
                "{}: a worse proposal passed",
                world.name()
            );
        }
    }
}

/// One business with two programs of different mechanics: a course, and a fitness club on
/// the seed's 3-day clock (its own `[programs.fitness]` section). Each has enough outcomes, so
/// each may get rules of its own; the fitness club's must pass the guard against the one set
/// of rules learned for the whole business, on its later period.
#[test]
fn a_program_with_enough_outcomes_gets_rules_of_its_own_that_do_better_there() {
    let p = generate_programs(&[(World::Course, 200), (World::Fitness, 200)], 120, 7);
    let log = ExportedLog {
        events: p.events,
        labels: p.labels,
    };
    let active = World::Fitness.program_overlay();
    let settings = Settings {
        min_outcomes: 50,
        ..Settings::default()
    };
    let proposal = propose(&log, DEFAULT_RULES_TOML, &active, &settings)
        .unwrap()
        .unwrap_or_else(|why| panic!("no proposal: {why}"));
    println!(
        "programs with rules of their own: {:?}\n{}",
        proposal.programs, proposal.overlay
    );
    assert!(
        proposal.programs.contains(&"fitness".to_string()),
        "{:?}",
        proposal.programs
    );
    let fitness: Vec<_> = log
        .events
        .iter()
        .filter(|e| e.customer_id.as_str().starts_with("fit-"))
        .cloned()
        .collect();
    let labels: Vec<_> = log
        .labels
        .iter()
        .filter(|l| l.customer_id.as_str().starts_with("fit-"))
        .cloned()
        .collect();
    let later = |overlay: &str| {
        let rules = Rules::from_toml_with_overlay(DEFAULT_RULES_TOML, overlay).unwrap();
        let metrics = MetricsConfig {
            from: Some(proposal.holdout_from),
            ..MetricsConfig::default()
        };
        backtest(
            &fitness,
            Some(&labels),
            &rules,
            &ReplayConfig::default(),
            &metrics,
        )
        .1
    };
    let (business, own) = (later(&proposal.business_overlay), later(&proposal.overlay));
    println!("{}", row("fitness, the business's rules", &business));
    println!("{}", row("fitness, its own rules", &own));
    assert_eq!(
        judge(&own, &business, &proposal.goals),
        Ok(()),
        "its own rules must pass the guard against the business's, on its later period"
    );
}

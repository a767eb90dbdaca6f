use super::*;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 5e-4
}

#[test]
fn wilson_matches_the_published_values() {
    // Newcombe (1998), table I: 0/10 and 1/29
    let zero = wilson(0, 10).unwrap();
    assert!(close(zero.low, 0.0) && close(zero.high, 0.2775), "{zero:?}");
    let one = wilson(1, 29).unwrap();
    assert!(close(one.low, 0.0061) && close(one.high, 0.1718), "{one:?}");
    assert_eq!(wilson(0, 0), None, "no trials: no rate, never 0 %");
}

#[test]
fn newcombe_matches_the_published_example() {
    // Newcombe (1998), method 10, example (a): 56/70 − 48/80 = 0.2000 (0.0524 to 0.3339)
    let d = difference(56, 70, 48, 80).unwrap();
    assert!(close(d.estimate, 0.2), "{d:?}");
    assert!(close(d.low, 0.0524) && close(d.high, 0.3339), "{d:?}");
    // (h): 10/10 − 0/10 = 1 (0.6075 to 1.0000)
    let d = difference(10, 10, 0, 10).unwrap();
    assert!(close(d.low, 0.6075) && close(d.high, 1.0), "{d:?}");
}

fn judging() -> Judging {
    Judging {
        min_sample: 30,
        min_uplift: 0.02,
    }
}

fn group(assigned: u64, recovered: u64) -> Group {
    Group {
        assigned,
        recovered,
        churned: 0,
    }
}

#[test]
fn verdicts_say_what_the_interval_allows() {
    let verdict = |t, c| Comparison::new("m", None, t, c, judging()).verdict;
    assert_eq!(
        verdict(group(20, 15), group(400, 100)),
        Verdict::NotEnoughData
    );
    assert_eq!(
        verdict(group(400, 100), Group::default()),
        Verdict::NotEnoughData
    );
    assert_eq!(verdict(group(400, 200), group(400, 100)), Verdict::Works);
    assert_eq!(verdict(group(400, 100), group(400, 200)), Verdict::Harms);
    assert_eq!(
        verdict(group(100, 30), group(100, 25)),
        Verdict::NoEvidenceYet
    );
    assert_eq!(
        verdict(group(20_000, 5_000), group(20_000, 5_010)),
        Verdict::DoesNotWork
    );
}

#[test]
fn counters_read_back_what_tallies_write() {
    let treated = Tally {
        cohort: Some("2026-11".into()),
        ..Tally::count("special_offer", Some("a"), TallyMetric::Treated)
    };
    let value = Tally {
        cohort: Some("2026-11".into()),
        by: Some("KRW".into()),
        amount: 99_000,
        ..Tally::count("special_offer", Some("a"), TallyMetric::TreatedValue)
    };
    let owner = Tally {
        cohort: Some("2026-11".into()),
        by: Some("kim@example.com@team".into()),
        ..Tally::count("danger_alert", None, TallyMetric::Alerted)
    };
    assert_eq!(treated.attribute(), "treated@2026-11");
    assert_eq!(value.attribute(), "treated_value@2026-11@KRW");
    let name = owner.attribute();
    let key = AttributeKey::parse(&name).unwrap();
    assert_eq!(
        key.by,
        Some("kim@example.com@team"),
        "an owner may hold anything"
    );
    assert_eq!(
        Tally::count("t", None, TallyMetric::Sent).attribute(),
        "sent"
    );
    let counters = Counters::from_attributes([
        (treated.attribute().as_str(), 3),
        (value.attribute().as_str(), 297_000),
        ("sent", 3),
        ("no_such_metric@2026-11", 9),
    ]);
    let m = &counters.months["2026-11"];
    assert_eq!(m.treated.assigned, 3);
    assert_eq!(m.value["KRW"], 297_000);
}

fn month_counts(treated: (u64, u64), held_out: (u64, u64)) -> MonthCounts {
    MonthCounts {
        treated: Group {
            assigned: treated.0,
            recovered: 0,
            churned: treated.1,
        },
        held_out: Group {
            assigned: held_out.0,
            recovered: 0,
            churned: held_out.1,
        },
        value: [("KRW".to_string(), treated.0 as i64 * 10_000)].into(),
    }
}

#[test]
fn churns_prevented_are_the_churn_gap_times_the_treated() {
    let rows = [
        (
            ("special_offer".to_string(), Some("a".to_string())),
            Counters {
                months: [("2026-10".to_string(), month_counts((900, 180), (0, 0)))].into(),
            },
        ),
        (
            ("special_offer".to_string(), None),
            Counters {
                months: [("2026-10".to_string(), month_counts((0, 0), (100, 30)))].into(),
            },
        ),
    ];
    let experiments = Experiments { rows: rows.into() };
    let saved = experiments.saved();
    assert_eq!(saved.len(), 2, "the month and all: {saved:?}");
    let october = &saved[0];
    let prevented = october.churns_prevented.unwrap();
    // (30 % − 20 %) × 900
    assert!(close(prevented.estimate, 90.0), "{prevented:?}");
    assert!(prevented.low < 90.0 && prevented.high > 90.0);
    assert!(close(october.revenue["KRW"].estimate, 900_000.0));
    let comparisons = experiments.comparisons(judging());
    assert_eq!(comparisons.len(), 1, "the held-out group is not a message");
    assert_eq!(comparisons[0].control.assigned, 100);
    let churn = comparisons[0].churn_reduction.unwrap();
    assert!(close(churn.estimate, 0.1), "{churn:?}");
}

#[test]
fn alert_outcomes_are_per_template_and_owner() {
    let attributes: BTreeMap<String, i64> = [
        ("alerted@2026-11@kim".to_string(), 4),
        ("alerted@2026-12@kim".to_string(), 1),
        ("contacted@2026-11@kim".to_string(), 2),
        ("contacted_by_owner@2026-11@kim".to_string(), 1),
        ("contact_minutes@2026-11@kim".to_string(), 150),
        ("alert_recovered@2026-11@kim".to_string(), 1),
        ("alerted@2026-11@unassigned".to_string(), 2),
        ("sent".to_string(), 7),
    ]
    .into();
    let rows = alert_outcomes([("danger_alert", &attributes)]);
    assert_eq!(rows.len(), 2);
    let kim = &rows[0];
    assert_eq!(
        (kim.owner.as_str(), kim.alerted, kim.contacted),
        ("kim", 5, 2)
    );
    assert_eq!(kim.mean_minutes_to_contact, Some(75.0));
    assert_eq!(kim.contacted_by_owner, 1);
    assert_eq!(kim.recovered, 1);
    assert_eq!(
        rows[1].mean_minutes_to_contact, None,
        "never contacted: no time"
    );
}

#[test]
fn thompson_shares_follow_the_evidence() {
    let even = probability_best(&[group(0, 0), group(0, 0)]);
    assert!(close(even[0], 0.5) && close(even[1], 0.5), "{even:?}");
    let clear = probability_best(&[group(400, 200), group(400, 100)]);
    assert!(clear[0] > 0.999, "{clear:?}");
    let unsure = probability_best(&[group(20, 6), group(20, 5)]);
    assert!(unsure[0] > 0.5 && unsure[0] < 0.75, "{unsure:?}");
    let three = probability_best(&[group(300, 90), group(300, 60), group(300, 30)]);
    assert!(three[0] > three[1] && three[1] > three[2], "{three:?}");
    assert!(close(three.iter().sum::<f64>(), 1.0));
    // a replay gets exactly the same shares
    assert_eq!(
        three,
        probability_best(&[group(300, 90), group(300, 60), group(300, 30)])
    );
}

#[test]
fn tallies_from_a_replay_make_the_same_comparisons() {
    let tally = |metric, variant: Option<&str>| Tally {
        cohort: Some("2026-11".into()),
        ..Tally::count("special_offer", variant, metric)
    };
    let mut tallies = Vec::new();
    for _ in 0..40 {
        tallies.push(tally(TallyMetric::Treated, Some("a")));
        tallies.push(tally(TallyMetric::HeldOut, None));
    }
    for _ in 0..30 {
        tallies.push(tally(TallyMetric::TreatedRecovered, Some("a")));
    }
    for _ in 0..10 {
        tallies.push(tally(TallyMetric::HeldOutRecovered, None));
    }
    let experiments = Experiments::from_tallies(&tallies);
    let c = &experiments.comparisons(judging())[0];
    assert_eq!((c.treated.assigned, c.treated.recovered), (40, 30));
    assert_eq!((c.control.assigned, c.control.recovered), (40, 10));
    assert_eq!(c.verdict, Verdict::Works);
    assert_eq!(experiments.variants("special_offer")["a"].assigned, 40);
}

#[test]
fn only_months_whose_outcomes_are_all_in_are_judged() {
    let rows = [(
        ("special_offer".to_string(), Some("a".to_string())),
        Counters {
            months: [
                ("2026-10".to_string(), month_counts((100, 10), (0, 0))),
                ("2026-11".to_string(), month_counts((100, 0), (0, 0))),
            ]
            .into(),
        },
    )];
    let experiments = Experiments { rows: rows.into() };
    let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    assert_eq!(settles_at("2026-10", 30), Some(at("2026-12-01T00:00:00Z")));
    assert_eq!(settles_at("2026-12", 30), Some(at("2027-01-31T00:00:00Z")));
    let settled = experiments.settled(at("2026-12-15T00:00:00Z"), 30);
    let months: Vec<&String> = settled
        .rows
        .values()
        .flat_map(|c| c.months.keys())
        .collect();
    assert_eq!(
        months,
        ["2026-10"],
        "November's assignments may still recover until 30 December"
    );
}

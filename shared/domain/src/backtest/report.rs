//! The backtest's report for people: a few aligned lines, percentages and counts.

use std::fmt::Write;

use super::metrics::Metrics;

/// The metrics as a plain-text table.
pub fn table(m: &Metrics) -> String {
    let mut out = String::new();
    let pct = |x: Option<f64>| x.map_or("–".to_string(), |v| format!("{:.1} %", v * 100.0));
    let _ = writeln!(
        out,
        "customers {}, churns {} ({} customers), {:.1} customer-months",
        m.customers, m.churns, m.churned_customers, m.customer_months
    );
    let _ = writeln!(out, "\nchurns flagged at least {} h ahead", m.lead_hours);
    for r in &m.recall {
        let _ = writeln!(
            out,
            "  {:<8} {:>8}  ({} of {})",
            r.level.as_str(),
            pct(r.share),
            r.caught,
            m.churns
        );
    }
    for w in &m.recall_by_way {
        let levels: Vec<String> = w
            .recall
            .iter()
            .map(|r| format!("{} {}", r.level.as_str(), pct(r.share)))
            .collect();
        let _ = writeln!(
            out,
            "  of the {} {}: {}",
            w.churns,
            w.way,
            levels.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "  at risk at some moment in the {} days before, {} h ahead: {}",
        m.window_days,
        m.lead_hours,
        pct(m.at_risk_before)
    );
    let _ = writeln!(
        out,
        "\nflag episodes {}: right {}, false alarms {}, undecided {}",
        m.episodes, m.right_episodes, m.false_alarms, m.undecided_episodes
    );
    let _ = writeln!(
        out,
        "  precision (churn within {} days, no return) {}",
        m.window_days,
        pct(m.precision)
    );
    for p in &m.level_precision {
        let _ = writeln!(
            out,
            "    of those reaching {:<8} {:>8}  ({} right, {} wrong)",
            p.level.as_str(),
            pct(p.share),
            p.right,
            p.wrong
        );
    }
    let _ = writeln!(
        out,
        "  false alarms per 100 customers per month {:.2}",
        m.false_alarms_per_100_customer_months
    );
    let _ = writeln!(
        out,
        "\nretention messages {}: to customers who did not churn within {} days {}",
        m.messages, m.window_days, m.messages_to_non_churners
    );
    let _ = writeln!(
        out,
        "  per 100 customers per month {:.2}",
        m.messages_to_non_churners_per_100_customer_months
    );
    let lt = &m.lead_times;
    let _ = writeln!(
        out,
        "\nlead time (first flag → churn): {} flagged, {} not flagged",
        lt.flagged, lt.not_flagged
    );
    if !lt.percentiles_hours.is_empty() {
        let ps: Vec<String> = ["p10", "p25", "p50", "p75", "p90"]
            .iter()
            .filter_map(|k| {
                lt.percentiles_hours
                    .get(*k)
                    .map(|v| format!("{k} {v:.0} h"))
            })
            .collect();
        let _ = writeln!(out, "  {}", ps.join(", "));
    }
    for (bucket, n) in &lt.buckets {
        let _ = writeln!(out, "  {bucket:<8} {n:>6}");
    }
    out
}

/// Each message against its control group, as a table, then the churns prevented.
pub fn experiments(
    e: &crate::experiment::Experiments,
    rules: &crate::Rules,
    until: chrono::DateTime<chrono::Utc>,
) -> String {
    use std::fmt::Write as _;
    let settings = &rules.default_policy().experiments;
    let judging = settings.judging();
    let pct = |x: f64| format!("{:+.1}", x * 100.0);
    let interval = |e: Option<crate::experiment::Estimate>| {
        e.map_or("—".to_string(), |e| {
            format!("{} pp ({} … {})", pct(e.estimate), pct(e.low), pct(e.high))
        })
    };
    let mut out = String::from(
        "\nmessage                    treated   held out  recovery uplift (95 %)        churn cut (95 %)              verdict\n",
    );
    for c in e.comparisons_as_of(until, settings.outcome_days, judging) {
        let name = format!("{} {}", c.template, c.variant.as_deref().unwrap_or("-"));
        let _ = writeln!(
            out,
            "{name:<26} {:>7}   {:>8}  {:<29} {:<29} {}",
            c.treated.assigned,
            c.control.assigned,
            interval(c.recovery_uplift),
            interval(c.churn_reduction),
            c.verdict.as_str().replace('_', " ")
        );
    }
    for s in e.settled(until, settings.outcome_days).saved() {
        let Some(p) = s.churns_prevented else {
            continue;
        };
        let _ = writeln!(
            out,
            "churns prevented {:<20} {:<8} {:.1} ({:.1} … {:.1}) of {} treated",
            s.template, s.month, p.estimate, p.low, p.high, s.treated
        );
    }
    out
}

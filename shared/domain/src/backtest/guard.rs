//! The calibration guard: whether a proposal's figures on the later period earn it the place of
//! the rules in force, within the operator's limits (`[calibration]` in the rules).

use crate::RiskLevel;
use crate::rules::CalibrationGoals;

use super::Metrics;

/// Whether a proposal may replace the active rules. It must stay within the operator's
/// budget of retention messages to customers who stayed ([`Metrics::spent`]; without a budget:
/// no more than the rules in force) and catch a larger share of churners ahead of time (at
/// caution, the level that starts an intervention), by at least `goals.min_gain` and by at
/// least `goals.min_churners_gained` churners (two points of 37 is one churner: noise) — unless the rules in force break the budget:
/// then a proposal that keeps it wins, which is what the operator asked for, and so does one
/// that comes closer to it with fewer false alarms while catching no fewer. `Err` says why not.
pub fn judge(proposal: &Metrics, active: &Metrics, goals: &CalibrationGoals) -> Result<(), String> {
    let (p, a) = (
        proposal.recall_at(RiskLevel::Caution),
        active.recall_at(RiskLevel::Caution),
    );
    let (pf, af) = (proposal.spent(), active.spent());
    let (ceiling, of) = match goals.false_alarm_budget {
        Some(b) => (b, "the budget"),
        None => (af, "the rules in force"),
    };
    let over_budget = af > ceiling + 1e-9;
    if pf > ceiling + 1e-9 && !(over_budget && pf < af && p >= a) {
        let what = if proposal.messages > 0 {
            "retention messages to customers who stayed"
        } else {
            "false alarms"
        };
        return Err(format!(
            "more {what}: {pf:.2} per 100 customer-months against {ceiling:.2} ({of})"
        ));
    }
    if over_budget {
        return Ok(()); // closer to the budget than the rules in force, or within it
    }
    let gained = caught(proposal).saturating_sub(caught(active));
    if p <= a || p - a < goals.min_gain - 1e-9 || gained < goals.min_churners_gained {
        return Err(format!(
            "catches too few more churners {}h ahead: {:.1} % against {:.1} %, {gained} more (at least {:.1} points and {} churners more)",
            proposal.lead_hours,
            p * 100.0,
            a * 100.0,
            goals.min_gain * 100.0,
            goals.min_churners_gained
        ));
    }
    Ok(())
}

/// Churners caught at caution `lead` ahead.
fn caught(m: &Metrics) -> usize {
    m.recall
        .iter()
        .find(|r| r.level == RiskLevel::Caution)
        .map_or(0, |r| r.caught)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backtest::LevelRecall;

    fn metrics(recall: f64, false_alarms: f64) -> Metrics {
        Metrics {
            customers: 100,
            churns: 10,
            churned_customers: 10,
            lead_hours: 72,
            window_days: 30,
            recall: vec![LevelRecall {
                level: RiskLevel::Caution,
                caught: (recall * 10.0) as usize,
                share: Some(recall),
            }],
            customer_months: 100.0,
            false_alarms_per_100_customer_months: false_alarms,
            ..Metrics::default()
        }
    }

    fn goals(false_alarm_budget: Option<f64>) -> CalibrationGoals {
        CalibrationGoals {
            false_alarm_budget,
            min_gain: 0.0,
            min_churners_gained: 0,
            ..CalibrationGoals::default()
        }
    }

    #[test]
    fn a_gain_within_the_noise_is_not_enough() {
        let active = metrics(0.5, 4.0);
        let strict = CalibrationGoals {
            min_churners_gained: 0,
            ..CalibrationGoals::default()
        };
        assert!(
            judge(&metrics(0.51, 4.0), &active, &strict)
                .unwrap_err()
                .contains("at least 2.0 points")
        );
        assert_eq!(judge(&metrics(0.52, 4.0), &active, &strict), Ok(()));
    }

    #[test]
    fn a_proposal_wins_only_with_more_recall_and_no_more_false_alarms() {
        let active = metrics(0.5, 4.0);
        assert_eq!(judge(&metrics(0.6, 4.0), &active, &goals(None)), Ok(()));
        assert_eq!(judge(&metrics(0.6, 3.0), &active, &goals(None)), Ok(()));
        assert!(
            judge(&metrics(0.5, 3.0), &active, &goals(None))
                .unwrap_err()
                .contains("too few more churners")
        );
        assert!(
            judge(&metrics(0.9, 4.5), &active, &goals(None))
                .unwrap_err()
                .contains("more false alarms")
        );
    }

    #[test]
    fn a_budget_lets_false_alarms_rise_to_it_and_no_further() {
        let active = metrics(0.5, 4.0);
        assert_eq!(
            judge(&metrics(0.6, 6.0), &active, &goals(Some(6.0))),
            Ok(())
        );
        assert!(
            judge(&metrics(0.9, 6.5), &active, &goals(Some(6.0)))
                .unwrap_err()
                .contains("the budget")
        );
        assert!(
            judge(&metrics(0.5, 5.0), &active, &goals(Some(6.0)))
                .unwrap_err()
                .contains("too few more churners"),
            "within the budget, a proposal must still catch more"
        );
        // rules in force over the budget: a proposal that keeps it wins, even catching less
        let over = metrics(0.7, 9.0);
        assert_eq!(judge(&metrics(0.6, 5.5), &over, &goals(Some(6.0))), Ok(()));
        // still over the budget: fewer false alarms and no fewer caught, or nothing
        assert_eq!(judge(&metrics(0.7, 7.0), &over, &goals(Some(6.0))), Ok(()));
        assert!(judge(&metrics(0.6, 7.0), &over, &goals(Some(6.0))).is_err());
        assert!(judge(&metrics(0.8, 9.5), &over, &goals(Some(6.0))).is_err());
    }

    #[test]
    fn a_gain_of_too_few_churners_is_noise() {
        let active = metrics(0.5, 4.0);
        let goals = CalibrationGoals {
            min_churners_gained: 3,
            ..goals(Some(6.0))
        };
        // 5 → 7 of 10 caught: 20 points, but two churners
        let two_more = judge(&metrics(0.7, 5.0), &active, &goals).unwrap_err();
        assert!(two_more.contains("2 more"), "{two_more}");
        assert_eq!(judge(&metrics(0.8, 5.0), &active, &goals), Ok(()));
    }
}

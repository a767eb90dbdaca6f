//! The JSON the API answers with: what staff need, shaped for the dashboard. Personal fields
//! appear only in the customer views staff open.

use chrono::{DateTime, Utc};
use journey::alerts::money;
use journey::domain::{Change, Customer, HistoryEntry};
use journey::ports::{Counts, SendRecord, TemplateTally};
use journey::rules_versions::ActiveRules;
use serde_json::{Value, json};

fn revenue(c: &Customer) -> Value {
    match c.main_revenue() {
        Some((currency, amount)) => {
            json!({"amount": amount, "currency": currency, "display": money(currency, amount)})
        }
        None => Value::Null,
    }
}

/// Score × revenue to date ÷ 100, in the main currency.
fn value_at_risk(c: &Customer) -> (i64, String) {
    match c.main_revenue() {
        Some((currency, amount)) => {
            let value = (c.score.total * amount as f64 / 100.0).round() as i64;
            (value, money(currency, value))
        }
        None => (0, "-".into()),
    }
}

fn days_inactive(c: &Customer, now: DateTime<Utc>) -> u32 {
    let start = c.clock_started_at.or(c.created_at).unwrap_or(now);
    c.activity.days_inactive(start, now).floor() as u32
}

fn owner(c: &Customer) -> Value {
    c.profile
        .owner
        .as_ref()
        .map_or(Value::Null, |o| json!({"id": o.id, "name": o.name}))
}

/// A row of the at-risk list.
pub fn list_item(c: &Customer, now: DateTime<Utc>) -> Value {
    let (value, value_display) = value_at_risk(c);
    json!({
        "id": c.id,
        "stage": c.stage,
        "risk": c.risk,
        "score": c.score.total,
        "top_signals": c.score.top(3).map(|s| json!({"signal": s.signal, "points": s.points})).collect::<Vec<_>>(),
        "revenue": revenue(c),
        "value_at_risk": value,
        "value_at_risk_display": value_display,
        "days_inactive": days_inactive(c, now),
        "owner": owner(c),
        "program": c.profile.program,
        "email": c.profile.email,
    })
}

/// One customer, in full.
pub fn customer(c: &Customer, now: DateTime<Utc>) -> Value {
    let (_, value_display) = value_at_risk(c);
    json!({
        "id": c.id,
        "stage": c.stage,
        "risk": c.risk,
        "score": c.score.total,
        "contributions": c.score.contributions,
        "revenue": revenue(c),
        "value_at_risk_display": value_display,
        "days_inactive": days_inactive(c, now),
        "last_activity_at": c.activity.last_at,
        "email": c.profile.email,
        "locale": c.profile.locale,
        "time_zone": c.profile.time_zone,
        "program": c.profile.program,
        "owner": owner(c),
        "unsubscribed": c.profile.unsubscribed,
        "erased": c.erased,
        "churn": c.churn,
        "created_at": c.created_at,
        "stage_changed_at": c.stage_changed_at,
        "risk_changed_at": c.risk_changed_at,
        "next_check_at": c.next_check_at,
        "last_intervention": c.last_intervention,
    })
}

pub fn history_entry(h: &HistoryEntry) -> Value {
    let mut v = json!({"at": h.at, "cause": h.cause, "score": h.score});
    match &h.change {
        Change::Stage { from, to } => {
            v["kind"] = json!("stage");
            v["from"] = json!(from);
            v["to"] = json!(to);
        }
        Change::Risk { from, to } => {
            v["kind"] = json!("risk");
            v["from"] = json!(from);
            v["to"] = json!(to);
        }
        Change::Note { note } => {
            v["kind"] = json!("note");
            v["note"] = json!(note);
        }
    }
    v
}

pub fn send(r: &SendRecord) -> Value {
    json!({
        "intervention_id": r.intervention_id,
        "template": r.template,
        "channel": r.channel,
        "status": r.status,
        "detail": r.detail,
        "updated_at": r.updated_at,
    })
}

/// The dashboard's numbers: distribution, message effectiveness, churn.
/// The active rules version as the dashboard shows it; `null` while the deployed file applies.
pub fn rules(active: Option<&ActiveRules>) -> Value {
    let Some(a) = active else {
        return Value::Null;
    };
    let v = &a.version;
    let m = v.metrics.as_ref();
    json!({
        "version": v.number,
        "origin": v.origin.as_str(),
        "created_at": v.created_at,
        "activated_at": a.activated_at,
        "note": v.note,
        "lead_hours": m.map(|m| m.lead_hours),
        "recall_caution": m.map(|m| m.recall_at(journey::domain::RiskLevel::Caution)),
        "precision": m.and_then(|m| m.precision),
        "false_alarms_per_100_customer_months": m.map(|m| m.false_alarms_per_100_customer_months),
    })
}

pub fn stats(counts: &Counts, tallies: &[TemplateTally]) -> Value {
    use journey::domain::{RiskLevel, Stage};
    let stages: Vec<Value> = Stage::ALL
        .iter()
        .map(|s| {
            let mut row = json!({"stage": s, "total": 0});
            let mut total = 0;
            for r in RiskLevel::ALL {
                let n = counts.get(*s, r);
                total += n;
                row[r.as_str()] = json!(n);
            }
            row["total"] = json!(total);
            row
        })
        .collect();
    let interventions: Vec<Value> = tallies
        .iter()
        .map(|t| {
            let rate = (t.sent > 0).then(|| (t.recovered as f64 / t.sent as f64 * 1000.0).round() / 1000.0);
            json!({
                "template": t.template, "variant": t.variant, "sent": t.sent, "recovered": t.recovered,
                "failed": t.failed, "skipped": t.skipped, "unknown": t.unknown, "recovery_rate": rate,
            })
        })
        .collect();
    json!({
        "total": counts.total(),
        "stages": stages,
        "interventions": interventions,
        "churn_reasons": counts.churn_reasons,
        "churned_by_month": counts.churned_by_month,
        "recovered_by_month": counts.recovered_by_month,
    })
}

//! The JSON the API answers with: what staff need, shaped for the dashboard, typed so the
//! OpenAPI document's schemas are generated from the same types. Personal fields appear only
//! in the customer views staff open.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use journey::alerts::money;
use journey::domain::experiment::{AlertOutcome, Comparison, Saved, alert_outcomes};
use journey::domain::rules::ExperimentRules;
use journey::domain::text::{TextMonth, text_months};
use journey::domain::{
    Churn, Contribution, Customer, CustomerId, HistoryEntry, InterventionRef, RiskLevel, Signal,
    StaffContact, Stage, TEXTS,
};
use journey::ports::{Counts, MailCounts, SendRecord, TemplateTally};
use journey::rules_versions::{ActiveRules, Origin, RulesVersion};
use serde::Serialize;
use utoipa::ToSchema;

/// Revenue to date in the customer's main currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct Revenue {
    /// In the currency's minor unit.
    pub amount: i64,
    /// ISO 4217.
    pub currency: String,
    #[schema(example = "₩99,000")]
    pub display: String,
}

fn revenue(c: &Customer) -> Option<Revenue> {
    c.main_revenue().map(|(currency, amount)| Revenue {
        amount,
        currency: currency.to_string(),
        display: money(currency, amount),
    })
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

/// Who looks after the customer.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnerView {
    pub id: String,
    pub name: Option<String>,
}

fn owner(c: &Customer) -> Option<OwnerView> {
    c.profile.owner.as_ref().map(|o| OwnerView {
        id: o.id.clone(),
        name: o.name.clone(),
    })
}

/// One of the signals behind a score.
#[derive(Debug, Serialize, ToSchema)]
pub struct TopSignal {
    pub signal: Signal,
    pub points: f64,
}

/// A row of the at-risk list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListItem {
    pub id: CustomerId,
    pub stage: Option<Stage>,
    pub risk: RiskLevel,
    /// 0–100.
    pub score: f64,
    /// The three signals adding the most points.
    pub top_signals: Vec<TopSignal>,
    pub revenue: Option<Revenue>,
    /// Score × revenue to date ÷ 100: the list's default order.
    pub value_at_risk: i64,
    pub value_at_risk_display: String,
    pub days_inactive: u32,
    pub owner: Option<OwnerView>,
    pub program: Option<String>,
    pub email: Option<String>,
}

pub fn list_item(c: &Customer, now: DateTime<Utc>) -> ListItem {
    let (value, value_display) = value_at_risk(c);
    ListItem {
        id: c.id.clone(),
        stage: c.stage,
        risk: c.risk,
        score: c.score.total,
        top_signals: c
            .score
            .top(3)
            .map(|s| TopSignal {
                signal: s.signal,
                points: s.points,
            })
            .collect(),
        revenue: revenue(c),
        value_at_risk: value,
        value_at_risk_display: value_display,
        days_inactive: days_inactive(c, now),
        owner: owner(c),
        program: c.profile.program.clone(),
        email: c.profile.email.clone(),
    }
}

/// One customer, in full.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerView {
    pub id: CustomerId,
    pub stage: Option<Stage>,
    pub risk: RiskLevel,
    pub score: f64,
    /// Every signal's share of the score, largest first.
    pub contributions: Vec<Contribution>,
    pub revenue: Option<Revenue>,
    pub value_at_risk_display: String,
    pub days_inactive: u32,
    pub last_activity_at: Option<DateTime<Utc>>,
    pub email: Option<String>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    pub program: Option<String>,
    pub owner: Option<OwnerView>,
    /// Mobile number, E.164 (shown as a `tel:` link).
    pub phone: Option<String>,
    /// Marketing and night consent: when and where each was given (정보통신망법 §50).
    pub consents: journey::domain::consent::Consents,
    /// Text channels a provider reported the customer refuses or cannot receive (080 opt-out,
    /// not on KakaoTalk …), each with why.
    pub text_blocks: Vec<TextBlockView>,
    pub unsubscribed: bool,
    /// Erased on request: the personal fields are gone.
    pub erased: bool,
    pub churn: Option<Churn>,
    pub created_at: Option<DateTime<Utc>>,
    pub stage_changed_at: Option<DateTime<Utc>>,
    pub risk_changed_at: Option<DateTime<Utc>>,
    pub next_check_at: Option<DateTime<Utc>>,
    pub last_intervention: Option<InterventionRef>,
    /// The latest contact staff recorded.
    pub last_contact: Option<StaffContact>,
    /// On today's list: at the rules' `workspace.today_from` or above, and nobody on staff has
    /// reached the customer since the risk last rose.
    pub needs_contact: bool,
}

/// A text channel the customer cannot be reached on, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct TextBlockView {
    pub channel: journey::domain::text::TextChannel,
    pub block: journey::domain::text::Block,
    pub at: DateTime<Utc>,
}

/// `today_from`: the rules' `workspace.today_from` (whether the customer belongs on today's list).
pub fn customer(c: &Customer, now: DateTime<Utc>, today_from: RiskLevel) -> CustomerView {
    let (_, value_display) = value_at_risk(c);
    let p = &c.profile;
    CustomerView {
        id: c.id.clone(),
        stage: c.stage,
        risk: c.risk,
        score: c.score.total,
        contributions: c.score.contributions.clone(),
        revenue: revenue(c),
        value_at_risk_display: value_display,
        days_inactive: days_inactive(c, now),
        last_activity_at: c.activity.last_at,
        email: p.email.clone(),
        locale: p.locale.clone(),
        time_zone: p.time_zone.clone(),
        program: p.program.clone(),
        owner: owner(c),
        phone: p.phone.clone(),
        consents: p.consents.clone(),
        text_blocks: p
            .text_blocks
            .iter()
            .map(|(channel, b)| TextBlockView {
                channel: *channel,
                block: b.block,
                at: b.at,
            })
            .collect(),
        unsubscribed: p.unsubscribed,
        erased: c.erased,
        churn: c.churn.clone(),
        created_at: c.created_at,
        stage_changed_at: c.stage_changed_at,
        risk_changed_at: c.risk_changed_at,
        next_check_at: c.next_check_at,
        last_intervention: c.last_intervention.clone(),
        last_contact: c.last_contact.clone(),
        needs_contact: c.needs_contact(today_from),
    }
}

/// One page of a customer's history, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryView {
    pub entries: Vec<HistoryEntry>,
    /// The next page's `history_cursor`.
    pub next: Option<String>,
}

/// `GET /customers/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerPage {
    pub customer: CustomerView,
    pub history: HistoryView,
    pub interventions: Vec<SendRecord>,
}

/// `GET /customers`: one page of the at-risk list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListPage {
    pub customers: Vec<ListItem>,
    /// The next page's `cursor`.
    pub next: Option<String>,
}

/// The active rules version as the dashboard shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RulesView {
    pub version: u32,
    pub origin: Origin,
    pub created_at: DateTime<Utc>,
    pub activated_at: DateTime<Utc>,
    pub note: String,
    pub lead_hours: Option<i64>,
    /// Share of churners flagged at caution at least `lead_hours` ahead.
    pub recall_caution: Option<f64>,
    pub precision: Option<f64>,
    pub false_alarms_per_100_customer_months: Option<f64>,
}

/// `None` while the deployed file applies as it is.
pub fn rules(active: Option<&ActiveRules>) -> Option<RulesView> {
    let a = active?;
    let v = &a.version;
    let m = v.metrics.as_ref();
    Some(RulesView {
        version: v.number,
        origin: v.origin,
        created_at: v.created_at,
        activated_at: a.activated_at,
        note: v.note.clone(),
        lead_hours: m.map(|m| m.lead_hours),
        recall_caution: m.map(|m| m.recall_at(RiskLevel::Caution)),
        precision: m.and_then(|m| m.precision),
        false_alarms_per_100_customer_months: m.map(|m| m.false_alarms_per_100_customer_months),
    })
}

/// `GET /rules`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RulesPage {
    /// The active version's number; `null` while the deployed file applies.
    pub active: Option<u32>,
    /// Newest first, a page at a time; a learned model's trees are left out of the overlays
    /// (`model_trees` says how many there were).
    pub versions: Vec<RulesSummary>,
    /// The `before` of the next (older) page; `null` on the last.
    pub next: Option<u32>,
}

/// A rules version as the list shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RulesSummary {
    #[serde(flatten)]
    pub version: RulesVersion,
    /// Trees of a learned model the overlay held (left out here); 0 without one.
    pub model_trees: usize,
}

/// Customers in one stage, per risk level.
#[derive(Debug, Serialize, ToSchema)]
pub struct StageRow {
    pub stage: Stage,
    pub none: i64,
    pub caution: i64,
    pub warning: i64,
    pub danger: i64,
    pub total: i64,
}

/// Outcomes of one template × variant.
#[derive(Debug, Serialize, ToSchema)]
pub struct TallyView {
    pub template: String,
    pub variant: Option<String>,
    pub sent: i64,
    pub recovered: i64,
    pub failed: i64,
    pub skipped: i64,
    /// Perhaps sent: the provider's answer was lost and the send was not repeated.
    pub unknown: i64,
    /// Recovered ÷ sent; `null` before anything was sent.
    pub recovery_rate: Option<f64>,
    /// What SES reported after accepting them, with the rates.
    pub mail: MailView,
}

/// SES's feedback on one template × variant: counts, and the rates an e-mail marketer reads.
/// A rate is `null` while its denominator is 0.
#[derive(Debug, Serialize, ToSchema)]
pub struct MailView {
    #[serde(flatten)]
    pub counts: MailCounts,
    /// Delivered ÷ e-mailed (`null` for a template sent only to Slack).
    pub delivery_rate: Option<f64>,
    /// Opened ÷ delivered (inflated by mail clients that fetch every image; 0 with SES's
    /// open tracking off).
    pub open_rate: Option<f64>,
    /// Clicked ÷ delivered.
    pub click_rate: Option<f64>,
    /// Hard bounces ÷ e-mailed (SES reviews an account at 5 %).
    pub bounce_rate: Option<f64>,
    /// Complaints ÷ delivered (SES reviews an account at 0.1 %).
    pub complaint_rate: Option<f64>,
}

impl MailView {
    fn of(mail: MailCounts) -> MailView {
        let rate = |n: i64, of: i64| {
            (of > 0).then(|| (n as f64 / of as f64 * 10_000.0).round() / 10_000.0)
        };
        MailView {
            delivery_rate: rate(mail.delivered, mail.emailed),
            open_rate: rate(mail.opened, mail.delivered),
            click_rate: rate(mail.clicked, mail.delivered),
            bounce_rate: rate(mail.bounced, mail.emailed),
            complaint_rate: rate(mail.complained, mail.delivered),
            counts: mail,
        }
    }
}

/// `GET /stats`: the dashboard's numbers — distribution, message effectiveness, churn.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    pub total: i64,
    pub stages: Vec<StageRow>,
    pub interventions: Vec<TallyView>,
    pub churn_reasons: BTreeMap<String, i64>,
    /// Keys `YYYY-MM`.
    pub churned_by_month: BTreeMap<String, i64>,
    pub recovered_by_month: BTreeMap<String, i64>,
    /// The active rules version and its backtest.
    pub rules: Option<RulesView>,
    /// Each message (template × variant) against its template's control group: recovery
    /// uplift and churn reduction with 95 % intervals, and a verdict.
    pub experiments: Vec<Comparison>,
    /// Churns the messages prevented (and the revenue kept), by month of assignment and `all`.
    pub saved: Vec<Saved>,
    /// What became of the staff alerts, per template and owner.
    pub alerts: Vec<AlertOutcome>,
    /// The texts month by month: delivered per channel, failed, fallbacks, cost in KRW.
    pub texts: Vec<TextMonth>,
}

pub fn stats(
    counts: &Counts,
    tallies: &[TemplateTally],
    active: Option<&ActiveRules>,
    settings: &ExperimentRules,
    now: DateTime<Utc>,
) -> Stats {
    let experiments = TemplateTally::experiments(tallies);
    let days = settings.outcome_days;
    let stages = Stage::ALL
        .iter()
        .map(|&stage| {
            let n = |risk| counts.get(stage, risk);
            let (none, caution, warning, danger) = (
                n(RiskLevel::None),
                n(RiskLevel::Caution),
                n(RiskLevel::Warning),
                n(RiskLevel::Danger),
            );
            StageRow {
                stage,
                none,
                caution,
                warning,
                danger,
                total: none + caution + warning + danger,
            }
        })
        .collect();
    let interventions = tallies
        .iter()
        // a control group's row has counts by month only: it sent nothing
        .filter(|t| {
            t.sent + t.recovered + t.failed + t.skipped + t.unknown > 0 || !t.mail.is_empty()
        })
        .map(|t| TallyView {
            template: t.template.clone(),
            variant: t.variant.clone(),
            sent: t.sent,
            recovered: t.recovered,
            failed: t.failed,
            skipped: t.skipped,
            unknown: t.unknown,
            recovery_rate: (t.sent > 0)
                .then(|| (t.recovered as f64 / t.sent as f64 * 1000.0).round() / 1000.0),
            mail: MailView::of(t.mail),
        })
        .collect();
    Stats {
        total: counts.total(),
        stages,
        interventions,
        churn_reasons: counts.churn_reasons.clone(),
        churned_by_month: counts.churned_by_month.clone(),
        recovered_by_month: counts.recovered_by_month.clone(),
        rules: rules(active),
        experiments: experiments.comparisons_as_of(now, days, settings.judging()),
        saved: experiments.settled(now, days).saved(),
        alerts: alert_outcomes(tallies.iter().map(|t| (t.template.as_str(), &t.by_month))),
        texts: tallies
            .iter()
            .find(|t| t.template == TEXTS)
            .map(|t| text_months(&t.by_month))
            .unwrap_or_default(),
    }
}

/// `DELETE /customers/{id}`: queued; who asked, when, and what goes and what stays.
#[derive(Debug, Serialize, ToSchema)]
pub struct Erasure {
    #[schema(example = "queued")]
    pub status: &'static str,
    /// `staff:` and the signed-in staff member's id, or `key:` and the first 8 hex digits of
    /// the API key's SHA-256.
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub removes: Vec<&'static str>,
    pub keeps: Vec<&'static str>,
    pub later_events: &'static str,
}

impl Erasure {
    pub fn queued(requested_by: &str, requested_at: DateTime<Utc>) -> Erasure {
        Erasure {
            status: "queued",
            requested_by: requested_by.to_string(),
            requested_at,
            removes: vec![
                "profile (e-mail, locale, time zone, program, owner)",
                "activity, progress and NPS answers",
                "churn detail (free text)",
                "planned follow-ups",
                "send records' provider details",
                "the customer from every read of the event log (its lines there, without contact details or free text, are deleted when the log expires, after EventLogDays)",
            ],
            keeps: vec![
                "stage, risk and revenue in the anonymous counters",
                "history of stage and risk changes, in the system's words",
                "dedup markers and send statuses (so nothing is applied or sent twice)",
                "the event log's lines until the log expires (left out of every read)",
            ],
            later_events: "dropped and counted, not stored",
        }
    }
}

/// A change accepted and queued through the single writer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Queued {
    #[schema(example = "queued")]
    pub status: &'static str,
}

/// `GET /health`: the release running, for a deploy's smoke check and the operator.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
    /// `Cargo.toml`'s version (`CHANGELOG.md`).
    #[schema(example = "0.4.0")]
    pub version: &'static str,
}

impl Health {
    pub fn now() -> Health {
        Health {
            status: "ok",
            version: journey::VERSION,
        }
    }
}

/// `GET /me`: who is asking.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// The signed-in staff member (`null` with an API key), with their role.
    pub staff: Option<crate::caller::Staff>,
    /// An API key's scope (`null` for staff).
    pub scope: Option<crate::roles::KeyScope>,
    /// What records name the caller by.
    #[schema(example = "staff:mina@example.com")]
    pub recorded_as: String,
    /// The routes the caller may use: the page offers only these.
    pub can: Vec<crate::roles::Route>,
}

impl Me {
    pub fn of(caller: &crate::caller::Caller) -> Me {
        Me {
            staff: caller.staff().cloned(),
            scope: match caller {
                crate::caller::Caller::Key { scope, .. } => Some(*scope),
                crate::caller::Caller::Staff(_) => None,
            },
            recorded_as: caller.recorded_as(),
            can: crate::roles::Route::allowed(caller.principal()),
        }
    }
}

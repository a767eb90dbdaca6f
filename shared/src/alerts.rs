//! Staff alerts: what an owner needs to act on a customer, rendered for Slack (Block Kit) and
//! for e-mail from the same facts.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::domain::{Customer, Intervention, RiskLevel, Rules, Signal, Stage};
use crate::templates::{Lang, StaffContext, TemplateError, Templates};

/// Block Kit limits (Slack reference): header 150, section text 3000, button text 75, url 3000.
const HEADER_MAX: usize = 150;
const SECTION_MAX: usize = 3000;
const BUTTON_MAX: usize = 75;
const URL_MAX: usize = 3000;

/// One alert, ready to render.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    pub title: String,
    pub summary: String,
    /// (label, value) rows: customer, stage, risk, revenue, score and signals …
    pub facts: Vec<(String, String)>,
    /// The owner's Slack member id, to mention.
    pub mention: Option<String>,
    pub customer_url: String,
    pub button: String,
    /// The intervention's id, as the actions block's `block_id`: whoever reads the channel's
    /// messages (an audit, a test's stand-in) can tell one alert from a repeat of it.
    pub intervention_id: String,
}

/// Slack's limit on a `block_id`.
const BLOCK_ID_MAX: usize = 255;

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn stage_name(stage: Option<Stage>, lang: Lang) -> &'static str {
    match (stage, lang) {
        (None, Lang::Ko) => "미등록",
        (None, Lang::En) => "not yet a customer",
        (Some(s), Lang::En) => s.as_str(),
        (Some(Stage::Trial), Lang::Ko) => "체험",
        (Some(Stage::Paid), Lang::Ko) => "결제 완료",
        (Some(Stage::Onboarding), Lang::Ko) => "온보딩 중",
        (Some(Stage::Active), Lang::Ko) => "수강 중",
        (Some(Stage::Engaged), Lang::Ko) => "활발 참여",
        (Some(Stage::Completed), Lang::Ko) => "완료",
        (Some(Stage::Churned), Lang::Ko) => "이탈",
    }
}

fn risk_name(risk: RiskLevel, lang: Lang) -> &'static str {
    match (risk, lang) {
        (r, Lang::En) => r.as_str(),
        (RiskLevel::None, Lang::Ko) => "없음",
        (RiskLevel::Caution, Lang::Ko) => "주의",
        (RiskLevel::Warning, Lang::Ko) => "경고",
        (RiskLevel::Danger, Lang::Ko) => "위험",
    }
}

fn signal_name(signal: Signal, lang: Lang) -> &'static str {
    match (signal, lang) {
        (s, Lang::En) => s.as_str(),
        (Signal::Inactivity, Lang::Ko) => "무활동",
        (Signal::MissedAssignments, Lang::Ko) => "과제 미제출",
        (Signal::LoginDrop, Lang::Ko) => "접속 감소",
        (Signal::ContentDrop, Lang::Ko) => "열람 시간 감소",
        (Signal::SupportTickets, Lang::Ko) => "잦은 문의",
        (Signal::FailedPayments, Lang::Ko) => "결제 실패",
        (Signal::Nps, Lang::Ko) => "NPS",
        (Signal::LoginGap, Lang::Ko) => "평소보다 긴 미접속",
        (Signal::SlowFade, Lang::Ko) => "활동 점진 감소",
        (Signal::SubmissionDrop, Lang::Ko) => "과제 제출 감소",
        (Signal::Newness, Lang::Ko) => "가입 초기",
        (Signal::EmailEngagement, Lang::Ko) => "이메일 반응",
        (Signal::LowEngagement, Lang::Ko) => "다른 고객보다 적은 이용",
        (Signal::LowBeforeRenewal, Lang::Ko) => "갱신을 앞두고 적은 이용",
        (Signal::TenureHazard, Lang::Ko) => "이탈이 잦은 가입 시기",
    }
}

/// `₩37,400` / `$12.50` / `BHD1.250`: amounts in minor units, grouped, with as many decimals
/// as the currency has (ISO 4217).
pub fn money(currency: &str, minor: i64) -> String {
    let symbol = match currency {
        "KRW" => "₩",
        "JPY" => "¥",
        "USD" => "$",
        "EUR" => "€",
        other => other,
    };
    let decimals = minor_units(currency);
    let scale = 10_i64.pow(decimals);
    let digits = (minor / scale).unsigned_abs().to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if minor < 0 { "-" } else { "" };
    if decimals == 0 {
        format!("{sign}{symbol}{grouped}")
    } else {
        let fraction = (minor % scale).unsigned_abs();
        format!(
            "{sign}{symbol}{grouped}.{fraction:0width$}",
            width = decimals as usize
        )
    }
}

/// The digits after the decimal point of a currency's minor unit (ISO 4217): 0 for the won, the
/// yen and the others without a minor unit, 3 for the dinars of Bahrain, Iraq, Jordan, Kuwait,
/// Libya and Tunisia and the rial of Oman, 4 for the two accounting units, else 2.
pub fn minor_units(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    }
}

/// Builds the alert for `intervention` about `customer`, as of `now`.
pub fn build(
    templates: &Templates,
    rules: &Rules,
    customer: &Customer,
    intervention: &Intervention,
    lang: Lang,
    dashboard_url: &str,
    now: DateTime<Utc>,
) -> Result<Alert, TemplateError> {
    let start = customer
        .clock_started_at
        .or(customer.created_at)
        .unwrap_or(now);
    let days_inactive = customer.activity.days_inactive(start, now).floor() as u32;
    let nps = customer
        .last_nps
        .map_or("-".to_string(), |n| n.score.to_string());
    let ctx = StaffContext {
        customer: customer.id.to_string(),
        days_inactive,
        score: format!("{:.0}", customer.score.total),
        nps: nps.clone(),
    };
    let (title, summary) = templates.staff(&intervention.template, lang, &ctx)?;
    let signals: Vec<String> = customer
        .score
        .top(3)
        .map(|c| format!("{} +{:.0}", signal_name(c.signal, lang), c.points))
        .collect();
    let revenue = customer
        .main_revenue()
        .map_or("-".to_string(), |(currency, amount)| {
            money(currency, amount)
        });
    let sent_to_customer = rules
        .policy(customer.profile.program.as_deref())
        .interventions
        .get(&intervention.trigger)
        .and_then(|p| p.email.clone())
        .unwrap_or_else(|| "-".into());
    let labels: [&str; 8] = match lang {
        Lang::Ko => [
            "고객",
            "단계",
            "위험도",
            "누적 매출",
            "위험 점수",
            "무활동",
            "발송된 메시지",
            "담당자",
        ],
        Lang::En => [
            "Customer",
            "Stage",
            "Risk",
            "Revenue to date",
            "Risk score",
            "Inactive",
            "Message sent",
            "Owner",
        ],
    };
    let days = match lang {
        Lang::Ko => format!("{days_inactive}일"),
        Lang::En => format!("{days_inactive} days"),
    };
    // the id and the button's link, never the address: a Slack channel is read by many and
    // kept by Slack, beyond erasure (security review L5)
    let customer_line = customer.id.to_string();
    let score = if signals.is_empty() {
        format!("{:.0}", customer.score.total)
    } else {
        format!("{:.0} — {}", customer.score.total, signals.join(", "))
    };
    let owner = customer
        .profile
        .owner
        .as_ref()
        .map(|o| o.name.clone().unwrap_or_else(|| o.id.clone()))
        .unwrap_or_else(|| "-".into());
    let values = [
        customer_line,
        stage_name(customer.stage, lang).to_string(),
        risk_name(customer.risk, lang).to_string(),
        revenue,
        score,
        days,
        sent_to_customer,
        owner,
    ];
    let facts = labels
        .iter()
        .zip(values)
        .map(|(l, v)| (l.to_string(), v))
        .collect();
    let customer_url = format!(
        "{}/#/customers/{}",
        dashboard_url.trim_end_matches('/'),
        form_urlencoded::byte_serialize(customer.id.as_str().as_bytes()).collect::<String>()
    );
    Ok(Alert {
        title,
        summary,
        facts,
        mention: customer
            .profile
            .owner
            .as_ref()
            .and_then(|o| o.slack_id.clone()),
        customer_url,
        button: match lang {
            Lang::Ko => "고객 보기".into(),
            Lang::En => "Open customer".into(),
        },
        intervention_id: intervention.id.to_string(),
    })
}

impl Alert {
    /// A Block Kit message within Slack's limits, mentioning the owner when known.
    ///
    /// Every value that came from outside is escaped for mrkdwn (`&`, `<`, `>`), so a customer
    /// id or e-mail such as `x<!channel>` is shown, never obeyed; a mention is made only of an
    /// id shaped like Slack's.
    pub fn slack_payload(&self) -> Value {
        let mention = self
            .mention
            .as_deref()
            .and_then(slack_member)
            .map(|id| format!("<@{id}> "))
            .unwrap_or_default();
        let facts: String = self
            .facts
            .iter()
            .map(|(label, value)| format!("*{}:* {}\n", mrkdwn(label), mrkdwn(value)))
            .collect();
        let summary = mrkdwn(&self.summary);
        json!({
            "text": cut(&format!("{mention}{summary}"), SECTION_MAX),
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": cut(&self.title, HEADER_MAX), "emoji": true}},
                {"type": "section", "text": {"type": "mrkdwn", "text": cut(&format!("{mention}{summary}"), SECTION_MAX)}},
                {"type": "section", "text": {"type": "mrkdwn", "text": cut(facts.trim_end(), SECTION_MAX)}},
                {"type": "actions", "block_id": cut(&self.intervention_id, BLOCK_ID_MAX), "elements": [{
                    "type": "button",
                    "text": {"type": "plain_text", "text": cut(&self.button, BUTTON_MAX)},
                    "url": cut(&self.customer_url, URL_MAX),
                    "action_id": "open_customer",
                    "style": "danger"
                }]}
            ]
        })
    }

    /// The same alert as an e-mail to the owner: (subject, text, html).
    pub fn email(&self) -> (String, String, String) {
        let mut text = format!("{}\n\n", self.summary);
        let mut rows = String::new();
        for (label, value) in &self.facts {
            text.push_str(&format!("{label}: {value}\n"));
            rows.push_str(&format!(
                "<tr><th align=\"left\" style=\"padding:4px 12px 4px 0;color:#555\">{}</th><td style=\"padding:4px 0\">{}</td></tr>",
                escape(label),
                escape(value)
            ));
        }
        text.push_str(&format!("\n{}: {}\n", self.button, self.customer_url));
        let html = format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title></head>\
             <body style=\"font-family:-apple-system,'Apple SD Gothic Neo','Malgun Gothic','Noto Sans KR',sans-serif;color:#111\">\
             <h2 style=\"font-size:18px\">{title}</h2><p>{summary}</p><table>{rows}</table>\
             <p><a href=\"{url}\" style=\"display:inline-block;padding:10px 16px;background:#dc2626;color:#fff;text-decoration:none;border-radius:6px\">{button}</a></p></body></html>",
            title = escape(&self.title),
            summary = escape(&self.summary),
            url = escape(&self.customer_url),
            button = escape(&self.button),
        );
        (self.title.clone(), text, html)
    }
}

/// Slack's three control characters in mrkdwn (Slack: "Escaping text"): `<` and `>` open and
/// close links, mentions and `<!channel>`; `&` would make `&lt;` turn back into `<`.
pub fn mrkdwn(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A Slack member id (`U…` or `W…`, then upper-case letters and digits), else `None` with a
/// log line: an owner's `slack_id` comes from outside and is put inside `<@…>`.
pub fn slack_member(id: &str) -> Option<&str> {
    let mut chars = id.chars();
    let shaped = matches!(chars.next(), Some('U' | 'W'))
        && (2..=21).contains(&id.len())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if !shaped {
        tracing::warn!(slack_id = %id.escape_debug(), "owner's slack_id is not a Slack member id: not mentioned");
    }
    shaped.then_some(id)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::{EventKind, Owner};
    use crate::domain::{Effect, apply};
    use crate::testing::{Events, krw, t};

    fn danger_customer() -> (Customer, Intervention) {
        let rules = Rules::embedded().unwrap();
        let mut events = Events::new("cust-1001");
        let mut pay = events.at(
            t("2026-11-01T09:00:00Z"),
            EventKind::PaymentSucceeded {
                amount: krw(374_000),
                renews_at: None,
            },
        );
        pay.profile.email = Some("kim@example.com".into());
        pay.profile.owner = Some(Owner {
            id: "tutor-7".into(),
            name: Some("박서연".into()),
            email: Some("tutor7@example.com".into()),
            slack_id: Some("U0TUTOR7".into()),
        });
        let mut c = apply(
            &Customer::new(events.customer().clone()),
            &pay,
            &rules,
            pay.occurred_at,
        )
        .unwrap()
        .customer;
        let check = events.check(t("2026-11-15T09:00:00Z"));
        let outcome = apply(&c, &check, &rules, check.occurred_at).unwrap();
        c = outcome.customer;
        let slack = outcome
            .effects
            .into_iter()
            .find_map(|e| match e {
                Effect::Send(i) if i.template == "danger_alert" => Some(i),
                _ => None,
            })
            .unwrap();
        (c, slack)
    }

    #[test]
    fn a_danger_alert_carries_what_the_owner_needs_within_block_kit_limits() {
        let (customer, intervention) = danger_customer();
        let templates = Templates::embedded().unwrap();
        let rules = Rules::embedded().unwrap();
        let alert = build(
            &templates,
            &rules,
            &customer,
            &intervention,
            Lang::Ko,
            "https://dash.example.com",
            t("2026-11-15T09:00:00Z"),
        )
        .unwrap();
        let payload = alert.slack_payload();
        let text = payload.to_string();
        for expected in [
            "<@U0TUTOR7>",
            "₩374,000",
            "위험",
            "무활동",
            "14일",
            "consultation_invite",
            "https://dash.example.com/#/customers/cust-1001",
        ] {
            assert!(text.contains(expected), "{expected} missing from {text}");
        }
        assert_eq!(payload["blocks"][0]["type"], "header");
        let button = &payload["blocks"][3]["elements"][0];
        assert!(button["text"]["text"].as_str().unwrap().chars().count() <= BUTTON_MAX);
        let (subject, body, html) = alert.email();
        assert!(subject.contains("cust-1001"));
        assert!(body.contains("₩374,000") && html.contains("박서연"));
    }

    /// The alert for `customer`, as the danger check of 2026-11-15 plans it.
    fn alert_for(customer: &Customer, intervention: &Intervention, lang: Lang) -> Alert {
        build(
            &Templates::embedded().unwrap(),
            &Rules::embedded().unwrap(),
            customer,
            intervention,
            lang,
            "https://dash.example.com",
            t("2026-11-15T09:00:00Z"),
        )
        .unwrap()
    }

    #[test]
    fn outside_values_cannot_ping_a_channel_or_forge_a_link() {
        let (mut customer, intervention) = danger_customer();
        customer.id = crate::domain::CustomerId::new("x<!channel>").unwrap();
        customer.profile.email = Some("a&b<!here>@example.com".into());
        if let Some(owner) = customer.profile.owner.as_mut() {
            owner.name = Some("<https://evil.example|click>".into());
        }
        let alert = alert_for(&customer, &intervention, Lang::En);
        let payload = alert.slack_payload();
        for block in [
            &payload["text"],
            &payload["blocks"][1]["text"]["text"],
            &payload["blocks"][2]["text"]["text"],
        ] {
            let text = block.as_str().unwrap();
            assert!(!text.contains("<!"), "unescaped control sequence in {text}");
            assert!(!text.contains("<https://evil"), "forged link in {text}");
        }
        let facts = payload["blocks"][2]["text"]["text"].as_str().unwrap();
        assert!(facts.contains("x&lt;!channel&gt;"));
        assert!(
            !facts.contains("here"),
            "the customer's address is not posted"
        );
        assert!(payload.to_string().contains("<@U0TUTOR7>"));
        let url = payload["blocks"][3]["elements"][0]["url"].as_str().unwrap();
        assert!(url.ends_with("/#/customers/x%3C%21channel%3E"), "{url}");
    }

    #[test]
    fn only_slack_shaped_member_ids_are_mentioned() {
        assert_eq!(slack_member("U0TUTOR7"), Some("U0TUTOR7"));
        assert_eq!(slack_member("W12AB"), Some("W12AB"));
        for bad in [
            "",
            "U",
            "u0tutor7",
            "U0>!channel",
            "C0CHANNEL",
            "U0 TUTOR",
            "U0TUTOR7|x",
        ] {
            assert_eq!(slack_member(bad), None, "{bad}");
        }
        let (mut customer, intervention) = danger_customer();
        if let Some(owner) = customer.profile.owner.as_mut() {
            owner.slack_id = Some("U1>|<!channel".into());
        }
        let alert = alert_for(&customer, &intervention, Lang::Ko);
        let text = alert.slack_payload().to_string();
        assert!(
            !text.contains("<@") && !text.contains("<!channel"),
            "{text}"
        );
    }

    #[test]
    fn money_is_grouped_by_currency() {
        assert_eq!(money("KRW", 1_234_567), "₩1,234,567");
        assert_eq!(money("USD", 123_456), "$1,234.56");
        assert_eq!(money("USD", 5), "$0.05");
        // ISO 4217's minor units, not only the won's and the yen's (security review L12)
        assert_eq!(money("VND", 1_250_000), "VND1,250,000");
        assert_eq!(money("BHD", 1_250), "BHD1.250");
        assert_eq!(money("KWD", -5), "-KWD0.005");
        assert_eq!(money("CLF", 12_345), "CLF1.2345");
    }

    #[test]
    fn long_texts_are_cut_to_the_limit() {
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abc", 4), "abc");
    }
}

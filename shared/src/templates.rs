//! Message templates, built into the binary from `infra/templates/`: customer e-mails (Korean
//! and English, text and HTML, A/B variants) and staff alerts. Rendered with MiniJinja in strict
//! mode: a missing variable is an error, never a blank in a customer's inbox.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use minijinja::{Environment, UndefinedBehavior, Value};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::domain::Rules;
use crate::domain::consent::Purpose;

macro_rules! templates {
    ($dir:literal: $($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../infra/templates/", $dir, "/", $name, ".toml")))),*]
    };
}

/// Every customer e-mail, by name (the names the rules use).
pub const EMAIL_SOURCES: &[(&str, &str)] = templates!("email":
    "trial_welcome", "welcome_setup_guide", "gentle_reminder", "special_offer",
    "consultation_invite", "billing_failed", "renewal_notice", "nps_survey", "review_request",
    "referral_code", "related_offer", "win_back", "consent_reconfirm",
);

/// Every staff alert, by name.
pub const STAFF_SOURCES: &[(&str, &str)] = templates!("staff":
    "danger_alert", "sales_new_trial", "nps_detractor_alert", "support_tickets_task",
);

pub const LAYOUT: &str = include_str!("../../infra/templates/email/_layout.html");

#[derive(Clone, Debug, Error, PartialEq)]
pub enum TemplateError {
    #[error("template `{0}` does not exist")]
    Unknown(String),
    #[error("template `{name}`: {reason}")]
    Invalid { name: String, reason: String },
    /// A rule sends a template (or a variant) that is not built in: caught when the rules are
    /// loaded, never when a customer's message is due.
    #[error("rules key `{key}`: {reason}")]
    NotBuiltIn { key: String, reason: String },
}

/// Message language: Korean or English.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
)]
#[strum(serialize_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Ko,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Ko, Lang::En];

    /// Korean for `ko…` locales, English for any other; `default` when unknown.
    pub fn of(locale: Option<&str>, default: Lang) -> Lang {
        match locale.map(|l| l.to_ascii_lowercase()) {
            None => default,
            Some(l) if l.starts_with("ko") => Lang::Ko,
            Some(_) => Lang::En,
        }
    }

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailFile {
    /// Advertising (정보통신망법 §50) or informational; every file says which.
    purpose: Purpose,
    ko: EmailText,
    en: EmailText,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailText {
    subject: String,
    text: String,
    html: String,
    #[serde(default)]
    variants: BTreeMap<String, VariantText>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VariantText {
    subject: Option<String>,
    text: Option<String>,
    html: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StaffFile {
    ko: StaffText,
    en: StaffText,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StaffText {
    title: String,
    summary: String,
}

/// What a customer e-mail may use. Every field is always set, so strict rendering only fails
/// on a name that is not here.
#[derive(Clone, Debug, Serialize)]
pub struct EmailContext {
    pub brand: String,
    pub program: String,
    pub owner_name: String,
    pub days_inactive: u32,
    pub app_url: String,
    pub billing_url: String,
    pub survey_url: String,
    pub review_url: String,
    pub consultation_url: String,
    pub referral_code: String,
    pub referral_url: String,
    pub offer_code: String,
    pub unsubscribe_url: String,
    /// The business as an advertising message must name it (§50④): name, postal address and
    /// a contact number.
    pub sender_name: String,
    pub sender_address: String,
    pub sender_contact: String,
    /// When (YYYY-MM-DD, in Korea) and how the customer gave their marketing consent: what
    /// the re-confirmation notice tells them (§50⑧); empty without one.
    pub consent_date: String,
    pub consent_via: String,
}

/// The business's side of a customer message's context.
#[derive(Clone, Debug, PartialEq)]
pub struct Business {
    pub brand: String,
    pub app_url: String,
    pub offer_code: String,
    /// The legal name advertising shows; the brand when empty.
    pub sender_name: String,
    pub sender_address: String,
    pub sender_contact: String,
}

impl EmailContext {
    /// The context of a message to `customer` (e-mail or text) at `now`.
    pub fn of(
        customer: &crate::domain::Customer,
        business: &Business,
        unsubscribe_url: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> EmailContext {
        let app = business.app_url.trim_end_matches('/');
        let referral_code = referral_code(customer);
        let start = customer
            .clock_started_at
            .or(customer.created_at)
            .unwrap_or(now);
        let p = &customer.profile;
        let consent = p.consents.marketing.as_ref();
        // the date in the customer's zone (Korea's when unknown), as they would remember it
        let zone = p
            .time_zone
            .as_deref()
            .and_then(|z| z.parse::<chrono_tz::Tz>().ok())
            .unwrap_or(chrono_tz::Asia::Seoul);
        EmailContext {
            consent_date: consent
                .map(|c| c.at.with_timezone(&zone).format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            consent_via: consent.map(|c| c.via.clone()).unwrap_or_default(),
            brand: business.brand.clone(),
            program: p.program.clone().unwrap_or_else(|| business.brand.clone()),
            owner_name: p
                .owner
                .as_ref()
                .and_then(|o| o.name.clone())
                .unwrap_or_else(|| format!("{} team", business.brand)),
            days_inactive: customer.activity.days_inactive(start, now).floor() as u32,
            app_url: app.to_string(),
            billing_url: format!("{app}/billing"),
            survey_url: format!("{app}/survey/nps"),
            review_url: format!("{app}/review"),
            consultation_url: format!("{app}/consultation"),
            referral_url: format!("{app}/r/{referral_code}"),
            referral_code,
            offer_code: business.offer_code.clone(),
            unsubscribe_url: unsubscribe_url.to_string(),
            sender_name: if business.sender_name.trim().is_empty() {
                business.brand.clone()
            } else {
                business.sender_name.clone()
            },
            sender_address: business.sender_address.clone(),
            sender_contact: business.sender_contact.clone(),
        }
    }
}

/// A stable, readable referral code per customer.
pub fn referral_code(customer: &crate::domain::Customer) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("referral:{}", customer.id).as_bytes());
    format!("FRIEND-{}", hex::encode(&digest[..3]).to_uppercase())
}

/// What a staff alert's title and summary may use.
#[derive(Clone, Debug, Serialize)]
pub struct StaffContext {
    pub customer: String,
    pub days_inactive: u32,
    pub score: String,
    pub nps: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RenderedEmail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// All templates, parsed and compiled once (a clone shares nothing mutable: cheap to keep).
#[derive(Clone)]
pub struct Templates {
    env: Environment<'static>,
    catalogue: Catalogue,
}

/// Which templates are built in and which variants each e-mail has, without compiling any:
/// what the rules are checked against, by functions that send nothing themselves.
#[derive(Clone, Debug)]
pub struct Catalogue {
    /// Variants each e-mail has, per language.
    variants: BTreeMap<(String, Lang), Vec<String>>,
    /// What each e-mail is.
    purposes: BTreeMap<String, Purpose>,
}

/// Every built-in e-mail file, parsed; fails naming the one that does not parse.
fn email_files() -> Result<Vec<(&'static str, EmailFile)>, TemplateError> {
    EMAIL_SOURCES
        .iter()
        .map(|(name, source)| {
            let file = toml::from_str(source).map_err(|e| invalid(name, e))?;
            Ok((*name, file))
        })
        .collect()
}

impl Catalogue {
    /// The built-in templates' names and variants (read once per process: they are built in).
    pub fn embedded() -> Result<Catalogue, TemplateError> {
        static READ: OnceLock<Result<Catalogue, TemplateError>> = OnceLock::new();
        READ.get_or_init(|| Ok(Catalogue::of(&email_files()?)))
            .clone()
    }

    fn of(files: &[(&str, EmailFile)]) -> Catalogue {
        let variants = files
            .iter()
            .flat_map(|(name, file)| {
                [(Lang::Ko, &file.ko), (Lang::En, &file.en)].map(|(lang, text)| {
                    (
                        (name.to_string(), lang),
                        text.variants.keys().cloned().collect(),
                    )
                })
            })
            .collect();
        let purposes = files
            .iter()
            .map(|(name, file)| (name.to_string(), file.purpose))
            .collect();
        Catalogue { variants, purposes }
    }

    /// What e-mail `name` is (informational if unknown: it cannot be sent anyway).
    pub fn purpose(&self, name: &str) -> Purpose {
        self.purposes.get(name).copied().unwrap_or_default()
    }

    /// Whether `rules` send any advertising e-mail (which must name the sender).
    pub fn sends_advertising(&self, rules: &Rules) -> bool {
        rules
            .plans()
            .filter_map(|plan| plan.email.as_deref())
            .any(|email| self.purpose(email) == Purpose::Advertising)
    }

    /// Every template and variant `rules` sends (the business's and every program's) is built
    /// in: a function refuses at its cold start, and the rules registry refuses a version,
    /// rather than fail when a customer's message is due. The error names the rules key.
    pub fn check(&self, rules: &Rules) -> Result<(), TemplateError> {
        let scopes = std::iter::once((String::new(), rules.default_policy())).chain(
            rules
                .programs()
                .map(|(name, p)| (format!("programs.{name}."), p)),
        );
        for (scope, policy) in scopes {
            for (trigger, plan) in &policy.interventions {
                let key =
                    |field: &str| format!("{scope}interventions.{}.{field}", trigger.as_str());
                let missing = |field: &str, reason: String| TemplateError::NotBuiltIn {
                    key: key(field),
                    reason,
                };
                if let Some(email) = &plan.email {
                    if !self.has_email(email) {
                        return Err(missing("email", format!("no e-mail template `{email}`")));
                    }
                    for lang in Lang::ALL {
                        if let Some(v) = plan
                            .variants
                            .iter()
                            .find(|v| !self.variants(email, lang).contains(v))
                        {
                            return Err(missing(
                                "variants",
                                format!("`{email}` has no variant `{v}` in {}", lang.as_str()),
                            ));
                        }
                    }
                }
                if let Some(text) = plan.text.as_ref().filter(|t| {
                    !crate::text_templates::TEXT_SOURCES
                        .iter()
                        .any(|(n, _)| n == t)
                }) {
                    return Err(missing("text", format!("no text template `{text}`")));
                }
                if let Some(slack) = plan.slack.as_ref().filter(|s| !self.has_staff(s)) {
                    return Err(missing("slack", format!("no staff template `{slack}`")));
                }
            }
        }
        Ok(())
    }

    pub fn has_email(&self, name: &str) -> bool {
        EMAIL_SOURCES.iter().any(|(n, _)| *n == name)
    }

    pub fn has_staff(&self, name: &str) -> bool {
        STAFF_SOURCES.iter().any(|(n, _)| *n == name)
    }

    /// The variants an e-mail defines in `lang`.
    pub fn variants(&self, name: &str, lang: Lang) -> &[String] {
        self.variants
            .get(&(name.to_string(), lang))
            .map_or(&[], Vec::as_slice)
    }
}

fn invalid(name: &str, reason: impl ToString) -> TemplateError {
    TemplateError::Invalid {
        name: name.to_string(),
        reason: reason.to_string(),
    }
}

impl Templates {
    /// The built-in templates; fails naming the template that does not parse. Compiled once
    /// per process (they are built in): a sender rebuilt with fresh secrets shares them.
    pub fn embedded() -> Result<Templates, TemplateError> {
        static COMPILED: OnceLock<Result<Templates, TemplateError>> = OnceLock::new();
        COMPILED.get_or_init(Templates::compile).clone()
    }

    fn compile() -> Result<Templates, TemplateError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // HTML parts are escaped; subjects and text parts are not
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                minijinja::AutoEscape::Html
            } else {
                minijinja::AutoEscape::None
            }
        });
        // HTML-escape the five characters that matter and leave `/` alone, so links stay
        // readable `https://…` in every mail client
        env.set_formatter(|out, state, value| {
            if state.auto_escape() == minijinja::AutoEscape::Html && !value.is_safe() {
                let text = value.to_string();
                out.write_str(&escape_html(&text)).map_err(|e| {
                    minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string())
                })
            } else {
                minijinja::escape_formatter(out, state, value)
            }
        });
        env.add_template("_layout.html", LAYOUT)
            .map_err(|e| invalid("_layout.html", e))?;
        let files = email_files()?;
        let catalogue = Catalogue::of(&files);
        for (name, file) in files {
            for (lang, text) in [(Lang::Ko, file.ko), (Lang::En, file.en)] {
                let base = format!("{name}/{}", lang.as_str());
                add(
                    &mut env,
                    format!("{base}/subject.txt"),
                    text.subject.clone(),
                )?;
                add(&mut env, format!("{base}/text.txt"), text.text.clone())?;
                add(&mut env, format!("{base}/body.html"), text.html.clone())?;
                for (variant, over) in &text.variants {
                    let v = format!("{base}/{variant}");
                    let pick =
                        |o: &Option<String>, d: &String| o.clone().unwrap_or_else(|| d.clone());
                    add(
                        &mut env,
                        format!("{v}/subject.txt"),
                        pick(&over.subject, &text.subject),
                    )?;
                    add(
                        &mut env,
                        format!("{v}/text.txt"),
                        pick(&over.text, &text.text),
                    )?;
                    add(
                        &mut env,
                        format!("{v}/body.html"),
                        pick(&over.html, &text.html),
                    )?;
                }
            }
        }
        for (name, source) in STAFF_SOURCES {
            let file: StaffFile = toml::from_str(source).map_err(|e| invalid(name, e))?;
            for (lang, text) in [(Lang::Ko, file.ko), (Lang::En, file.en)] {
                let base = format!("staff/{name}/{}", lang.as_str());
                add(&mut env, format!("{base}/title.txt"), text.title)?;
                add(&mut env, format!("{base}/summary.txt"), text.summary)?;
            }
        }
        Ok(Templates { env, catalogue })
    }

    /// The built-in templates' names and variants.
    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    pub fn has_email(&self, name: &str) -> bool {
        self.catalogue.has_email(name)
    }

    /// The variants an e-mail defines in `lang`.
    pub fn variants(&self, name: &str, lang: Lang) -> &[String] {
        self.catalogue.variants(name, lang)
    }

    /// Renders e-mail `name` in `lang` (variant, if it has it), wrapped in the layout.
    pub fn email(
        &self,
        name: &str,
        lang: Lang,
        variant: Option<&str>,
        transactional: bool,
        ctx: &EmailContext,
    ) -> Result<RenderedEmail, TemplateError> {
        if !self.has_email(name) {
            return Err(TemplateError::Unknown(name.to_string()));
        }
        let base = match variant.filter(|v| self.variants(name, lang).iter().any(|x| x == v)) {
            Some(v) => format!("{name}/{}/{v}", lang.as_str()),
            None => format!("{name}/{}", lang.as_str()),
        };
        let advertising = self.catalogue.purpose(name) == Purpose::Advertising && !transactional;
        let mut subject = self.render(&format!("{base}/subject.txt"), ctx)?;
        if advertising {
            subject = format!(
                "{AD_MARK} {}",
                subject.trim().trim_start_matches(AD_MARK).trim()
            );
        }
        let text = self.render(&format!("{base}/text.txt"), ctx)?;
        let body = self.render(&format!("{base}/body.html"), ctx)?;
        let (footer_unsubscribe, footer_reason) = match lang {
            Lang::Ko => (
                "수신 거부",
                format!(
                    "{} 서비스를 이용해 주셔서 보내 드리는 메일입니다.",
                    ctx.brand
                ),
            ),
            Lang::En => (
                "Unsubscribe",
                format!("You receive this e-mail because you use {}.", ctx.brand),
            ),
        };
        let html = self.render(
            "_layout.html",
            minijinja::context! {
                lang => lang.as_str(),
                subject => subject.trim(),
                brand => ctx.brand,
                body => Value::from_safe_string(body),
                transactional => transactional,
                unsubscribe_url => ctx.unsubscribe_url,
                footer_unsubscribe => footer_unsubscribe,
                footer_reason => footer_reason,
                footer_sender => advertising.then(|| sender_line(lang, ctx)),
            },
        )?;
        let mut text = text.trim().to_string();
        if !transactional {
            text.push_str(&format!("\n\n--\n{footer_reason}\n"));
            if advertising {
                text.push_str(&format!("{}\n", sender_line(lang, ctx)));
            }
            text.push_str(&format!("{footer_unsubscribe}: {}\n", ctx.unsubscribe_url));
        }
        Ok(RenderedEmail {
            subject: subject.trim().to_string(),
            text,
            html,
        })
    }

    /// A staff alert's title and one-line summary.
    pub fn staff(
        &self,
        name: &str,
        lang: Lang,
        ctx: &StaffContext,
    ) -> Result<(String, String), TemplateError> {
        if !self.catalogue.has_staff(name) {
            return Err(TemplateError::Unknown(name.to_string()));
        }
        let base = format!("staff/{name}/{}", lang.as_str());
        Ok((
            self.render(&format!("{base}/title.txt"), ctx)?
                .trim()
                .to_string(),
            self.render(&format!("{base}/summary.txt"), ctx)?
                .trim()
                .to_string(),
        ))
    }

    fn render(&self, name: &str, ctx: impl Serialize) -> Result<String, TemplateError> {
        self.env
            .get_template(name)
            .and_then(|t| t.render(ctx))
            .map_err(|e| invalid(name, e))
    }
}

/// How an advertising message starts, exactly (§50④: not `[광고]`, not `(광 고)`).
pub const AD_MARK: &str = "(광고)";

/// The sender's name, address and contact, as an advertising e-mail's footer names them.
fn sender_line(lang: Lang, ctx: &EmailContext) -> String {
    match lang {
        Lang::Ko => format!(
            "발신: {} · 주소: {} · 연락처: {}",
            ctx.sender_name, ctx.sender_address, ctx.sender_contact
        ),
        Lang::En => format!(
            "From: {} · Address: {} · Contact: {}",
            ctx.sender_name, ctx.sender_address, ctx.sender_contact
        ),
    }
}

/// `text` safe inside HTML, in an element or a quoted attribute.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn add(env: &mut Environment<'static>, name: String, source: String) -> Result<(), TemplateError> {
    env.add_template_owned(name.clone(), source)
        .map_err(|e| invalid(&name, e))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::rules::DEFAULT_RULES_TOML;

    pub fn context() -> EmailContext {
        EmailContext {
            brand: "소리튠".into(),
            program: "영어 회화 12주".into(),
            owner_name: "박서연".into(),
            days_inactive: 7,
            app_url: "https://app.example.com".into(),
            billing_url: "https://app.example.com/billing".into(),
            survey_url: "https://app.example.com/survey".into(),
            review_url: "https://app.example.com/review".into(),
            consultation_url: "https://app.example.com/consultation".into(),
            referral_code: "FRIEND-7K2Q".into(),
            referral_url: "https://app.example.com/r/FRIEND-7K2Q".into(),
            offer_code: "COMEBACK".into(),
            unsubscribe_url: "https://api.example.com/unsubscribe?c=c1&t=abc".into(),
            sender_name: "(주)소리튠".into(),
            sender_address: "서울특별시 중구 세종대로 110".into(),
            sender_contact: "02-1234-5678".into(),
            consent_date: "2025-01-10".into(),
            consent_via: "sign_up".into(),
        }
    }

    /// §50④ for e-mail: every advertising template, in every language and variant, starts its
    /// subject with exactly `(광고)`, names the sender, their address and contact in the text
    /// and the HTML, and ends with the free unsubscribe; informational ones carry no mark.
    #[test]
    fn every_advertising_email_is_marked_and_names_the_sender() {
        let templates = Templates::embedded().unwrap();
        let ctx = context();
        let mut advertising = 0;
        for (name, _) in EMAIL_SOURCES {
            let ad = templates.catalogue().purpose(name) == Purpose::Advertising;
            advertising += usize::from(ad);
            for lang in Lang::ALL {
                let mut variants: Vec<Option<String>> = vec![None];
                variants.extend(templates.variants(name, lang).iter().cloned().map(Some));
                for variant in variants {
                    let e = templates
                        .email(name, lang, variant.as_deref(), false, &ctx)
                        .unwrap();
                    let at = format!("{name}/{lang:?}/{variant:?}");
                    assert_eq!(e.subject.starts_with("(광고) "), ad, "{at}: {}", e.subject);
                    assert_eq!(e.subject.matches(AD_MARK).count(), usize::from(ad), "{at}");
                    for part in [&e.text, &e.html] {
                        for detail in [&ctx.sender_name, &ctx.sender_address, &ctx.sender_contact] {
                            assert_eq!(part.contains(detail.as_str()), ad, "{at}: {detail}");
                        }
                    }
                    let unsubscribe = e.text.trim_end().lines().last().unwrap();
                    assert!(
                        unsubscribe.ends_with(&ctx.unsubscribe_url),
                        "{at}: {unsubscribe}"
                    );
                    assert!(e.html.contains("unsubscribe?c=c1&amp;t=abc"), "{at}");
                }
            }
        }
        assert!(
            advertising >= 4,
            "the offers, win-back and referral are advertising"
        );
    }

    #[test]
    fn every_template_renders_in_every_language_and_variant() {
        let templates = Templates::embedded().expect("templates load");
        for (name, _) in EMAIL_SOURCES {
            for lang in Lang::ALL {
                let mut variants: Vec<Option<String>> = vec![None];
                variants.extend(templates.variants(name, lang).iter().cloned().map(Some));
                for variant in variants {
                    for transactional in [false, true] {
                        let e = templates
                            .email(name, lang, variant.as_deref(), transactional, &context())
                            .unwrap_or_else(|err| panic!("{name}/{lang:?}/{variant:?}: {err}"));
                        assert!(!e.subject.is_empty() && !e.text.is_empty(), "{name}");
                        assert!(
                            e.html.starts_with("<!doctype html")
                                || e.html.starts_with("<!DOCTYPE html"),
                            "{name}"
                        );
                        assert_eq!(
                            e.text.contains("unsubscribe?c=c1"),
                            !transactional,
                            "{name}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_missing_variable_is_an_error_not_a_blank() {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.add_template("t", "Hi {{ nmae }}").unwrap();
        assert!(env.get_template("t").unwrap().render(context()).is_err());
    }

    #[test]
    fn html_escapes_values_and_text_does_not() {
        let templates = Templates::embedded().unwrap();
        let mut ctx = context();
        ctx.program = "<b>A&B</b>".into();
        let e = templates
            .email("related_offer", Lang::En, None, false, &ctx)
            .unwrap();
        assert!(
            e.text.contains("<b>A&B</b>"),
            "the template names the program"
        );
        assert!(
            e.html.contains("&lt;b&gt;A&amp;B&lt;&#x2f;b&gt;")
                || e.html.contains("&lt;b&gt;A&amp;B&lt;/b&gt;"),
            "{}",
            e.html
        );
        assert!(!e.html.contains("<b>A&B</b>"));
    }

    #[test]
    fn every_template_the_rules_name_exists_with_its_variants() {
        let templates = Catalogue::embedded().unwrap();
        assert_eq!(templates.check(&Rules::embedded().unwrap()), Ok(()));
        let refused = |overlay: &str| {
            let rules = Rules::from_toml_with_overlay(DEFAULT_RULES_TOML, overlay).unwrap();
            templates.check(&rules).unwrap_err().to_string()
        };
        assert_eq!(
            refused("[interventions.risk_caution]\nemail = \"gentel_reminder\"\n"),
            "rules key `interventions.risk_caution.email`: no e-mail template `gentel_reminder`"
        );
        assert!(
            refused("[programs.fit.interventions.risk_danger]\nslack = \"nope\"\n")
                .starts_with("rules key `programs.fit.interventions.risk_danger.slack`"),
        );
        assert!(
            refused("[interventions.risk_caution]\nvariants = [\"a\", \"zz\"]\n")
                .contains("has no variant `zz`"),
        );
    }

    #[test]
    fn every_file_in_the_template_folders_is_built_in() {
        for (dir, names) in [("email", EMAIL_SOURCES), ("staff", STAFF_SOURCES)] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../infra/templates")
                .join(dir);
            for entry in std::fs::read_dir(path).unwrap().flatten() {
                let file = entry.file_name().to_string_lossy().to_string();
                if let Some(name) = file.strip_suffix(".toml") {
                    assert!(
                        names.iter().any(|(n, _)| *n == name),
                        "{dir}/{file} is not listed in templates.rs"
                    );
                }
            }
        }
    }

    #[test]
    fn locales_pick_the_language() {
        assert_eq!(Lang::of(Some("ko-KR"), Lang::En), Lang::Ko);
        assert_eq!(Lang::of(Some("en-US"), Lang::Ko), Lang::En);
        assert_eq!(Lang::of(Some("ja"), Lang::Ko), Lang::En);
        assert_eq!(Lang::of(None, Lang::Ko), Lang::Ko);
    }
}

//! Text templates (알림톡 and SMS/LMS), built in from `infra/templates/text/`. Each declares its
//! purpose; an advertising template can never go as 알림톡 (Kakao's policy, 정보통신망법 §50), so
//! one with an `[alimtalk]` section fails to load, naming it. An advertising text is rendered
//! with what §50④ requires: `(광고)` first, the sender's name and contact, and the free opt-out
//! line last.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use minijinja::{Environment, UndefinedBehavior};
use serde::Deserialize;

use crate::domain::consent::Purpose;
use crate::templates::{AD_MARK, EmailContext, Lang, TemplateError};

/// Every text template, by name (the names the rules' `text` keys use).
pub const TEXT_SOURCES: &[(&str, &str)] = &[
    text_source!("billing_failed"),
    text_source!("renewal_notice"),
    text_source!("gentle_reminder"),
    text_source!("special_offer"),
];

macro_rules! text_source {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!("../../infra/templates/text/", $name, ".toml")),
        )
    };
}
use text_source;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TextFile {
    purpose: Purpose,
    #[serde(default)]
    alimtalk: Option<AlimtalkSpec>,
    ko: TextSpec,
    en: TextSpec,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlimtalkSpec {
    /// The code Kakao approved this text under, at the provider.
    template_code: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TextSpec {
    text: String,
    /// An LMS's subject.
    #[serde(default)]
    subject: Option<String>,
    /// 알림톡 web-link buttons, in the approved template's order.
    #[serde(default)]
    buttons: Vec<ButtonSpec>,
    /// The provider's SMS/LMS when the 알림톡 cannot be delivered; the text itself if unset.
    #[serde(default)]
    fallback: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ButtonSpec {
    name: String,
    url: String,
}

/// What advertising must name besides the message (§50④).
#[derive(Clone, Debug, PartialEq)]
pub struct Advertiser {
    pub name: String,
    pub contact: String,
    /// The free 080 opt-out number registered with the provider.
    pub opt_out: String,
}

/// A text, rendered.
#[derive(Clone, Debug, PartialEq)]
pub struct RenderedText {
    pub purpose: Purpose,
    /// The approved 알림톡 code and its variables (names without `#{}`), if it may go so.
    pub alimtalk: Option<(String, BTreeMap<String, String>)>,
    pub subject: Option<String>,
    pub text: String,
    /// (name, url) per button.
    pub buttons: Vec<(String, String)>,
    pub fallback: String,
}

#[derive(Clone)]
struct Meta {
    purpose: Purpose,
    alimtalk: Option<AlimtalkSpec>,
    buttons: usize,
    subject: [bool; 2],
    /// The names the 알림톡's text and buttons use, per language (ko, en): read once here,
    /// not at every send.
    variables: [Vec<String>; 2],
}

/// The text templates, compiled once.
#[derive(Clone)]
pub struct TextTemplates {
    env: Environment<'static>,
    meta: BTreeMap<String, Meta>,
}

fn invalid(name: &str, reason: impl ToString) -> TemplateError {
    TemplateError::Invalid {
        name: format!("text/{name}"),
        reason: reason.to_string(),
    }
}

impl TextTemplates {
    pub fn embedded() -> Result<TextTemplates, TemplateError> {
        static COMPILED: OnceLock<Result<TextTemplates, TemplateError>> = OnceLock::new();
        COMPILED
            .get_or_init(|| TextTemplates::compile(TEXT_SOURCES))
            .clone()
    }

    /// Compiles `sources`; an advertising template with an `[alimtalk]` section is refused.
    pub fn compile(sources: &[(&str, &str)]) -> Result<TextTemplates, TemplateError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        let mut meta = BTreeMap::new();
        for (name, source) in sources {
            let file: TextFile = toml::from_str(source).map_err(|e| invalid(name, e))?;
            if file.purpose == Purpose::Advertising && file.alimtalk.is_some() {
                return Err(invalid(
                    name,
                    "an advertising message may not go as 알림톡 (Kakao's policy; 정보통신망법 §50): remove `[alimtalk]`",
                ));
            }
            let buttons = file.ko.buttons.len().max(file.en.buttons.len());
            let subject = [file.ko.subject.is_some(), file.en.subject.is_some()];
            let mut variables: [Vec<String>; 2] = Default::default();
            for (lang, spec) in [(Lang::Ko, file.ko), (Lang::En, file.en)] {
                let base = format!("{name}/{}", lang.as_str());
                let fallback = spec.fallback.clone().unwrap_or_else(|| spec.text.clone());
                let mut add = |part: String, source: String| {
                    env.add_template_owned(format!("{base}/{part}"), source)
                        .map_err(|e| invalid(name, e))
                };
                let mut parts = vec![("text".to_string(), spec.text)];
                for (i, b) in spec.buttons.into_iter().enumerate() {
                    parts.push((format!("button{i}/name"), b.name));
                    parts.push((format!("button{i}/url"), b.url));
                }
                let used: Vec<String> = parts.iter().map(|(p, _)| format!("{base}/{p}")).collect();
                for (part, source) in parts {
                    add(part, source)?;
                }
                add("subject".into(), spec.subject.unwrap_or_default())?;
                add("fallback".into(), fallback)?;
                let mut names = std::collections::BTreeSet::new();
                for part in &used {
                    let t = env.get_template(part).map_err(|e| invalid(name, e))?;
                    names.extend(t.undeclared_variables(false));
                }
                variables[usize::from(lang == Lang::En)] = names.into_iter().collect();
            }
            let entry = Meta {
                purpose: file.purpose,
                alimtalk: file.alimtalk,
                buttons,
                subject,
                variables,
            };
            meta.insert(name.to_string(), entry);
        }
        Ok(TextTemplates { env, meta })
    }

    pub fn has(&self, name: &str) -> bool {
        self.meta.contains_key(name)
    }

    pub fn purpose(&self, name: &str) -> Purpose {
        self.meta.get(name).map(|m| m.purpose).unwrap_or_default()
    }

    /// Whether any of these templates is advertising (the sender then needs an [`Advertiser`]).
    pub fn any_advertising<'a>(&self, mut names: impl Iterator<Item = &'a str>) -> bool {
        names.any(|n| self.purpose(n) == Purpose::Advertising)
    }

    /// Renders `name` in `lang`; advertising gets its marks from `advertiser`.
    pub fn render(
        &self,
        name: &str,
        lang: Lang,
        ctx: &EmailContext,
        advertiser: Option<&Advertiser>,
    ) -> Result<RenderedText, TemplateError> {
        let meta = self
            .meta
            .get(name)
            .ok_or_else(|| TemplateError::Unknown(format!("text/{name}")))?;
        let base = format!("{name}/{}", lang.as_str());
        let part = |p: &str| self.part(&format!("{base}/{p}"), ctx);
        let mut text = part("text")?;
        let mut fallback = part("fallback")?;
        let has_subject = meta.subject[usize::from(lang == Lang::En)];
        let subject = if has_subject {
            Some(part("subject")?)
        } else {
            None
        };
        let buttons = (0..meta.buttons)
            .filter(|i| {
                self.env
                    .get_template(&format!("{base}/button{i}/name"))
                    .is_ok()
            })
            .map(|i| {
                Ok((
                    part(&format!("button{i}/name"))?,
                    part(&format!("button{i}/url"))?,
                ))
            })
            .collect::<Result<Vec<_>, TemplateError>>()?;
        if meta.purpose == Purpose::Advertising {
            let ad = advertiser.ok_or_else(|| {
                invalid(
                    name,
                    "advertising needs the sender's name, contact and 080 opt-out",
                )
            })?;
            text = advertising(&text, ad);
            fallback = advertising(&fallback, ad);
        }
        let alimtalk = match &meta.alimtalk {
            Some(spec) => {
                let names = &meta.variables[usize::from(lang == Lang::En)];
                Some((spec.template_code.clone(), values(names, ctx)?))
            }
            None => None,
        };
        Ok(RenderedText {
            purpose: meta.purpose,
            alimtalk,
            subject,
            text,
            buttons,
            fallback,
        })
    }

    fn part(&self, name: &str, ctx: &EmailContext) -> Result<String, TemplateError> {
        self.env
            .get_template(name)
            .and_then(|t| t.render(ctx))
            .map(|s| s.trim().to_string())
            .map_err(|e| invalid(name, e))
    }
}

/// `names` with their values in `ctx`: what the provider substitutes into the approved
/// template.
fn values(names: &[String], ctx: &EmailContext) -> Result<BTreeMap<String, String>, TemplateError> {
    let values = serde_json::to_value(ctx).map_err(|e| invalid("context", e))?;
    Ok(names
        .iter()
        .filter_map(|n| {
            let v = values.get(n)?;
            Some((
                n.clone(),
                v.as_str().map_or_else(|| v.to_string(), str::to_string),
            ))
        })
        .collect())
}

/// `text` as §50④ wants an advertising text: `(광고)` and the sender first, their contact, and
/// the free opt-out line last.
fn advertising(text: &str, ad: &Advertiser) -> String {
    format!(
        "{AD_MARK} {}\n{}\n문의 {}\n무료수신거부 {}",
        ad.name,
        text.trim(),
        ad.contact,
        ad.opt_out
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text::{TextChannel, check_alimtalk, check_text, text_channel_for};

    use crate::templates::tests::context;

    fn advertiser() -> Advertiser {
        Advertiser {
            name: "(주)소리튠".into(),
            contact: "02-1234-5678".into(),
            opt_out: "080-123-4567".into(),
        }
    }

    /// Every template renders in both languages within its channels' limits, and every
    /// advertising text carries §50④'s marks in order.
    #[test]
    fn every_text_renders_within_its_limits_and_advertising_is_marked() {
        let templates = TextTemplates::embedded().unwrap();
        for (name, _) in TEXT_SOURCES {
            for lang in Lang::ALL {
                let r = templates
                    .render(name, lang, &context(), Some(&advertiser()))
                    .unwrap();
                let at = format!("{name}/{lang:?}");
                if let Some((code, variables)) = &r.alimtalk {
                    assert!(!code.is_empty() && variables.contains_key("brand"), "{at}");
                    let names: Vec<&str> = r.buttons.iter().map(|(n, _)| n.as_str()).collect();
                    check_alimtalk(&r.text, r.buttons.len(), &names).unwrap();
                }
                let channel = text_channel_for(r.subject.as_deref(), &r.fallback).unwrap();
                check_text(channel, r.subject.as_deref(), &r.fallback).unwrap();
                let ad = r.purpose == Purpose::Advertising;
                for text in [&r.text, &r.fallback] {
                    assert_eq!(text.starts_with("(광고) (주)소리튠\n"), ad, "{at}");
                    assert_eq!(text.contains("02-1234-5678"), ad, "{at}");
                    assert_eq!(text.ends_with("무료수신거부 080-123-4567"), ad, "{at}");
                }
                assert!(!(ad && r.alimtalk.is_some()), "{at}: advertising as 알림톡");
            }
        }
        // the payment notice's fallback fits one SMS
        let r = templates
            .render("billing_failed", Lang::Ko, &context(), None)
            .unwrap();
        assert_eq!(text_channel_for(None, &r.fallback), Ok(TextChannel::Sms));
    }

    #[test]
    fn an_advertising_template_with_an_alimtalk_section_fails_to_load_naming_it() {
        let source = "purpose = \"advertising\"\n[alimtalk]\ntemplate_code = \"X\"\n[ko]\ntext = \"할인\"\n[en]\ntext = \"Sale\"\n";
        let Err(e) = TextTemplates::compile(&[("coupon", source)]) else {
            panic!("an advertising 알림톡 loaded");
        };
        assert!(
            e.to_string().contains("text/coupon") && e.to_string().contains("알림톡"),
            "{e}"
        );
    }

    #[test]
    fn an_advertising_text_without_the_senders_details_is_not_rendered() {
        let templates = TextTemplates::embedded().unwrap();
        assert!(
            templates
                .render("special_offer", Lang::Ko, &context(), None)
                .is_err()
        );
    }
}

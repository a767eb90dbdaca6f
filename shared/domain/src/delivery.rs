//! Whether, when and to whom an intervention is e-mailed: quiet hours, unsubscribes and the
//! transactional exemption are product rules, decided here with `now` passed in; the e-mail
//! sender only carries the decision out.

use chrono::{DateTime, Utc};

use crate::consent::{Permit, Purpose, permit};
use crate::{Channel, Customer, Intervention, Policy};

#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Send now, to this address.
    Send { to: String },
    /// Quiet hours: send at this instant instead.
    Defer { until: DateTime<Utc> },
    /// Do not send; the reason is recorded.
    Skip { reason: String },
}

/// Transactional notices (billing) and staff alerts ignore quiet hours and unsubscribes;
/// marketing e-mail respects both. An address SES reported as bounced for good or as
/// complaining gets nothing at all: sending again harms the sender's reputation and reaches
/// no one.
///
/// Advertising (`purpose`, as its template declares) also needs the customer's recorded
/// consent, and at night their night consent ([`crate::consent::permit`]).
pub fn decide(
    intervention: &Intervention,
    customer: &Customer,
    policy: &Policy,
    purpose: Purpose,
    now: DateTime<Utc>,
) -> Decision {
    let skip = |reason: &str| Decision::Skip {
        reason: reason.to_string(),
    };
    match intervention.channel {
        Channel::OwnerEmail => match customer
            .profile
            .owner
            .as_ref()
            .and_then(|o| o.email.clone())
        {
            Some(to) => Decision::Send { to },
            None => skip("the owner has no e-mail address"),
        },
        Channel::Slack => skip("a Slack alert on the e-mail queue"),
        Channel::Text => skip("a text on the e-mail queue"),
        Channel::Email => {
            let Some(to) = customer.profile.email.clone() else {
                return skip("no e-mail address");
            };
            if let Some(why) = customer.profile.suppression() {
                return skip(&format!("address suppressed ({})", why.as_str()));
            }
            if intervention.transactional {
                return Decision::Send { to };
            }
            if customer.profile.unsubscribed {
                return skip("unsubscribed");
            }
            when(customer, policy, purpose, now).unwrap_or(Decision::Send { to })
        }
    }
}

/// Whether, when and to which number a text goes. Like e-mail (quiet hours for all but
/// transactional notices, advertising only with consent), but a text also stops where the
/// provider reported the number refuses texts (080 opt-out, a KISA report, spam); a number
/// that is not on KakaoTalk still gets texts, by SMS/LMS.
pub fn decide_text(
    intervention: &Intervention,
    customer: &Customer,
    policy: &Policy,
    purpose: Purpose,
    now: DateTime<Utc>,
) -> Decision {
    let skip = |reason: String| Decision::Skip { reason };
    if intervention.channel != Channel::Text {
        return skip(format!(
            "a {} message on the text queue",
            intervention.channel.as_str()
        ));
    }
    let Some(to) = customer.profile.phone.clone() else {
        return skip("no phone number".into());
    };
    if let Some(why) = texts_refused(customer) {
        return skip(format!("texts refused ({})", why.as_str()));
    }
    if intervention.transactional {
        return Decision::Send { to };
    }
    when(customer, policy, purpose, now).unwrap_or(Decision::Send { to })
}

/// For a message that is not transactional, on any channel: advertising without consent is
/// skipped, at night without night consent deferred; then quiet hours. `None`: it may go now.
fn when(
    customer: &Customer,
    policy: &Policy,
    purpose: Purpose,
    now: DateTime<Utc>,
) -> Option<Decision> {
    match permit(purpose, customer, &policy.advertising, now) {
        Permit::Send => {}
        Permit::Defer(until) => return Some(Decision::Defer { until }),
        Permit::Refuse(why) => {
            return Some(Decision::Skip {
                reason: format!("advertising: {}", why.as_str()),
            });
        }
    }
    policy
        .quiet_hours
        .deferral(now, customer.profile.time_zone.as_deref())
        .map(|until| Decision::Defer { until })
}

/// A block on SMS or LMS other than "not a KakaoTalk user": the number takes no texts.
fn texts_refused(customer: &Customer) -> Option<crate::text::Block> {
    use crate::text::{Block, TextChannel};
    customer
        .profile
        .text_blocks
        .iter()
        .filter(|(channel, _)| matches!(channel, TextChannel::Sms | TextChannel::Lms))
        .map(|(_, b)| b.block)
        .find(|b| *b != Block::NotKakaoUser)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventKind;
    use crate::testing::{Events, krw, t};
    use crate::{Effect, Rules, apply};

    fn planned(email: Option<&str>, zone: Option<&str>) -> (Customer, Intervention, Rules) {
        let rules = Rules::embedded().unwrap();
        let mut events = Events::new("c1");
        let mut pay = events.at(t("2026-11-01T01:00:00Z"), EventKind::paid(krw(1)));
        pay.profile.email = email.map(str::to_string);
        pay.profile.time_zone = zone.map(str::to_string);
        let o = apply(
            &Customer::new(events.customer().clone()),
            &pay,
            &rules,
            pay.occurred_at,
        )
        .unwrap();
        let welcome = o
            .effects
            .iter()
            .find_map(|e| match e {
                Effect::Send(i) => Some(i.clone()),
                Effect::Publish(_) | Effect::Erase | Effect::NoteText(_) => None,
            })
            .unwrap();
        (o.customer, welcome, rules)
    }

    #[test]
    fn marketing_waits_for_the_morning_in_the_customers_zone() {
        let (c, iv, rules) = planned(Some("kim@example.com"), None);
        let policy = rules.default_policy();
        // 23:00 in Seoul
        assert_eq!(
            decide(
                &iv,
                &c,
                policy,
                Purpose::Informational,
                t("2026-11-01T14:00:00Z")
            ),
            Decision::Defer {
                until: t("2026-11-01T23:00:00Z")
            }
        );
        // 10:00 in Seoul
        assert_eq!(
            decide(
                &iv,
                &c,
                policy,
                Purpose::Informational,
                t("2026-11-01T01:00:00Z")
            ),
            Decision::Send {
                to: "kim@example.com".into()
            }
        );
        // the same instant is 09:00 in New York: fine there
        let (ny, iv, _) = planned(Some("kim@example.com"), Some("America/New_York"));
        assert_eq!(
            decide(
                &iv,
                &ny,
                policy,
                Purpose::Informational,
                t("2026-11-01T14:00:00Z")
            ),
            Decision::Send {
                to: "kim@example.com".into()
            }
        );
    }

    #[test]
    fn billing_notices_ignore_quiet_hours_and_unsubscribes() {
        let (mut c, mut iv, rules) = planned(Some("kim@example.com"), None);
        iv.transactional = true;
        c.profile.unsubscribed = true;
        assert_eq!(
            decide(
                &iv,
                &c,
                rules.default_policy(),
                Purpose::Informational,
                t("2026-11-01T14:00:00Z")
            ),
            Decision::Send {
                to: "kim@example.com".into()
            }
        );
    }

    #[test]
    fn unsubscribed_or_unreachable_customers_are_skipped() {
        let (mut c, iv, rules) = planned(Some("kim@example.com"), None);
        c.profile.unsubscribed = true;
        assert_eq!(
            decide(
                &iv,
                &c,
                rules.default_policy(),
                Purpose::Informational,
                t("2026-11-01T01:00:00Z")
            ),
            Decision::Skip {
                reason: "unsubscribed".into()
            }
        );
        let (c, iv, _) = planned(None, None);
        assert_eq!(
            decide(
                &iv,
                &c,
                rules.default_policy(),
                Purpose::Informational,
                t("2026-11-01T01:00:00Z")
            ),
            Decision::Skip {
                reason: "no e-mail address".into()
            }
        );
    }

    fn texted(phone: Option<&str>) -> (Customer, Intervention, Rules) {
        let (mut c, mut iv, rules) = planned(Some("kim@example.com"), None);
        iv.channel = Channel::Text;
        c.profile.phone = phone.map(str::to_string);
        (c, iv, rules)
    }

    #[test]
    fn a_text_needs_a_number_that_takes_texts() {
        let noon = t("2026-11-01T03:00:00Z");
        let (c, iv, rules) = texted(None);
        let policy = rules.default_policy();
        assert_eq!(
            decide_text(&iv, &c, policy, Purpose::Informational, noon),
            Decision::Skip {
                reason: "no phone number".into()
            }
        );
        let (mut c, iv, _) = texted(Some("+821012345678"));
        let send = Decision::Send {
            to: "+821012345678".into(),
        };
        assert_eq!(
            decide_text(&iv, &c, policy, Purpose::Informational, noon),
            send
        );
        let block = |b| crate::customer::TextBlock { block: b, at: noon };
        // not on KakaoTalk: texts still go, by SMS/LMS
        c.profile.text_blocks.insert(
            crate::text::TextChannel::Sms,
            block(crate::text::Block::NotKakaoUser),
        );
        assert_eq!(
            decide_text(&iv, &c, policy, Purpose::Informational, noon),
            send
        );
        c.profile.text_blocks.insert(
            crate::text::TextChannel::Sms,
            block(crate::text::Block::OptOut),
        );
        assert_eq!(
            decide_text(&iv, &c, policy, Purpose::Informational, noon),
            Decision::Skip {
                reason: "texts refused (opt_out)".into()
            }
        );
    }

    /// A provider's opt-out report stops texts, once in the history; the same report again
    /// is the same event (its id from the message and code).
    #[test]
    fn an_opt_out_report_stops_texts_and_is_noted_once() {
        use crate::text::{Block, TextReport, TextStatus};
        let (c, iv, rules) = texted(Some("+821012345678"));
        let report = TextReport {
            send_id: iv.id.as_str().to_string(),
            customer_id: Some(c.id.as_str().to_string()),
            provider_id: "M4V1".into(),
            code: "2061".into(),
            status: TextStatus::Failed {
                permanent: true,
                block: Some(Block::OptOut),
            },
            at: t("2026-11-01T03:00:00Z"),
            fallback: false,
        };
        let event = crate::Event::text_report(c.id.clone(), "solapi", &report).unwrap();
        assert_eq!(event.id.as_str(), "solapi:M4V1:2061");
        let once = apply(&c, &event, &rules, event.occurred_at).unwrap();
        let again = apply(&once.customer, &event, &rules, event.occurred_at).unwrap();
        assert_eq!(once.history.len(), 1, "{:?}", once.history);
        assert!(again.history.is_empty());
        let policy = rules.default_policy();
        assert_eq!(
            decide_text(
                &iv,
                &again.customer,
                policy,
                Purpose::Informational,
                event.occurred_at
            ),
            Decision::Skip {
                reason: "texts refused (opt_out)".into()
            }
        );
    }

    /// A final report is noted on the send record with the channel that delivered and its
    /// price, and counted once for its month; a report still in flight is neither.
    #[test]
    fn a_final_report_is_noted_with_its_channel_and_price_and_counted_once() {
        use crate::apply::{Effect, TEXTS, TallyMetric};
        use crate::text::{TextChannel, TextNote, TextReport, TextStatus};
        let (c, iv, rules) = texted(Some("+821012345678"));
        let report = |code: &str, status| TextReport {
            send_id: iv.id.as_str().to_string(),
            customer_id: Some(c.id.as_str().to_string()),
            provider_id: "M4V2".into(),
            code: code.into(),
            status,
            at: t("2026-11-01T03:00:00Z"),
            fallback: true,
        };
        let event = |r: &TextReport| crate::Event::text_report(c.id.clone(), "solapi", r).unwrap();
        let pending = event(&report("3000", TextStatus::InFlight));
        let o = apply(&c, &pending, &rules, pending.occurred_at).unwrap();
        assert!(o.tallies.is_empty() && o.effects.is_empty(), "{o:?}");

        let delivered = event(&report(
            "4000",
            TextStatus::Delivered {
                via: TextChannel::Lms,
            },
        ));
        let once = apply(&c, &delivered, &rules, delivered.occurred_at).unwrap();
        let price = rules.default_policy().texts.prices_krw.lms;
        assert_eq!(
            once.effects,
            vec![Effect::NoteText(TextNote {
                intervention_id: iv.id.clone(),
                via: Some(TextChannel::Lms),
                expired: false,
                fallback: true,
                code: "4000".into(),
                cost_krw: price,
                at: delivered.occurred_at,
            })]
        );
        let counted: Vec<_> = once
            .tallies
            .iter()
            .map(|t| (t.template.as_str(), t.metric, t.attribute(), t.amount))
            .collect();
        assert_eq!(
            counted,
            vec![
                (
                    TEXTS,
                    TallyMetric::TextDelivered,
                    "text_delivered@2026-11@lms".to_string(),
                    1
                ),
                (
                    TEXTS,
                    TallyMetric::TextFellBack,
                    "text_fell_back@2026-11@lms".to_string(),
                    1
                ),
                (
                    TEXTS,
                    TallyMetric::TextCostKrw,
                    "text_cost_krw@2026-11@lms".to_string(),
                    price
                ),
            ]
        );
        let again = apply(&once.customer, &delivered, &rules, delivered.occurred_at).unwrap();
        assert!(
            again.tallies.is_empty(),
            "a report delivered twice counts once"
        );
    }

    #[test]
    fn an_advertising_text_needs_consent_and_waits_for_the_morning() {
        let (mut c, iv, rules) = texted(Some("+821012345678"));
        let policy = rules.default_policy();
        let noon = t("2026-11-01T03:00:00Z");
        assert_eq!(
            decide_text(&iv, &c, policy, Purpose::Advertising, noon),
            Decision::Skip {
                reason: "advertising: no_consent".into()
            }
        );
        c.profile.consents.marketing = Some(crate::consent::Consent {
            at: t("2026-10-01T00:00:00Z"),
            via: "sign_up".into(),
        });
        assert!(matches!(
            decide_text(&iv, &c, policy, Purpose::Advertising, noon),
            Decision::Send { .. }
        ));
        // 23:00 in Seoul
        assert_eq!(
            decide_text(
                &iv,
                &c,
                policy,
                Purpose::Advertising,
                t("2026-11-01T14:00:00Z")
            ),
            Decision::Defer {
                until: t("2026-11-01T23:00:00Z")
            }
        );
    }

    #[test]
    fn a_suppressed_address_gets_nothing_not_even_billing() {
        let (mut c, mut iv, rules) = planned(Some("kim@example.com"), None);
        c.profile.suppressed = Some(crate::customer::Suppression {
            reason: crate::MailFeedback::HardBounce,
            address: crate::customer::address_key(" Kim@Example.com"),
        });
        iv.transactional = true;
        assert_eq!(
            decide(
                &iv,
                &c,
                rules.default_policy(),
                Purpose::Informational,
                t("2026-11-01T01:00:00Z")
            ),
            Decision::Skip {
                reason: "address suppressed (hard_bounce)".into()
            }
        );
    }
}

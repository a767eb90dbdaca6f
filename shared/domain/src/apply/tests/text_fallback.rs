//! `email_fallback`: the text first, the e-mail only when the text cannot go or fails.

use super::*;
use crate::text::{Block, TextChannel, TextReport, TextStatus};

/// The payment notice by text, with the e-mail as its fallback.
fn rules() -> Rules {
    let text = crate::rules::DEFAULT_RULES_TOML.replace(
        "[interventions.payment_failed]\n",
        "[interventions.payment_failed]\ntext = \"billing_failed\"\nemail_fallback = true\n",
    );
    Rules::from_toml(&text).unwrap()
}

/// A paying customer with `phone`, whose payment then fails: what it planned.
fn failed_payment(phone: Option<&str>) -> (Journey, Outcome) {
    let mut j = Journey::with_rules(rules());
    let mut pay = j
        .events
        .at(t("2026-11-02T01:00:00Z"), EventKind::paid(krw(99_000)));
    pay.profile.email = Some("kim@example.com".into());
    pay.profile.phone = phone.map(str::to_string);
    j.apply(pay, t("2026-11-02T01:00:00Z"));
    let o = j.on(
        "2026-11-02T02:00:00Z",
        EventKind::PaymentFailed {
            amount: Some(krw(99_000)),
        },
    );
    (j, o)
}

fn channels(o: &Outcome) -> Vec<Channel> {
    Journey::templates(o).into_iter().map(|(c, _)| c).collect()
}

fn text_report(j: &mut Journey, text: &Intervention, code: &str, status: TextStatus) -> Outcome {
    let report = TextReport {
        send_id: text.id.as_str().to_string(),
        customer_id: None,
        provider_id: "M1".into(),
        code: code.into(),
        status,
        at: t("2026-11-02T02:05:00Z"),
        fallback: false,
    };
    let event = Event::text_report(j.customer.id.clone(), "solapi", &report).unwrap();
    j.apply(event, t("2026-11-02T02:05:00Z"))
}

#[test]
fn the_text_goes_first_and_its_failure_sends_the_held_email_once() {
    let (mut j, o) = failed_payment(Some("+821012345678"));
    assert_eq!(channels(&o), vec![Channel::Text], "the e-mail waits");
    let text = j.sent.last().cloned().unwrap();
    assert_eq!(j.customer.text_fallbacks.len(), 1);
    let held = j.customer.text_fallbacks[0].email.clone();
    assert_eq!(held.channel, Channel::Email);

    let failed = TextStatus::Failed {
        permanent: true,
        block: None,
    };
    let o = text_report(&mut j, &text, "3059", failed.clone());
    assert_eq!(channels(&o), vec![Channel::Email]);
    assert_eq!(
        j.sent.last(),
        Some(&held),
        "the e-mail as it was planned, same id"
    );
    assert!(j.customer.text_fallbacks.is_empty());
    let again = text_report(&mut j, &text, "3059", failed);
    assert!(channels(&again).is_empty(), "one failure, one e-mail");
}

#[test]
fn a_delivered_text_drops_the_held_email() {
    let (mut j, _) = failed_payment(Some("+821012345678"));
    let text = j.sent.last().cloned().unwrap();
    let o = text_report(
        &mut j,
        &text,
        "4000",
        TextStatus::Delivered {
            via: TextChannel::Alimtalk,
        },
    );
    assert!(channels(&o).is_empty());
    assert!(j.customer.text_fallbacks.is_empty());
}

#[test]
fn a_text_the_sender_skipped_sends_the_email_and_an_unknown_one_does_not() {
    for (kind, emailed) in [("skipped", true), ("unknown", false)] {
        let (mut j, _) = failed_payment(Some("+821012345678"));
        let text = j.sent.last().cloned().unwrap();
        let delivery = crate::Delivery::from(&text);
        let reason = "no_consent".to_string();
        let report = match kind {
            "skipped" => EventKind::InterventionSkipped { delivery, reason },
            _ => EventKind::InterventionUnknown { delivery, reason },
        };
        let o = j.on("2026-11-02T02:01:00Z", report);
        assert_eq!(channels(&o) == vec![Channel::Email], emailed, "{kind}");
        assert!(j.customer.text_fallbacks.is_empty(), "{kind}");
    }
}

#[test]
fn without_a_number_that_takes_texts_the_email_goes_at_once() {
    let (j, o) = failed_payment(None);
    assert_eq!(channels(&o), vec![Channel::Email]);
    assert!(j.customer.text_fallbacks.is_empty());

    // texts refused (an 080 opt-out blocks SMS and LMS): the same
    let (mut j, _) = failed_payment(Some("+821012345678"));
    let text = j.sent.last().cloned().unwrap();
    let opted_out = TextStatus::Failed {
        permanent: true,
        block: Some(Block::OptOut),
    };
    text_report(&mut j, &text, "2061", opted_out);
    assert!(!j.customer.profile.reachable_by_text());
    let o = j.on(
        "2026-11-20T02:00:00Z",
        EventKind::PaymentFailed {
            amount: Some(krw(99_000)),
        },
    );
    assert_eq!(channels(&o), vec![Channel::Email]);
}

#[test]
fn a_held_email_whose_text_is_never_reported_is_dropped_after_three_days() {
    let (mut j, _) = failed_payment(Some("+821012345678"));
    j.on("2026-11-04T01:59:00Z", EventKind::Login);
    assert_eq!(j.customer.text_fallbacks.len(), 1, "still awaited");
    let o = j.on("2026-11-05T02:01:00Z", EventKind::Login);
    assert!(j.customer.text_fallbacks.is_empty());
    assert!(
        channels(&o).is_empty(),
        "not sent: the text may have arrived"
    );
}

#[test]
fn a_fallback_without_both_channels_is_refused_naming_the_plan() {
    let text = crate::rules::DEFAULT_RULES_TOML.replace(
        "[interventions.payment_failed]\n",
        "[interventions.payment_failed]\nemail_fallback = true\n",
    );
    let err = Rules::from_toml(&text).unwrap_err().to_string();
    assert!(err.contains("interventions.payment_failed"), "{err}");
    assert!(err.contains("email_fallback"), "{err}");
}

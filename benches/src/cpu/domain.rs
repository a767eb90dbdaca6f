//! CPU per unit of work in the pure domain: `apply` for each event kind on a customer with
//! two months of history (goal ≤ 5 µs), and rendering one e-mail.

use std::hint::black_box;

use chrono::{DateTime, Duration, Utc};
use criterion::Criterion;
use journey::domain::{
    ContactChannel, Customer, Delivery, Event, EventKind, NpsScore, Rules, SignUpPlan, apply,
};
use journey::templates::{EmailContext, Lang, Templates};

use journey_domain::testing::{Events, customer_id, krw, t};

/// A paying customer with sixty days of activity, as the transition worker reads it.
fn history(rules: &Rules) -> (Customer, Events, DateTime<Utc>) {
    let mut events = Events::new("bench-1");
    let mut state = Customer::new(customer_id("bench-1"));
    let start = t("2026-09-01T09:00:00Z");
    let mut script = vec![
        (
            start,
            EventKind::SignedUp {
                plan: SignUpPlan::Trial,
            },
        ),
        (
            start + Duration::days(3),
            EventKind::PaymentSucceeded {
                amount: krw(99_000),
                renews_at: None,
            },
        ),
        (start + Duration::days(4), EventKind::OnboardingCompleted),
    ];
    for day in 5..60 {
        let at = start + Duration::days(day);
        script.push((at, EventKind::Login));
        if day % 3 == 0 {
            script.push((at + Duration::hours(1), EventKind::AssignmentSubmitted));
        }
        if day % 2 == 0 {
            script.push((
                at + Duration::hours(2),
                EventKind::ContentViewed { seconds: 900 },
            ));
        }
    }
    let mut now = start;
    for (at, kind) in script {
        let event = events.at(at, kind);
        now = at;
        if let Ok(outcome) = apply(&state, &event, rules, now) {
            state = outcome.customer;
        }
    }
    (state, events, now + Duration::hours(6))
}

fn kinds() -> Vec<(&'static str, EventKind)> {
    let delivery = Delivery {
        intervention_id: journey::domain::InterventionId::new("iv-bench").expect("id"),
        channel: journey::domain::Channel::Email,
        template: "gentle_reminder".into(),
        variant: Some("a".into()),
    };
    vec![
        (
            "signed_up",
            EventKind::SignedUp {
                plan: SignUpPlan::Trial,
            },
        ),
        (
            "payment_succeeded",
            EventKind::PaymentSucceeded {
                amount: krw(99_000),
                renews_at: None,
            },
        ),
        (
            "payment_failed",
            EventKind::PaymentFailed {
                amount: Some(krw(99_000)),
            },
        ),
        (
            "refund_requested",
            EventKind::RefundRequested {
                reason: Some("too busy".into()),
            },
        ),
        (
            "subscription_cancelled",
            EventKind::SubscriptionCancelled { reason: None },
        ),
        (
            "renewal_upcoming",
            EventKind::RenewalUpcoming { renews_at: None },
        ),
        ("trial_ending", EventKind::TrialEnding { ends_at: None }),
        ("login", EventKind::Login),
        ("onboarding_completed", EventKind::OnboardingCompleted),
        ("assignment_submitted", EventKind::AssignmentSubmitted),
        ("assignment_missed", EventKind::AssignmentMissed),
        ("content_viewed", EventKind::ContentViewed { seconds: 600 }),
        ("program_completed", EventKind::ProgramCompleted),
        ("support_ticket", EventKind::SupportTicket),
        (
            "nps_response",
            EventKind::NpsResponse {
                score: NpsScore::new(4).expect("score"),
            },
        ),
        ("profile_updated", EventKind::ProfileUpdated),
        ("unsubscribed", EventKind::Unsubscribed),
        (
            "intervention_sent",
            EventKind::InterventionSent {
                delivery: delivery.clone(),
            },
        ),
        (
            "intervention_failed",
            EventKind::InterventionFailed {
                delivery,
                reason: "bounce".into(),
            },
        ),
        (
            "staff_note",
            EventKind::StaffNote {
                author: "staff-1".into(),
                channel: ContactChannel::Phone,
                outcome: None,
            },
        ),
        ("erased", EventKind::Erased { by: None }),
    ]
}

pub fn apply_each_kind(c: &mut Criterion) {
    let rules = Rules::embedded().expect("rules");
    bench_apply(c, "apply", &rules, |_| true);
}

/// The same events under the rules calibration learned for the course world (seed 7): boosted
/// trees (40, depth 3) instead of the weights, with their Shapley values on every score.
pub fn apply_with_model(c: &mut Criterion) {
    let overlay = include_str!("../../fixtures/course-model.toml");
    let rules = Rules::from_toml_with_overlay(journey::domain::rules::DEFAULT_RULES_TOML, overlay)
        .expect("the course model");
    bench_apply(c, "apply_model", &rules, |name| {
        ["login", "payment_failed"].contains(&name)
    });
}

/// `apply` for each kind `keep` names, then the sweep's tick 12 days after the last activity
/// (it escalates and plans interventions), under `rules`.
fn bench_apply(c: &mut Criterion, group: &str, rules: &Rules, keep: impl Fn(&str) -> bool) {
    let (state, mut events, now) = history(rules);
    let mut group = c.benchmark_group(group);
    for (name, kind) in kinds().into_iter().filter(|(n, _)| keep(n)) {
        let event: Event = events.at(now, kind);
        group.bench_function(name, |b| {
            b.iter(|| apply(black_box(&state), black_box(&event), rules, now))
        });
    }
    let due = now + Duration::days(12);
    let check = events.check(due);
    group.bench_function("check_due", |b| {
        b.iter(|| apply(black_box(&state), black_box(&check), rules, due))
    });
    group.finish();
}

fn context() -> EmailContext {
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
        unsubscribe_url: "https://api.example.com/unsubscribe?c=bench-1&t=abc".into(),
        sender_name: "(주)소리튠".into(),
        sender_address: "서울특별시 중구 세종대로 110".into(),
        sender_contact: "02-1234-5678".into(),
        consent_date: "2025-01-10".into(),
        consent_via: "sign_up".into(),
    }
}

pub fn render_email(c: &mut Criterion) {
    let templates = Templates::embedded().expect("templates");
    let ctx = context();
    let mut group = c.benchmark_group("render");
    for (name, lang) in [("gentle_reminder", Lang::Ko), ("billing_failed", Lang::En)] {
        group.bench_function(format!("{name}/{}", lang.as_str()), |b| {
            b.iter(|| templates.email(black_box(name), lang, Some("a"), false, &ctx))
        });
    }
    group.finish();
}

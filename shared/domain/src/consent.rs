//! Advertising under 정보통신망법 제50조, as rules the sender cannot skip (`docs/messages.md`,
//! *The law*): an advertising message needs the recipient's recorded consent (§50②), at night
//! also their separate night consent (§50③); a consent older than two years without a
//! re-confirmation counts as none (§50⑧). Informational messages (billing, expiry, schedule)
//! are outside §50. The transaction exception (a paying customer, the same kind of product, up
//! to six months after the transaction ends) is a rules key, off by default.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::quiet_hours::QuietHours;
use crate::{Customer, Stage};

/// What a message is, as its template declares it.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Purpose {
    /// Something the customer must receive because of the contract: payment, renewal,
    /// expiry, schedule. The only kind a 알림톡 may carry.
    #[default]
    Informational,
    /// A discount, a coupon, a promotion, a "come back" offer.
    Advertising,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A consent as recorded: when it was given (or last re-confirmed), and how.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Consent {
    pub at: DateTime<Utc>,
    /// The app's words for where it was given (`sign_up`, `settings`, `reconfirmation`).
    pub via: String,
}

/// The customer's consents, kept on the profile and erased with it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Consents {
    /// To receive advertising (§50②).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketing: Option<Consent>,
    /// To receive it between 21:00 and 08:00 as well (§50③).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub night: Option<Consent>,
}

impl Consents {
    pub fn is_empty(&self) -> bool {
        self.marketing.is_none() && self.night.is_none()
    }

    /// Applies a change the app reported at `at`: `true` gives (or re-confirms) a consent,
    /// `false` withdraws it; withdrawing marketing withdraws night consent too.
    pub fn apply(&mut self, change: &ConsentChange, at: DateTime<Utc>) {
        let via = change.via.clone().unwrap_or_else(|| "app".to_string());
        let given = || Consent {
            at,
            via: via.clone(),
        };
        match change.marketing {
            Some(true) => self.marketing = Some(given()),
            Some(false) => (self.marketing, self.night) = (None, None),
            None => {}
        }
        match change.night {
            Some(true) if self.marketing.is_some() => self.night = Some(given()),
            Some(true) => {}
            Some(false) => self.night = None,
            None => {}
        }
    }
}

/// A consent change, on an event's profile.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsentChange {
    /// `true`: marketing consent given or re-confirmed now; `false`: withdrawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketing: Option<bool>,
    /// `true`: night consent given now (needs marketing consent); `false`: withdrawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub night: Option<bool>,
    /// Where it was given, recorded with it (`sign_up`, `settings` …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

/// The `[advertising]` rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvertisingRules {
    /// The night window that needs night consent (§50③: 21:00–08:00), in the customer's zone.
    pub night: QuietHours,
    /// How long a consent holds without a re-confirmation (§50⑧: two years).
    pub consent_days: i64,
    /// How long before it lapses the re-confirmation notice goes.
    pub reconfirm_before_days: i64,
    /// §50② 단서: a customer who bought may get advertising for the same kind of product
    /// without consent until this many days after the transaction ends (off by default: 0).
    #[serde(default)]
    pub transaction_exception_days: i64,
}

impl Default for AdvertisingRules {
    fn default() -> Self {
        AdvertisingRules {
            night: QuietHours {
                enabled: true,
                start: chrono::NaiveTime::from_hms_opt(21, 0, 0).unwrap_or_default(),
                end: chrono::NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default(),
                default_time_zone: chrono_tz::Asia::Seoul,
            },
            consent_days: 730,
            reconfirm_before_days: 30,
            transaction_exception_days: 0,
        }
    }
}

/// May a message of `purpose` go to `customer` now?
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Permit {
    Send,
    /// Only at this instant (the end of the night window).
    Defer(DateTime<Utc>),
    Refuse(Refusal),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Refusal {
    /// No marketing consent recorded (nor the transaction exception).
    NoConsent,
    /// A consent older than `consent_days`, never re-confirmed.
    ConsentLapsed,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Whether `consent` still holds at `now`.
fn holds(consent: Option<&Consent>, rules: &AdvertisingRules, now: DateTime<Utc>) -> bool {
    consent.is_some_and(|c| now < c.at + Duration::days(rules.consent_days))
}

/// When a customer's transaction ended: `None` while they pay (or never paid); a churned
/// customer's churn.
fn transaction_ended(customer: &Customer) -> Option<Option<DateTime<Utc>>> {
    match customer.stage? {
        Stage::Trial => None,
        Stage::Churned => Some(customer.stage_changed_at),
        _ => Some(None),
    }
}

/// Within the transaction exception: paying, or churned less than its days ago.
fn excepted(customer: &Customer, rules: &AdvertisingRules, now: DateTime<Utc>) -> bool {
    if rules.transaction_exception_days <= 0 {
        return false;
    }
    match transaction_ended(customer) {
        None => false,
        Some(None) => true,
        Some(Some(ended)) => now < ended + Duration::days(rules.transaction_exception_days),
    }
}

/// The decision for one message: informational always goes; advertising needs consent (or the
/// exception), and in the night window also night consent, else it waits for the morning.
pub fn permit(
    purpose: Purpose,
    customer: &Customer,
    rules: &AdvertisingRules,
    now: DateTime<Utc>,
) -> Permit {
    if purpose == Purpose::Informational {
        return Permit::Send;
    }
    let consents = &customer.profile.consents;
    if !holds(consents.marketing.as_ref(), rules, now) && !excepted(customer, rules, now) {
        return Permit::Refuse(match consents.marketing {
            Some(_) => Refusal::ConsentLapsed,
            None => Refusal::NoConsent,
        });
    }
    let zone = customer.profile.time_zone.as_deref();
    match rules.night.deferral(now, zone) {
        Some(morning) if !holds(consents.night.as_ref(), rules, now) => Permit::Defer(morning),
        _ => Permit::Send,
    }
}

/// When the re-confirmation notice for the customer's marketing consent is due (`None`: no
/// consent to re-confirm).
pub fn reconfirmation_due(consents: &Consents, rules: &AdvertisingRules) -> Option<DateTime<Utc>> {
    let consent = consents.marketing.as_ref()?;
    Some(consent.at + Duration::days(rules.consent_days - rules.reconfirm_before_days))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::t;
    use crate::{CustomerId, Stage};
    use chrono::Timelike;
    use proptest::prelude::*;

    fn customer(stage: Stage, consents: Consents, zone: Option<&str>) -> Customer {
        let mut c = Customer::new(CustomerId::new("c1").unwrap());
        c.stage = Some(stage);
        c.profile.consents = consents;
        c.profile.time_zone = zone.map(str::to_string);
        c
    }

    fn given(at: &str) -> Option<Consent> {
        Some(Consent {
            at: t(at),
            via: "sign_up".into(),
        })
    }

    fn rules() -> AdvertisingRules {
        crate::Rules::embedded()
            .unwrap()
            .default_policy()
            .advertising
            .clone()
    }

    #[test]
    fn advertising_needs_consent_and_informational_does_not() {
        let none = customer(Stage::Active, Consents::default(), None);
        let noon = t("2026-11-02T03:00:00Z"); // 12:00 in Seoul
        assert_eq!(
            permit(Purpose::Advertising, &none, &rules(), noon),
            Permit::Refuse(Refusal::NoConsent)
        );
        assert_eq!(
            permit(Purpose::Informational, &none, &rules(), noon),
            Permit::Send
        );
        let consented = customer(
            Stage::Active,
            Consents {
                marketing: given("2026-01-01T00:00:00Z"),
                night: None,
            },
            None,
        );
        assert_eq!(
            permit(Purpose::Advertising, &consented, &rules(), noon),
            Permit::Send
        );
    }

    #[test]
    fn at_night_advertising_waits_for_eight_unless_night_consent() {
        let mut c = customer(
            Stage::Active,
            Consents {
                marketing: given("2026-01-01T00:00:00Z"),
                night: None,
            },
            None,
        );
        let late = t("2026-11-02T13:30:00Z"); // 22:30 in Seoul
        assert_eq!(
            permit(Purpose::Advertising, &c, &rules(), late),
            Permit::Defer(t("2026-11-02T23:00:00Z"))
        );
        c.profile.consents.night = given("2026-01-01T00:00:00Z");
        assert_eq!(
            permit(Purpose::Advertising, &c, &rules(), late),
            Permit::Send
        );
        // 22:30 in Seoul is 08:30 in New York: day there
        let mut ny = c.clone();
        ny.profile.consents.night = None;
        ny.profile.time_zone = Some("America/New_York".into());
        assert_eq!(
            permit(Purpose::Advertising, &ny, &rules(), late),
            Permit::Send
        );
    }

    #[test]
    fn a_consent_lapses_after_two_years_unless_reconfirmed() {
        let mut c = customer(
            Stage::Active,
            Consents {
                marketing: given("2024-11-01T00:00:00Z"),
                night: None,
            },
            None,
        );
        let noon = t("2026-11-02T03:00:00Z");
        assert_eq!(
            permit(Purpose::Advertising, &c, &rules(), noon),
            Permit::Refuse(Refusal::ConsentLapsed)
        );
        assert_eq!(
            reconfirmation_due(&c.profile.consents, &rules()),
            Some(t("2026-10-02T00:00:00Z"))
        );
        c.profile.consents.apply(
            &ConsentChange {
                marketing: Some(true),
                night: None,
                via: Some("reconfirmation".into()),
            },
            t("2026-10-20T00:00:00Z"),
        );
        assert_eq!(
            permit(Purpose::Advertising, &c, &rules(), noon),
            Permit::Send
        );
        assert_eq!(c.profile.consents.marketing.unwrap().via, "reconfirmation");
    }

    #[test]
    fn the_transaction_exception_holds_six_months_after_churn_when_switched_on() {
        let mut rules = rules();
        let noon = t("2026-11-02T03:00:00Z");
        let mut churned = customer(Stage::Churned, Consents::default(), None);
        churned.stage_changed_at = Some(t("2026-07-01T00:00:00Z"));
        let paying = customer(Stage::Active, Consents::default(), None);
        let trial = customer(Stage::Trial, Consents::default(), None);
        for c in [&churned, &paying, &trial] {
            assert!(matches!(
                permit(Purpose::Advertising, c, &rules, noon),
                Permit::Refuse(_)
            ));
        }
        rules.transaction_exception_days = 183;
        assert_eq!(
            permit(Purpose::Advertising, &paying, &rules, noon),
            Permit::Send
        );
        assert_eq!(
            permit(Purpose::Advertising, &churned, &rules, noon),
            Permit::Send
        );
        assert!(matches!(
            permit(Purpose::Advertising, &trial, &rules, noon),
            Permit::Refuse(_)
        ));
        churned.stage_changed_at = Some(t("2026-04-01T00:00:00Z"));
        assert!(matches!(
            permit(Purpose::Advertising, &churned, &rules, noon),
            Permit::Refuse(_)
        ));
    }

    #[test]
    fn withdrawing_marketing_consent_withdraws_night_consent_too() {
        let mut consents = Consents::default();
        let change = |marketing, night| ConsentChange {
            marketing,
            night,
            via: None,
        };
        // night consent alone means nothing
        consents.apply(&change(None, Some(true)), t("2026-01-01T00:00:00Z"));
        assert!(consents.night.is_none());
        consents.apply(&change(Some(true), Some(true)), t("2026-01-02T00:00:00Z"));
        assert!(consents.marketing.is_some() && consents.night.is_some());
        consents.apply(&change(Some(false), None), t("2026-01-03T00:00:00Z"));
        assert!(consents.is_empty());
    }

    fn any_consent() -> impl Strategy<Value = Option<Consent>> {
        proptest::option::of((0i64..2_000).prop_map(|days| Consent {
            at: t("2026-11-02T00:00:00Z") - Duration::days(days),
            via: "app".into(),
        }))
    }

    fn any_zone() -> impl Strategy<Value = Option<&'static str>> {
        proptest::option::of(proptest::sample::select(vec![
            "Asia/Seoul",
            "America/New_York",
            "Europe/Berlin",
            "Australia/Sydney",
        ]))
    }

    proptest! {
        /// No advertising message goes to a customer without a consent that still holds.
        #[test]
        fn no_advertising_without_consent(
            marketing in any_consent(),
            night in any_consent(),
            zone in any_zone(),
            minutes in 0i64..(60 * 24 * 14),
        ) {
            let rules = rules();
            let now = t("2026-11-02T00:00:00Z") + Duration::minutes(minutes);
            let c = customer(Stage::Active, Consents { marketing: marketing.clone(), night }, zone);
            let decision = permit(Purpose::Advertising, &c, &rules, now);
            let valid = marketing.is_some_and(|m| now < m.at + Duration::days(rules.consent_days));
            prop_assert_eq!(matches!(decision, Permit::Refuse(_)), !valid);
        }

        /// None goes between 21:00 and 08:00 local without night consent; a deferral ends at
        /// 08:00 local.
        #[test]
        fn no_advertising_at_night_without_night_consent(
            zone in any_zone(),
            minutes in 0i64..(60 * 24 * 14),
        ) {
            let rules = rules();
            let now = t("2026-11-02T00:00:00Z") + Duration::minutes(minutes);
            let consents = Consents { marketing: given("2026-10-01T00:00:00Z"), night: None };
            let c = customer(Stage::Active, consents, zone);
            let tz: chrono_tz::Tz = zone.unwrap_or("Asia/Seoul").parse().unwrap();
            let hour = now.with_timezone(&tz).hour();
            let night = !(8..21).contains(&hour);
            match permit(Purpose::Advertising, &c, &rules, now) {
                Permit::Send => prop_assert!(!night),
                Permit::Defer(until) => {
                    prop_assert!(night);
                    let local = until.with_timezone(&tz);
                    prop_assert_eq!((local.hour(), local.minute()), (8, 0));
                    prop_assert!(until > now);
                }
                Permit::Refuse(r) => prop_assert!(false, "refused: {:?}", r),
            }
        }
    }
}

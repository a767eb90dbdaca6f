//! What a planned message answers. The occasion goes into the intervention's id, so the same
//! cause plans the same id on every retry and replay, and a new cause a new one.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{EventId, InterventionId};

/// The cause of one planned (or scheduled) message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Occasion {
    /// The sign-up: one trial welcome per customer, ever.
    SignUp,
    /// An event: a payment, a ticket, a sign-up, an NPS answer.
    Event(EventId),
    /// A risk episode: each level's message once per episode.
    Episode(u32),
    /// The survey scheduled when onboarding started (by that event).
    Onboarding(EventId),
    /// A completion (a course finished) at that time, and its follow-ups.
    Completed(DateTime<Utc>),
    /// The win-back messages after a churn at that time, counted from 1.
    WinBack { churned: DateTime<Utc>, step: u32 },
    /// A message deferred by quiet hours, kept to be sent as it is.
    Deferred(InterventionId),
    /// The marketing consent given at that time: its re-confirmation notice, once.
    Consent(DateTime<Utc>),
}

const SIGN_UP: &str = "signup";
const EPISODE: &str = "episode:";
const ONBOARDING: &str = "onboarding:";
const COMPLETED: &str = "completed:";
const DEFERRED: &str = "deferred:";
const WIN_BACK: &str = "churn:";
const CONSENT: &str = "consent:";

/// The text that is hashed into ids and stored with scheduled follow-ups: it must never change
/// for an occasion, or a replay would plan a second message for one cause.
impl fmt::Display for Occasion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Occasion::SignUp => f.write_str(SIGN_UP),
            Occasion::Event(id) => write!(f, "{id}"),
            Occasion::Episode(n) => write!(f, "{EPISODE}{n}"),
            Occasion::Onboarding(id) => write!(f, "{ONBOARDING}{id}"),
            Occasion::Completed(at) => write!(f, "{COMPLETED}{}", at.to_rfc3339()),
            Occasion::Deferred(id) => write!(f, "{DEFERRED}{id}"),
            Occasion::Consent(at) => write!(f, "{CONSENT}{}", at.to_rfc3339()),
            Occasion::WinBack { churned, step } => {
                write!(f, "{WIN_BACK}{}:{step}", churned.to_rfc3339())
            }
        }
    }
}

/// A stored occasion. Total, so a stored customer always loads: text in no other form is an
/// event's id as written, and displays as it was read.
impl From<String> for Occasion {
    fn from(text: String) -> Occasion {
        let parsed = if text == SIGN_UP {
            Some(Occasion::SignUp)
        } else if let Some(n) = text.strip_prefix(EPISODE) {
            n.parse().ok().map(Occasion::Episode)
        } else if let Some(id) = text.strip_prefix(ONBOARDING) {
            EventId::new(id).ok().map(Occasion::Onboarding)
        } else if let Some(at) = text.strip_prefix(COMPLETED) {
            DateTime::parse_from_rfc3339(at)
                .ok()
                .map(|at| Occasion::Completed(at.to_utc()))
        } else if let Some(id) = text.strip_prefix(DEFERRED) {
            InterventionId::new(id).ok().map(Occasion::Deferred)
        } else if let Some(at) = text.strip_prefix(CONSENT) {
            DateTime::parse_from_rfc3339(at)
                .ok()
                .map(|at| Occasion::Consent(at.to_utc()))
        } else if let Some((at, step)) = text
            .strip_prefix(WIN_BACK)
            .and_then(|rest| rest.rsplit_once(':'))
        {
            let churned = DateTime::parse_from_rfc3339(at).ok().map(|at| at.to_utc());
            churned
                .zip(step.parse().ok())
                .map(|(churned, step)| Occasion::WinBack { churned, step })
        } else {
            None
        };
        match parsed {
            Some(occasion) if occasion.to_string() == text => occasion,
            _ => Occasion::Event(EventId(text)),
        }
    }
}

impl From<Occasion> for String {
    fn from(occasion: Occasion) -> String {
        occasion.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn event(id: &str) -> EventId {
        EventId::new(id).unwrap()
    }

    #[test]
    fn each_occasion_keeps_the_text_its_ids_were_derived_from() {
        let at: DateTime<Utc> = "2026-11-02T01:00:00Z".parse().unwrap();
        let cases = [
            (Occasion::SignUp, "signup"),
            (
                Occasion::WinBack {
                    churned: at,
                    step: 2,
                },
                "churn:2026-11-02T01:00:00+00:00:2",
            ),
            (Occasion::Event(event("stripe:evt_1")), "stripe:evt_1"),
            (Occasion::Episode(3), "episode:3"),
            (Occasion::Onboarding(event("app:e1")), "onboarding:app:e1"),
            (
                Occasion::Completed(at),
                "completed:2026-11-02T01:00:00+00:00",
            ),
            (
                Occasion::Deferred(InterventionId::new("iv_0a").unwrap()),
                "deferred:iv_0a",
            ),
            (Occasion::Consent(at), "consent:2026-11-02T01:00:00+00:00"),
        ];
        for (occasion, text) in cases {
            assert_eq!(occasion.to_string(), text);
            assert_eq!(Occasion::from(text.to_string()), occasion);
        }
    }

    #[test]
    fn text_in_no_other_form_is_an_events_id_as_written() {
        for text in ["episode:x", "completed:2026-11-02T01:00:00Z", "evt_9"] {
            let occasion = Occasion::from(text.to_string());
            assert!(matches!(occasion, Occasion::Event(_)), "{text}");
            assert_eq!(occasion.to_string(), text);
        }
    }

    proptest! {
        #[test]
        fn any_stored_text_displays_as_it_was_stored(text in "[!-~]{1,40}") {
            prop_assert_eq!(Occasion::from(text.clone()).to_string(), text);
        }

        #[test]
        fn an_episode_survives_storage(n in any::<u32>()) {
            let stored = serde_json::to_string(&Occasion::Episode(n)).unwrap();
            prop_assert_eq!(serde_json::from_str::<Occasion>(&stored).unwrap(), Occasion::Episode(n));
        }
    }
}

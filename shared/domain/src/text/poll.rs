//! When the reconciler asks the provider about a text that has no final report yet: reports
//! are the webhook's job, but a webhook can be down, misconfigured or lose a report, and a
//! fallback SMS/LMS may be reported up to two days late. So a text still unreported is polled
//! `first_minutes` after it was sent, then at doubling intervals up to `max_interval_hours`,
//! and recorded expired once `expire_hours` have passed (`[texts.polls]`).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PollRules {
    pub first_minutes: u32,
    pub max_interval_hours: u32,
    pub expire_hours: u32,
}

impl Default for PollRules {
    fn default() -> Self {
        PollRules {
            first_minutes: 30,
            max_interval_hours: 24,
            expire_hours: 72,
        }
    }
}

impl PollRules {
    /// The first poll of a text sent at `sent_at` strictly after `after`; `None` once the
    /// text is past `expire_hours` (record it expired).
    pub fn next_poll(&self, sent_at: DateTime<Utc>, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let expires = sent_at + Duration::hours(self.expire_hours.into());
        let max = Duration::hours(self.max_interval_hours.max(1).into());
        let mut interval = Duration::minutes(self.first_minutes.max(1).into());
        let mut at = sent_at + interval;
        while at <= after {
            interval = (interval * 2).min(max);
            at += interval;
        }
        (at <= expires)
            .then_some(at)
            .or_else(|| (after < expires).then_some(expires))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn polls_back_off_from_thirty_minutes_to_a_day_then_the_text_expires() {
        let rules = PollRules::default();
        let sent = t("2026-11-02T00:00:00Z");
        let mut at = sent;
        let mut polls = Vec::new();
        while let Some(next) = rules.next_poll(sent, at) {
            polls.push((next - sent).num_minutes());
            at = next;
        }
        // 30 min, then +1 h, +2 h, +4 h, +8 h, +16 h, +24 h …, the last at 72 h
        assert_eq!(
            polls,
            vec![30, 90, 210, 450, 930, 1890, 3330, 4320],
            "minutes after sending"
        );
        assert_eq!(rules.next_poll(sent, sent + Duration::hours(72)), None);
        // a run that comes late polls at the next point, never in the past
        assert_eq!(
            rules.next_poll(sent, t("2026-11-02T02:00:00Z")),
            Some(t("2026-11-02T03:30:00Z"))
        );
    }
}

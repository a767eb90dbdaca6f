//! The trailing window of what a customer did, day by day: the raw material of the engagement
//! rule and of the risk score's signals.
//!
//! The window is kept relative to the newest day it holds, never to the processing time, so the
//! same set of events gives the same window whatever order they arrive in.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Days of history kept. Every window in the rules must fit in it (checked when they load).
pub const RETENTION_DAYS: i64 = 35;

/// A day as days since 1970-01-01 (UTC).
pub type DayNumber = i64;

pub fn day_of(at: DateTime<Utc>) -> DayNumber {
    at.timestamp().div_euclid(86_400)
}

/// What happened on one day. Zero fields are not stored, to keep the item small.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTally {
    #[serde(default, skip_serializing_if = "is_zero", rename = "l")]
    pub logins: u32,
    #[serde(default, skip_serializing_if = "is_zero", rename = "c")]
    pub content_seconds: u32,
    #[serde(default, skip_serializing_if = "is_zero", rename = "s")]
    pub submissions: u32,
    #[serde(default, skip_serializing_if = "is_zero", rename = "m")]
    pub missed: u32,
    #[serde(default, skip_serializing_if = "is_zero", rename = "t")]
    pub tickets: u32,
    /// Any activity at all (login, submission, content, onboarding or completion).
    #[serde(default, skip_serializing_if = "std::ops::Not::not", rename = "a")]
    pub active: bool,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Which tally an event adds to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    Login,
    Content(u32),
    Submission,
    /// Activity that has no counter of its own (onboarding completed, program completed).
    Other,
    Missed,
    Ticket,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// The newest activity (not tickets or missed assignments) ever seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub days: BTreeMap<DayNumber, DayTally>,
}

impl Activity {
    /// Records `mark` on the day of `at`, then drops days that fell out of the window.
    pub fn record(&mut self, at: DateTime<Utc>, mark: Mark) {
        let day = day_of(at);
        let is_activity = !matches!(mark, Mark::Missed | Mark::Ticket);
        if is_activity {
            self.last_at = Some(self.last_at.map_or(at, |last| last.max(at)));
        }
        let newest = self
            .days
            .keys()
            .next_back()
            .copied()
            .unwrap_or(day)
            .max(day);
        if day <= newest - RETENTION_DAYS {
            return; // too old to matter to any window
        }
        let tally = self.days.entry(day).or_default();
        match mark {
            Mark::Login => tally.logins = tally.logins.saturating_add(1),
            Mark::Content(s) => tally.content_seconds = tally.content_seconds.saturating_add(s),
            Mark::Submission => tally.submissions = tally.submissions.saturating_add(1),
            Mark::Other => {}
            Mark::Missed => tally.missed = tally.missed.saturating_add(1),
            Mark::Ticket => tally.tickets = tally.tickets.saturating_add(1),
        }
        tally.active |= is_activity;
        self.days.retain(|d, _| *d > newest - RETENTION_DAYS);
    }

    /// Sum of `field` over the `days` days ending with the day of `end` (inclusive).
    pub fn sum(&self, end: DateTime<Utc>, days: i64, field: impl Fn(&DayTally) -> u32) -> u64 {
        self.span(day_of(end) - days + 1, day_of(end))
            .map(|t| u64::from(field(t)))
            .sum()
    }

    /// Sum of `field` over `[from, to)` measured in whole days before the day of `end`:
    /// `sum_between(end, 28, 7, f)` covers the 21 days before the most recent 7.
    pub fn sum_between(
        &self,
        end: DateTime<Utc>,
        from_days_ago: i64,
        to_days_ago: i64,
        field: impl Fn(&DayTally) -> u32,
    ) -> u64 {
        let today = day_of(end);
        self.span(today - from_days_ago + 1, today - to_days_ago)
            .map(|t| u64::from(field(t)))
            .sum()
    }

    /// Days with any activity among the `days` days ending with the day of `end`.
    pub fn active_days(&self, end: DateTime<Utc>, days: i64) -> u32 {
        self.span(day_of(end) - days + 1, day_of(end))
            .filter(|t| t.active)
            .count() as u32
    }

    /// Days with any activity in `[from, to)` days before the day of `end`, as `sum_between`.
    pub fn active_days_between(
        &self,
        end: DateTime<Utc>,
        from_days_ago: i64,
        to_days_ago: i64,
    ) -> u32 {
        let today = day_of(end);
        self.span(today - from_days_ago + 1, today - to_days_ago)
            .filter(|t| t.active)
            .count() as u32
    }

    /// The moment the count of active days in a `window`-day window ending "today" falls
    /// below `min`, if no further activity happens: the start of the day after the `min`-th
    /// most recent active day leaves the window.
    pub fn engagement_lapses_at(&self, window: i64, min: u32) -> Option<DateTime<Utc>> {
        let nth = self
            .days
            .iter()
            .rev()
            .filter(|(_, t)| t.active)
            .nth(min.checked_sub(1)? as usize)?;
        DateTime::from_timestamp((nth.0 + window) * 86_400, 0)
    }

    /// Days since the last activity, as of `now` (0 when the last activity is in the future).
    pub fn days_inactive(&self, since: DateTime<Utc>, now: DateTime<Utc>) -> f64 {
        let from = self.last_at.map_or(since, |last| last.max(since));
        let elapsed = now.signed_duration_since(from).max(Duration::zero());
        elapsed.num_seconds() as f64 / 86_400.0
    }

    fn span(&self, first: DayNumber, last: DayNumber) -> impl Iterator<Item = &DayTally> {
        self.days.range(first..=last).map(|(_, t)| t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 10, day, hour, 0, 0).unwrap()
    }

    #[test]
    fn records_and_sums_by_day() {
        let mut a = Activity::default();
        a.record(at(1, 9), Mark::Login);
        a.record(at(1, 20), Mark::Login);
        a.record(at(2, 9), Mark::Content(300));
        a.record(at(3, 9), Mark::Ticket);
        assert_eq!(a.sum(at(3, 0), 7, |t| t.logins), 2);
        assert_eq!(a.sum(at(3, 0), 7, |t| t.content_seconds), 300);
        assert_eq!(a.active_days(at(3, 0), 14), 2);
        assert_eq!(a.last_at, Some(at(2, 9)), "a ticket is not activity");
    }

    #[test]
    fn drops_days_outside_the_retention_window() {
        let mut a = Activity::default();
        a.record(at(1, 9), Mark::Login);
        a.record(at(1, 9) + Duration::days(RETENTION_DAYS), Mark::Login);
        assert_eq!(a.days.len(), 1);
        a.record(at(1, 20), Mark::Login); // late, and too old to keep
        assert_eq!(a.days.len(), 1);
        assert_eq!(a.last_at, Some(at(1, 9) + Duration::days(RETENTION_DAYS)));
    }

    #[test]
    fn engagement_lapse_is_when_the_nth_newest_active_day_leaves_the_window() {
        let mut a = Activity::default();
        for d in [1, 3, 5, 6] {
            a.record(at(d, 9), Mark::Login);
        }
        // 3 of the last 14 days needed; the 3rd newest is day 3, it leaves on day 17.
        assert_eq!(a.engagement_lapses_at(14, 3), Some(at(17, 0)));
        assert_eq!(a.active_days(at(16, 23), 14), 3);
        assert_eq!(a.active_days(at(17, 0), 14), 2);
        assert_eq!(a.engagement_lapses_at(14, 5), None);
    }

    #[test]
    fn days_inactive_counts_from_the_later_of_activity_and_start() {
        let mut a = Activity::default();
        assert_eq!(a.days_inactive(at(1, 0), at(8, 0)), 7.0);
        a.record(at(4, 0), Mark::Login);
        assert_eq!(a.days_inactive(at(1, 0), at(8, 0)), 4.0);
        assert_eq!(a.days_inactive(at(1, 0), at(2, 0)), 0.0);
    }
}

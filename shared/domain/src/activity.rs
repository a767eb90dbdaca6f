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
    /// Opens and clicks of customer e-mails (each counted once per message, so a message opened
    /// and clicked counts 2): engagement, not activity.
    #[serde(default, skip_serializing_if = "is_zero", rename = "e")]
    pub engaged: u32,
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
    /// A customer e-mail opened or clicked.
    Engaged,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// The newest activity (not tickets or missed assignments) ever seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_at: Option<DateTime<Utc>>,
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        with = "crate::compact::days"
    )]
    pub days: BTreeMap<DayNumber, DayTally>,
}

impl Activity {
    /// Records `mark` on the day of `at`, then drops days that fell out of the window.
    pub fn record(&mut self, at: DateTime<Utc>, mark: Mark) {
        let day = day_of(at);
        let is_activity = !matches!(mark, Mark::Missed | Mark::Ticket | Mark::Engaged);
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
            Mark::Engaged => tally.engaged = tally.engaged.saturating_add(1),
        }
        tally.active |= is_activity;
        self.days.retain(|d, _| *d > newest - RETENTION_DAYS);
    }

    /// Days with any activity among the `days` days ending with the day of `end`.
    pub fn active_days(&self, end: DateTime<Utc>, days: i64) -> u32 {
        self.span(day_of(end) - days + 1, day_of(end))
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

/// A counter of [`DayTally`], for [`Tallies`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Count {
    Logins,
    ContentSeconds,
    Submissions,
    Missed,
    Tickets,
    /// Days with any activity.
    ActiveDays,
    /// Customer e-mails opened or clicked.
    Engaged,
}

impl Count {
    const ALL: [Count; 7] = [
        Count::Logins,
        Count::ContentSeconds,
        Count::Submissions,
        Count::Missed,
        Count::Tickets,
        Count::ActiveDays,
        Count::Engaged,
    ];

    fn of(self, t: &DayTally) -> u64 {
        u64::from(match self {
            Count::Logins => t.logins,
            Count::ContentSeconds => t.content_seconds,
            Count::Submissions => t.submissions,
            Count::Missed => t.missed,
            Count::Tickets => t.tickets,
            Count::ActiveDays => u32::from(t.active),
            Count::Engaged => t.engaged,
        })
    }
}

/// The window laid out day by day with running totals, so a span's sum is two lookups. The
/// score measures a dozen spans at each of the dozens of moments it looks ahead to, with no
/// new event in between: laid out once, that is arithmetic instead of tree walks.
#[derive(Clone, Debug, Default)]
pub struct Tallies {
    first: DayNumber,
    /// `running[i][k]`: count `k` over the days before `first + i`.
    running: Vec<[u64; Count::ALL.len()]>,
    /// The first and last active days and how many there are.
    active: Option<(DayNumber, DayNumber, u32)>,
}

impl Tallies {
    pub fn of(a: &Activity) -> Tallies {
        let (Some(first), Some(last)) = (a.days.keys().next(), a.days.keys().next_back()) else {
            return Tallies::default();
        };
        let mut total = [0_u64; Count::ALL.len()];
        let mut running = Vec::with_capacity((last - first + 2) as usize);
        running.push(total);
        let mut days = a.days.iter().peekable();
        for day in *first..=*last {
            if let Some((_, t)) = days.next_if(|(d, _)| **d == day) {
                for (sum, count) in total.iter_mut().zip(Count::ALL) {
                    *sum += count.of(t);
                }
            }
            running.push(total);
        }
        let mut active = a.days.iter().filter(|(_, t)| t.active).map(|(d, _)| *d);
        let active = active.next().map(|first| {
            let (n, last) = active.fold((1, first), |(n, _), d| (n + 1, d));
            (first, last, n)
        });
        Tallies {
            first: *first,
            running,
            active,
        }
    }

    /// `count` over the `days` days ending with the day of `end` (inclusive).
    pub fn sum(&self, end: DateTime<Utc>, days: i64, count: Count) -> u64 {
        let today = day_of(end);
        self.over(today - days + 1, today + 1, count)
    }

    /// `count` over `[from, to)` whole days before the day of `end`:
    /// `sum_between(end, 28, 7, c)` covers the 21 days before the most recent 7.
    pub fn sum_between(
        &self,
        end: DateTime<Utc>,
        from_days_ago: i64,
        to_days_ago: i64,
        count: Count,
    ) -> u64 {
        let today = day_of(end);
        self.over(today - from_days_ago + 1, today - to_days_ago + 1, count)
    }

    /// The first and last active days and how many days were active.
    pub fn active_span(&self) -> Option<(DayNumber, DayNumber, u32)> {
        self.active
    }

    /// `count` over the days in `[from, to)`.
    fn over(&self, from: DayNumber, to: DayNumber, count: Count) -> u64 {
        if to <= from {
            return 0;
        }
        let last = self.running.len().saturating_sub(1) as i64;
        let at = |day: DayNumber| (day - self.first).clamp(0, last.max(0)) as usize;
        let k = count as usize;
        match (self.running.get(at(to)), self.running.get(at(from))) {
            (Some(to), Some(from)) => to[k] - from[k],
            _ => 0,
        }
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
        let t = Tallies::of(&a);
        assert_eq!(t.sum(at(3, 0), 7, Count::Logins), 2);
        assert_eq!(t.sum(at(3, 0), 7, Count::ContentSeconds), 300);
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

    proptest::proptest! {
        /// The running totals answer every span as the day-by-day sums do.
        #[test]
        fn tallies_sum_as_the_days_do(
            marks in proptest::collection::vec((0_u32..40, 0_u32..24, 0_usize..6), 0..40),
            end in 0_u32..80,
            days in 1_i64..40,
            back in 0_i64..20,
        ) {
            let mut a = Activity::default();
            let start = at(1, 0);
            for (day, hour, kind) in marks {
                let mark = [Mark::Login, Mark::Content(90), Mark::Submission, Mark::Other, Mark::Missed, Mark::Ticket][kind];
                a.record(start + Duration::days(day.into()) + Duration::hours(hour.into()), mark);
            }
            let t = Tallies::of(&a);
            let end = start + Duration::days(end.into());
            // day by day: the days `from..to` before the day of `end`
            let by_days = |from: i64, to: i64, count: Count| -> u64 {
                let today = day_of(end);
                a.days.range(today - from + 1..=today - to).map(|(_, t)| count.of(t)).sum()
            };
            for count in Count::ALL {
                proptest::prop_assert_eq!(t.sum(end, days, count), by_days(days, 0, count));
                proptest::prop_assert_eq!(
                    t.sum_between(end, days + back, back, count),
                    by_days(days + back, back, count)
                );
            }
            proptest::prop_assert_eq!(t.sum(end, days, Count::ActiveDays), u64::from(a.active_days(end, days)));
        }
    }
}

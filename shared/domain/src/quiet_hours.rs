//! Quiet hours: no marketing e-mail at night in the customer's own time zone. A message that
//! falls inside the window is deferred to its end, never dropped.

use chrono::{DateTime, Days, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    pub enabled: bool,
    /// Local time the window opens (e.g. 21:00) …
    #[serde(with = "hh_mm")]
    pub start: NaiveTime,
    /// … and closes (e.g. 08:00); a window may run over midnight.
    #[serde(with = "hh_mm")]
    pub end: NaiveTime,
    /// For customers whose time zone is unknown.
    #[serde(with = "zone")]
    pub default_time_zone: Tz,
}

impl QuietHours {
    /// Applies an operator's setting: `off`, or a window `HH:MM-HH:MM` (empty: unchanged).
    pub fn set_from(&mut self, setting: &str) -> Result<(), String> {
        let setting = setting.trim();
        if setting.is_empty() {
            return Ok(());
        }
        if setting.eq_ignore_ascii_case("off") {
            self.enabled = false;
            return Ok(());
        }
        let parse = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M");
        let window = setting
            .split_once('-')
            .and_then(|(a, b)| Some((parse(a).ok()?, parse(b).ok()?)));
        let (start, end) =
            window.ok_or_else(|| format!("{setting:?} is neither `off` nor `HH:MM-HH:MM`"))?;
        (self.enabled, self.start, self.end) = (true, start, end);
        Ok(())
    }

    /// When a marketing message due `now` may go out: `None` if now is fine, else the end of
    /// the window, in the customer's zone (`zone`, or the default when unknown or invalid).
    pub fn deferral(&self, now: DateTime<Utc>, zone: Option<&str>) -> Option<DateTime<Utc>> {
        if !self.enabled || self.start == self.end {
            return None;
        }
        let tz: Tz = zone
            .and_then(|z| z.parse().ok())
            .unwrap_or(self.default_time_zone);
        let local = now.with_timezone(&tz);
        let time = local.time();
        let today = local.date_naive();
        let quiet = if self.start < self.end {
            time >= self.start && time < self.end
        } else {
            time >= self.start || time < self.end
        };
        if !quiet {
            return None;
        }
        // the window closes today if we are past midnight (or in a same-day window), else tomorrow
        let closes_today = time < self.end;
        let day = if closes_today {
            today
        } else {
            today.checked_add_days(Days::new(1))?
        };
        Some(at_local(&tz, day, self.end))
    }
}

/// `day` at `time` in `tz`; a time skipped by a DST jump moves to the first valid instant after.
fn at_local(tz: &Tz, day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let mut naive = day.and_time(time);
    loop {
        match tz.from_local_datetime(&naive) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => return t.with_timezone(&Utc),
            LocalResult::None => naive += chrono::Duration::minutes(15),
        }
    }
}

mod hh_mm {
    use super::*;

    pub fn serialize<S: Serializer>(t: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.format("%H:%M").to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let text = String::deserialize(d)?;
        NaiveTime::parse_from_str(&text, "%H:%M")
            .map_err(|_| serde::de::Error::custom(format!("`{text}` is not a time like 21:00")))
    }
}

mod zone {
    use super::*;

    pub fn serialize<S: Serializer>(z: &Tz, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(z.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Tz, D::Error> {
        let text = String::deserialize(d)?;
        text.parse()
            .map_err(|_| serde::de::Error::custom(format!("`{text}` is not an IANA time zone")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::t;

    fn rules() -> QuietHours {
        QuietHours {
            enabled: true,
            start: NaiveTime::from_hms_opt(21, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            default_time_zone: chrono_tz::Asia::Seoul,
        }
    }

    #[test]
    fn operators_set_the_window_or_turn_it_off() {
        let mut q = rules();
        q.set_from("").unwrap();
        assert_eq!(q, rules());
        q.set_from("22:30-07:00").unwrap();
        assert_eq!(q.start, NaiveTime::from_hms_opt(22, 30, 0).unwrap());
        assert_eq!(q.end, NaiveTime::from_hms_opt(7, 0, 0).unwrap());
        // 22:00 in Seoul is no longer quiet; 23:00 is
        assert_eq!(q.deferral(t("2026-11-02T13:00:00Z"), None), None);
        assert!(q.deferral(t("2026-11-02T14:00:00Z"), None).is_some());
        q.set_from("off").unwrap();
        assert_eq!(q.deferral(t("2026-11-02T14:00:00Z"), None), None);
        assert!(q.set_from("late").unwrap_err().contains("HH:MM-HH:MM"));
    }

    #[test]
    fn seoul_evenings_wait_for_the_morning() {
        let q = rules();
        // 22:30 in Seoul (13:30 UTC) → 08:00 next day in Seoul (23:00 UTC)
        assert_eq!(
            q.deferral(t("2026-11-02T13:30:00Z"), None),
            Some(t("2026-11-02T23:00:00Z"))
        );
        // 03:00 in Seoul (18:00 UTC the day before) → 08:00 the same Seoul day
        assert_eq!(
            q.deferral(t("2026-11-01T18:00:00Z"), Some("Asia/Seoul")),
            Some(t("2026-11-01T23:00:00Z"))
        );
        // 10:00 in Seoul: fine
        assert_eq!(q.deferral(t("2026-11-02T01:00:00Z"), None), None);
        // 08:00 sharp opens, 21:00 sharp closes
        assert_eq!(q.deferral(t("2026-11-01T23:00:00Z"), None), None);
        assert!(q.deferral(t("2026-11-02T12:00:00Z"), None).is_some());
    }

    #[test]
    fn each_customer_is_quiet_in_their_own_zone() {
        let q = rules();
        let now = t("2026-11-02T13:30:00Z"); // 22:30 Seoul, 08:30 New York
        assert!(q.deferral(now, Some("Asia/Seoul")).is_some());
        assert_eq!(q.deferral(now, Some("America/New_York")), None);
        // 23:30 in New York → 08:00 New York next morning (13:00 UTC, EST)
        assert_eq!(
            q.deferral(t("2026-11-03T04:30:00Z"), Some("America/New_York")),
            Some(t("2026-11-03T13:00:00Z"))
        );
        // an unknown zone falls back to the default
        assert!(q.deferral(now, Some("Nowhere/Atlantis")).is_some());
    }

    #[test]
    fn disabled_or_empty_windows_defer_nothing() {
        let mut q = rules();
        q.enabled = false;
        assert_eq!(q.deferral(t("2026-11-02T13:30:00Z"), None), None);
    }
}

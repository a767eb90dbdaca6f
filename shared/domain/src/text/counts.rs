//! The texts' month by month, from the counters their final reports add to (`TEXTS`): what
//! each channel delivered, what failed, how often a 알림톡 fell back, and what it all cost.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::apply::TallyMetric;
use crate::experiment::AttributeKey;

/// One month of texts, by the month of their final reports.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TextMonth {
    /// `YYYY-MM`.
    pub month: String,
    /// Delivered, by the channel that delivered.
    pub alimtalk: u64,
    pub sms: u64,
    pub lms: u64,
    /// Not delivered by any channel.
    pub failed: u64,
    /// No final report within `[texts.polls] expire_hours`.
    pub expired: u64,
    /// 알림톡 delivered as their SMS/LMS fallback (counted under `sms` or `lms` too).
    pub fell_back: u64,
    /// `fell_back` ÷ the 알림톡 that were delivered one way or the other.
    pub fallback_rate: Option<f64>,
    /// What the delivering channels cost (`[texts.prices_krw]` when reported).
    pub cost_krw: i64,
}

/// The months, oldest first, from the `TEXTS` row's attributes
/// (`text_delivered@2026-11@sms` …).
pub fn text_months(attributes: &BTreeMap<String, i64>) -> Vec<TextMonth> {
    let mut months: BTreeMap<&str, TextMonth> = BTreeMap::new();
    for (name, n) in attributes {
        let Some(AttributeKey {
            metric,
            cohort: Some(month),
            by: Some(via),
        }) = AttributeKey::parse(name)
        else {
            continue;
        };
        let row = months.entry(month).or_insert_with(|| TextMonth {
            month: month.to_string(),
            ..TextMonth::default()
        });
        let count = u64::try_from(*n).unwrap_or(0);
        match (metric, via) {
            (TallyMetric::TextDelivered, "alimtalk") => row.alimtalk += count,
            (TallyMetric::TextDelivered, "sms") => row.sms += count,
            (TallyMetric::TextDelivered, "lms") => row.lms += count,
            (TallyMetric::TextFailed, _) => row.failed += count,
            (TallyMetric::TextExpired, _) => row.expired += count,
            (TallyMetric::TextFellBack, _) => row.fell_back += count,
            (TallyMetric::TextCostKrw, _) => row.cost_krw += n,
            _ => {}
        }
    }
    months
        .into_values()
        .map(|mut row| {
            let kakao = row.alimtalk + row.fell_back;
            row.fallback_rate = (kakao > 0)
                .then(|| (row.fell_back as f64 / kakao as f64 * 1000.0).round() / 1000.0);
            row
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_sum_each_channel_its_fallbacks_and_cost() {
        let attributes: BTreeMap<String, i64> = [
            ("text_delivered@2026-11@alimtalk", 6),
            ("text_delivered@2026-11@sms", 3),
            ("text_fell_back@2026-11@sms", 2),
            ("text_delivered@2026-11@lms", 1),
            ("text_failed@2026-11@failed", 1),
            ("text_cost_krw@2026-11@alimtalk", 60),
            ("text_cost_krw@2026-11@sms", 36),
            ("text_cost_krw@2026-11@lms", 39),
            ("text_delivered@2026-12@sms", 1),
            ("treated@2026-11", 9),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let months = text_months(&attributes);
        assert_eq!(
            months[0],
            TextMonth {
                month: "2026-11".into(),
                alimtalk: 6,
                sms: 3,
                lms: 1,
                failed: 1,
                expired: 0,
                fell_back: 2,
                fallback_rate: Some(0.25),
                cost_krw: 135,
            }
        );
        assert_eq!(months[1].month, "2026-12");
        assert_eq!(months[1].fallback_rate, None, "no 알림톡 that month");
        assert_eq!(months.len(), 2);
    }
}

//! The at-risk list as CSV: what a CS team takes into a spreadsheet or a call campaign.
//! Cells that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, return first)
//! are prefixed with `'`: the names and addresses come from outside (OWASP's CSV injection).

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use aws_lambda_events::encodings::Body;
use chrono::{DateTime, Utc};
use journey::domain::Signal;
use journey::http::{ApiError, json_response};

use crate::views::ListItem;

/// The most rows one export holds.
pub const MAX_ROWS: usize = 5_000;

const HEADER: [&str; 13] = [
    "id",
    "email",
    "stage",
    "risk",
    "score",
    "value_at_risk",
    "revenue",
    "currency",
    "days_inactive",
    "owner_id",
    "owner_name",
    "program",
    "top_signals",
];

/// One CSV document of `rows`, UTF-8 with a byte-order mark (so spreadsheets read Korean).
pub fn to_csv(rows: &[ListItem]) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
    out.write_record(HEADER)?;
    for r in rows {
        let owner = r.owner.as_ref();
        out.write_record([
            cell(r.id.as_str()),
            cell(r.email.as_deref().unwrap_or_default()),
            r.stage.map(|s| s.as_str().to_string()).unwrap_or_default(),
            r.risk.as_str().to_string(),
            format!("{:.1}", r.score),
            r.value_at_risk.to_string(),
            r.revenue
                .as_ref()
                .map(|v| v.amount.to_string())
                .unwrap_or_default(),
            r.revenue
                .as_ref()
                .map(|v| cell(&v.currency))
                .unwrap_or_default(),
            r.days_inactive.to_string(),
            cell(owner.map(|o| o.id.as_str()).unwrap_or_default()),
            cell(owner.and_then(|o| o.name.as_deref()).unwrap_or_default()),
            cell(r.program.as_deref().unwrap_or_default()),
            r.top_signals
                .iter()
                .map(|s| signal_name(s.signal))
                .collect::<Vec<_>>()
                .join(" "),
        ])?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

fn signal_name(signal: Signal) -> &'static str {
    signal.into()
}

/// A text cell a spreadsheet shows as text, never runs.
pub fn cell(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}

/// The CSV as a download named for the day.
pub fn csv_response(
    rows: &[ListItem],
    now: DateTime<Utc>,
) -> Result<ApiGatewayV2httpResponse, ApiError> {
    let body = to_csv(rows).map_err(|e| ApiError::internal(e.to_string()))?;
    let body = String::from_utf8(body).map_err(|e| ApiError::internal(e.to_string()))?;
    let mut response = json_response(200, &serde_json::Value::Null);
    response.headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    let disposition = format!(
        "attachment; filename=\"at-risk-{}.csv\"",
        now.format("%Y-%m-%d")
    );
    if let Ok(value) = http::HeaderValue::from_str(&disposition) {
        response
            .headers
            .insert(http::header::CONTENT_DISPOSITION, value);
    }
    response.body = Some(Body::Text(body));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_a_spreadsheet_would_run_is_text() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("+82 10"), "'+82 10");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("mina@example.com"), "mina@example.com");
        assert_eq!(cell(""), "");
    }
}

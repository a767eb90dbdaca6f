//! The event log and the labels, as JSON Lines. One event per line in the canonical form the
//! `/events` API takes and the payment mappings produce; blank lines are skipped.

use std::io::BufRead;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::{CustomerId, Event};

/// What the business knows happened: the customer left at `churned_at`, and how (refund,
/// cancellation, inactivity, or its own words).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    pub customer_id: CustomerId,
    pub churned_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub how: Option<String>,
}

#[derive(Debug, Error)]
pub enum LogError {
    #[error("line {line}: {reason}")]
    Line { line: usize, reason: String },
    #[error("reading the log: {0}")]
    Io(#[from] std::io::Error),
}

/// Every event of a JSON Lines log, in file order.
pub fn read_events(reader: impl BufRead) -> Result<Vec<Event>, LogError> {
    read_lines(reader)
}

/// Every label of a JSON Lines file.
pub fn read_labels(reader: impl BufRead) -> Result<Vec<Label>, LogError> {
    read_lines(reader)
}

fn read_lines<T: for<'de> Deserialize<'de>>(reader: impl BufRead) -> Result<Vec<T>, LogError> {
    let mut out = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let value = serde_json::from_str(&line).map_err(|e| LogError::Line {
            line: n + 1,
            reason: e.to_string(),
        })?;
        out.push(value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_line_is_named_by_its_number() {
        let log = "{\"id\":\"a:1\",\"customer_id\":\"c\",\"occurred_at\":\"2026-01-01T00:00:00Z\",\"source\":\"app\",\"type\":\"login\"}\n\n{\"id\":2}\n";
        let err = read_events(log.as_bytes()).unwrap_err();
        assert!(err.to_string().starts_with("line 3:"), "{err}");
        let first = log.lines().next().unwrap();
        assert_eq!(read_events(first.as_bytes()).unwrap().len(), 1);
    }
}

//! The event log and the labels, as JSON Lines. One event per line in the canonical form the
//! `/events` API takes and the payment mappings produce; blank lines are skipped.
//!
//! The deployed log (S3, docs/data-model.md) mixes three kinds of line in one stream: an event
//! as above, a churn as a [`Label`], and an erasure ([`Erasure`]); [`LogRecord`] reads any.

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

/// An erasure in the deployed log: every line of `erased` is left out of what is read back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Erasure {
    pub erased: CustomerId,
    pub at: DateTime<Utc>,
}

/// One line of the deployed log. Untagged: each kind has fields the others lack (an event's
/// `type`, a churn's `churned_at`, an erasure's `erased`), so an event line is exactly the
/// backtest's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LogRecord {
    Event(Box<Event>),
    Churn(Label),
    Erased(Erasure),
}

impl LogRecord {
    pub fn customer_id(&self) -> &CustomerId {
        match self {
            LogRecord::Event(e) => &e.customer_id,
            LogRecord::Churn(l) => &l.customer_id,
            LogRecord::Erased(e) => &e.erased,
        }
    }
}

/// The records as JSON Lines, each line ending in a newline (so objects concatenate).
pub fn write_records(records: &[LogRecord]) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(records.len() * 256);
    for record in records {
        serde_json::to_writer(&mut out, record)?;
        out.push(b'\n');
    }
    Ok(out)
}

/// One line of the deployed log.
pub fn read_record(line: &str) -> Result<LogRecord, serde_json::Error> {
    serde_json::from_str(line)
}

/// The customer a line of the deployed log is about, read without building the record: a
/// reader keeping a sample skips the other customers' lines for a fraction of the parse.
/// `None` when the line names no customer (then reading it whole says what is wrong).
pub fn whose(line: &str) -> Option<CustomerId> {
    #[derive(Deserialize)]
    struct Whose {
        customer_id: Option<CustomerId>,
        erased: Option<CustomerId>,
    }
    let whose: Whose = serde_json::from_str(line).ok()?;
    whose.customer_id.or(whose.erased)
}

/// Every record of a JSON Lines reader, one at a time (memory bounded by the longest line).
pub fn records(reader: impl BufRead) -> impl Iterator<Item = Result<LogRecord, LogError>> {
    reader
        .lines()
        .enumerate()
        .filter_map(|(n, line)| match line {
            Ok(line) if line.trim().is_empty() => None,
            Ok(line) => Some(serde_json::from_str(&line).map_err(|e| LogError::Line {
                line: n + 1,
                reason: e.to_string(),
            })),
            Err(e) => Some(Err(LogError::Io(e))),
        })
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

    #[test]
    fn each_kind_of_record_reads_back_as_itself() {
        let event: Event = serde_json::from_str(
            "{\"id\":\"a:1\",\"customer_id\":\"c\",\"occurred_at\":\"2026-01-01T00:00:00Z\",\"source\":\"app\",\"type\":\"login\"}",
        )
        .unwrap();
        let at = event.occurred_at;
        let written = vec![
            LogRecord::Event(Box::new(event.clone())),
            LogRecord::Churn(Label {
                customer_id: event.customer_id.clone(),
                churned_at: at,
                how: Some("inactivity".into()),
            }),
            LogRecord::Erased(Erasure {
                erased: event.customer_id.clone(),
                at,
            }),
        ];
        let bytes = write_records(&written).unwrap();
        // an event line is the backtest's line
        assert_eq!(
            read_events(&bytes[..bytes.iter().position(|b| *b == b'\n').unwrap()]).unwrap(),
            [event]
        );
        let back: Vec<_> = records(&bytes[..]).collect::<Result<_, _>>().unwrap();
        assert_eq!(back, written);
        assert!(records(&b"{\"x\":1}\n"[..]).next().unwrap().is_err());
        for line in String::from_utf8(bytes).unwrap().lines() {
            assert_eq!(whose(line).as_ref(), Some(written[0].customer_id()));
        }
        assert_eq!(whose("{\"x\":1}"), None);
    }
}

//! The event log's append side: the transition worker's lines for one customer's messages go
//! to a Firehose delivery stream as one record (JSON Lines), which splits it into lines,
//! partitions them by customer and buffers them into GZIP objects under `log/shard=<n>/` in the
//! log bucket (docs/data-model.md, *The event log*).

use aws_sdk_firehose::Client;
use aws_sdk_firehose::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_firehose::primitives::Blob;
use aws_sdk_firehose::types::Record;

use journey::backtest::{LogRecord, write_records};
use journey::ports::{EventLog, StoreError};

use crate::sdk_error::{self, Failure};

/// Firehose takes a record of at most 1,000 KiB; a customer's lines of one batch are far less,
/// but an oversized append is split at a line boundary rather than refused.
const MAX_RECORD: usize = 1_000 * 1024;

/// The most lines Firehose splits one record into before partitioning them by customer
/// (multi-record deaggregation); a record with more is refused.
const MAX_LINES: usize = 500;

#[derive(Clone, Debug)]
pub struct FirehoseLog {
    client: Client,
    stream: String,
}

impl FirehoseLog {
    pub fn new(client: Client, stream: impl Into<String>) -> Self {
        FirehoseLog {
            client,
            stream: stream.into(),
        }
    }
}

impl EventLog for FirehoseLog {
    async fn append(&self, records: &[LogRecord]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let data = write_records(records).map_err(|e| StoreError::Rejected(e.to_string()))?;
        let blobs: Vec<Record> = chunks(&data)
            .map(|chunk| Record::builder().data(Blob::new(chunk)).build())
            .collect::<Result<_, _>>()
            .map_err(|e| StoreError::Rejected(e.to_string()))?;
        let out = self
            .client
            .put_record_batch()
            .delivery_stream_name(&self.stream)
            .set_records(Some(blobs))
            .send()
            .await
            .map_err(classify)?;
        // a partly refused batch is appended again whole: readers drop the repeats
        match out.failed_put_count() {
            0 => Ok(()),
            failed => Err(StoreError::Unavailable(format!(
                "Firehose refused {failed} log records"
            ))),
        }
    }
}

/// `data` in pieces of at most [`MAX_RECORD`] bytes and [`MAX_LINES`] lines, each ending at a
/// newline (a single line longer than that is its own piece, and Firehose refuses it).
fn chunks(data: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    let mut rest = data;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let window = &rest[..rest.len().min(MAX_RECORD)];
        let after_max_lines = window
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(MAX_LINES - 1)
            .map(|(i, _)| i + 1);
        let end = match after_max_lines {
            Some(end) if end < rest.len() => end,
            _ if rest.len() <= MAX_RECORD => rest.len(),
            // the last line that fits; else the one long line alone
            _ => window
                .iter()
                .rposition(|b| *b == b'\n')
                .or_else(|| rest.iter().position(|b| *b == b'\n'))
                .map_or(rest.len(), |i| i + 1),
        };
        let (chunk, tail) = rest.split_at(end);
        rest = tail;
        Some(chunk.to_vec())
    })
}

fn classify<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    match sdk_error::read(&err) {
        // a request Firehose will never take
        Failure::Service { code, message }
            if code == "InvalidArgumentException" || code == "InvalidKMSResourceException" =>
        {
            StoreError::Rejected(message)
        }
        Failure::Construction(message) => StoreError::Rejected(message),
        // not found (a stream still being created), limits, Firehose's own faults, no answer
        Failure::Service { message, .. } | Failure::NoAnswer(message) => {
            StoreError::Unavailable(message)
        }
    }
}

/// Creates a delivery stream into `bucket` under `log/` (local stack, tests); the emulator
/// writes each batch as one uncompressed object, AWS buffers and compresses.
pub async fn create_stream(client: &Client, name: &str, bucket: &str) -> Result<(), StoreError> {
    use aws_sdk_firehose::types::ExtendedS3DestinationConfiguration;
    let destination = ExtendedS3DestinationConfiguration::builder()
        .role_arn("arn:aws:iam::123456789012:role/firehose")
        .bucket_arn(format!("arn:aws:s3:::{bucket}"))
        .prefix(crate::s3::LOG_PREFIX)
        .build()
        .map_err(|e| StoreError::Rejected(e.to_string()))?;
    client
        .create_delivery_stream()
        .delivery_stream_name(name)
        .extended_s3_destination_configuration(destination)
        .send()
        .await
        .map_err(classify)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_oversized_append_splits_at_line_boundaries() {
        let line = vec![b'x'; 300 * 1024];
        let mut data = Vec::new();
        for _ in 0..7 {
            data.extend_from_slice(&line);
            data.push(b'\n');
        }
        let pieces: Vec<_> = chunks(&data).collect();
        assert_eq!(pieces.len(), 3);
        assert!(
            pieces
                .iter()
                .all(|p| p.len() <= MAX_RECORD && p.ends_with(b"\n"))
        );
        assert_eq!(pieces.concat(), data);
        // one line longer than a record goes alone, the next line after it
        let mut data = vec![b'y'; MAX_RECORD + 10];
        data.extend_from_slice(b"\nshort\n");
        let pieces: Vec<_> = chunks(&data).collect();
        assert_eq!(pieces.len(), 2);
        assert_eq!(pieces[1], b"short\n");
    }

    #[test]
    fn a_record_holds_at_most_the_lines_firehose_splits() {
        let data = b"{}\n".repeat(1_201);
        let lines: Vec<_> = chunks(&data)
            .map(|p| p.iter().filter(|b| **b == b'\n').count())
            .collect();
        assert_eq!(lines, [500, 500, 201]);
        assert_eq!(chunks(&data[..1_500]).count(), 1);
    }
}

//! The event log's read side: the objects under `log/` in the log bucket (Firehose's GZIP
//! objects in AWS, partitioned by customer into `log/shard=<n>/`; plain, unpartitioned ones
//! from the emulator), read a few at a time and line by line into the backtest's input. Listing
//! prefixes, never a table `Scan`; the bucket's lifecycle rule expires objects after
//! `EventLogDays`. A bounded export reads only the shards its sample needs
//! (`journey::backtest::sample`).

use std::io::{BufRead, BufReader};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use tokio_util::io::SyncIoBridge;

use journey::backtest::LogRecord;
use journey::backtest::sample::{LOG_SHARDS, SampleOrder};
use journey::backtest::{read_record, whose};
use journey::event_log::{Collector, Skim};
use journey::ports::{EventArchive, ExportedLog, SampleLimits, Sampled, StoreError};

use crate::sdk_error::{self, Failure};

/// Where Firehose puts the log (its `Prefix`); errors go under `errors/`, which is not read.
pub const LOG_PREFIX: &str = "log/";

/// Objects read at once: Firehose's are small (an object per shard per 15 minutes), so the
/// requests' latency, not their size, is what overlapping saves.
const READS_IN_FLIGHT: usize = 8;

#[derive(Clone, Debug)]
pub struct S3Archive {
    client: Client,
    bucket: String,
    /// The secret order a limited export samples customers in.
    order: SampleOrder,
}

/// What reading the log skipped, for the job's report and the operator's log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Skipped {
    pub objects: usize,
    pub lines: usize,
}

impl S3Archive {
    pub fn new(client: Client, bucket: impl Into<String>, order: SampleOrder) -> Self {
        S3Archive {
            client,
            bucket: bucket.into(),
            order,
        }
    }

    /// The keys of every object under `prefix`, in key (so arrival) order.
    async fn keys(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        Ok(self.list(prefix, None).await?.0)
    }

    /// The keys of the log's objects outside the shards' folders: written before the log was
    /// partitioned, or by the emulator (which does not partition). Every one may hold any
    /// customer's lines.
    async fn unsharded_keys(&self) -> Result<Vec<String>, StoreError> {
        let (mut keys, folders) = self.list(LOG_PREFIX, Some("/")).await?;
        for folder in folders {
            if shard_of_folder(&folder).is_none() {
                keys.extend(self.keys(&folder).await?);
            }
        }
        Ok(keys)
    }

    /// The objects under `prefix`, and with a `delimiter` the folders below it.
    async fn list(
        &self,
        prefix: &str,
        delimiter: Option<&str>,
    ) -> Result<(Vec<String>, Vec<String>), StoreError> {
        let (mut keys, mut folders) = (Vec::new(), Vec::new());
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .set_delimiter(delimiter.map(String::from))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(classify)?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(String::from)),
            );
            folders.extend(
                page.common_prefixes()
                    .iter()
                    .filter_map(|p| p.prefix().map(String::from)),
            );
        }
        Ok((keys, folders))
    }

    /// Reads `keys` into `collector`, a few objects in flight: their reads overlap, and each is
    /// streamed through the decompressor and parsed line by line on a blocking thread (never
    /// held whole: Firehose's objects reach 128 MB; security review L10), skipping the lines
    /// the collector's latest cutoff would drop.
    async fn read_all(
        &self,
        keys: Vec<String>,
        collector: &mut Collector,
        skipped: &mut Skipped,
    ) -> Result<(), StoreError> {
        use futures::{StreamExt, TryStreamExt};
        let cutoff = Arc::new(AtomicU64::new(collector.skim().cutoff));
        let order = collector.order();
        let mut objects = futures::stream::iter(keys)
            .map(|key| {
                let cutoff = Arc::clone(&cutoff);
                async move {
                    let Some((key, body)) = self.object(key).await? else {
                        return Ok(None);
                    };
                    let skim = Skim {
                        cutoff: cutoff.load(Ordering::Relaxed),
                        order,
                    };
                    // made here, in the runtime, for the blocking thread to read through
                    let stream = SyncIoBridge::new(body.into_async_read());
                    let read = tokio::task::spawn_blocking(move || {
                        read_from(&key, BufReader::new(stream), skim)
                            .map_err(|e| StoreError::Unavailable(format!("reading {key}: {e}")))
                    });
                    read.await
                        .map_err(|e| StoreError::Unavailable(format!("reading the log: {e}")))?
                        .map(Some)
                }
            })
            .buffer_unordered(READS_IN_FLIGHT);
        while let Some(object) = objects.try_next().await? {
            let Some((records, unread)) = object else {
                skipped.objects += 1;
                continue;
            };
            for record in records {
                collector.add(record);
            }
            skipped.objects += unread.objects;
            skipped.lines += unread.lines;
            cutoff.store(collector.skim().cutoff, Ordering::Relaxed);
        }
        Ok(())
    }

    /// An object's body, to be streamed; `None` when it is gone (the lifecycle rule expired it
    /// since the listing).
    async fn object(&self, key: String) -> Result<Option<(String, ByteStream)>, StoreError> {
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|se| se.is_no_such_key()) => {
                return Ok(None);
            }
            Err(e) => return Err(classify(e)),
        };
        Ok(Some((key, out.body)))
    }
}

impl EventArchive for S3Archive {
    /// The objects outside the shards first, then the shards in the sample's (secret) order
    /// until the sample is complete: with a limit, the rest of the log is never listed nor
    /// read.
    async fn export_log(&self, limits: SampleLimits) -> Result<(ExportedLog, Sampled), StoreError> {
        let mut collector = Collector::new(limits, self.order);
        let mut skipped = Skipped::default();
        self.read_all(self.unsharded_keys().await?, &mut collector, &mut skipped)
            .await?;
        for shard in self.order.shards() {
            if collector.complete_below(self.order.first_key(shard)) {
                break;
            }
            let keys = self.keys(&shard_folder(shard)).await?;
            self.read_all(keys, &mut collector, &mut skipped).await?;
        }
        if skipped != Skipped::default() {
            tracing::warn!(
                objects = skipped.objects,
                lines = skipped.lines,
                "parts of the event log this build cannot read: left out"
            );
        }
        Ok(collector.finish())
    }
}

/// A shard's folder, as the stream's prefix names it (`log/shard=3/`).
pub fn shard_folder(shard: u32) -> String {
    format!("{LOG_PREFIX}shard={shard}/")
}

/// The shard a folder under `log/` holds, if it is one of the shards' folders.
fn shard_of_folder(folder: &str) -> Option<u32> {
    (0..LOG_SHARDS).find(|s| shard_folder(*s) == folder)
}

/// One object's records that `skim` keeps (the others skipped after reading their customer
/// alone), and what could not be read. A line this build cannot read (written by a newer
/// release before a roll-back, or damaged) is left out of what it learns from, not a reason to
/// learn nothing; so is an object that is not what Firehose writes.
pub fn read_object(key: &str, bytes: &[u8], skim: Skim) -> (Vec<LogRecord>, Skipped) {
    // a slice cannot fail to be read: only what it holds can be unreadable
    read_from(key, bytes, skim).unwrap_or_default()
}

/// [`read_object`] over a stream of the object's bytes (gzip or plain). An error of the
/// stream itself (the connection) is returned, so the read is retried instead of learning from
/// part of the log; bytes that do not decompress or decode count as an unreadable object.
pub fn read_from(
    key: &str,
    mut stream: impl BufRead,
    skim: Skim,
) -> std::io::Result<(Vec<LogRecord>, Skipped)> {
    let mut records = Vec::new();
    let mut skipped = Skipped::default();
    let gzip = stream.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn BufRead + '_> = if gzip {
        Box::new(BufReader::new(flate2::bufread::MultiGzDecoder::new(stream)))
    } else {
        Box::new(stream)
    };
    for line in reader.lines() {
        let line = match line {
            Ok(line) => line,
            Err(e) if unreadable(&e) => {
                tracing::warn!(key, error = %e, "an event-log object this build cannot read");
                skipped.objects += 1;
                return Ok((records, skipped));
            }
            Err(e) => return Err(e),
        };
        if line.trim().is_empty() || whose(&line).is_some_and(|c| !skim.keeps(&c)) {
            continue;
        }
        match read_record(&line) {
            Ok(record) => records.push(record),
            Err(e) => {
                tracing::debug!(key, error = %e, "an event-log line left out");
                skipped.lines += 1;
            }
        }
    }
    Ok((records, skipped))
}

/// Whether a read failed on what the object holds (not gzip after all, not UTF-8, cut short)
/// rather than on the connection.
fn unreadable(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{InvalidData, InvalidInput, UnexpectedEof};
    matches!(e.kind(), InvalidData | InvalidInput | UnexpectedEof)
}

/// Creates the log bucket (local stack, tests).
pub async fn create_bucket(client: &Client, bucket: &str) -> Result<(), StoreError> {
    client
        .create_bucket()
        .bucket(bucket)
        .send()
        .await
        .map_err(classify)?;
    Ok(())
}

fn classify<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    const TRANSIENT: &[&str] = &[
        "SlowDown",
        "InternalError",
        "ServiceUnavailable",
        "RequestTimeout",
    ];
    match sdk_error::read(&err) {
        Failure::Service { code, message } if TRANSIENT.contains(&code.as_str()) => {
            StoreError::Unavailable(message)
        }
        Failure::Service { message, .. } | Failure::Construction(message) => {
            StoreError::Rejected(message)
        }
        Failure::NoAnswer(message) => StoreError::Unavailable(message),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use journey::backtest::{Erasure, LogRecord, write_records};
    use journey::testing::{Events, t};

    /// Security review L10: an object is read as a stream; a broken connection is an error to
    /// retry, not part of the log learnt from; bytes that are not gzip after all are an
    /// unreadable object.
    #[test]
    fn a_broken_stream_is_an_error_and_a_broken_object_is_skipped() {
        struct Breaks<'a>(&'a [u8]);
        impl std::io::Read for Breaks<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0.is_empty() {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionReset,
                        "connection reset",
                    ));
                }
                let n = buf.len().min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let login =
            Events::new("c1").at(t("2026-11-01T09:00:00Z"), journey::domain::EventKind::Login);
        let plain = write_records(&[LogRecord::Event(Box::new(login))]).unwrap();
        let all = Skim::all(SampleOrder::keyed(b"test"));
        let cut = &plain[..plain.len() / 2];
        let err = read_from("log/x", BufReader::new(Breaks(cut)), all).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
        let not_gzip = [&[0x1f, 0x8b][..], b"not really gzip"].concat();
        let (records, skipped) = read_from("log/y", &not_gzip[..], all).unwrap();
        assert!(records.is_empty());
        assert_eq!(skipped.objects, 1);
    }

    #[test]
    fn gzip_and_plain_objects_read_alike_and_a_bad_line_is_skipped() {
        let login =
            Events::new("c1").at(t("2026-11-01T09:00:00Z"), journey::domain::EventKind::Login);
        let mut plain = write_records(&[LogRecord::Event(Box::new(login.clone()))]).unwrap();
        plain.extend_from_slice(b"{\"not\":\"a record\"}\n");
        // Firehose concatenates records into one GZIP object; a repeat is dropped
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&plain).unwrap();
        let gz = gz.finish().unwrap();
        let all = Skim::all(SampleOrder::keyed(b"test"));
        let (from_plain, skipped) = read_object("log/a", &plain, all);
        assert_eq!(
            skipped,
            Skipped {
                objects: 0,
                lines: 1
            }
        );
        let (from_gz, _) = read_object("log/b.gz", &gz, all);
        assert_eq!(from_plain, from_gz);
        let mut collector = Collector::new(SampleLimits::none(), SampleOrder::keyed(b"test"));
        from_plain
            .into_iter()
            .chain(from_gz)
            .for_each(|r| collector.add(r));
        assert_eq!(collector.finish().0.events, std::slice::from_ref(&login));
        // an erasure's line removes the customer's lines read before it
        let erased = write_records(&[LogRecord::Erased(Erasure {
            erased: login.customer_id.clone(),
            at: login.occurred_at,
        })])
        .unwrap();
        let mut collector = Collector::new(SampleLimits::none(), SampleOrder::keyed(b"test"));
        for object in [&plain, &erased] {
            read_object("log/c", object, all)
                .0
                .into_iter()
                .for_each(|r| collector.add(r));
        }
        assert!(collector.finish().0.events.is_empty());
        // a cutoff at or below the customer's key: the line is skipped unparsed
        let order = SampleOrder::keyed(b"test");
        let key = order.key(&login.customer_id);
        let skim = |cutoff| Skim { cutoff, order };
        assert!(read_object("log/a", &plain, skim(key)).0.is_empty());
        assert_eq!(read_object("log/a", &plain, skim(key + 1)).0.len(), 1);
    }
}

//! The scheduled sweep: reads the customers whose next check is due from the sparse, sharded
//! due index (never a Scan) and sends each a `check_due` event through the events FIFO queue, so
//! every change still goes through the single writer, which re-evaluates against fresh state.
//!
//! `now` is the schedule's time, not the clock: a delayed or replayed run does the right thing,
//! and the local stack simulates days passing. Shards are read in parallel, page by page; near
//! the Lambda deadline the run stops between pages. Nothing is lost by stopping: a customer stays
//! in the index until its check is applied, so the next run picks it up. Overlapping runs emit
//! the same check ids (`check:<customer>:<due_at>`), which apply once.

mod build;

pub use build::{AwsSweep, Config, build};

use std::time::Instant;

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use journey::domain::Event;
use journey::messages::EventMessage;
use journey::ports::{DueIndex, EventQueue, QueueError, StoreError};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The sweep's input: an EventBridge scheduled event (its `time`), or the Scheduler input
/// `{"time": "<aws.scheduler.scheduled-time>"}`; other fields are ignored.
#[derive(Debug, Deserialize)]
pub struct SweepRequest {
    pub time: DateTime<Utc>,
}

/// What one run did, logged and returned.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct SweepReport {
    pub now: Option<DateTime<Utc>>,
    pub shards_read: u32,
    pub items_read: usize,
    pub customers_due: usize,
    pub checks_emitted: usize,
    /// False when the deadline stopped the run early; the next run continues.
    pub complete: bool,
    pub duration_ms: u128,
}

#[derive(Debug, Error)]
pub enum SweepError {
    #[error("due index: {0}")]
    Index(#[from] StoreError),
    #[error("events queue: {0}")]
    Queue(#[from] QueueError),
    #[error("not a scheduled event with a `time`: {0}")]
    Request(#[from] serde_json::Error),
}

pub struct Sweep<D, Q> {
    index: D,
    queue: Q,
    /// Index items per query page.
    pub page_size: i32,
    /// Shards read at the same time.
    pub concurrency: usize,
}

/// One shard's share of the run.
#[derive(Default)]
struct ShardTally {
    pages: usize,
    items_read: usize,
    due: usize,
    emitted: usize,
    stopped_early: bool,
}

impl<D: DueIndex, Q: EventQueue> Sweep<D, Q> {
    pub fn new(index: D, queue: Q) -> Self {
        Sweep {
            index,
            queue,
            page_size: 500,
            concurrency: 8,
        }
    }

    /// The Lambda entry: the scheduled event's (or Scheduler input's) `time` is `now`.
    pub async fn handle(
        &self,
        payload: serde_json::Value,
        stop_at: Instant,
    ) -> Result<SweepReport, SweepError> {
        let request: SweepRequest = serde_json::from_value(payload)?;
        self.run(request.time, stop_at).await
    }

    /// Sweeps every shard as of `now`, stopping between pages once `stop_at` has passed.
    pub async fn run(
        &self,
        now: DateTime<Utc>,
        stop_at: Instant,
    ) -> Result<SweepReport, SweepError> {
        let started = Instant::now();
        let results: Vec<Result<ShardTally, SweepError>> = stream::iter(0..self.index.shards())
            .map(|shard| self.sweep_shard(shard, now, stop_at))
            .buffer_unordered(self.concurrency.max(1))
            .collect()
            .await;
        let mut report = SweepReport {
            now: Some(now),
            complete: true,
            ..SweepReport::default()
        };
        let mut first_error = None;
        for result in results {
            match result {
                Ok(t) => {
                    report.shards_read += u32::from(t.pages > 0);
                    report.items_read += t.items_read;
                    report.customers_due += t.due;
                    report.checks_emitted += t.emitted;
                    report.complete &= !t.stopped_early;
                }
                Err(e) => {
                    report.complete = false;
                    first_error.get_or_insert(e);
                }
            }
        }
        report.duration_ms = started.elapsed().as_millis();
        tracing::info!(
            now = %now,
            shards_read = report.shards_read,
            items_read = report.items_read,
            customers_due = report.customers_due,
            checks_emitted = report.checks_emitted,
            complete = report.complete,
            duration_ms = report.duration_ms as u64,
            "sweep run"
        );
        let metrics = journey::metrics::Metrics::new("sweep");
        metrics.add("CustomersDue", report.customers_due as f64);
        metrics.add("ChecksEmitted", report.checks_emitted as f64);
        metrics.add("SweepIncomplete", if report.complete { 0.0 } else { 1.0 });
        metrics.flush();
        match first_error {
            // the other shards' checks are out; the retry re-reads only what is still due
            Some(e) => Err(e),
            None => Ok(report),
        }
    }

    async fn sweep_shard(
        &self,
        shard: u32,
        now: DateTime<Utc>,
        stop_at: Instant,
    ) -> Result<ShardTally, SweepError> {
        let mut tally = ShardTally::default();
        let mut cursor: Option<String> = None;
        loop {
            if Instant::now() >= stop_at {
                tally.stopped_early = true;
                tracing::warn!(shard, "deadline near: stopping; the next run continues");
                return Ok(tally);
            }
            let page = self
                .index
                .due_page(shard, now, self.page_size, cursor.as_deref())
                .await?;
            tally.pages += 1;
            tally.items_read += page.items_read;
            tally.due += page.due.len();
            let checks: Vec<EventMessage> = page
                .due
                .into_iter()
                .map(|d| EventMessage {
                    received_at: now,
                    event: Event::check_due(d.customer_id, d.due_at, now),
                })
                .collect();
            if !checks.is_empty() {
                self.queue.enqueue(&checks).await?;
                tally.emitted += checks.len();
            }
            cursor = page.next;
            if cursor.is_none() {
                return Ok(tally);
            }
        }
    }
}

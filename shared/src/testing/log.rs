//! The event log in memory: what the worker appended, read back as S3's reader reads it.

use std::sync::{Arc, Mutex};

use crate::backtest::LogRecord;
use crate::event_log::Collector;
use crate::ports::{EventArchive, EventLog, ExportedLog, SampleLimits, Sampled, StoreError};

/// Appended records in order; cheap to clone (shared). `failing(n)` refuses the next `n`
/// appends, as a Firehose that is down would.
#[derive(Clone, Debug, Default)]
pub struct MemoryLog {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    records: Vec<LogRecord>,
    refuse: usize,
}

impl MemoryLog {
    /// Every record appended so far, repeats included.
    pub fn records(&self) -> Vec<LogRecord> {
        self.lock().records.clone()
    }

    /// The next `n` appends fail (retryable), appending nothing.
    pub fn failing(&self, n: usize) {
        self.lock().refuse = n;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl EventLog for MemoryLog {
    async fn append(&self, records: &[LogRecord]) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.refuse > 0 {
            inner.refuse -= 1;
            return Err(StoreError::Unavailable("the log refused the append".into()));
        }
        inner.records.extend_from_slice(records);
        Ok(())
    }
}

impl EventArchive for MemoryLog {
    async fn export_log(&self, limits: SampleLimits) -> Result<(ExportedLog, Sampled), StoreError> {
        let order = crate::backtest::sample::SampleOrder::keyed(b"memory log");
        let mut collector = Collector::new(limits, order);
        for record in self.records() {
            collector.add(record);
        }
        Ok(collector.finish())
    }
}

//! What the functions log per event, counted as it leaves them: the harness installs the
//! subscriber the functions use in Lambda (`journey::logging`: JSON, INFO, no target, no time)
//! with a writer that counts bytes and lines instead of printing. The local stack's
//! own machinery (pollers, gateway: `journey_local`) is not a function and is left out.
//! What Lambda adds is modelled in `cost.rs` (a timestamp and request id per line, its
//! `platform.start` and `platform.report` records, the metrics' EMF line per invocation).

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Debug, Default)]
pub struct LogCounter(Arc<Counts>);

#[derive(Debug, Default)]
struct Counts {
    bytes: AtomicU64,
    lines: AtomicU64,
}

/// Bytes and lines logged since the counter was made.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Logged {
    pub bytes: u64,
    pub lines: u64,
}

impl LogCounter {
    pub fn read(&self) -> Logged {
        Logged {
            bytes: self.0.bytes.load(Ordering::Relaxed),
            lines: self.0.lines.load(Ordering::Relaxed),
        }
    }
}

impl Write for LogCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
        let lines = buf.iter().filter(|b| **b == b'\n').count() as u64;
        self.0.lines.fetch_add(lines, Ordering::Relaxed);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogCounter {
    type Writer = LogCounter;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Installs the functions' own subscriber (`journey::logging`) for the whole process, writing
/// to a counter (once; a second call changes nothing and returns a counter that stays at zero).
/// The local stack's machinery is filtered out as a function would never log it.
pub fn install() -> LogCounter {
    let counter = LogCounter::default();
    let filter = EnvFilter::new("info,journey_local=off,journey_bench=off");
    journey::logging::init_with(counter.clone(), filter);
    counter
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_and_lines_are_counted() {
        let counter = LogCounter::default();
        let mut w = counter.make_writer();
        w.write_all(b"{\"a\":1}\n{\"b\":2}\n").unwrap();
        assert_eq!(counter.read().bytes, 16);
        assert_eq!(counter.read().lines, 2);
    }
}

//! The functions' log lines: JSON (Lambda's JSON log format), INFO unless
//! `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG` says otherwise, no target, no time (Lambda stamps each
//! line). As `lambda_runtime::tracing::init_default_subscriber`, with one difference: a line
//! carries its innermost span (a message's ids) but not the list of every span around it,
//! which repeated the same ids and Lambda's invocation span on every line: CloudWatch Logs
//! bills each byte (docs/performance.md, *CloudWatch*).

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Installs the subscriber for the process, writing to stdout, at the level Lambda's advanced
/// logging controls set.
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|l| l.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    let filter = EnvFilter::builder()
        .with_default_directive(level.into())
        .from_env_lossy();
    init_with(std::io::stdout, filter);
    // once per cold start: which release this instance runs
    tracing::info!(version = crate::VERSION, "starting");
}

/// As [`init`], writing to `writer` through `filter` (the cost harness counts the bytes). A
/// second call does nothing.
pub fn init_with<W>(writer: W, filter: EnvFilter)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let _ = tracing::subscriber::set_global_default(subscriber(writer, filter));
}

/// The subscriber [`init`] installs.
pub fn subscriber<W>(writer: W, filter: EnvFilter) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_env_filter(filter)
        .with_writer(writer)
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .finish()
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_line_carries_its_message_span_once() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = subscriber(move || writer.clone(), EnvFilter::new("info"));
        tracing::subscriber::with_default(subscriber, || {
            let outer = tracing::info_span!("Lambda runtime invoke", requestId = "r-1");
            let _outer = outer.enter();
            let span = tracing::info_span!("message", customer_id = "c1", event_id = "e1");
            let _entered = span.enter();
            tracing::info!(kind = "login", "event applied");
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let line: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["fields"]["message"], "event applied");
        assert_eq!(line["span"]["customer_id"], "c1");
        assert!(line.get("spans").is_none(), "{line}");
        assert_eq!(text.matches("c1").count(), 1, "{text}");
    }
}

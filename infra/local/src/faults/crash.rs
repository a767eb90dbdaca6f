//! Crashes of a handler between two of its I/O calls: the local event source runs each
//! invocation inside [`run`], perhaps marked to die before its n-th request; the fault
//! interceptor asks [`before_request`] before every request. Once dead, every later call of the
//! invocation fails before it is sent ([`is_dead`]), and the event source acknowledges nothing,
//! as when Lambda loses the process: the batch comes back after its visibility timeout.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

struct Invocation {
    dead: AtomicBool,
    requests: AtomicU32,
    /// Dies before this request (0-based), if it makes that many.
    dies_at: Option<u32>,
}

tokio::task_local! {
    static INVOCATION: Arc<Invocation>;
}

/// Runs one invocation that dies before its `dies_at`-th request (if any); returns its output
/// and whether it died.
pub async fn run<F: Future>(dies_at: Option<u32>, invocation: F) -> (F::Output, bool) {
    let state = Arc::new(Invocation {
        dead: AtomicBool::new(false),
        requests: AtomicU32::new(0),
        dies_at,
    });
    let out = INVOCATION.scope(Arc::clone(&state), invocation).await;
    (out, state.dead.load(Ordering::SeqCst))
}

/// Whether the current invocation has died.
pub fn is_dead() -> bool {
    INVOCATION
        .try_with(|i| i.dead.load(Ordering::SeqCst))
        .unwrap_or(false)
}

/// Counts a request of the current invocation; true if the invocation dies before it.
pub fn before_request() -> bool {
    INVOCATION
        .try_with(|i| {
            let n = i.requests.fetch_add(1, Ordering::SeqCst);
            let dies = i.dies_at == Some(n);
            if dies {
                i.dead.store(true, Ordering::SeqCst);
            }
            dies
        })
        .unwrap_or(false)
}

//! Tells open desk pages that cases changed (a new near miss, a step, a deadline
//! passed), so they refresh without a reload. In memory, per process.

use tokio::sync::watch;

/// Sent when the server is shutting down: every listener stops.
const CLOSING: u64 = u64::MAX;

/// A counter of changes that listeners wait on.
pub struct Live {
    changes: watch::Sender<u64>,
}

impl Default for Live {
    fn default() -> Live {
        Live {
            changes: watch::Sender::new(0),
        }
    }
}

impl Live {
    /// Something about a case changed (call after the commit).
    pub fn changed(&self) {
        self.changes.send_if_modified(|n| {
            if *n == CLOSING {
                return false;
            }
            *n += 1;
            true
        });
    }

    /// Stops every listener, so open pages do not hold up a graceful shutdown.
    pub fn close(&self) {
        self.changes.send_replace(CLOSING);
    }

    /// Waits for the next change; `false` once the server is closing.
    pub async fn next(listener: &mut watch::Receiver<u64>) -> bool {
        listener.changed().await.is_ok() && *listener.borrow_and_update() != CLOSING
    }

    /// A listener for changes from now on (`None` when closing).
    pub fn listen(&self) -> Option<watch::Receiver<u64>> {
        let listener = self.changes.subscribe();
        let closing = *listener.borrow() == CLOSING;
        (!closing).then_some(listener)
    }
}

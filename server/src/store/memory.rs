//! What storage read in the last moments, by key: every rating names its site and most
//! carry its page's origin, and reading them from the database each time would cost a
//! reader round trip per request.

use std::collections::HashMap;
use std::sync::Mutex;

/// How long a value read from the database is used without reading it again: a change
/// made by another process (`nearmiss site revoke`) takes effect within this.
pub const MEMORY_MS: i64 = 2_000;
/// Values remembered at most, per kind; past this the memory starts over.
const REMEMBERED: usize = 10_000;

/// Values read at a moment (Unix milliseconds), by key. Only what exists is remembered,
/// so something added is found at once.
pub(super) struct Recent<V> {
    entries: Mutex<HashMap<String, (V, i64)>>,
}

impl<V> Default for Recent<V> {
    fn default() -> Recent<V> {
        Recent {
            entries: Mutex::default(),
        }
    }
}

impl<V: Clone> Recent<V> {
    /// The value read for `key` less than [`MEMORY_MS`] before `now`.
    pub(super) fn get(&self, key: &str, now: i64) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(key) {
            Some((value, read_at)) if (0..MEMORY_MS).contains(&(now - read_at)) => {
                Some(value.clone())
            }
            _ => None,
        }
    }

    /// Remembers `value`, read for `key` at `now`.
    pub(super) fn put(&self, key: &str, value: V, now: i64) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= REMEMBERED {
            entries.clear();
        }
        entries.insert(key.to_owned(), (value, now));
    }

    /// Forgets everything.
    pub(super) fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_used_for_its_moment_and_then_read_again() {
        let recent = Recent::default();
        recent.put("s_key", 7, 1_000);
        assert_eq!(recent.get("s_key", 1_000), Some(7));
        assert_eq!(recent.get("s_key", 1_000 + MEMORY_MS - 1), Some(7));
        assert_eq!(recent.get("s_key", 1_000 + MEMORY_MS), None, "too old");
        assert_eq!(
            recent.get("s_key", 999),
            None,
            "from the future: read again"
        );
        assert_eq!(recent.get("s_other", 1_000), None);
        recent.clear();
        assert_eq!(recent.get("s_key", 1_000), None);
    }
}

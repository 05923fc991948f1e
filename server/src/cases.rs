//! Cases: every near miss opens one, in the same transaction as its rating, with a short
//! human reference and deadlines taken from the site. The recovery steps, overdue
//! escalation and alerts build on this module.

use crate::sites::Site;
use crate::store::StoreError;
use rusqlite::{params, Transaction};

/// Alphabet for references: upper case, without 0/O, 1/I/L that are misread on a phone.
const REF_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// Opens the case for a non-perfect rating; returns its reference.
pub(crate) fn open(
    tx: &Transaction<'_>,
    site: &Site,
    rating_id: &str,
    now: i64,
) -> Result<String, StoreError> {
    let ack_due = now + millis(site.settings.ack_within);
    let close_due = now + millis(site.settings.close_within);
    // Four characters give ~920,000 references; widen after collisions so a busy
    // deployment keeps working instead of looping.
    for attempt in 0..12 {
        let reference = new_reference(4 + attempt / 4);
        let inserted = tx.execute(
            "INSERT INTO cases (ref, site_id, rating_id, opened_at, ack_due_at, close_due_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (ref) DO NOTHING",
            params![reference, site.id, rating_id, now, ack_due, close_due],
        )?;
        if inserted == 1 {
            return Ok(reference);
        }
    }
    Err(StoreError::Sqlite(rusqlite::Error::StatementChangedRows(0)))
}

fn new_reference(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    let mut reference = String::from("NM-");
    reference.extend(
        bytes
            .iter()
            .map(|b| REF_ALPHABET[*b as usize % REF_ALPHABET.len()] as char),
    );
    reference
}

fn millis(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_short_and_unambiguous() {
        let reference = new_reference(4);
        assert_eq!(reference.len(), 7);
        assert!(reference.starts_with("NM-"));
        assert!(reference[3..].bytes().all(|b| REF_ALPHABET.contains(&b)));
    }
}

//! Deadlines: a case not acknowledged in time, or not closed in time, is overdue. The
//! scanner raises `case.overdue` exactly once per deadline: the mark and the alert are
//! written in one transaction, and the deadlines live in the database, so a restart
//! neither forgets nor repeats one.

use crate::alerts::{self, Event};
use crate::store::StoreError;
use crate::AppState;
use rusqlite::{params, Connection};
use std::time::Duration;

/// How often the scanner looks for passed deadlines.
const SCAN_EVERY: Duration = Duration::from_secs(1);

/// Marks every newly overdue case and queues its alert; returns how many.
pub fn raise_overdue(conn: &mut Connection, now: i64) -> Result<usize, StoreError> {
    let tx = conn.transaction()?;
    let mut raised = 0;
    for (deadline, condition) in [
        (
            "ack_overdue_at",
            "acknowledged_at IS NULL AND ack_due_at <= ?1",
        ),
        ("close_overdue_at", "close_due_at <= ?1"),
    ] {
        let ids: Vec<i64> = {
            let sql = format!(
                "SELECT id FROM cases WHERE status = 'open' AND {deadline} IS NULL AND {condition}"
            );
            let mut stmt = tx.prepare(&sql)?;
            let rows = stmt.query_map([now], |row| row.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        for id in ids {
            tx.execute(
                &format!("UPDATE cases SET {deadline} = ?2 WHERE id = ?1"),
                params![id, now],
            )?;
            alerts::enqueue(&tx, id, Event::Overdue, now)?;
            raised += 1;
        }
    }
    tx.commit()?;
    Ok(raised)
}

/// Scans until the process ends.
pub async fn run(state: AppState) {
    loop {
        let now = state.clock.now();
        match state.store.run(move |conn| raise_overdue(conn, now)).await {
            Ok(0) => {}
            Ok(raised) => {
                tracing::warn!(cases = raised, "cases overdue");
                state.alerts.wake();
            }
            Err(err) => tracing::error!(error = %err, "deadline scan failed"),
        }
        tokio::time::sleep(SCAN_EVERY).await;
    }
}

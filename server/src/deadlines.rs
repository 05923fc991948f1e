//! Deadlines: the scanner that raises `case.overdue` once per passed deadline (the rule
//! itself lives in `cases`).

use crate::alerts::Alerts;
use crate::live::Live;
use crate::store::Store;
use crate::time::Clock;
use std::sync::Arc;
use std::time::Duration;

/// How often the scanner looks for passed deadlines.
const SCAN_EVERY: Duration = Duration::from_secs(1);

/// Scans until the process ends.
pub async fn run(store: Store, clock: Clock, alerts: Arc<Alerts>, live: Arc<Live>) {
    match store.write(crate::cases::repair_overdue_from).await {
        Ok(0) => {}
        Ok(repaired) => tracing::warn!(
            cases = repaired,
            "deadlines of cases from an older version filled in"
        ),
        Err(err) => tracing::error!(error = %err, "filling in deadlines failed"),
    }
    loop {
        let now = clock.now();
        // Look first on a reader: most scans find nothing and need not queue a write.
        let due = store.read(move |tx| tx.cases_to_raise(now)).await;
        if matches!(&due, Ok(cases) if cases.is_empty()) {
            tokio::time::sleep(SCAN_EVERY).await;
            continue;
        }
        match store
            .write(move |tx| crate::cases::raise_overdue(tx, now))
            .await
        {
            Ok(0) => {}
            Ok(raised) => {
                tracing::warn!(cases = raised, "cases overdue");
                alerts.wake();
                live.changed();
            }
            Err(err) => tracing::error!(error = %err, "deadline scan failed"),
        }
        tokio::time::sleep(SCAN_EVERY).await;
    }
}

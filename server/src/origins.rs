//! Refused origins: a page on an origin its site does not allow (`www.` against the
//! bare domain, http against https, a staging host) gets its ratings refused. Each
//! refusal is counted per site and origin, the owner sees them (`nearmiss site show`,
//! the desk), and the first one tells the site's Slack and email endpoints (at most one
//! origin a day), so a setup mistake never loses ratings in silence.

use crate::bodies::OriginNotice;
use crate::sites::normalize_origin;
use crate::store::{RefusedOrigin, Site, Store, StoreError};
use std::collections::HashMap;
use std::sync::Mutex;

/// Origins kept per site: junk origins sent in a site's name cannot fill the database.
const KEPT_PER_SITE: i64 = 50;
/// A busy page on a wrong origin is written down at most this often: refusals in
/// between are added with the next write after it (so the count is a lower bound).
const WRITE_EVERY_MS: i64 = 60_000;
/// The site's people hear of at most one new refused origin a day: a client can claim
/// any origin, and junk must not flood their channels.
const TELL_EVERY_MS: i64 = 24 * 3_600_000;
/// Pairs remembered between writes; past this the memory starts over.
const REMEMBERED: usize = 10_000;

/// Refusals counted since each (site, origin) was last written, and when that was.
#[derive(Default)]
pub struct Refusals {
    pending: Mutex<HashMap<(i64, String), (i64, i64)>>,
}

impl Refusals {
    /// Counts a refused request from `origin` for `site`. Written at once the first time
    /// (and the site's people told), then at most once a minute. An origin not in the
    /// form browsers send is not counted: it did not come from a browser page. Whether
    /// notices were queued (wake the alert worker after).
    pub async fn note(
        &self,
        store: &Store,
        site: &Site,
        origin: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        if normalize_origin(origin).as_deref() != Some(origin) {
            return Ok(false);
        }
        let count = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            if pending.len() >= REMEMBERED {
                pending.clear();
            }
            let entry = pending
                .entry((site.id, origin.to_owned()))
                .or_insert((0, i64::MIN));
            entry.0 += 1;
            if now.saturating_sub(entry.1) < WRITE_EVERY_MS {
                return Ok(false);
            }
            let count = entry.0;
            *entry = (0, now);
            count
        };
        let notice = OriginNotice {
            site_id: site.id,
            site_name: site.settings.name.clone(),
            origin: origin.to_owned(),
        };
        let (first, told) = store
            .write(move |tx| {
                let first = tx.note_refused_origin(
                    notice.site_id,
                    &notice.origin,
                    count,
                    now,
                    KEPT_PER_SITE,
                )?;
                // Only a new origin may be told, and only if it is the day's first.
                let tell = first
                    && tx
                        .refused_origins(notice.site_id)?
                        .iter()
                        .filter(|refused| refused.first_at > now - TELL_EVERY_MS)
                        .count()
                        == 1;
                if tell {
                    crate::alerts::enqueue_origin_notice(tx, &notice, now)?;
                }
                Ok::<_, StoreError>((first, tell))
            })
            .await?;
        if first {
            tracing::warn!(site = %site.key, origin, "ratings from an origin the site does not allow are being refused");
        }
        Ok(told)
    }
}

/// The origins refused for a site that it still does not allow, most recent first.
pub async fn refused(store: &Store, site: &Site) -> Result<Vec<RefusedOrigin>, StoreError> {
    let site_id = site.id;
    let all = store.read(move |tx| tx.refused_origins(site_id)).await?;
    Ok(all
        .into_iter()
        .filter(|refused| !site.allows_origin(&refused.origin))
        .collect())
}

//! Storage: one SQLite file in WAL mode with `synchronous=FULL`, so a committed
//! transaction (and so every 201) is on disk before the client hears about it.
//!
//! Queries live here, one function per thing the product does; the HTTP layer never
//! writes SQL. The connection is used from blocking threads (`Store::run`).

use crate::sites::{Site, SiteSettings};
use nearmiss_core::{Details, Rating, Scale};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// A storage failure. Never shown to clients; logged with its chain.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused or failed.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A blocking task failed to finish.
    #[error("database task failed: {0}")]
    Task(String),
}

/// Schema versions, applied in order; `PRAGMA user_version` counts those applied.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE sites (
    id                INTEGER PRIMARY KEY,
    key               TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    scale             INTEGER NOT NULL,
    ack_within_secs   INTEGER NOT NULL,
    close_within_secs INTEGER NOT NULL,
    reasons           TEXT NOT NULL,
    apology           TEXT NOT NULL,
    owner             TEXT NOT NULL,
    review_url        TEXT,
    secret            TEXT NOT NULL,
    created_at        INTEGER NOT NULL
);
CREATE TABLE site_origins (
    site_id INTEGER NOT NULL REFERENCES sites(id),
    origin  TEXT NOT NULL,
    PRIMARY KEY (site_id, origin)
);
CREATE INDEX site_origins_by_origin ON site_origins(origin);
CREATE TABLE ratings (
    id          TEXT PRIMARY KEY,
    site_id     INTEGER NOT NULL REFERENCES sites(id),
    score       INTEGER NOT NULL,
    perfect     INTEGER NOT NULL,
    interaction TEXT,
    page        TEXT,
    locale      TEXT,
    content     TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE TABLE details (
    rating_id     TEXT PRIMARY KEY REFERENCES ratings(id),
    comment       TEXT,
    reasons       TEXT NOT NULL,
    contact_name  TEXT,
    contact_email TEXT,
    contact_phone TEXT,
    consent       INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE TABLE cases (
    id           INTEGER PRIMARY KEY,
    ref          TEXT NOT NULL UNIQUE,
    site_id      INTEGER NOT NULL REFERENCES sites(id),
    rating_id    TEXT NOT NULL UNIQUE REFERENCES ratings(id),
    status       TEXT NOT NULL DEFAULT 'open',
    opened_at    INTEGER NOT NULL,
    ack_due_at   INTEGER NOT NULL,
    close_due_at INTEGER NOT NULL
);
"#,
    r#"
ALTER TABLE sites ADD COLUMN causes TEXT NOT NULL
    DEFAULT '["Staffing","Training","Process","Supplier","Equipment","Communication","Other"]';
ALTER TABLE cases ADD COLUMN acknowledged_at INTEGER;
ALTER TABLE cases ADD COLUMN closed_at INTEGER;
ALTER TABLE cases ADD COLUMN ack_overdue_at INTEGER;
ALTER TABLE cases ADD COLUMN close_overdue_at INTEGER;
ALTER TABLE cases ADD COLUMN rerate_token TEXT;
ALTER TABLE cases ADD COLUMN recovered INTEGER;
CREATE UNIQUE INDEX cases_by_rerate_token ON cases(rerate_token);
CREATE INDEX cases_by_ack_due ON cases(status, ack_due_at);
ALTER TABLE ratings ADD COLUMN rerates_case INTEGER REFERENCES cases(id);
CREATE TABLE preventions (
    id         INTEGER PRIMARY KEY,
    site_id    INTEGER NOT NULL REFERENCES sites(id),
    cause      TEXT NOT NULL,
    action     TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE case_steps (
    id            INTEGER PRIMARY KEY,
    case_id       INTEGER NOT NULL REFERENCES cases(id),
    step          TEXT NOT NULL,
    actor         TEXT NOT NULL,
    note          TEXT,
    cause         TEXT,
    prevention_id INTEGER REFERENCES preventions(id),
    at            INTEGER NOT NULL
);
CREATE INDEX case_steps_by_case ON case_steps(case_id, id);
CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE TABLE endpoints (
    id              INTEGER PRIMARY KEY,
    site_id         INTEGER NOT NULL REFERENCES sites(id),
    kind            TEXT NOT NULL,
    target          TEXT NOT NULL,
    secret          TEXT,
    escalation      INTEGER NOT NULL DEFAULT 0,
    disabled_at     INTEGER,
    disabled_reason TEXT,
    last_success_at INTEGER,
    last_failure_at INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL
);
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    msg_id          TEXT NOT NULL UNIQUE,
    endpoint_id     INTEGER REFERENCES endpoints(id),
    kind            TEXT NOT NULL,
    target          TEXT NOT NULL,
    event           TEXT NOT NULL,
    case_id         INTEGER REFERENCES cases(id),
    payload         TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    delivered_at    INTEGER,
    failed_at       INTEGER,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;
"#,
    r#"
ALTER TABLE sites ADD COLUMN require_token INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sites ADD COLUMN revoked_at INTEGER;
ALTER TABLE ratings ADD COLUMN signed INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX ratings_signed_interaction ON ratings(site_id, interaction) WHERE signed = 1;
CREATE TABLE site_keys (
    key         TEXT PRIMARY KEY,
    site_id     INTEGER NOT NULL REFERENCES sites(id),
    valid_until INTEGER NOT NULL
);
"#,
];

/// The database. Cheap to clone; all clones share one connection.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

/// A stored rating with its case, enough to answer a replay or a details call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRating {
    /// The rating's id.
    pub id: String,
    /// The site it belongs to.
    pub site_id: i64,
    /// The score.
    pub score: i64,
    /// Not perfect: a case was opened.
    pub flagged: bool,
    /// The canonical JSON of what was submitted, to tell a replay from a conflict.
    pub content: String,
    /// When it was received, in Unix milliseconds.
    pub created_at: i64,
    /// Its case, if flagged.
    pub case: Option<CaseSummary>,
}

/// What the customer is told about their case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseSummary {
    /// The human reference, like `NM-4F7Q`.
    pub reference: String,
    /// The acknowledge deadline, in Unix milliseconds.
    pub ack_due_at: i64,
}

/// The details stored for a rating.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredDetails {
    /// Free text.
    pub comment: Option<String>,
    /// Reasons picked.
    pub reasons: Vec<String>,
    /// Contact name, kept only with consent.
    pub contact_name: Option<String>,
    /// Contact email, kept only with consent.
    pub contact_email: Option<String>,
    /// Contact phone, kept only with consent.
    pub contact_phone: Option<String>,
    /// The customer agreed to be contacted.
    pub consent: bool,
}

/// The outcome of recording a rating.
#[derive(Debug)]
pub enum Recorded {
    /// Newly stored.
    New(StoredRating),
    /// Already stored under this id (a retry or another submission).
    Existing(StoredRating),
    /// A re-rating whose token names no case of this site.
    UnknownCase,
    /// A signed interaction that was already rated.
    InteractionRated,
}

impl Store {
    /// Opens (creating if needed) the SQLite file at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(path)?;
        Self::prepare(conn)
    }

    fn prepare(mut conn: Connection) -> Result<Store, StoreError> {
        // WAL lets readers run beside the writer; FULL syncs the WAL on every commit.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let applied: usize = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
        for (version, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", version + 1)?;
            tx.commit()?;
        }
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `work` on the connection in a blocking thread, off the async workers.
    pub async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock cannot leave a transaction half-applied
            // (SQLite rolls it back), so a poisoned lock is safe to reuse.
            let mut conn = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            work(&mut conn)
        })
        .await
        .map_err(|err| StoreError::Task(err.to_string()))?
    }

    /// Runs `work` on the connection in the current thread (CLI commands and tests).
    pub fn run_now<T>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self
            .conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        work(&mut conn)
    }
}

/// Adds a site with its allowed origins; returns it with its new key.
pub fn add_site(
    conn: &mut Connection,
    settings: &SiteSettings,
    key: &str,
    secret: &str,
    now: i64,
) -> Result<Site, StoreError> {
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO sites (key, name, scale, ack_within_secs, close_within_secs, reasons,
                            apology, owner, review_url, secret, created_at, causes, require_token)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            key,
            settings.name,
            u8::from(settings.scale),
            settings.ack_within.as_secs(),
            settings.close_within.as_secs(),
            serde_json::to_string(&settings.reasons).unwrap_or_else(|_| "[]".into()),
            settings.apology,
            settings.owner,
            settings.review_url,
            secret,
            now,
            serde_json::to_string(&settings.causes).unwrap_or_else(|_| "[]".into()),
            settings.require_token,
        ],
    )?;
    let site_id = tx.last_insert_rowid();
    for origin in &settings.origins {
        tx.execute(
            "INSERT OR IGNORE INTO site_origins (site_id, origin) VALUES (?1, ?2)",
            params![site_id, origin],
        )?;
    }
    tx.commit()?;
    Ok(Site {
        id: site_id,
        key: key.to_owned(),
        secret: secret.to_owned(),
        settings: settings.clone(),
    })
}

/// Gives a site a new public key; the old one keeps working for `grace` (cached pages
/// still carry it), and a revoked site works again.
pub fn rotate_key(
    conn: &mut Connection,
    site_id: i64,
    new_key: &str,
    grace_ms: i64,
    now: i64,
) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO site_keys (key, site_id, valid_until)
         SELECT key, id, ?3 FROM sites WHERE id = ?1",
        params![site_id, new_key, now + grace_ms],
    )?;
    tx.execute(
        "UPDATE sites SET key = ?2, revoked_at = NULL WHERE id = ?1",
        params![site_id, new_key],
    )?;
    tx.execute(
        "UPDATE site_keys SET valid_until = min(valid_until, ?2) WHERE site_id = ?1 AND key != ?3",
        params![site_id, now + grace_ms, new_key],
    )?;
    tx.commit()?;
    Ok(())
}

/// Revokes every key of a site at once; its data stays, and `rotate_key` revives it.
pub fn revoke_site(conn: &mut Connection, site_id: i64, now: i64) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    tx.execute(
        "UPDATE sites SET revoked_at = ?2 WHERE id = ?1",
        params![site_id, now],
    )?;
    tx.execute(
        "UPDATE site_keys SET valid_until = ?2 WHERE site_id = ?1",
        params![site_id, now],
    )?;
    tx.commit()?;
    Ok(())
}

/// The site with this public key: its current key, or a rotated-out key still in its
/// grace period; never a revoked site.
pub fn site_by_key(conn: &Connection, key: &str) -> Result<Option<Site>, StoreError> {
    site_where(
        conn,
        "revoked_at IS NULL AND (key = ?1 OR id = (SELECT site_id FROM site_keys
             WHERE key = ?1 AND valid_until > CAST(unixepoch('subsec') * 1000 AS INTEGER)))",
        &key,
    )
}

/// The site with this row id.
pub fn site_by_id(conn: &Connection, id: i64) -> Result<Option<Site>, StoreError> {
    site_where(conn, "id = ?1", &id)
}

fn site_where(
    conn: &Connection,
    condition: &str,
    value: &dyn rusqlite::ToSql,
) -> Result<Option<Site>, StoreError> {
    let sql = format!(
        "SELECT id, key, name, scale, ack_within_secs, close_within_secs, reasons,
                apology, owner, review_url, causes, require_token, secret
         FROM sites WHERE {condition}"
    );
    let site = conn
        .query_row(&sql, [value], |row| {
            let scale: u8 = row.get(3)?;
            let reasons: String = row.get(6)?;
            Ok(Site {
                id: row.get(0)?,
                key: row.get(1)?,
                secret: row.get(12)?,
                settings: SiteSettings {
                    name: row.get(2)?,
                    origins: Vec::new(),
                    scale: Scale::try_from(scale).unwrap_or_default(),
                    ack_within: secs(row.get(4)?),
                    close_within: secs(row.get(5)?),
                    reasons: serde_json::from_str(&reasons).unwrap_or_default(),
                    apology: row.get(7)?,
                    owner: row.get(8)?,
                    review_url: row.get(9)?,
                    causes: serde_json::from_str(&row.get::<_, String>(10)?).unwrap_or_default(),
                    require_token: row.get(11)?,
                },
            })
        })
        .optional()?;
    let Some(mut site) = site else {
        return Ok(None);
    };
    let mut stmt =
        conn.prepare("SELECT origin FROM site_origins WHERE site_id = ?1 ORDER BY origin")?;
    site.settings.origins = stmt
        .query_map([site.id], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(Some(site))
}

/// Whether any site allows `origin` (answers CORS preflights, which carry no site key).
pub fn origin_is_known(conn: &Connection, origin: &str) -> Result<bool, StoreError> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM site_origins WHERE origin = ?1 LIMIT 1",
            [origin],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Stores a rating and, if it is not perfect, opens its case, in one transaction.
///
/// A rating whose id is already stored is returned as `Existing`, unchanged.
pub fn record_rating(
    conn: &mut Connection,
    site: &Site,
    rating: &Rating,
    signed: bool,
    content: &str,
    now: i64,
) -> Result<Recorded, StoreError> {
    let tx = conn.transaction()?;
    if let Some(existing) = rating_by_id(&tx, &rating.id)? {
        return Ok(Recorded::Existing(existing));
    }
    if signed {
        let rated = tx
            .query_row(
                "SELECT 1 FROM ratings WHERE site_id = ?1 AND interaction = ?2 AND signed = 1",
                params![site.id, rating.interaction],
                |_| Ok(()),
            )
            .optional()?;
        if rated.is_some() {
            return Ok(Recorded::InteractionRated);
        }
    }
    let perfect = nearmiss_core::is_perfect(rating.score, site.settings.scale);
    let rerates: Option<i64> = match &rating.rerate {
        Some(token) => match tx
            .query_row(
                "SELECT id FROM cases WHERE rerate_token = ?1 AND site_id = ?2",
                params![token, site.id],
                |row| row.get(0),
            )
            .optional()?
        {
            Some(case_id) => Some(case_id),
            None => return Ok(Recorded::UnknownCase),
        },
        None => None,
    };
    tx.execute(
        "INSERT INTO ratings (id, site_id, score, perfect, interaction, page, locale, content,
                              created_at, rerates_case, signed)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            rating.id,
            site.id,
            rating.score,
            perfect,
            rating.interaction,
            rating.page,
            rating.locale,
            content,
            now,
            rerates,
            signed
        ],
    )?;
    if let Some(case_id) = rerates {
        crate::cases::rerated(&tx, case_id, site, perfect, now)?;
    } else if !perfect {
        crate::cases::open(&tx, site, &rating.id, now)?;
    }
    let stored = rating_by_id(&tx, &rating.id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    tx.commit()?;
    Ok(Recorded::New(stored))
}

/// The rating with this id, with its case.
pub fn rating_by_id(conn: &Connection, id: &str) -> Result<Option<StoredRating>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT r.id, r.site_id, r.score, r.perfect, r.content, r.created_at, c.ref, c.ack_due_at
             FROM ratings r LEFT JOIN cases c ON c.rating_id = r.id OR c.id = r.rerates_case
             WHERE r.id = ?1",
            [id],
            |row| {
                let perfect: bool = row.get(3)?;
                let reference: Option<String> = row.get(6)?;
                Ok(StoredRating {
                    id: row.get(0)?,
                    site_id: row.get(1)?,
                    score: row.get(2)?,
                    flagged: !perfect,
                    content: row.get(4)?,
                    created_at: row.get(5)?,
                    case: match reference {
                        Some(reference) => Some(CaseSummary {
                            reference,
                            ack_due_at: row.get(7)?,
                        }),
                        None => None,
                    },
                })
            },
        )
        .optional()?)
}

/// Stores a rating's details, replacing earlier ones (last wins).
/// Contact data is kept only when the customer consented.
pub fn save_details(
    conn: &Connection,
    rating_id: &str,
    details: &Details,
    now: i64,
) -> Result<(), StoreError> {
    let contact = details.contact.as_ref().filter(|c| c.consent);
    let non_empty = |v: Option<&String>| v.filter(|s| !s.trim().is_empty()).cloned();
    conn.execute(
        "INSERT INTO details (rating_id, comment, reasons, contact_name, contact_email,
                              contact_phone, consent, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (rating_id) DO UPDATE SET
            comment = excluded.comment, reasons = excluded.reasons,
            contact_name = excluded.contact_name, contact_email = excluded.contact_email,
            contact_phone = excluded.contact_phone, consent = excluded.consent,
            updated_at = excluded.updated_at",
        params![
            rating_id,
            non_empty(details.comment.as_ref()),
            serde_json::to_string(&details.reasons).unwrap_or_else(|_| "[]".into()),
            contact.and_then(|c| non_empty(c.name.as_ref())),
            contact.and_then(|c| non_empty(c.email.as_ref())),
            contact.and_then(|c| non_empty(c.phone.as_ref())),
            contact.is_some(),
            now,
        ],
    )?;
    Ok(())
}

/// The details stored for a rating, if any.
pub fn details_for(
    conn: &Connection,
    rating_id: &str,
) -> Result<Option<StoredDetails>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT comment, reasons, contact_name, contact_email, contact_phone, consent
             FROM details WHERE rating_id = ?1",
            [rating_id],
            |row| {
                let reasons: String = row.get(1)?;
                Ok(StoredDetails {
                    comment: row.get(0)?,
                    reasons: serde_json::from_str(&reasons).unwrap_or_default(),
                    contact_name: row.get(2)?,
                    contact_email: row.get(3)?,
                    contact_phone: row.get(4)?,
                    consent: row.get(5)?,
                })
            },
        )
        .optional()?)
}

fn secs(value: i64) -> std::time::Duration {
    std::time::Duration::from_secs(value.max(0) as u64)
}

//! The SQLite engine: one file in WAL mode with `synchronous=FULL`, so a committed
//! transaction (and so every 201) is on disk before the client hears about it.
//!
//! One writer thread owns the only writing connection. It takes every write that is
//! waiting, runs each inside its own savepoint of one transaction, commits once (one
//! fsync for the lot) and only then answers each caller. Readers use their own
//! connections, which WAL lets run beside the writer.

use super::*;
use crate::store::rows::{
    self, CASE_COLUMNS, CASE_JOIN, CUSTOMER_MESSAGE_SELECT, DELIVERY_SELECT, DETAILS_COLUMNS,
    ENDPOINT_STATE_SELECT, EXPORT_SELECT, MESSAGE_COLUMNS, RATING_SELECT, SITE_COLUMNS,
    STEP_SELECT, TOKEN_COLUMNS, USER_COLUMNS,
};
use rusqlite::{params, Connection, OptionalExtension, Row};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Mutex;

/// The schema, applied in order and recorded in `schema_migrations`. Never edit one
/// that was released: add the next.
pub(super) const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_ratings_and_cases.sql",
        include_str!("../../migrations/sqlite/0001_ratings_and_cases.sql"),
    ),
    (
        "0002_steps_tokens_alerts.sql",
        include_str!("../../migrations/sqlite/0002_steps_tokens_alerts.sql"),
    ),
    (
        "0003_signed_interactions_and_keys.sql",
        include_str!("../../migrations/sqlite/0003_signed_interactions_and_keys.sql"),
    ),
    (
        "0004_overdue_from.sql",
        include_str!("../../migrations/sqlite/0004_overdue_from.sql"),
    ),
    (
        "0005_people_and_sessions.sql",
        include_str!("../../migrations/sqlite/0005_people_and_sessions.sql"),
    ),
    (
        "0006_erasures.sql",
        include_str!("../../migrations/sqlite/0006_erasures.sql"),
    ),
    (
        "0007_token_scopes.sql",
        include_str!("../../migrations/sqlite/0007_token_scopes.sql"),
    ),
    (
        "0008_secret_rotation.sql",
        include_str!("../../migrations/sqlite/0008_secret_rotation.sql"),
    ),
    (
        "0009_rerate_links.sql",
        include_str!("../../migrations/sqlite/0009_rerate_links.sql"),
    ),
    (
        "0010_refused_origins.sql",
        include_str!("../../migrations/sqlite/0010_refused_origins.sql"),
    ),
    (
        "0011_outbox_lanes.sql",
        include_str!("../../migrations/sqlite/0011_outbox_lanes.sql"),
    ),
    (
        "0012_opening_hours.sql",
        include_str!("../../migrations/sqlite/0012_opening_hours.sql"),
    ),
    (
        "0013_own_words.sql",
        include_str!("../../migrations/sqlite/0013_own_words.sql"),
    ),
    (
        "0014_accent.sql",
        include_str!("../../migrations/sqlite/0014_accent.sql"),
    ),
    (
        "0015_edit_secrets_and_customer_messages.sql",
        include_str!("../../migrations/sqlite/0015_edit_secrets_and_customer_messages.sql"),
    ),
];

/// How long a re-rating link already mailed by an older build keeps working after the
/// upgrade that hashes it.
const LEGACY_RERATE_LINK_LIFE: i64 = 30 * 24 * 3_600_000;

/// Most writes committed together; more wait for the next commit.
const MAX_BATCH: usize = 512;
/// Reader connections kept open between reads.
const IDLE_READERS: usize = 8;
/// The WAL size (in pages) at which the writer checkpoints itself; the checkpointer has
/// usually copied everything by then, so this is quick, and it lets the WAL start over.
const WRITER_CHECKPOINT_PAGES: i64 = 4000;
/// How often the checkpointer copies committed pages into the database file.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

pub(super) struct Sqlite {
    path: PathBuf,
    readers: Mutex<Vec<Connection>>,
    writer: Mutex<mpsc::Sender<Job>>,
    /// Dropped with the engine, which stops the checkpointer.
    _checkpointer: mpsc::Sender<()>,
}

impl Sqlite {
    pub(super) fn open(path: &Path) -> Result<Sqlite, StoreError> {
        let mut conn = Connection::open(path)?;
        // WAL lets readers run beside the writer; FULL syncs the WAL on every commit.
        use_wal(&conn)?;
        configure(&conn)?;
        migrate(&mut conn)?;
        // The writer checkpoints only when the WAL has grown large; the checkpointer
        // thread copies pages into the database file meanwhile, off the writer's path.
        conn.pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)?;
        let (send, jobs) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("nearmiss-db-writer".into())
            .spawn(move || write_batches(conn, jobs))
            .map_err(|err| StoreError::Task(format!("starting the database writer: {err}")))?;
        let checkpoints = Connection::open(path)?;
        configure(&checkpoints)?;
        let (stop, stopped) = mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("nearmiss-db-checkpoint".into())
            .spawn(move || checkpoint_until(checkpoints, stopped))
            .map_err(|err| StoreError::Task(format!("starting the checkpointer: {err}")))?;
        Ok(Sqlite {
            path: path.to_path_buf(),
            readers: Mutex::new(Vec::new()),
            writer: Mutex::new(send),
            _checkpointer: stop,
        })
    }

    pub(super) fn read<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&mut dyn Tx) -> Result<T, E>,
    ) -> Result<T, E> {
        let idle = self
            .readers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.open_reader().map_err(E::from)?,
        };
        run(&conn, "BEGIN").map_err(|e| E::from(e.into()))?;
        let result = work(&mut SqliteTx { conn: &conn });
        // A read changes nothing: ending it either way releases its snapshot.
        let ended = run(&conn, "COMMIT");
        if ended.is_ok() {
            let mut idle = self
                .readers
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if idle.len() < IDLE_READERS {
                idle.push(conn);
            }
        }
        result
    }

    /// Copies the whole WAL into the database file and empties it, so that erased data
    /// is gone from the WAL too; `false` when readers kept it from finishing.
    pub(super) fn checkpoint_fully(&self) -> Result<bool, StoreError> {
        let conn = self.open_reader()?;
        let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))?;
        Ok(busy == 0)
    }

    fn open_reader(&self) -> Result<Connection, StoreError> {
        let conn = Connection::open(&self.path)?;
        configure(&conn)?;
        Ok(conn)
    }

    /// Queues `job` for the writer thread.
    pub(super) fn submit(&self, job: Job) {
        let sent = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .send(job);
        // The writer only stops when every sender is gone, so this cannot fail while
        // `self` lives; if it ever did, the dropped reply tells the caller.
        drop(sent);
    }
}

/// Runs a statement without results through the statement cache: transaction control
/// runs several times per write, and parsing it each time shows in profiles.
fn run(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// Switches the file to WAL. Of servers opening a new file together one switches it;
/// SQLite answers the others "database is locked" at once, without waiting, so they try
/// again (for up to 5 s) and find it done.
fn use_wal(conn: &Connection) -> Result<(), StoreError> {
    let mut tries = 0;
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Err(rusqlite::Error::SqliteFailure(err, _))
                if err.code == rusqlite::ErrorCode::DatabaseBusy && tries < 250 =>
            {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            done => return Ok(done?),
        }
    }
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.pragma_update(None, "synchronous", "FULL")?;
    // Erased contact data is overwritten on disk, not merely unlinked.
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    // Immediate: a write begun as a read gets "database is locked" at once, without
    // waiting, when another server starting now writes first.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at INTEGER NOT NULL
         )",
    )?;
    tx.commit()?;
    // Databases from before the migration files counted them in `user_version`.
    let counted: usize = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let now = crate::time::Clock::system().now();
    for (version, (name, sql)) in MIGRATIONS.iter().enumerate() {
        let version = version as i64 + 1;
        // Immediate: of two servers starting together, one migrates and the other waits,
        // then finds it done.
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let applied = tx
            .query_row(
                "SELECT 1 FROM schema_migrations WHERE version = ?1",
                [version],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if applied {
            continue;
        }
        if version as usize > counted {
            tx.execute_batch(sql)
                .map_err(|source| StoreError::Migration {
                    name,
                    source: Box::new(source),
                })?;
            if name.starts_with("0009_") {
                hash_rerate_tokens(&tx, now)?;
            }
        }
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            params![version, name, now],
        )?;
        tx.commit()?;
    }
    Ok(())
}

/// Re-rating tokens written as is by older builds become their SHA-256, valid for
/// `LEGACY_RERATE_LINK_LIFE`: links already mailed keep working, and no token that works
/// is stored readable.
fn hash_rerate_tokens(tx: &rusqlite::Transaction<'_>, now: i64) -> Result<(), StoreError> {
    use sha2::{Digest, Sha256};
    let plain: Vec<(i64, String)> = tx
        .prepare("SELECT id, rerate_token FROM cases WHERE rerate_token IS NOT NULL")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut update =
        tx.prepare("UPDATE cases SET rerate_token = ?2, rerate_until = ?3 WHERE id = ?1")?;
    for (id, token) in plain {
        let hash: String = Sha256::digest(token.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        update.execute(params![id, hash, now + LEGACY_RERATE_LINK_LIFE])?;
    }
    Ok(())
}

/// The checkpointer thread: a passive checkpoint every `CHECKPOINT_EVERY` (it never
/// blocks the writer or readers), until the engine is dropped.
fn checkpoint_until(conn: Connection, stop: mpsc::Receiver<()>) {
    while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(CHECKPOINT_EVERY) {
        let done = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        if let Err(err) = done {
            tracing::warn!(error = %err, "checkpoint failed; the writer will checkpoint instead");
        }
    }
}

/// The writer thread: batches until every `Store` is dropped.
fn write_batches(conn: Connection, jobs: mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(&conn, batch);
    }
}

fn commit_batch(conn: &Connection, batch: Vec<Job>) {
    if !conn.is_autocommit() {
        // A failed rollback left a transaction open: end it, or every batch would fail.
        let _ = run(conn, "ROLLBACK");
    }
    if let Err(err) = run(conn, "BEGIN IMMEDIATE") {
        // Dropping the jobs drops their replies: each caller hears of the failure.
        tracing::error!(error = %err, writes = batch.len(), "could not start a write transaction");
        return;
    }
    let mut finished: Vec<Done> = Vec::with_capacity(batch.len());
    for job in batch {
        if conn.is_autocommit() {
            // The jobs not run are dropped with their replies: their callers hear of it.
            break;
        }
        finished.push(run_in_savepoint(conn, job));
    }
    if conn.is_autocommit() {
        // An error (a full disk, an I/O error) ended the whole transaction: what ran is
        // undone, so no write of this batch may be answered as stored.
        let why = "the write transaction was aborted";
        tracing::error!("{why}; answering this batch's writes with an error");
        finished.into_iter().for_each(|done| done(Err(why)));
        return;
    }
    match run(conn, "COMMIT") {
        Ok(()) => finished.into_iter().for_each(|done| done(Ok(()))),
        Err(err) => {
            let why = err.to_string();
            tracing::error!(error = %why, "commit failed");
            let _ = run(conn, "ROLLBACK");
            finished.into_iter().for_each(|done| done(Err(&why)));
        }
    }
}

/// Runs one write inside its own savepoint, so that its failure (or panic) undoes only
/// its own changes.
fn run_in_savepoint(conn: &Connection, job: Job) -> Done {
    if let Err(err) = run(conn, "SAVEPOINT job") {
        // Without its savepoint a failing write could not be undone alone: it does not
        // run, and its dropped reply tells its caller.
        tracing::error!(error = %err, "savepoint failed");
        return Box::new(|_| {});
    }
    let (ok, done) = run_job(job, &mut SqliteTx { conn });
    match ok {
        true => drop(run(conn, "RELEASE job")),
        false => undo(conn),
    }
    done.unwrap_or_else(|| Box::new(|_| {}))
}

fn undo(conn: &Connection) {
    let _ = run(conn, "ROLLBACK TO job");
    let _ = run(conn, "RELEASE job");
}

/// One transaction on an SQLite connection.
pub(super) struct SqliteTx<'c> {
    conn: &'c Connection,
}

/// Site ids as a JSON array for `json_each`, or NULL for every site.
fn json_ids(sites: Option<&[i64]>) -> Option<String> {
    sites.map(|ids| serde_json::to_string(ids).unwrap_or_default())
}

impl SqliteTx<'_> {
    fn save_origins(&mut self, site_id: i64, origins: &[String]) -> Result<(), StoreError> {
        for origin in origins {
            self.conn.execute(
                "INSERT OR IGNORE INTO site_origins (site_id, origin) VALUES (?1, ?2)",
                params![site_id, origin],
            )?;
        }
        Ok(())
    }

    fn site_where(
        &mut self,
        condition: &str,
        values: &[&dyn rusqlite::ToSql],
    ) -> Result<Option<Site>, StoreError> {
        let sql = format!("SELECT {SITE_COLUMNS} FROM sites WHERE {condition}");
        let site = self.first(&sql, values, |row| rows::site(row))?;
        let Some(mut site) = site else {
            return Ok(None);
        };
        site.settings.origins = self.all(
            "SELECT origin FROM site_origins WHERE site_id = ?1 ORDER BY origin",
            [site.id],
            |row| Ok(row.get(0)?),
        )?;
        Ok(Some(site))
    }

    /// Every row `sql` returns, each read by `read`.
    fn all<T>(
        &mut self,
        sql: &str,
        values: impl rusqlite::Params,
        mut read: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let mut rows = stmt.query(values)?;
        let mut all = Vec::new();
        while let Some(row) = rows.next()? {
            all.push(read(row)?);
        }
        Ok(all)
    }

    /// The first row `sql` returns, read by `read`, if there is one.
    fn first<T>(
        &mut self,
        sql: &str,
        values: impl rusqlite::Params,
        read: impl FnOnce(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let mut rows = stmt.query(values)?;
        rows.next()?.map(read).transpose()
    }

    fn exists(&mut self, sql: &str, values: &[&dyn rusqlite::ToSql]) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .prepare_cached(sql)?
            .query_row(values, |_| Ok(()))
            .optional()?
            .is_some())
    }

    fn one_id(
        &mut self,
        sql: &str,
        values: &[&dyn rusqlite::ToSql],
    ) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(sql)?
            .query_row(values, |row| row.get(0))
            .optional()?)
    }
}

impl Tx for SqliteTx<'_> {
    fn ping(&mut self) -> Result<(), StoreError> {
        Ok(self.conn.query_row("SELECT 1", [], |_| Ok(()))?)
    }

    fn insert_site(
        &mut self,
        settings: &SiteSettings,
        key: &str,
        secret: &str,
        now: i64,
    ) -> Result<i64, StoreError> {
        // The settings are written in one place, `update_site`.
        self.conn.execute(
            "INSERT INTO sites (key, secret, created_at, name, scale, ack_within_secs,
                                close_within_secs, reasons, apology, owner)
             VALUES (?1, ?2, ?3, '', 5, 0, 0, '[]', '', '')",
            params![key, secret, now],
        )?;
        let site_id = self.conn.last_insert_rowid();
        self.update_site(site_id, settings)?;
        Ok(site_id)
    }

    fn site_has_ratings(&mut self, site_id: i64) -> Result<bool, StoreError> {
        self.exists(
            "SELECT 1 FROM ratings WHERE site_id = ?1 LIMIT 1",
            &[&site_id],
        )
    }

    fn update_site(&mut self, site_id: i64, settings: &SiteSettings) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE sites SET name = ?2, scale = ?3, ack_within_secs = ?4, close_within_secs = ?5,
                    reasons = ?6, apology = ?7, owner = ?8, review_url = ?9, causes = ?10,
                    require_token = ?11, timezone = ?12, hours = ?13,
                    words = ?14, accent = ?15
             WHERE id = ?1",
            params![
                site_id,
                settings.name,
                u8::from(settings.scale),
                settings.ack_within.as_secs(),
                settings.close_within.as_secs(),
                json_list(&settings.reasons),
                settings.apology,
                settings.owner,
                settings.review_url,
                json_list(&settings.causes),
                settings.require_token,
                settings.timezone,
                settings.hours.as_ref().map(ToString::to_string),
                serde_json::to_string(&settings.words).unwrap_or_else(|_| "{}".into()),
                settings.accent,
            ],
        )?;
        self.conn
            .execute("DELETE FROM site_origins WHERE site_id = ?1", [site_id])?;
        self.save_origins(site_id, &settings.origins)
    }

    fn site_by_key(&mut self, key: &str, now: i64) -> Result<Option<Site>, StoreError> {
        self.site_where(
            "revoked_at IS NULL AND (key = ?1 OR id = (SELECT site_id FROM site_keys
                 WHERE key = ?1 AND valid_until > ?2))",
            &[&key, &now],
        )
    }

    fn site_by_id(&mut self, id: i64) -> Result<Option<Site>, StoreError> {
        self.site_where("id = ?1", &[&id])
    }

    fn site_id_by_any_key(&mut self, key: &str) -> Result<Option<i64>, StoreError> {
        self.one_id(
            "SELECT id FROM sites WHERE key = ?1 UNION SELECT site_id FROM site_keys WHERE key = ?1",
            &[&key],
        )
    }

    fn rotate_key(
        &mut self,
        site_id: i64,
        new_key: &str,
        old_valid_until: i64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO site_keys (key, site_id, valid_until)
             SELECT key, id, ?2 FROM sites WHERE id = ?1 AND revoked_at IS NULL",
            params![site_id, old_valid_until],
        )?;
        self.conn.execute(
            "UPDATE sites SET key = ?2, revoked_at = NULL WHERE id = ?1",
            params![site_id, new_key],
        )?;
        self.conn.execute(
            "UPDATE site_keys SET valid_until = min(valid_until, ?2) WHERE site_id = ?1 AND key != ?3",
            params![site_id, old_valid_until, new_key],
        )?;
        Ok(())
    }

    fn revoke_site(&mut self, site_id: i64, now: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE sites SET revoked_at = ?2 WHERE id = ?1",
            params![site_id, now],
        )?;
        self.conn.execute(
            "UPDATE site_keys SET valid_until = ?2 WHERE site_id = ?1",
            params![site_id, now],
        )?;
        Ok(())
    }

    fn origin_is_known(&mut self, origin: &str) -> Result<bool, StoreError> {
        self.exists(
            "SELECT 1 FROM site_origins WHERE origin = ?1 LIMIT 1",
            &[&origin],
        )
    }

    fn rating_by_id(&mut self, id: &str) -> Result<Option<StoredRating>, StoreError> {
        let sql = format!("{RATING_SELECT} WHERE r.id = ?1");
        self.first(&sql, [id], |row| rows::rating(row))
    }

    fn signed_interaction_rated(
        &mut self,
        site_id: i64,
        interaction: &str,
    ) -> Result<bool, StoreError> {
        self.exists(
            "SELECT 1 FROM ratings WHERE site_id = ?1 AND interaction = ?2 AND signed = 1",
            &[&site_id, &interaction],
        )
    }

    fn change_score(&mut self, id: &str, score: i64, perfect: bool) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE ratings SET score = ?2, perfect = ?3, score_changes = score_changes + 1
             WHERE id = ?1",
            params![id, score, perfect],
        )?;
        Ok(())
    }

    fn insert_rating(&mut self, r: &NewRating<'_>) -> Result<bool, StoreError> {
        let inserted = self
            .conn
            .prepare_cached(
                "INSERT INTO ratings (id, site_id, score, perfect, interaction, page, locale,
                                      content, created_at, rerates_case, signed, edit_hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                 ON CONFLICT (id) DO NOTHING",
            )?
            .execute(params![
                r.id,
                r.site_id,
                r.score,
                r.perfect,
                r.interaction,
                r.page,
                r.locale,
                r.content,
                r.created_at,
                r.rerates_case,
                r.signed,
                r.edit_hash
            ])?;
        Ok(inserted == 1)
    }

    fn save_details(&mut self, d: &NewDetails<'_>) -> Result<bool, StoreError> {
        let saved = self
            .conn
            .prepare_cached(
                "INSERT INTO details (rating_id, comment, reasons, contact_name, contact_email,
                                      contact_phone, consent, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (rating_id) DO UPDATE SET
                    comment = excluded.comment, reasons = excluded.reasons,
                    contact_name = excluded.contact_name, contact_email = excluded.contact_email,
                    contact_phone = excluded.contact_phone, consent = excluded.consent,
                    updated_at = excluded.updated_at, posts = details.posts + 1
                 WHERE details.posts < ?9",
            )?
            .execute(params![
                d.rating_id,
                d.comment,
                json_list(d.reasons),
                d.contact_name,
                d.contact_email,
                d.contact_phone,
                d.consent,
                d.now,
                d.max_posts,
            ])?;
        Ok(saved == 1)
    }

    fn details_for(&mut self, rating_id: &str) -> Result<Option<StoredDetails>, StoreError> {
        let sql = format!("SELECT {DETAILS_COLUMNS} FROM details WHERE rating_id = ?1");
        self.first(&sql, [rating_id], |row| rows::details(row))
    }

    fn insert_case(&mut self, c: &NewCase<'_>) -> Result<Option<CaseRecord>, StoreError> {
        let inserted = self
            .conn
            .prepare_cached(
                "INSERT INTO cases (ref, site_id, rating_id, opened_at, ack_due_at, close_due_at,
                                    overdue_from)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (ref) DO NOTHING",
            )?
            .execute(params![
                c.reference,
                c.site_id,
                c.rating_id,
                c.opened_at,
                c.ack_due_at,
                c.close_due_at,
                c.overdue_from
            ])?;
        match inserted {
            1 => self.case_by_id(self.conn.last_insert_rowid()),
            _ => Ok(None),
        }
    }

    fn case_by_id(&mut self, id: i64) -> Result<Option<CaseRecord>, StoreError> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM {CASE_JOIN} WHERE c.id = ?1");
        self.first(&sql, [id], |row| rows::case(row))
    }

    fn case_id_by_ref(&mut self, reference: &str) -> Result<Option<i64>, StoreError> {
        self.one_id("SELECT id FROM cases WHERE ref = ?1", &[&reference])
    }

    fn case_id_for_rating(&mut self, rating_id: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT coalesce((SELECT id FROM cases WHERE rating_id = r.id), r.rerates_case)
                 FROM ratings r WHERE r.id = ?1",
            )?
            .query_row([rating_id], |row| row.get::<_, Option<i64>>(0))
            .optional()?
            .flatten())
    }

    fn case_id_by_rerate_link(
        &mut self,
        site_id: i64,
        hash: &str,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        self.one_id(
            "SELECT id FROM cases WHERE rerate_token = ?1 AND site_id = ?2 AND rerate_until > ?3",
            &[&hash, &site_id, &now],
        )
    }

    fn rerate_page(
        &mut self,
        hash: &str,
        now: i64,
    ) -> Result<Option<(String, String, String)>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT s.key, s.name, c.ref FROM cases c JOIN sites s ON s.id = c.site_id
                 WHERE c.rerate_token = ?1 AND c.rerate_until > ?2",
            )?
            .query_row(params![hash, now], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .optional()?)
    }

    fn set_rerate_link(
        &mut self,
        case_id: i64,
        link: Option<(&str, i64)>,
    ) -> Result<(), StoreError> {
        let (hash, until) = link.unzip();
        self.conn
            .prepare_cached("UPDATE cases SET rerate_token = ?2, rerate_until = ?3 WHERE id = ?1")?
            .execute(params![case_id, hash, until])?;
        Ok(())
    }

    fn save_case(&mut self, c: &CaseRecord, overdue_from: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE cases SET status = ?2, ack_due_at = ?3, close_due_at = ?4,
                        acknowledged_at = ?5, closed_at = ?6, recovered = ?7,
                        ack_overdue_at = ?8, close_overdue_at = ?9, overdue_from = ?10
                 WHERE id = ?1",
            )?
            .execute(params![
                c.id,
                c.status.as_str(),
                c.ack_due_at,
                c.close_due_at,
                c.acknowledged_at,
                c.closed_at,
                c.recovered,
                c.ack_overdue_at,
                c.close_overdue_at,
                overdue_from
            ])?;
        Ok(())
    }

    fn case_ids(&mut self, f: &CaseFilter<'_>) -> Result<Vec<i64>, StoreError> {
        self.all(
            "SELECT c.id FROM cases c JOIN sites s ON s.id = c.site_id
             WHERE (?1 IS NULL OR c.status = ?1)
               AND (?2 IS NULL OR (c.status = 'open' AND c.overdue_from <= ?2))
               AND (?3 IS NULL OR s.key = ?3)
               AND (?5 IS NULL OR c.site_id IN (SELECT value FROM json_each(?5)))
               AND (?6 IS NULL OR c.assignee_id = ?6)
               AND (?7 IS NULL OR EXISTS (SELECT 1 FROM case_steps st
                                          WHERE st.case_id = c.id AND st.cause = ?7))
               AND (?9 IS NULL OR c.opened_at >= ?9) AND (?10 IS NULL OR c.opened_at < ?10)
             ORDER BY CASE WHEN ?8 THEN c.status = 'open' END DESC,
                      CASE WHEN ?8 AND c.status = 'open' THEN c.overdue_from END,
                      c.opened_at DESC, c.id DESC
             LIMIT ?4",
            params![
                f.status.map(|s| s.as_str()),
                f.overdue_at,
                f.site_key,
                f.limit,
                json_ids(f.site_ids),
                f.assignee,
                f.cause,
                f.by_deadline,
                f.opened.map(|o| o.0),
                f.opened.map(|o| o.1)
            ],
            |row| Ok(row.get(0)?),
        )
    }

    fn cases_to_raise(&mut self, now: i64) -> Result<Vec<CaseRecord>, StoreError> {
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM {CASE_JOIN}
             WHERE c.status = 'open'
               AND ((c.ack_overdue_at IS NULL AND c.acknowledged_at IS NULL AND c.ack_due_at <= ?1)
                    OR (c.close_overdue_at IS NULL AND c.close_due_at <= ?1))
             ORDER BY c.id"
        );
        self.all(&sql, [now], |row| rows::case(row))
    }

    fn cases_without_overdue_from(&mut self) -> Result<Vec<CaseRecord>, StoreError> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM {CASE_JOIN} WHERE c.overdue_from IS NULL");
        self.all(&sql, [], |row| rows::case(row))
    }

    fn steps(&mut self, case_id: i64) -> Result<Vec<StepRecord>, StoreError> {
        self.all(
            &format!("{STEP_SELECT} WHERE st.case_id = ?1 ORDER BY st.id"),
            [case_id],
            |row| rows::step(row),
        )
    }

    fn insert_step(&mut self, s: &NewStep<'_>) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO case_steps (case_id, step, actor, note, cause, prevention_id, at,
                                         message)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                s.case_id,
                s.step.as_str(),
                s.actor,
                s.note,
                s.cause,
                s.prevention_id,
                s.at,
                s.message
            ])?;
        Ok(())
    }

    fn prevention(&mut self, site_id: i64, id: i64) -> Result<Option<Prevention>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT id, cause, action FROM preventions WHERE id = ?1 AND site_id = ?2",
            )?
            .query_row(params![id, site_id], |row| {
                Ok(Prevention {
                    id: row.get(0)?,
                    cause: row.get(1)?,
                    action: row.get(2)?,
                })
            })
            .optional()?)
    }

    fn insert_prevention(
        &mut self,
        site_id: i64,
        cause: &str,
        action: &str,
        now: i64,
    ) -> Result<i64, StoreError> {
        self.conn.execute(
            "INSERT INTO preventions (site_id, cause, action, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![site_id, cause, action, now],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    fn insert_token(&mut self, t: &NewToken<'_>) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO api_tokens (name, hash, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![t.name, t.hash, t.now, t.expires_at],
        )?;
        let id = self.conn.last_insert_rowid();
        for site_id in t.site_ids {
            self.conn.execute(
                "INSERT OR IGNORE INTO token_sites (token_id, site_id) VALUES (?1, ?2)",
                params![id, site_id],
            )?;
        }
        Ok(())
    }

    fn token(&mut self, hash: &str, now: i64) -> Result<Option<TokenRecord>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens t WHERE t.hash = ?1");
        let token = self.first(&sql, [hash], |row| rows::token(row))?;
        Ok(token.filter(|t| t.expires_at.is_none_or(|at| at > now)))
    }

    fn insert_endpoint(&mut self, e: &NewEndpoint<'_>) -> Result<i64, StoreError> {
        self.conn.execute(
            "INSERT INTO endpoints (site_id, kind, target, secret, escalation, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                e.site_id,
                e.kind.as_str(),
                e.target,
                e.secret,
                e.escalation,
                e.now
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    fn active_endpoints(
        &mut self,
        site_id: i64,
        escalation: bool,
    ) -> Result<Vec<Endpoint>, StoreError> {
        let rows = self.all(
            "SELECT id, kind, target FROM endpoints
             WHERE site_id = ?1 AND disabled_at IS NULL AND (escalation = 0 OR ?2)",
            params![site_id, escalation],
            |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?, row.get(2)?)),
        )?;
        // An endpoint of a kind this build does not know (written by a newer one) is
        // passed over, not allowed to fail the near miss that queues alerts.
        Ok(rows
            .into_iter()
            .filter_map(|(id, kind, target)| match EndpointKind::parse(&kind) {
                Some(kind) => Some(Endpoint { id, kind, target }),
                None => {
                    tracing::warn!(endpoint = id, kind = %kind, "endpoint of an unknown kind skipped");
                    None
                }
            })
            .collect())
    }

    fn endpoint_states(&mut self, site_id: i64) -> Result<Vec<EndpointState>, StoreError> {
        self.all(
            &format!("{ENDPOINT_STATE_SELECT} WHERE e.site_id = ?1 ORDER BY e.id"),
            [site_id],
            |row| rows::endpoint_state(row),
        )
    }

    fn note_refused_origin(
        &mut self,
        site_id: i64,
        origin: &str,
        refusals: i64,
        now: i64,
        cap: i64,
    ) -> Result<bool, StoreError> {
        let counted = self
            .conn
            .prepare_cached(
                "UPDATE refused_origins SET refusals = refusals + ?3, last_at = ?4
                 WHERE site_id = ?1 AND origin = ?2",
            )?
            .execute(params![site_id, origin, refusals, now])?;
        if counted == 1 {
            return Ok(false);
        }
        let added = self
            .conn
            .prepare_cached(
                "INSERT INTO refused_origins (site_id, origin, refusals, first_at, last_at)
                 SELECT ?1, ?2, ?3, ?4, ?4
                 WHERE (SELECT count(*) FROM refused_origins WHERE site_id = ?1) < ?5",
            )?
            .execute(params![site_id, origin, refusals, now, cap])?;
        Ok(added == 1)
    }

    fn refused_origins(&mut self, site_id: i64) -> Result<Vec<RefusedOrigin>, StoreError> {
        self.all(
            "SELECT origin, refusals, first_at, last_at FROM refused_origins
             WHERE site_id = ?1 ORDER BY last_at DESC, origin",
            params![site_id],
            |row| rows::refused_origin(row),
        )
    }

    fn insert_message(&mut self, m: &NewMessage<'_>) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO outbox (msg_id, endpoint_id, kind, target, event, case_id, payload,
                                     created_at, next_attempt_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
            )?
            .execute(params![
                m.msg_id,
                m.endpoint_id,
                m.kind.as_str(),
                m.target,
                m.event.as_str(),
                m.case_id,
                m.payload,
                m.now
            ])?;
        Ok(())
    }

    fn replace_pending_update(
        &mut self,
        endpoint_id: i64,
        case_id: i64,
        payload: &str,
    ) -> Result<bool, StoreError> {
        // Never claimed: no attempt, and no lease moved its next attempt.
        let replaced = self
            .conn
            .prepare_cached(
                "UPDATE outbox SET payload = ?3
                 WHERE id = (SELECT max(id) FROM outbox WHERE case_id = ?2 AND endpoint_id = ?1)
                   AND event = 'case.updated' AND attempts = 0
                   AND delivered_at IS NULL AND failed_at IS NULL
                   AND next_attempt_at = created_at",
            )?
            .execute(params![endpoint_id, case_id, payload])?;
        Ok(replaced == 1)
    }

    fn customer_messages(
        &mut self,
        case_id: i64,
        limit: i64,
    ) -> Result<Vec<CustomerMessage>, StoreError> {
        self.all(
            &format!(
                "{CUSTOMER_MESSAGE_SELECT}
                 WHERE o.case_id = ?1 AND o.kind = 'customer_email'
                 ORDER BY o.id DESC LIMIT ?2"
            ),
            params![case_id, limit],
            |row| rows::customer_message(row),
        )
    }

    fn due_lanes(&mut self, now: i64, skip: &[i64]) -> Result<Vec<i64>, StoreError> {
        self.all(
            "SELECT e.id FROM endpoints e
             WHERE e.id NOT IN (SELECT value FROM json_each(?2))
               AND EXISTS (SELECT 1 FROM outbox o
                           WHERE o.endpoint_id = e.id
                             AND o.delivered_at IS NULL AND o.failed_at IS NULL
                             AND o.next_attempt_at <= ?1)
             UNION ALL
             SELECT 0 WHERE 0 NOT IN (SELECT value FROM json_each(?2))
               AND EXISTS (SELECT 1 FROM outbox o
                           WHERE o.endpoint_id IS NULL
                             AND o.delivered_at IS NULL AND o.failed_at IS NULL
                             AND o.next_attempt_at <= ?1)",
            params![now, json_ids(Some(skip))],
            |row| Ok(row.get(0)?),
        )
    }

    fn claim_messages(&mut self, claim: &Claim<'_>) -> Result<Vec<Message>, StoreError> {
        let mut messages = Vec::new();
        let oldest = format!(
            "SELECT {MESSAGE_COLUMNS}, CASE WHEN e.old_secret_until > ?1 THEN e.old_secret END
             FROM outbox o LEFT JOIN endpoints e ON e.id = o.endpoint_id
             WHERE o.endpoint_id IS nullif(?2, 0)
               AND o.delivered_at IS NULL AND o.failed_at IS NULL AND o.next_attempt_at <= ?1
             ORDER BY o.next_attempt_at, o.id LIMIT ?3"
        );
        for (lane, room) in claim.lanes {
            let values = params![claim.now, lane, room];
            messages.extend(self.all(&oldest, values, |row| rows::message(row))?);
        }
        let mut lease = self
            .conn
            .prepare_cached("UPDATE outbox SET next_attempt_at = ?2 WHERE id = ?1")?;
        for message in &messages {
            lease.execute(params![message.id, claim.lease_until])?;
        }
        Ok(messages)
    }

    fn give_up_messages(&mut self, before: i64, now: i64) -> Result<usize, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "UPDATE outbox SET failed_at = ?2,
                        last_error = coalesce(last_error, 'not sent: its endpoint was failing')
                 WHERE delivered_at IS NULL AND failed_at IS NULL
                   AND created_at < ?1 AND next_attempt_at <= ?2",
            )?
            .execute(params![before, now])?)
    }

    fn record_attempt(&mut self, a: &Attempt<'_>) -> Result<(), StoreError> {
        let m = a.message;
        let attempts = m.attempts + 1;
        let conn = self.conn;
        match a.result {
            AttemptResult::Delivered => {
                conn.execute(
                    "UPDATE outbox SET delivered_at = ?2, attempts = ?3, last_error = NULL WHERE id = ?1",
                    params![m.id, a.now, attempts],
                )?;
                conn.execute(
                    "UPDATE endpoints SET last_success_at = ?2 WHERE id = ?1",
                    params![m.endpoint_id, a.now],
                )?;
            }
            AttemptResult::RetryAt(_, error) | AttemptResult::Failed(error) => {
                let (next, failed_at) = match a.result {
                    AttemptResult::RetryAt(next, _) => (Some(next), None),
                    _ => (None, Some(a.now)),
                };
                conn.execute(
                    "UPDATE outbox SET next_attempt_at = coalesce(?2, next_attempt_at),
                            failed_at = ?3, attempts = ?4, last_error = ?5
                     WHERE id = ?1",
                    params![m.id, next, failed_at, attempts, error],
                )?;
                conn.execute(
                    "UPDATE endpoints SET last_failure_at = ?2, last_error = ?3 WHERE id = ?1",
                    params![m.endpoint_id, a.now, error],
                )?;
            }
            AttemptResult::EndpointGone(reason) => {
                conn.execute(
                    "UPDATE endpoints SET disabled_at = ?2, disabled_reason = ?3, last_failure_at = ?2,
                            last_error = ?3
                     WHERE id = ?1",
                    params![m.endpoint_id, a.now, reason],
                )?;
                conn.execute(
                    "UPDATE outbox SET failed_at = ?2, last_error = ?3,
                            attempts = attempts + (id = ?4)
                     WHERE endpoint_id = ?1 AND delivered_at IS NULL AND failed_at IS NULL",
                    params![m.endpoint_id, a.now, reason, m.id],
                )?;
            }
        }
        Ok(())
    }

    fn insert_user(&mut self, u: &NewUser<'_>) -> Result<Option<i64>, StoreError> {
        let inserted = self
            .conn
            .prepare_cached(
                "INSERT INTO users (email, name, role, password_hash, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (email) DO NOTHING",
            )?
            .execute(params![
                u.email,
                u.name,
                u.role.as_str(),
                u.password_hash,
                u.now
            ])?;
        if inserted == 0 {
            return Ok(None);
        }
        let id = self.conn.last_insert_rowid();
        for site_id in u.site_ids {
            self.conn
                .prepare_cached(
                    "INSERT OR IGNORE INTO user_sites (user_id, site_id) VALUES (?1, ?2)",
                )?
                .execute(params![id, site_id])?;
        }
        Ok(Some(id))
    }

    fn user_by_email(&mut self, email: &str) -> Result<Option<(User, String)>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.email = ?1");
        self.first(&sql, [email], |row| Ok((rows::user(row)?, row.get(6)?)))
    }

    fn users(&mut self) -> Result<Vec<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.name, u.id");
        self.all(&sql, [], |row| rows::user(row))
    }

    fn remove_user(&mut self, email: &str) -> Result<bool, StoreError> {
        let Some(id) = self.one_id("SELECT id FROM users WHERE email = ?1", &[&email])? else {
            return Ok(false);
        };
        self.conn.execute(
            "UPDATE cases SET assignee_id = NULL WHERE assignee_id = ?1",
            [id],
        )?;
        self.conn.execute("DELETE FROM users WHERE id = ?1", [id])?;
        Ok(true)
    }

    fn insert_session(&mut self, s: &NewSession<'_>) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO sessions (hash, user_id, csrf, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![s.hash, s.user_id, s.csrf, s.now, s.expires_at])?;
        // Expired sessions go when anyone logs in, so the table stays small.
        self.conn
            .prepare_cached("DELETE FROM sessions WHERE expires_at <= ?1")?
            .execute([s.now])?;
        Ok(())
    }

    fn session(&mut self, hash: &str, now: i64) -> Result<Option<(User, String)>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, se.csrf FROM sessions se JOIN users u ON u.id = se.user_id
             WHERE se.hash = ?1 AND se.expires_at > ?2"
        );
        self.first(&sql, params![hash, now], |row| {
            Ok((rows::user(row)?, row.get(6)?))
        })
    }

    fn delete_session(&mut self, hash: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("DELETE FROM sessions WHERE hash = ?1")?
            .execute([hash])?;
        Ok(())
    }

    fn tokens(&mut self) -> Result<Vec<TokenRecord>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens t ORDER BY t.id");
        self.all(&sql, [], |row| rows::token(row))
    }

    fn delete_token(&mut self, id: i64) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .execute("DELETE FROM api_tokens WHERE id = ?1", [id])?
            == 1)
    }

    fn recent_messages(
        &mut self,
        endpoint_id: i64,
        limit: i64,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.all(
            &format!("{DELIVERY_SELECT} WHERE o.endpoint_id = ?1 ORDER BY o.id DESC LIMIT ?2"),
            params![endpoint_id, limit],
            |row| rows::delivery(row),
        )
    }

    fn rating_days(
        &mut self,
        sites: Option<&[i64]>,
        from: i64,
        to: i64,
    ) -> Result<Vec<(i64, i64, i64)>, StoreError> {
        self.all(
            "SELECT created_at / 86400000 AS day, count(*), sum(perfect) FROM ratings
             WHERE created_at >= ?1 AND created_at < ?2 AND rerates_case IS NULL
               AND (?3 IS NULL OR site_id IN (SELECT value FROM json_each(?3)))
             GROUP BY day ORDER BY day",
            params![from, to, json_ids(sites)],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
    }

    fn rerating_counts(
        &mut self,
        sites: Option<&[i64]>,
        from: i64,
        to: i64,
    ) -> Result<(i64, i64), StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT count(*), coalesce(sum(perfect), 0) FROM ratings
                 WHERE created_at >= ?1 AND created_at < ?2 AND rerates_case IS NOT NULL
                   AND (?3 IS NULL OR site_id IN (SELECT value FROM json_each(?3)))",
            )?
            .query_row(params![from, to, json_ids(sites)], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })?)
    }

    fn case_timings(
        &mut self,
        sites: Option<&[i64]>,
        from: i64,
        to: i64,
    ) -> Result<Vec<CaseTiming>, StoreError> {
        self.all(
            "SELECT status, overdue_from, opened_at, acknowledged_at FROM cases
             WHERE opened_at >= ?1 AND opened_at < ?2
               AND (?3 IS NULL OR site_id IN (SELECT value FROM json_each(?3)))",
            params![from, to, json_ids(sites)],
            |row| rows::case_timing(row),
        )
    }

    fn count_cases(&mut self, status: Status, overdue_at: Option<i64>) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM cases
                 WHERE status = ?1 AND (?2 IS NULL OR overdue_from <= ?2)",
            )?
            .query_row(params![status.as_str(), overdue_at], |row| row.get(0))?)
    }

    fn count_messages(&mut self, failed: bool) -> Result<i64, StoreError> {
        let sql = if failed {
            "SELECT count(*) FROM outbox WHERE failed_at IS NOT NULL"
        } else {
            "SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL"
        };
        Ok(self
            .conn
            .prepare_cached(sql)?
            .query_row([], |row| row.get(0))?)
    }

    fn contacts_matching(
        &mut self,
        email: Option<&str>,
        updated_before: Option<i64>,
    ) -> Result<Vec<StoredContact>, StoreError> {
        self.all(
            "SELECT rating_id, contact_name, contact_email, contact_phone FROM details
             WHERE (contact_name IS NOT NULL OR contact_email IS NOT NULL
                    OR contact_phone IS NOT NULL)
               AND (?1 IS NULL OR contact_email = ?1 COLLATE NOCASE)
               AND (?2 IS NULL OR updated_at < ?2)",
            params![email, updated_before],
            |row| rows::contact(row),
        )
    }

    fn clear_contact(&mut self, rating_id: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE details SET contact_name = NULL, contact_email = NULL,
                        contact_phone = NULL, consent = 0
                 WHERE rating_id = ?1",
            )?
            .execute([rating_id])?;
        Ok(())
    }

    fn rotate_secret(
        &mut self,
        site_id: i64,
        id: i64,
        secret: &str,
        old_until: i64,
    ) -> Result<bool, StoreError> {
        let rotated = self.conn.execute(
            "UPDATE endpoints SET old_secret = secret, old_secret_until = ?4, secret = ?3
             WHERE id = ?1 AND site_id = ?2 AND kind = 'webhook' AND disabled_at IS NULL",
            params![id, site_id, secret, old_until],
        )?;
        Ok(rotated == 1)
    }

    fn remove_endpoint(&mut self, site_id: i64, id: i64, now: i64) -> Result<bool, StoreError> {
        let removed = self.conn.execute(
            "UPDATE endpoints SET disabled_at = coalesce(disabled_at, ?3),
                    disabled_reason = 'removed'
             WHERE id = ?1 AND site_id = ?2",
            params![id, site_id, now],
        )?;
        self.conn.execute(
            "UPDATE outbox SET failed_at = ?2, last_error = 'the endpoint was removed'
             WHERE endpoint_id = ?1 AND delivered_at IS NULL AND failed_at IS NULL",
            params![id, now],
        )?;
        Ok(removed == 1)
    }

    fn redeliver(&mut self, site_id: i64, id: i64, now: i64) -> Result<usize, StoreError> {
        Ok(self.conn.execute(
            "UPDATE outbox SET failed_at = NULL, attempts = 0, next_attempt_at = ?3,
                    last_error = NULL
             WHERE endpoint_id = ?1 AND failed_at IS NOT NULL AND delivered_at IS NULL
               AND endpoint_id IN (SELECT id FROM endpoints
                                   WHERE site_id = ?2 AND disabled_at IS NULL)",
            params![id, site_id, now],
        )?)
    }

    fn messages_mentioning(&mut self, needle: &str) -> Result<Vec<OutboxText>, StoreError> {
        self.all(
            "SELECT id, kind, target, payload, delivered_at IS NULL AND failed_at IS NULL
             FROM outbox
             WHERE instr(lower(payload), lower(?1)) > 0 OR instr(lower(target), lower(?1)) > 0
                OR instr(lower(coalesce(last_error, '')), lower(?1)) > 0",
            [needle],
            |row| rows::outbox_text(row),
        )
    }

    fn rewrite_message(&mut self, m: &MessageRewrite<'_>) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE outbox SET payload = ?2, target = ?3,
                        last_error = CASE
                            WHEN ?4 IS NOT NULL THEN 'the customer''s contact data was erased'
                            WHEN instr(lower(last_error), lower(?5)) > 0 THEN '(erased)'
                            ELSE last_error END,
                        failed_at = coalesce(failed_at, ?4)
                 WHERE id = ?1",
            )?
            .execute(params![m.id, m.payload, m.target, m.cancel, m.forget])?;
        Ok(())
    }

    fn record_erasure(
        &mut self,
        reason: &str,
        erased: i64,
        by: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO erasures (at, reason, erased, by_whom) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![now, reason, erased, by])?;
        Ok(())
    }

    fn prune_messages(&mut self, before: i64) -> Result<usize, StoreError> {
        Ok(self
            .conn
            .prepare_cached("DELETE FROM outbox WHERE delivered_at < ?1 OR failed_at < ?1")?
            .execute([before])?)
    }

    fn export_rows(
        &mut self,
        sites: Option<&[i64]>,
        (from, to): (i64, i64),
        after: Option<(i64, &str)>,
        limit: i64,
    ) -> Result<Vec<ExportRow>, StoreError> {
        let (after_at, after_id) = after.unwrap_or((i64::MIN, ""));
        self.all(
            &format!(
                "{EXPORT_SELECT}
             WHERE r.created_at >= ?1 AND r.created_at < ?2
               AND (?3 IS NULL OR r.site_id IN (SELECT value FROM json_each(?3)))
               AND (r.created_at > ?4 OR (r.created_at = ?4 AND r.id > ?5))
             ORDER BY r.created_at, r.id LIMIT ?6"
            ),
            params![from, to, json_ids(sites), after_at, after_id, limit],
            |row| rows::export_row(row),
        )
    }

    fn causes_found(
        &mut self,
        sites: Option<&[i64]>,
        from: i64,
        to: i64,
    ) -> Result<Vec<(String, i64, Option<String>)>, StoreError> {
        self.all(
            "SELECT st.cause, st.case_id, p.action FROM case_steps st
             JOIN cases c ON c.id = st.case_id
             LEFT JOIN preventions p ON p.id = st.prevention_id
             WHERE st.step = 'cause_found' AND st.cause IS NOT NULL
               AND c.opened_at >= ?1 AND c.opened_at < ?2
               AND (?3 IS NULL OR c.site_id IN (SELECT value FROM json_each(?3)))
             ORDER BY st.id",
            params![from, to, json_ids(sites)],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
    }

    fn set_alert_events(&mut self, user_id: i64, events: &[Event]) -> Result<(), StoreError> {
        let names: Vec<String> = events.iter().map(|e| e.as_str().to_owned()).collect();
        self.conn
            .prepare_cached("UPDATE users SET alert_events = ?2 WHERE id = ?1")?
            .execute(params![user_id, json_list(&names)])?;
        Ok(())
    }

    fn assign_case(&mut self, case_id: i64, user_id: Option<i64>) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE cases SET assignee_id = ?2 WHERE id = ?1")?
            .execute(params![case_id, user_id])?;
        Ok(())
    }

    fn sites(&mut self) -> Result<Vec<Site>, StoreError> {
        let ids: Vec<i64> = self.all("SELECT id FROM sites ORDER BY name, id", [], |row| {
            Ok(row.get(0)?)
        })?;
        let mut sites = Vec::with_capacity(ids.len());
        for id in ids {
            sites.extend(self.site_by_id(id)?);
        }
        Ok(sites)
    }

    fn preventions(&mut self, site_id: i64) -> Result<Vec<Prevention>, StoreError> {
        self.all(
            "SELECT id, cause, action FROM preventions WHERE site_id = ?1 ORDER BY id DESC",
            [site_id],
            |row| {
                Ok(Prevention {
                    id: row.get(0)?,
                    cause: row.get(1)?,
                    action: row.get(2)?,
                })
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::sync_channel;

    type Reply = mpsc::Receiver<Result<i64, StoreError>>;

    fn insert(engine: &Sqlite, name: &str, then: fn(i64) -> Result<i64, StoreError>) -> Reply {
        let (reply, answer) = sync_channel(1);
        let settings = SiteSettings {
            name: name.to_owned(),
            origins: vec![],
            scale: Scale::Stars5,
            ack_within: Duration::from_secs(60),
            close_within: Duration::from_secs(60),
            reasons: vec![],
            causes: vec![],
            require_token: false,
            apology: String::new(),
            owner: String::new(),
            review_url: None,
            timezone: "UTC".into(),
            hours: None,
            words: Default::default(),
            accent: None,
        };
        let key = format!("s_{name}");
        engine.submit(job(
            move |tx| then(tx.insert_site(&settings, &key, "secret", 0)?),
            move |result| {
                let _ = reply.send(result);
            },
        ));
        answer
    }

    #[test]
    fn a_database_from_before_the_migration_files_is_brought_up_to_date_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nearmiss.db");
        {
            // What the server wrote before: three migrations, counted in user_version.
            let conn = Connection::open(&path).unwrap();
            for (_, sql) in &MIGRATIONS[..3] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", 3).unwrap();
            conn.execute_batch(
                "INSERT INTO sites (id, key, name, scale, ack_within_secs, close_within_secs,
                     reasons, apology, owner, secret, created_at)
                 VALUES (1, 's_old', 'Old', 5, 900, 172800, '[]', '', '', 'secret', 0);
                 INSERT INTO ratings (id, site_id, score, perfect, content, created_at)
                 VALUES ('r1', 1, 2, 0, '{}', 0);
                 INSERT INTO cases (id, ref, site_id, rating_id, opened_at, ack_due_at, close_due_at,
                                    rerate_token)
                 VALUES (1, 'NM-OLD1', 1, 'r1', 0, 900000, 172800000, 'mailed-token');",
            )
            .unwrap();
        }
        let hashed = crate::tokens::hash("mailed-token");
        for _ in 0..2 {
            drop(Sqlite::open(&path).unwrap());
            let conn = Connection::open(&path).unwrap();
            let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
            let applied = count("SELECT count(*) FROM schema_migrations");
            let overdue_from = count("SELECT overdue_from FROM cases WHERE id = 1");
            assert_eq!(applied, MIGRATIONS.len() as i64);
            assert_eq!(
                overdue_from, 900_000,
                "the acknowledge deadline comes first"
            );
            let (token, until): (String, i64) = conn
                .query_row(
                    "SELECT rerate_token, rerate_until FROM cases WHERE id = 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            assert_eq!(token, hashed, "the mailed token is hashed, once");
            assert!(
                until > crate::time::Clock::system().now(),
                "and still works"
            );
        }
    }

    #[test]
    fn cases_an_older_server_writes_after_the_upgrade_get_their_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nearmiss.db");
        let engine = Sqlite::open(&path).unwrap();
        // An older `nearmiss serve`, still running, knows nothing of `overdue_from`.
        Connection::open(&path)
            .unwrap()
            .execute_batch(
                "INSERT INTO sites (id, key, name, scale, ack_within_secs, close_within_secs,
                     reasons, apology, owner, secret, created_at)
                 VALUES (1, 's_old', 'Old', 5, 900, 172800, '[]', '', '', 'secret', 0);
                 INSERT INTO ratings (id, site_id, score, perfect, content, created_at)
                 VALUES ('r1', 1, 2, 0, '{}', 0);
                 INSERT INTO cases (id, ref, site_id, rating_id, opened_at, ack_due_at,
                                    close_due_at, acknowledged_at)
                 VALUES (1, 'NM-OLD1', 1, 'r1', 0, 900000, 172800000, 60000);",
            )
            .unwrap();
        let (reply, repaired) = sync_channel(1);
        engine.submit(job(crate::cases::repair_overdue_from, move |r| {
            let _ = reply.send(r);
        }));
        assert_eq!(repaired.recv().unwrap().unwrap(), 1);
        let overdue_from: i64 = Connection::open(&path)
            .unwrap()
            .query_row("SELECT overdue_from FROM cases WHERE id = 1", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(
            overdue_from, 172_800_000,
            "acknowledged: the close deadline"
        );
    }

    #[test]
    fn reads_do_not_wait_behind_a_write() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Sqlite::open(&dir.path().join("nearmiss.db")).unwrap();
        let kept = insert(&engine, "kept", Ok);
        assert!(kept.recv().unwrap().is_ok());
        // A write that holds the write transaction open for a long while.
        let (reply, written) = sync_channel(1);
        engine.submit(job(
            |tx| {
                tx.revoke_site(1, 0)?;
                std::thread::sleep(Duration::from_millis(800));
                Ok::<_, StoreError>(())
            },
            move |r| {
                let _ = reply.send(r);
            },
        ));
        std::thread::sleep(Duration::from_millis(100));
        let site = engine.read(|tx| tx.site_by_key("s_kept", 0)).unwrap();
        assert!(
            matches!(written.try_recv(), Err(mpsc::TryRecvError::Empty)),
            "the read finished while the write was still under way"
        );
        assert!(
            site.is_some(),
            "the read sees the last commit, not the write under way"
        );
        written.recv().unwrap().unwrap();
        assert!(engine
            .read(|tx| tx.site_by_key("s_kept", 0))
            .unwrap()
            .is_none());
    }
}

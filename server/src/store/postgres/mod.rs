//! The PostgreSQL engine, for several `nearmiss serve` processes sharing one database.
//!
//! Writes are committed in batches, as SQLite's are: a few writer threads, each on a
//! connection of its own, take whatever writes are waiting, run each in its own savepoint
//! of one transaction and commit once. Each statement is a round trip, and on a small
//! machine the round trips (the context switches on both sides) cost more than the work:
//! a rating stored alone took five of them, in a batch it takes two. Every read runs on a
//! pooled connection without a transaction.
//!
//! A write locks the rows it reads to change them (`FOR UPDATE`), and claims of shared
//! work (alert messages, passed deadlines) skip rows another process holds (`SKIP
//! LOCKED`), so N processes do each piece of work once.
//!
//! Changes that another process should hear about (a new alert message, a changed case)
//! are announced with `NOTIFY`, and each process listens on its own connection. Not from
//! the writing transactions: a transaction that notifies takes a lock that serialises
//! every such commit. A thread sends at most one announcement of each kind every
//! `ANNOUNCE_GAP`, after the commits it tells of.

mod tx;

use super::*;
use ::postgres::fallible_iterator::FallibleIterator;
use ::postgres::{Client, Config, NoTls, Statement};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};

/// The schema, applied in order and recorded in `schema_migrations`, numbered as the
/// SQLite engine's. Never edit one that was released: add the next.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_ratings_and_cases.sql",
        include_str!("../../../migrations/postgres/0001_ratings_and_cases.sql"),
    ),
    (
        "0002_steps_tokens_alerts.sql",
        include_str!("../../../migrations/postgres/0002_steps_tokens_alerts.sql"),
    ),
    (
        "0003_signed_interactions_and_keys.sql",
        include_str!("../../../migrations/postgres/0003_signed_interactions_and_keys.sql"),
    ),
    (
        "0004_overdue_from.sql",
        include_str!("../../../migrations/postgres/0004_overdue_from.sql"),
    ),
    (
        "0005_people_and_sessions.sql",
        include_str!("../../../migrations/postgres/0005_people_and_sessions.sql"),
    ),
    (
        "0006_erasures.sql",
        include_str!("../../../migrations/postgres/0006_erasures.sql"),
    ),
    (
        "0007_token_scopes.sql",
        include_str!("../../../migrations/postgres/0007_token_scopes.sql"),
    ),
    (
        "0008_secret_rotation.sql",
        include_str!("../../../migrations/postgres/0008_secret_rotation.sql"),
    ),
    (
        "0009_rerate_links.sql",
        include_str!("../../../migrations/postgres/0009_rerate_links.sql"),
    ),
    (
        "0010_refused_origins.sql",
        include_str!("../../../migrations/postgres/0010_refused_origins.sql"),
    ),
    (
        "0011_outbox_lanes.sql",
        include_str!("../../../migrations/postgres/0011_outbox_lanes.sql"),
    ),
    (
        "0012_opening_hours.sql",
        include_str!("../../../migrations/postgres/0012_opening_hours.sql"),
    ),
    (
        "0013_own_words.sql",
        include_str!("../../../migrations/postgres/0013_own_words.sql"),
    ),
    (
        "0014_accent.sql",
        include_str!("../../../migrations/postgres/0014_accent.sql"),
    ),
    (
        "0015_edit_secrets_and_customer_messages.sql",
        include_str!("../../../migrations/postgres/0015_edit_secrets_and_customer_messages.sql"),
    ),
];

/// The advisory lock held while migrating: of several servers starting together, one
/// migrates and the others wait, then find it done. ("nearmiss" in ASCII.)
const MIGRATION_LOCK: i64 = 0x6e65_6172_6d69_7373;

/// Connections one process opens at most for reads; a read waits for a free one.
const MAX_CONNECTIONS: usize = 32;

/// Writer threads, each with a connection of its own: while one waits for its commit to
/// reach the disk, the others run their batches.
pub(super) const WRITERS: usize = 4;

/// Most writes committed together. Each runs in a savepoint, and PostgreSQL keeps up to
/// 64 subtransactions of a transaction in shared memory; past that every snapshot that
/// sees the transaction gets slower.
const MAX_BATCH: usize = 32;

/// The channels changes are announced on.
pub(super) const CHANNEL_OUTBOX: &str = "nearmiss_outbox";
pub(super) const CHANNEL_CASES: &str = "nearmiss_cases";

/// A connection with its prepared statements: preparing costs a round trip, so each
/// statement is prepared once per connection.
struct Connection {
    client: Client,
    statements: HashMap<String, Statement>,
}

#[derive(Default)]
struct Pool {
    idle: Vec<Connection>,
    /// Open connections, idle or lent.
    open: usize,
}

pub(super) struct Postgres {
    config: Config,
    pool: Mutex<Pool>,
    returned: Condvar,
    announcements: Arc<Announcements>,
    writes: Arc<Queue>,
}

/// Writes waiting for a writer thread.
#[derive(Default)]
struct Queue {
    /// The writes, and whether the engine is gone.
    waiting: Mutex<(VecDeque<Job>, bool)>,
    arrived: Condvar,
}

impl Queue {
    fn push(&self, job: Job) {
        self.waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .0
            .push_back(job);
        self.arrived.notify_one();
    }

    /// Puts writes a failed batch did not run first in line again.
    fn put_back(&self, jobs: impl DoubleEndedIterator<Item = Job>) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        for job in jobs.rev() {
            waiting.0.push_front(job);
        }
        drop(waiting);
        self.arrived.notify_all();
    }

    fn stop(&self) {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner()).1 = true;
        self.arrived.notify_all();
    }

    /// The next batch: waits for a first write, then takes up to `MAX_BATCH`. `None`
    /// once the engine is gone and nothing waits.
    fn next(&self) -> Option<Vec<Job>> {
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if !waiting.0.is_empty() {
                let take = waiting.0.len().min(MAX_BATCH);
                let batch: Vec<Job> = waiting.0.drain(..take).collect();
                if !waiting.0.is_empty() {
                    // More than one batch waits: another writer can start on it.
                    self.arrived.notify_one();
                }
                return Some(batch);
            }
            if waiting.1 {
                return None;
            }
            waiting = self
                .arrived
                .wait(waiting)
                .unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// Commits may be announced this long after they happen; announcing more often would
/// cost a commit each (see the module's comment).
const ANNOUNCE_GAP: std::time::Duration = std::time::Duration::from_millis(20);

/// What a committed write changed that other processes act on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Changed {
    /// Alert messages were queued or queued again.
    pub(super) outbox: bool,
    /// A case was opened or changed, or a step recorded.
    pub(super) cases: bool,
}

impl Changed {
    fn add(&mut self, other: Changed) {
        self.outbox |= other.outbox;
        self.cases |= other.cases;
    }
}

/// Changes committed and not yet announced, for the announcing thread.
#[derive(Default)]
struct Announcements {
    pending: Mutex<(Changed, bool)>,
    noted: Condvar,
}

impl Announcements {
    fn note(&self, changed: Changed) {
        if changed == Changed::default() {
            return;
        }
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending.0.add(changed);
        self.noted.notify_one();
    }

    fn stop(&self) {
        self.pending.lock().unwrap_or_else(|p| p.into_inner()).1 = true;
        self.noted.notify_one();
    }

    /// The next changes to announce; `None` once stopped.
    fn next(&self) -> Option<Changed> {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if pending.1 {
                return None;
            }
            if pending.0 != Changed::default() {
                return Some(std::mem::take(&mut pending.0));
            }
            pending = self.noted.wait(pending).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// The announcing thread: one `pg_notify` per kind of change, then a pause.
fn announce(config: Config, announcements: Arc<Announcements>) {
    let mut client: Option<Client> = None;
    while let Some(changed) = announcements.next() {
        let channels = [
            (changed.outbox, CHANNEL_OUTBOX),
            (changed.cases, CHANNEL_CASES),
        ];
        for (_, channel) in channels.iter().filter(|(yes, _)| *yes) {
            let sent = match client.as_mut() {
                Some(client) => client.execute("SELECT pg_notify($1, '')", &[channel]),
                None => match config.connect(NoTls) {
                    Ok(mut new) => {
                        let sent = new.execute("SELECT pg_notify($1, '')", &[channel]);
                        client = Some(new);
                        sent
                    }
                    Err(err) => Err(err),
                },
            };
            if let Err(err) = sent {
                // The other processes still look every second.
                tracing::warn!(error = %err, "announcing a change failed");
                client = None;
            }
        }
        std::thread::sleep(ANNOUNCE_GAP);
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.announcements.stop();
        self.writes.stop();
    }
}

impl Postgres {
    /// Connects to `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB`) and brings the
    /// schema up to date.
    pub(super) fn open(url: &str) -> Result<Postgres, StoreError> {
        let config: Config = url.parse().map_err(|err| {
            StoreError::Unsupported(format!("{url:?} is not a PostgreSQL URL: {err}"))
        })?;
        let announcements = Arc::new(Announcements::default());
        let (for_thread, announced) = (config.clone(), announcements.clone());
        std::thread::Builder::new()
            .name("nearmiss-db-announce".into())
            .spawn(move || announce(for_thread, announced))
            .map_err(|err| StoreError::Task(format!("starting the announcer: {err}")))?;
        let writes = Arc::new(Queue::default());
        for n in 0..WRITERS {
            let (config, writes, announced) =
                (config.clone(), writes.clone(), announcements.clone());
            std::thread::Builder::new()
                .name(format!("nearmiss-db-writer-{n}"))
                .spawn(move || write_batches(&config, &writes, &announced))
                .map_err(|err| StoreError::Task(format!("starting a writer: {err}")))?;
        }
        let engine = Postgres {
            config,
            pool: Mutex::new(Pool::default()),
            returned: Condvar::new(),
            announcements,
            writes,
        };
        let mut conn = connect(&engine.config)?;
        migrate(&mut conn.client)?;
        engine.give_back(conn);
        Ok(engine)
    }

    /// Queues `job` for the writer threads.
    pub(super) fn submit(&self, job: Job) {
        self.writes.push(job);
    }

    /// An idle connection, a new one while fewer than `MAX_CONNECTIONS` are open, or
    /// the next one given back.
    fn take(&self) -> Result<Connection, StoreError> {
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(conn) = pool.idle.pop() {
                if !conn.client.is_closed() {
                    return Ok(conn);
                }
                pool.open -= 1;
                continue;
            }
            if pool.open < MAX_CONNECTIONS {
                pool.open += 1;
                drop(pool);
                let conn = connect(&self.config);
                if conn.is_err() {
                    self.pool.lock().unwrap_or_else(|p| p.into_inner()).open -= 1;
                    self.returned.notify_one();
                }
                return conn;
            }
            pool = self.returned.wait(pool).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn give_back(&self, conn: Connection) {
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        if conn.client.is_closed() {
            pool.open -= 1;
        } else {
            pool.idle.push(conn);
        }
        drop(pool);
        self.returned.notify_one();
    }

    /// Removes the old versions of rows an erasure changed (they keep the erased data
    /// until vacuumed); `true` when done. PostgreSQL recycles its own WAL.
    pub(super) fn vacuum_erased(&self) -> Result<bool, StoreError> {
        let mut conn = self.take()?;
        let done = conn.client.batch_execute("VACUUM details, outbox");
        self.give_back(conn);
        done?;
        Ok(true)
    }

    /// Runs `work` on a pooled connection, without a transaction: under `READ
    /// COMMITTED` each statement reads its own snapshot either way, so a read would gain
    /// nothing from `BEGIN` and `COMMIT` but two round trips.
    pub(super) fn read<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&mut dyn Tx) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.take().map_err(E::from)?;
        let result = work(&mut PostgresTx::on(&mut conn, false));
        self.give_back(conn);
        result
    }

    /// Calls `heard` with each channel a committed transaction announced a change on
    /// (from any process), from a thread of its own that listens on its own connection
    /// and reconnects, until `stop` is set.
    pub(super) fn listen(
        &self,
        stop: Arc<AtomicBool>,
        heard: impl Fn(&str) + Send + 'static,
    ) -> Result<(), StoreError> {
        let config = self.config.clone();
        std::thread::Builder::new()
            .name("nearmiss-db-listen".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Err(err) = listen_until(&config, &stop, &heard) {
                        tracing::warn!(error = %err, "listening for changes failed; reconnecting");
                        std::thread::sleep(LISTEN_CHECK);
                    }
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    // Whatever was announced while not listening was missed.
                    heard(CHANNEL_OUTBOX);
                    heard(CHANNEL_CASES);
                }
            })
            .map_err(|err| StoreError::Task(format!("starting the listener: {err}")))?;
        Ok(())
    }
}

/// How often the listener looks whether it should stop.
const LISTEN_CHECK: std::time::Duration = std::time::Duration::from_millis(250);

fn listen_until(
    config: &Config,
    stop: &AtomicBool,
    heard: &impl Fn(&str),
) -> Result<(), StoreError> {
    let mut client = config.connect(NoTls)?;
    client.batch_execute(&format!("LISTEN {CHANNEL_OUTBOX}; LISTEN {CHANNEL_CASES}"))?;
    while !stop.load(Ordering::Relaxed) {
        let mut notifications = client.notifications();
        let mut waiting = notifications.timeout_iter(LISTEN_CHECK);
        while let Some(note) = waiting.next()? {
            heard(note.channel());
        }
    }
    Ok(())
}

fn connect(config: &Config) -> Result<Connection, StoreError> {
    Ok(Connection {
        client: config.connect(NoTls)?,
        statements: HashMap::new(),
    })
}

/// A writer thread: commits batches until the engine is gone. It connects when it first
/// has work, and again after its connection broke.
fn write_batches(config: &Config, writes: &Queue, announcements: &Announcements) {
    let mut conn: Option<Connection> = None;
    while let Some(batch) = writes.next() {
        if conn.as_ref().is_none_or(|c| c.client.is_closed()) {
            match connect(config) {
                Ok(new) => conn = Some(new),
                Err(err) => {
                    // Dropping the writes drops their replies: each caller hears of it.
                    tracing::error!(error = %err, writes = batch.len(), "could not connect to write");
                    conn = None;
                    continue;
                }
            }
        }
        if let Some(open) = conn.as_mut() {
            match commit_batch(open, batch, writes) {
                Some(changed) => announcements.note(changed),
                // The next batch starts on a fresh connection.
                None => conn = None,
            }
        }
    }
}

/// Runs the batch's writes in one transaction, each in its own savepoint so that its
/// failure (or panic) undoes only its own changes, and commits once. Answers every write
/// after the commit; what the batch changed, if it was committed. Writes a broken
/// connection kept from running go back in line, for a writer with a fresh one.
fn commit_batch(conn: &mut Connection, batch: Vec<Job>, writes: &Queue) -> Option<Changed> {
    if let Err(err) = conn.client.batch_execute("BEGIN; SAVEPOINT job") {
        // Dropping the writes drops their replies: each caller hears of it.
        tracing::error!(error = %err, writes = batch.len(), "could not start a write transaction");
        abandon(conn);
        return None;
    }
    let mut finished: Vec<Done> = Vec::with_capacity(batch.len());
    let mut changed = Changed::default();
    // Whether the savepoint `job` has nothing after it (it stays after a rollback to it).
    let mut clean = true;
    let mut jobs = batch.into_iter();
    while let Some(job) = jobs.next() {
        if !clean {
            if let Err(err) = conn.client.batch_execute("RELEASE job; SAVEPOINT job") {
                fail(conn, finished, &err.to_string());
                writes.put_back(std::iter::once(job).chain(jobs));
                return None;
            }
        }
        let mut tx = PostgresTx::on(conn, true);
        let (succeeded, done) = run_job(job, &mut tx);
        let job_changed = tx.changed;
        finished.extend(done);
        if succeeded {
            changed.add(job_changed);
            clean = false;
        } else if let Err(err) = conn.client.batch_execute("ROLLBACK TO job") {
            fail(conn, finished, &err.to_string());
            writes.put_back(jobs);
            return None;
        } else {
            clean = true;
        }
    }
    match conn.client.batch_execute("COMMIT") {
        Ok(()) => {
            finished.into_iter().for_each(|done| done(Ok(())));
            Some(changed)
        }
        Err(err) => {
            let why = err.to_string();
            tracing::error!(error = %why, "commit failed");
            abandon(conn);
            finished.into_iter().for_each(|done| done(Err(&why)));
            None
        }
    }
}

/// Ends a batch that cannot go on: its writes so far are undone, and their callers told.
fn fail(conn: &mut Connection, finished: Vec<Done>, why: &str) {
    tracing::error!(error = %why, writes = finished.len(), "a write transaction failed");
    abandon(conn);
    finished.into_iter().for_each(|done| done(Err(why)));
}

/// Rolls back whatever transaction is open, if the connection still answers.
fn abandon(conn: &mut Connection) {
    if !conn.client.is_closed() {
        let _ = conn.client.batch_execute("ROLLBACK");
    }
}

fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let mut tx = client.transaction()?;
    // Held until this transaction ends: a second server starting now waits here, then
    // finds every migration applied. Taken before `schema_migrations` is created: two
    // `CREATE TABLE IF NOT EXISTS` at once can both try, and one fails.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    BIGINT PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at BIGINT NOT NULL
         )",
    )?;
    let now = crate::time::Clock::system().now();
    for (version, (name, sql)) in MIGRATIONS.iter().enumerate() {
        let version = version as i64 + 1;
        let applied = tx
            .query_opt(
                "SELECT 1 FROM schema_migrations WHERE version = $1",
                &[&version],
            )?
            .is_some();
        if applied {
            continue;
        }
        tx.batch_execute(sql)
            .map_err(|source| StoreError::Migration {
                name,
                source: Box::new(source),
            })?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            &[&version, name, &now],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// One read or write on a PostgreSQL connection.
pub(super) struct PostgresTx<'c> {
    client: &'c mut Client,
    statements: &'c mut HashMap<String, Statement>,
    /// A write: rows read to be changed are locked until the commit.
    writing: bool,
    /// What this transaction changed, announced after its commit.
    changed: Changed,
}

type Params<'p> = [&'p (dyn ::postgres::types::ToSql + Sync)];

impl<'c> PostgresTx<'c> {
    /// A read (`writing` false) or a batch's write on `conn`.
    fn on(conn: &'c mut Connection, writing: bool) -> PostgresTx<'c> {
        PostgresTx {
            client: &mut conn.client,
            statements: &mut conn.statements,
            writing,
            changed: Changed::default(),
        }
    }

    /// `sql` prepared on this connection, once.
    fn statement(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    /// Every row `sql` returns.
    fn rows(&mut self, sql: &str, params: &Params<'_>) -> Result<Vec<::postgres::Row>, StoreError> {
        let statement = self.statement(sql)?;
        Ok(self.client.query(&statement, params)?)
    }

    /// The row `sql` returns, if any (an error if more than one).
    fn row(
        &mut self,
        sql: &str,
        params: &Params<'_>,
    ) -> Result<Option<::postgres::Row>, StoreError> {
        let statement = self.statement(sql)?;
        Ok(self.client.query_opt(&statement, params)?)
    }

    /// Runs `sql`; how many rows it changed.
    fn exec(&mut self, sql: &str, params: &Params<'_>) -> Result<u64, StoreError> {
        let statement = self.statement(sql)?;
        Ok(self.client.execute(&statement, params)?)
    }
}

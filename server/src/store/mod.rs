//! Storage: the records the product keeps, and the interface the product's modules use
//! to read and write them ([`Tx`]), so that they never see an engine's connection.
//!
//! Two engines:
//! - SQLite ([`sqlite`]), the default: one file in WAL mode with `synchronous=FULL`.
//!   Reads run on their own connections beside the writer; every write goes through one
//!   writer thread that commits whatever arrived together in one transaction (group
//!   commit), and answers each caller only after that commit is on disk.
//! - PostgreSQL ([`postgres`]), for several servers sharing one database: a few writer
//!   threads, each on its own connection, commit writes in batches the same way (a
//!   round trip costs more than a statement there); reads run on pooled connections
//!   without a transaction.

mod memory;
mod postgres;
mod rows;
mod sqlite;

use memory::Recent;
pub use memory::MEMORY_MS;

use crate::states::{EndpointKind, Event, MessageKind, Role, Status, Step, Topic};
use crate::time::Timestamp;
use nearmiss_core::Scale;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// A storage failure. Never shown to clients; logged with its chain.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused or failed.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL refused or failed (or could not be reached).
    #[error(transparent)]
    Postgres(#[from] ::postgres::Error),
    /// The transaction this write was part of could not be committed.
    #[error("commit failed: {0}")]
    Commit(String),
    /// A schema migration failed.
    #[error("migration {name} failed")]
    Migration {
        /// The migration's file name.
        name: &'static str,
        /// Why.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The database URL names no engine this build has.
    #[error("{0}")]
    Unsupported(String),
    /// The writer or a blocking task is gone (the process is shutting down, or it panicked).
    #[error("database task failed: {0}")]
    Task(String),
    /// A stored value this build cannot read (a name it does not know).
    #[error("unreadable stored data: {0}")]
    Corrupt(String),
}

/// The database URL `url` fit for logs and errors: a password in it is hidden.
pub fn shown(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    match rest[..authority_end].rsplit_once('@') {
        Some((user_info, host)) if user_info.contains(':') => {
            let user = user_info.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}{}", &rest[authority_end..])
        }
        _ => url.to_owned(),
    }
}

/// The database server `url` (`postgres://USER@HOST:PORT/DB?…`) with the database `name`
/// in place of its own; the query string is kept. For tools and tests that make a
/// database of their own on a server they were given.
pub fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, format!("?{query}")),
        None => (rest, String::new()),
    };
    let authority = rest
        .split_once('/')
        .map_or(rest, |(authority, _)| authority);
    format!("{scheme}://{authority}/{name}{query}")
}

/// The database: cheap to clone, all clones share the engine.
#[derive(Clone)]
pub struct Store {
    engine: Engine,
    sites: Arc<Recent<Site>>,
    origins: Arc<Recent<()>>,
}

impl Store {
    /// Opens the database `url` (a file path or `sqlite://PATH`, created if needed, or
    /// `postgres://USER@HOST/DB`) and brings its schema up to date.
    pub fn open(url: &str) -> Result<Store, StoreError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            return Store::open_sqlite(std::path::Path::new(path));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Store::with(Engine::Postgres(Arc::new(
                postgres::Postgres::open(url)?,
            ))));
        }
        Store::open_sqlite(std::path::Path::new(url))
    }

    /// Opens (creating if needed) the SQLite file at `path`.
    pub fn open_sqlite(path: &std::path::Path) -> Result<Store, StoreError> {
        Ok(Store::with(Engine::Sqlite(Arc::new(sqlite::Sqlite::open(
            path,
        )?))))
    }

    fn with(engine: Engine) -> Store {
        Store {
            engine,
            sites: Arc::default(),
            origins: Arc::default(),
        }
    }

    /// Calls `outbox` when a process sharing the database (this one too) committed new
    /// alert messages, and `cases` when one changed a case, until the answer is dropped.
    /// Nothing for SQLite, which one process owns.
    pub fn listen(
        &self,
        outbox: impl Fn() + Send + 'static,
        cases: impl Fn() + Send + 'static,
    ) -> Result<Listening, StoreError> {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        if let Engine::Postgres(engine) = &self.engine {
            engine.listen(stop.clone(), move |channel| {
                if channel == postgres::CHANNEL_OUTBOX {
                    outbox()
                } else {
                    cases()
                }
            })?;
        }
        Ok(Listening(stop))
    }

    /// The active site with this key, as [`Tx::site_by_key`] answers, remembered for
    /// [`MEMORY_MS`].
    pub async fn site_by_key(&self, key: &str, now: i64) -> Result<Option<Site>, StoreError> {
        if let Some(site) = self.sites.get(key, now) {
            return Ok(Some(site));
        }
        let lookup = key.to_owned();
        let site = self.read(move |tx| tx.site_by_key(&lookup, now)).await?;
        if let Some(site) = &site {
            self.sites.put(key, site.clone(), now);
        }
        Ok(site)
    }

    /// Whether any site allows `origin`, as [`Tx::origin_is_known`] answers; a known
    /// origin is remembered for [`MEMORY_MS`].
    pub async fn origin_is_known(&self, origin: &str, now: i64) -> Result<bool, StoreError> {
        if self.origins.get(origin, now).is_some() {
            return Ok(true);
        }
        let lookup = origin.to_owned();
        let known = self.read(move |tx| tx.origin_is_known(&lookup)).await?;
        if known {
            self.origins.put(origin, (), now);
        }
        Ok(known)
    }

    /// After an erasure, leaves no copy of the erased bytes behind: SQLite copies its
    /// whole write-ahead log into the database and empties it (`false` when open reads
    /// kept it from finishing); PostgreSQL vacuums the old row versions.
    pub fn checkpoint_fully(&self) -> Result<bool, StoreError> {
        match &self.engine {
            Engine::Sqlite(engine) => engine.checkpoint_fully(),
            Engine::Postgres(engine) => engine.vacuum_erased(),
        }
    }

    /// Forgets remembered sites and origins: call after changing a site.
    pub fn forget_sites(&self) {
        self.sites.clear();
        self.origins.clear();
    }

    /// Runs `work` in a read transaction on a reader connection, off the async workers.
    /// Reads never wait behind writes.
    pub async fn read<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        let engine = self.engine.clone();
        tokio::task::spawn_blocking(move || match engine {
            Engine::Sqlite(engine) => engine.read(work),
            Engine::Postgres(engine) => engine.read(work),
        })
        .await
        .map_err(|err| E::from(StoreError::Task(err.to_string())))?
    }

    /// Runs `work` in the writer's next transaction. Its changes are committed together
    /// with whatever else arrived meanwhile; an `Err` from `work` undoes its own changes
    /// only. Answers after the commit is on disk.
    pub async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.engine.submit(job(work, move |result| {
            let _ = reply.send(result);
        }));
        answer
            .await
            .map_err(|_| E::from(StoreError::Task("the database writer stopped".into())))?
    }

    /// [`Store::read`] in the current thread (command-line tools, tests).
    pub fn read_now<T, E>(&self, work: impl FnOnce(&mut dyn Tx) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        match &self.engine {
            Engine::Sqlite(engine) => engine.read(work),
            Engine::Postgres(engine) => engine.read(work),
        }
    }

    /// [`Store::write`] from the current thread, waiting for the commit (command-line
    /// tools, tests, the delivery worker's blocking sends). Not from async code.
    pub fn write_now<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        self.engine.submit(job(work, move |result| {
            let _ = reply.send(result);
        }));
        answer
            .recv()
            .map_err(|_| E::from(StoreError::Task("the database writer stopped".into())))?
    }
}

/// Called with the outcome of the commit a write was part of.
type Done = Box<dyn FnOnce(Result<(), &str>) + Send>;

/// A write as the engines' writers take it: runs in a batch's transaction, says whether
/// it succeeded (else its savepoint is rolled back) and what to do after the commit.
type Job = Box<dyn FnOnce(&mut dyn Tx) -> (bool, Done) + Send>;

/// Runs `job` in `tx`, a panic counted as a failure: whether it succeeded (else the
/// engine undoes its changes), and what to call after the commit. `None` after a panic:
/// the reply went with it, so its caller hears that the write failed.
fn run_job(job: Job, tx: &mut dyn Tx) -> (bool, Option<Done>) {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(tx))) {
        Ok((ok, done)) => (ok, Some(done)),
        Err(_) => {
            tracing::error!("a database write panicked; its changes were undone");
            (false, None)
        }
    }
}

/// `work` as a [`Job`] whose caller hears through `reply`: its own result once the
/// commit succeeded, the commit's failure otherwise.
fn job<T, E, F>(work: F, reply: impl FnOnce(Result<T, E>) + Send + 'static) -> Job
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
    F: FnOnce(&mut dyn Tx) -> Result<T, E> + Send + 'static,
{
    Box::new(move |tx| {
        let result = work(tx);
        let ok = result.is_ok();
        let done: Done = Box::new(move |commit| {
            reply(match commit {
                Ok(()) => result,
                Err(why) => Err(E::from(StoreError::Commit(why.to_owned()))),
            })
        });
        (ok, done)
    })
}

/// Listening for changes announced by other processes ([`Store::listen`]); stops when
/// dropped.
pub struct Listening(Arc<std::sync::atomic::AtomicBool>);

impl Drop for Listening {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

#[derive(Clone)]
enum Engine {
    Sqlite(Arc<sqlite::Sqlite>),
    Postgres(Arc<postgres::Postgres>),
}

impl Engine {
    /// Queues `job` for the engine's writers.
    fn submit(&self, job: Job) {
        match self {
            Engine::Sqlite(engine) => engine.submit(job),
            Engine::Postgres(engine) => engine.submit(job),
        }
    }
}

/// A list of names as the JSON text both engines store (reasons, causes, alert events).
fn json_list(values: &[String]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".into())
}

/// A list stored by [`json_list`]; empty when unreadable.
fn read_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

/// A duration stored in whole seconds.
fn secs(value: i64) -> Duration {
    Duration::from_secs(value.max(0) as u64)
}

/// Everything the product reads and writes, inside one transaction. Implemented by each
/// engine; the product's modules hold a `&mut dyn Tx` and never an engine's connection.
pub trait Tx {
    /// Answers when the database does.
    fn ping(&mut self) -> Result<(), StoreError>;

    // Sites.
    /// Adds a site with its origins; returns its id.
    fn insert_site(
        &mut self,
        settings: &SiteSettings,
        key: &str,
        secret: &str,
        now: i64,
    ) -> Result<i64, StoreError>;
    /// Whether any rating was received for the site.
    fn site_has_ratings(&mut self, site_id: i64) -> Result<bool, StoreError>;
    /// Replaces a site's settings and origins (its keys and secret stay).
    fn update_site(&mut self, site_id: i64, settings: &SiteSettings) -> Result<(), StoreError>;
    /// The active site with this key: its current key, or a rotated-out key whose grace
    /// has not ended at `now`; never a revoked site.
    fn site_by_key(&mut self, key: &str, now: i64) -> Result<Option<Site>, StoreError>;
    /// The site with this id, revoked or not.
    fn site_by_id(&mut self, id: i64) -> Result<Option<Site>, StoreError>;
    /// The id of the site that has or had this key, revoked or not.
    fn site_id_by_any_key(&mut self, key: &str) -> Result<Option<i64>, StoreError>;
    /// Makes `new_key` the site's key; older keys work until `old_valid_until`; a revoked
    /// site is active again, with its new key only (revoked keys stay revoked).
    fn rotate_key(
        &mut self,
        site_id: i64,
        new_key: &str,
        old_valid_until: i64,
    ) -> Result<(), StoreError>;
    /// Stops every key of the site at `now`.
    fn revoke_site(&mut self, site_id: i64, now: i64) -> Result<(), StoreError>;
    /// Whether any site allows `origin`.
    fn origin_is_known(&mut self, origin: &str) -> Result<bool, StoreError>;

    // Ratings and details.
    /// The rating with this id, with its case.
    fn rating_by_id(&mut self, id: &str) -> Result<Option<StoredRating>, StoreError>;
    /// Whether this signed interaction of the site was rated already.
    fn signed_interaction_rated(
        &mut self,
        site_id: i64,
        interaction: &str,
    ) -> Result<bool, StoreError>;
    /// Stores a rating; `false` (and nothing stored) when one with its id is stored
    /// already. A second write of the same id at the same moment waits for the first
    /// one's commit, then answers `false`.
    fn insert_rating(&mut self, rating: &NewRating<'_>) -> Result<bool, StoreError>;
    /// Gives a stored rating another score (the customer changed their mind).
    fn change_score(&mut self, id: &str, score: i64, perfect: bool) -> Result<(), StoreError>;
    /// Stores a rating's details, replacing earlier ones, unless they were posted
    /// `details.max_posts` times already; whether it stored them.
    fn save_details(&mut self, details: &NewDetails<'_>) -> Result<bool, StoreError>;
    /// The details of a rating.
    fn details_for(&mut self, rating_id: &str) -> Result<Option<StoredDetails>, StoreError>;

    // Cases.
    /// Opens a case and answers it as [`Tx::case_by_id`] would; `None` when its
    /// reference is taken (the caller picks another).
    fn insert_case(&mut self, case: &NewCase<'_>) -> Result<Option<CaseRecord>, StoreError>;
    /// A case with what its view needs of its site and rating.
    fn case_by_id(&mut self, id: i64) -> Result<Option<CaseRecord>, StoreError>;
    /// The id of the case with this reference.
    fn case_id_by_ref(&mut self, reference: &str) -> Result<Option<i64>, StoreError>;
    /// The case a rating opened, or the case it re-rates.
    fn case_id_for_rating(&mut self, rating_id: &str) -> Result<Option<i64>, StoreError>;
    /// The case of this site whose unused re-rating link, valid at `now`, has a token
    /// with this hash.
    fn case_id_by_rerate_link(
        &mut self,
        site_id: i64,
        hash: &str,
        now: i64,
    ) -> Result<Option<i64>, StoreError>;
    /// The case an unused re-rating link valid at `now` belongs to: (site key, site name,
    /// reference).
    fn rerate_page(
        &mut self,
        hash: &str,
        now: i64,
    ) -> Result<Option<(String, String, String)>, StoreError>;
    /// Gives a case a re-rating link (its token's hash, valid until), or takes it away.
    fn set_rerate_link(
        &mut self,
        case_id: i64,
        link: Option<(&str, i64)>,
    ) -> Result<(), StoreError>;
    /// Writes a case's state and deadlines; `overdue_from` is when it becomes overdue.
    fn save_case(&mut self, case: &CaseRecord, overdue_from: i64) -> Result<(), StoreError>;
    /// Case ids matching the filter, newest first.
    fn case_ids(&mut self, filter: &CaseFilter<'_>) -> Result<Vec<i64>, StoreError>;
    /// Open cases with a deadline passed by `now` whose `case.overdue` was not raised yet.
    fn cases_to_raise(&mut self, now: i64) -> Result<Vec<CaseRecord>, StoreError>;
    /// Cases whose `overdue_from` is missing (written by an older build of the server).
    fn cases_without_overdue_from(&mut self) -> Result<Vec<CaseRecord>, StoreError>;
    /// A case's steps, oldest first.
    fn steps(&mut self, case_id: i64) -> Result<Vec<StepRecord>, StoreError>;
    /// Records a step.
    fn insert_step(&mut self, step: &NewStep<'_>) -> Result<(), StoreError>;
    /// A prevention action of the site.
    fn prevention(&mut self, site_id: i64, id: i64) -> Result<Option<Prevention>, StoreError>;
    /// Adds a prevention action; returns its id.
    fn insert_prevention(
        &mut self,
        site_id: i64,
        cause: &str,
        action: &str,
        now: i64,
    ) -> Result<i64, StoreError>;

    // API tokens.
    /// Stores a token's hash.
    fn insert_token(&mut self, token: &NewToken<'_>) -> Result<(), StoreError>;
    /// The token with this hash, while it has not expired.
    fn token(&mut self, hash: &str, now: i64) -> Result<Option<TokenRecord>, StoreError>;

    // Alert endpoints and the outbox.
    /// Adds an endpoint; returns its id.
    fn insert_endpoint(&mut self, endpoint: &NewEndpoint<'_>) -> Result<i64, StoreError>;
    /// The site's active endpoints; escalation ones only when `escalation` is true.
    fn active_endpoints(
        &mut self,
        site_id: i64,
        escalation: bool,
    ) -> Result<Vec<Endpoint>, StoreError>;
    /// Each endpoint of a site with its delivery state.
    fn endpoint_states(&mut self, site_id: i64) -> Result<Vec<EndpointState>, StoreError>;
    /// Counts `refusals` more refused requests from `origin` for a site; a new origin
    /// is kept only while the site has fewer than `cap`. Whether the origin is new.
    fn note_refused_origin(
        &mut self,
        site_id: i64,
        origin: &str,
        refusals: i64,
        now: i64,
        cap: i64,
    ) -> Result<bool, StoreError>;
    /// The origins refused for a site, most recent first.
    fn refused_origins(&mut self, site_id: i64) -> Result<Vec<RefusedOrigin>, StoreError>;
    /// Queues a message.
    fn insert_message(&mut self, message: &NewMessage<'_>) -> Result<(), StoreError>;
    /// Gives the newest message of `endpoint_id`'s lane about `case_id` the `payload`,
    /// when it is a `case.updated` that no delivery has claimed yet; whether it did. So
    /// a case updated again while its update waits sends one update, the latest.
    fn replace_pending_update(
        &mut self,
        endpoint_id: i64,
        case_id: i64,
        payload: &str,
    ) -> Result<bool, StoreError>;
    /// The emails to the customer of case `case_id`, newest first, with their delivery
    /// state.
    fn customer_messages(
        &mut self,
        case_id: i64,
        limit: i64,
    ) -> Result<Vec<CustomerMessage>, StoreError>;
    /// The lanes (endpoint ids, 0 for customers' emails) with a message due at `now`,
    /// leaving out `skip`.
    fn due_lanes(&mut self, now: i64, skip: &[i64]) -> Result<Vec<i64>, StoreError>;
    /// The oldest due messages of each lane `claim` names, as many as its room, leased
    /// until `claim.lease_until`.
    fn claim_messages(&mut self, claim: &Claim<'_>) -> Result<Vec<Message>, StoreError>;
    /// Marks failed every message queued before `before` and still waiting at `now`
    /// (not in flight); returns how many.
    fn give_up_messages(&mut self, before: i64, now: i64) -> Result<usize, StoreError>;
    /// Records a delivery attempt's outcome.
    fn record_attempt(&mut self, attempt: &Attempt<'_>) -> Result<(), StoreError>;

    // The desk: people, sessions, case owners.

    /// Adds a person; `None` when the email is taken (in any letter case).
    fn insert_user(&mut self, user: &NewUser<'_>) -> Result<Option<i64>, StoreError>;
    /// The person with this email (any letter case), with their password hash.
    fn user_by_email(&mut self, email: &str) -> Result<Option<(User, String)>, StoreError>;
    /// Everybody, by name.
    fn users(&mut self) -> Result<Vec<User>, StoreError>;
    /// Removes a person, their sessions, and their name from the cases they owned;
    /// whether they existed.
    fn remove_user(&mut self, email: &str) -> Result<bool, StoreError>;
    /// Starts a session.
    fn insert_session(&mut self, session: &NewSession<'_>) -> Result<(), StoreError>;
    /// The person a session (by its hash) belongs to and its CSRF token, while valid.
    fn session(&mut self, hash: &str, now: i64) -> Result<Option<(User, String)>, StoreError>;
    /// Ends a session.
    fn delete_session(&mut self, hash: &str) -> Result<(), StoreError>;
    /// Every API token, oldest first (never the token itself).
    fn tokens(&mut self) -> Result<Vec<TokenRecord>, StoreError>;
    /// Revokes an API token; whether there was one.
    fn delete_token(&mut self, id: i64) -> Result<bool, StoreError>;
    /// An endpoint's latest messages, newest first.
    fn recent_messages(
        &mut self,
        endpoint_id: i64,
        limit: i64,
    ) -> Result<Vec<Delivery>, StoreError>;
    // Numbers. `sites` limits each to those sites (all when `None`); `[from, to)` is in
    // Unix milliseconds.

    /// First ratings (not re-ratings) per UTC day: (days since 1970-01-01, ratings,
    /// perfect), days without ratings left out.
    fn rating_days(
        &mut self,
        sites: Option<&[i64]>,
        from: i64,
        to: i64,
    ) -> Result<Vec<(i64, i64, i64)>, StoreError>;
    /// Re-ratings received: (how many, how many perfect).
    fn rerating_counts(
        &mut self,
        sites: Option<&[i64]>,
        from: i64,
        to: i64,
    ) -> Result<(i64, i64), StoreError>;
    /// The cases opened.
    fn case_timings(
        &mut self,
        sites: Option<&[i64]>,
        from: i64,
        to: i64,
    ) -> Result<Vec<CaseTiming>, StoreError>;
    /// Cases with this status (and overdue at `overdue_at`, when given).
    fn count_cases(&mut self, status: Status, overdue_at: Option<i64>) -> Result<i64, StoreError>;
    /// Alert messages given up on (`failed`), or still waiting.
    fn count_messages(&mut self, failed: bool) -> Result<i64, StoreError>;

    // Data rights.

    /// The ratings whose details hold contact data: with this email (any letter case)
    /// when `email` is given, updated before `updated_before` when that is.
    fn contacts_matching(
        &mut self,
        email: Option<&str>,
        updated_before: Option<i64>,
    ) -> Result<Vec<StoredContact>, StoreError>;
    /// Removes a rating's contact data from its details.
    fn clear_contact(&mut self, rating_id: &str) -> Result<(), StoreError>;
    /// Gives a webhook endpoint a new signing secret; the old one signs too until
    /// `old_until`. Whether the site had that active webhook.
    fn rotate_secret(
        &mut self,
        site_id: i64,
        id: i64,
        secret: &str,
        old_until: i64,
    ) -> Result<bool, StoreError>;
    /// Stops an endpoint of a site for good ("removed") and gives up what it had waiting;
    /// whether the site had it.
    fn remove_endpoint(&mut self, site_id: i64, id: i64, now: i64) -> Result<bool, StoreError>;
    /// Queues an active endpoint's given-up messages again, due at once; how many.
    fn redeliver(&mut self, site_id: i64, id: i64, now: i64) -> Result<usize, StoreError>;
    /// Alert messages whose payload, target or last error mention `needle` (any letter
    /// case).
    fn messages_mentioning(&mut self, needle: &str) -> Result<Vec<OutboxText>, StoreError>;
    /// Rewrites a message without a person's contact data.
    fn rewrite_message(&mut self, rewrite: &MessageRewrite<'_>) -> Result<(), StoreError>;
    /// Records an erasure: why, how many ratings, by whom (never the address).
    fn record_erasure(
        &mut self,
        reason: &str,
        erased: i64,
        by: &str,
        now: i64,
    ) -> Result<(), StoreError>;
    /// Deletes alert messages delivered or given up before `before`; how many.
    fn prune_messages(&mut self, before: i64) -> Result<usize, StoreError>;
    /// Up to `limit` ratings received in `[from, to)`, oldest first, after the rating
    /// `after` (its time and id), with their case and details: the export.
    fn export_rows(
        &mut self,
        sites: Option<&[i64]>,
        received: (i64, i64),
        after: Option<(i64, &str)>,
        limit: i64,
    ) -> Result<Vec<ExportRow>, StoreError>;
    /// Root causes found for the cases opened: (cause, case id, prevention action).
    fn causes_found(
        &mut self,
        sites: Option<&[i64]>,
        from: i64,
        to: i64,
    ) -> Result<Vec<(String, i64, Option<String>)>, StoreError>;
    /// Which events reach a person by email.
    fn set_alert_events(&mut self, user_id: i64, events: &[Event]) -> Result<(), StoreError>;
    /// Gives a case to a person, or to nobody.
    fn assign_case(&mut self, case_id: i64, user_id: Option<i64>) -> Result<(), StoreError>;
    /// Every site, by name.
    fn sites(&mut self) -> Result<Vec<Site>, StoreError>;
    /// A site's prevention actions, newest first.
    fn preventions(&mut self, site_id: i64) -> Result<Vec<Prevention>, StoreError>;
}

/// A rating's stored contact data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredContact {
    /// The rating.
    pub rating_id: String,
    /// Name.
    pub name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Phone, as typed.
    pub phone: Option<String>,
}

/// An alert message's stored text, for erasure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxText {
    /// Row id.
    pub id: i64,
    /// Its kind, as stored.
    pub kind: String,
    /// A URL or an email address.
    pub target: String,
    /// The webhook body.
    pub payload: String,
    /// Neither delivered nor given up yet.
    pub pending: bool,
}

/// A message rewritten without a person's contact data.
pub struct MessageRewrite<'a> {
    /// Row id.
    pub id: i64,
    /// The payload without the contact.
    pub payload: &'a str,
    /// The target, or `(erased)` when it was the person's address.
    pub target: &'a str,
    /// Give it up at this time (an email still due to the person).
    pub cancel: Option<i64>,
    /// What to take out of its last error, too.
    pub forget: &'a str,
}

/// One rating as the export shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportRow {
    /// The widget's UUID.
    pub id: String,
    /// Received at, Unix milliseconds.
    pub created_at: i64,
    /// Its site's key.
    pub site: String,
    /// The score.
    pub score: i64,
    /// Its site's scale.
    pub scale: Scale,
    /// At the top of the scale.
    pub perfect: bool,
    /// The business's reference.
    pub interaction: Option<String>,
    /// Its case's reference.
    pub case: Option<String>,
    /// Its case's status.
    pub status: Option<Status>,
    /// Reasons picked.
    pub reasons: Vec<String>,
    /// Free text.
    pub comment: Option<String>,
    /// Contact name (kept only with consent).
    pub contact_name: Option<String>,
    /// Contact email.
    pub contact_email: Option<String>,
    /// Contact phone.
    pub contact_phone: Option<String>,
}

/// When a case opened, was acknowledged, and where it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseTiming {
    /// Open or closed.
    pub status: Status,
    /// When it became (or becomes) overdue while open.
    pub overdue_from: i64,
    /// Opened at.
    pub opened_at: i64,
    /// First acknowledged at.
    pub acknowledged_at: Option<i64>,
}

/// An API token as listed: the token itself is never stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRecord {
    /// Row id, to revoke it.
    pub id: i64,
    /// Who or what uses it.
    pub name: String,
    /// Made at.
    pub created_at: i64,
    /// Stops working at.
    pub expires_at: Option<i64>,
    /// The sites it is limited to; empty: every site.
    pub site_ids: Vec<i64>,
}

/// An API token to store.
pub struct NewToken<'a> {
    /// Who or what uses it.
    pub name: &'a str,
    /// SHA-256 of the token.
    pub hash: &'a str,
    /// Made at.
    pub now: i64,
    /// Stops working at.
    pub expires_at: Option<i64>,
    /// The sites it is limited to; empty: every site.
    pub site_ids: &'a [i64],
}

/// One outbox message as the delivery log shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// What it is about.
    pub event: Topic,
    /// The case's reference (none for a test alert or a notice).
    pub case_ref: Option<String>,
    /// Queued at.
    pub created_at: i64,
    /// Attempts so far.
    pub attempts: i64,
    /// Delivered at.
    pub delivered_at: Option<i64>,
    /// Given up at.
    pub failed_at: Option<i64>,
    /// The next try, while neither.
    pub next_attempt_at: i64,
    /// What went wrong last.
    pub last_error: Option<String>,
}

/// An email to a customer, with its delivery state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerMessage {
    /// Its delivery state.
    pub delivery: Delivery,
    /// The address it goes to.
    pub to: String,
    /// What it says (a `bodies::CustomerEmail`, or an older build's webhook body).
    pub payload: String,
}

/// A person who works the desk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// Their login.
    pub email: String,
    /// What colleagues call them; the actor of the steps they record.
    pub name: String,
    /// Owner or agent.
    pub role: Role,
    /// The sites an agent works (owners work all).
    pub site_ids: Vec<i64>,
    /// The case events that reach them by email (where an email alert goes to them).
    pub alert_events: Vec<Event>,
}

/// A person to add.
pub struct NewUser<'a> {
    /// Their login.
    pub email: &'a str,
    /// Their name.
    pub name: &'a str,
    /// Owner or agent.
    pub role: Role,
    /// argon2id, in the PHC string format.
    pub password_hash: &'a str,
    /// The sites an agent works.
    pub site_ids: &'a [i64],
    /// Added at.
    pub now: i64,
}

/// A session to start.
pub struct NewSession<'a> {
    /// SHA-256 of the cookie's value: a stolen database holds no live session.
    pub hash: &'a str,
    /// Whose.
    pub user_id: i64,
    /// The token every form of this session carries.
    pub csrf: &'a str,
    /// Started at.
    pub now: i64,
    /// Valid until.
    pub expires_at: i64,
}

/// A site as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// Row id.
    pub id: i64,
    /// The public key used in `data-site`.
    pub key: String,
    /// Signs interaction tokens; known to the business's server, never to browsers.
    pub secret: String,
    /// Everything the business chose.
    pub settings: SiteSettings,
}

/// What a business sets for its site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteSettings {
    /// The business's name, shown to staff.
    pub name: String,
    /// Origins (`https://shop.example`) allowed to send ratings from a browser.
    pub origins: Vec<String>,
    /// The rating scale.
    pub scale: Scale,
    /// A case must be acknowledged within this.
    pub ack_within: Duration,
    /// A case must be closed within this.
    pub close_within: Duration,
    /// Reason chips offered after a near miss.
    pub reasons: Vec<String>,
    /// Root-cause categories staff choose from when a cause is found.
    pub causes: Vec<String>,
    /// Accept only ratings with a valid signed interaction token.
    pub require_token: bool,
    /// The apology shown at once after a near miss.
    pub apology: String,
    /// Who will get back to the customer ("The Corner Bistro team").
    pub owner: String,
    /// A public review link, offered to every rater or to none.
    pub review_url: Option<String>,
    /// The time zone staff read times in (IANA, like `Europe/London`), and the one
    /// opening hours are read in.
    pub timezone: String,
    /// When the site is open; `None`: always. Deadlines count open time only.
    pub hours: Option<crate::hours::OpeningHours>,
    /// The site's own wording of the widget's words.
    pub words: crate::words::OwnWords,
    /// The widget's accent colour, `#rrggbb`; `None`: the widget's own.
    pub accent: Option<String>,
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
    /// Not perfect.
    pub flagged: bool,
    /// The canonical JSON of what was submitted, to tell a replay from a conflict.
    pub content: String,
    /// When it was received, in Unix milliseconds.
    pub created_at: i64,
    /// Its case (opened by it, or re-rated by it).
    pub case: Option<CaseSummary>,
    /// The hash of its `edit` secret; `None` for a rating stored before there was one.
    pub edit_hash: Option<String>,
    /// How many times the customer changed its score.
    pub score_changes: i64,
}

/// What the customer is told about their case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseSummary {
    /// The human reference, like `NM-4F7Q`.
    pub reference: String,
    /// The acknowledge deadline, in Unix milliseconds.
    pub ack_due_at: i64,
}

/// A rating to store.
pub struct NewRating<'a> {
    /// The widget's UUID.
    pub id: &'a str,
    /// Its site.
    pub site_id: i64,
    /// The score.
    pub score: i64,
    /// The top of the scale.
    pub perfect: bool,
    /// The business's reference for what was rated.
    pub interaction: Option<&'a str>,
    /// The page it came from.
    pub page: Option<&'a str>,
    /// The customer's language.
    pub locale: Option<&'a str>,
    /// The canonical JSON of what was submitted.
    pub content: &'a str,
    /// Received at, Unix milliseconds.
    pub created_at: i64,
    /// The case it re-rates.
    pub rerates_case: Option<i64>,
    /// It carried a valid signed interaction token.
    pub signed: bool,
    /// The hash of its `edit` secret.
    pub edit_hash: &'a str,
}

/// Details to store; contact fields only with consent (the caller filters).
pub struct NewDetails<'a> {
    /// The rating.
    pub rating_id: &'a str,
    /// Free text.
    pub comment: Option<&'a str>,
    /// Reasons picked.
    pub reasons: &'a [String],
    /// Contact name.
    pub contact_name: Option<&'a str>,
    /// Contact email.
    pub contact_email: Option<&'a str>,
    /// Contact phone.
    pub contact_phone: Option<&'a str>,
    /// The customer agreed to be contacted.
    pub consent: bool,
    /// When, Unix milliseconds.
    pub now: i64,
    /// How often a rating's details may be posted.
    pub max_posts: i64,
}

/// The details stored for a rating.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
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

/// A case to open.
pub struct NewCase<'a> {
    /// `NM-…`.
    pub reference: &'a str,
    /// Its site.
    pub site_id: i64,
    /// The rating that opened it.
    pub rating_id: &'a str,
    /// Opened at, Unix milliseconds.
    pub opened_at: i64,
    /// Acknowledge by.
    pub ack_due_at: i64,
    /// Close by.
    pub close_due_at: i64,
    /// When it becomes overdue.
    pub overdue_from: i64,
}

/// A case, with what its view needs of its site and rating. All times Unix milliseconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseRecord {
    /// Row id.
    pub id: i64,
    /// `NM-…`.
    pub reference: String,
    /// Its site's id.
    pub site_id: i64,
    /// Its site's current key.
    pub site_key: String,
    /// Its site's name.
    pub site_name: String,
    /// Its site's scale.
    pub scale: Scale,
    /// Open or closed.
    pub status: Status,
    /// Opened at.
    pub opened_at: i64,
    /// Acknowledge by.
    pub ack_due_at: i64,
    /// Close by.
    pub close_due_at: i64,
    /// First acknowledged at.
    pub acknowledged_at: Option<i64>,
    /// Closed at.
    pub closed_at: Option<i64>,
    /// A re-rating came back perfect (true) or not (false).
    pub recovered: Option<bool>,
    /// When `case.overdue` was raised for the acknowledge deadline.
    pub ack_overdue_at: Option<i64>,
    /// When `case.overdue` was raised for the close deadline.
    pub close_overdue_at: Option<i64>,
    /// Who owns it on the desk: their id and name.
    pub assignee: Option<(i64, String)>,
    /// Its site's time zone.
    pub site_timezone: String,
    /// The rating that opened it.
    pub rating: RatingRecord,
}

/// What a case view shows of its rating.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RatingRecord {
    /// The widget's UUID.
    pub id: String,
    /// The score.
    pub score: i64,
    /// The business's reference.
    pub interaction: Option<String>,
    /// The page.
    pub page: Option<String>,
    /// The customer's language.
    pub locale: Option<String>,
    /// Received at.
    pub created_at: i64,
}

/// Which cases to list.
pub struct CaseFilter<'a> {
    /// Only this status.
    pub status: Option<Status>,
    /// Only open cases overdue at `now`.
    pub overdue_at: Option<i64>,
    /// Only this site's (by key).
    pub site_key: Option<&'a str>,
    /// Only these sites' (by id).
    pub site_ids: Option<&'a [i64]>,
    /// Only this person's.
    pub assignee: Option<i64>,
    /// Only cases whose cause was found to be this.
    pub cause: Option<&'a str>,
    /// Open cases first, by when they are (or became) overdue; else newest first.
    pub by_deadline: bool,
    /// Only cases opened in `[from, to)`, Unix milliseconds.
    pub opened: Option<(i64, i64)>,
    /// At most this many.
    pub limit: i64,
}

/// A recorded step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepRecord {
    /// Which step.
    pub step: Step,
    /// Who.
    pub actor: String,
    /// What was done.
    pub note: Option<String>,
    /// For `cause_found`: the category.
    pub cause: Option<String>,
    /// For `cause_found`: the prevention action.
    pub prevention: Option<Prevention>,
    /// When, Unix milliseconds.
    pub at: i64,
    /// What the person wrote to the customer with it, as sent (`customer_told`, `closed`).
    pub message: Option<String>,
}

/// An action that prevents a cause happening again; may be linked to many cases.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Prevention {
    /// Row id, to link it to other cases.
    pub id: i64,
    /// The root-cause category.
    pub cause: String,
    /// What was changed.
    pub action: String,
}

/// A step to record.
pub struct NewStep<'a> {
    /// The case.
    pub case_id: i64,
    /// Which step.
    pub step: Step,
    /// Who.
    pub actor: &'a str,
    /// What was done.
    pub note: Option<&'a str>,
    /// For `cause_found`.
    pub cause: Option<&'a str>,
    /// For `cause_found`.
    pub prevention_id: Option<i64>,
    /// When.
    pub at: i64,
    /// What the person wrote to the customer with it (emailed as written).
    pub message: Option<&'a str>,
}

/// An endpoint to add.
pub struct NewEndpoint<'a> {
    /// Its site.
    pub site_id: i64,
    /// Webhook, Slack or email.
    pub kind: EndpointKind,
    /// A URL, or an email address.
    pub target: &'a str,
    /// The webhook signing secret.
    pub secret: Option<&'a str>,
    /// Receives only `case.overdue`.
    pub escalation: bool,
    /// Added at.
    pub now: i64,
}

/// An active endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Row id.
    pub id: i64,
    /// Webhook, Slack or email.
    pub kind: EndpointKind,
    /// A URL, or an email address.
    pub target: String,
}

/// Whether an endpoint still receives alerts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointStatus {
    /// It does.
    Active,
    /// It was disabled (it answered 410 Gone).
    Disabled,
}

/// An endpoint with its delivery state (`GET /v1/alerts`, `nearmiss alert list`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EndpointState {
    /// Row id.
    pub id: i64,
    /// Webhook, Slack or email.
    pub kind: EndpointKind,
    /// A URL, or an email address.
    pub target: String,
    /// Receives only `case.overdue`.
    pub escalation: bool,
    /// Active or disabled.
    pub state: EndpointStatus,
    /// Why it was disabled.
    pub disabled_reason: Option<String>,
    /// The last delivery.
    pub last_success_at: Option<Timestamp>,
    /// The last failed attempt.
    pub last_failure_at: Option<Timestamp>,
    /// What went wrong last.
    pub last_error: Option<String>,
    /// Messages delivered.
    pub delivered: i64,
    /// Messages waiting.
    pub pending: i64,
    /// Messages given up on.
    pub failed: i64,
}

/// A message to queue.
pub struct NewMessage<'a> {
    /// `msg_…`: the `webhook-id`, the same on every retry.
    pub msg_id: &'a str,
    /// Its endpoint (none for the customer's email).
    pub endpoint_id: Option<i64>,
    /// What it is.
    pub kind: MessageKind,
    /// A URL, or an email address.
    pub target: &'a str,
    /// The case event.
    pub event: Topic,
    /// The case (none for a test alert).
    pub case_id: Option<i64>,
    /// The webhook body, as JSON.
    pub payload: &'a str,
    /// Queued at.
    pub now: i64,
}

/// A claimed message, ready to send.
#[derive(Clone, Debug)]
pub struct Message {
    /// Row id.
    pub id: i64,
    /// The `webhook-id`.
    pub msg_id: String,
    /// Its endpoint.
    pub endpoint_id: Option<i64>,
    /// What it is; `None` for a kind this build does not know.
    pub kind: Option<MessageKind>,
    /// A URL, or an email address.
    pub target: String,
    /// The endpoint's signing secret (webhooks).
    pub secret: Option<String>,
    /// The case.
    pub case_id: Option<i64>,
    /// The webhook body, as JSON.
    pub payload: String,
    /// Attempts so far.
    pub attempts: i64,
    /// Queued at.
    pub created_at: i64,
    /// The webhook's previous secret, while it still signs.
    pub old_secret: Option<String>,
}

/// An origin whose requests a site refused.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RefusedOrigin {
    /// `scheme://host[:port]`, as the browser sent it.
    pub origin: String,
    /// Refused requests counted.
    pub refusals: i64,
    /// First refused at, Unix milliseconds.
    pub first_at: i64,
    /// Last refused at, Unix milliseconds.
    pub last_at: i64,
}

/// Which due messages a claim takes.
pub struct Claim<'a> {
    /// Due at or before.
    pub now: i64,
    /// Not claimed again before.
    pub lease_until: i64,
    /// Each lane to take from (an endpoint's id, 0 for customers' emails), with how
    /// many it takes at most.
    pub lanes: &'a [(i64, i64)],
}

/// The outcome of one delivery attempt, to record.
pub struct Attempt<'a> {
    /// The message.
    pub message: &'a Message,
    /// When.
    pub now: i64,
    /// What happened.
    pub result: AttemptResult<'a>,
}

/// What happened to one attempt.
pub enum AttemptResult<'a> {
    /// Delivered.
    Delivered,
    /// Failed; try again at this time.
    RetryAt(i64, &'a str),
    /// Failed for good.
    Failed(&'a str),
    /// The endpoint is gone: disable it and fail everything it had waiting.
    EndpointGone(&'a str),
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod shown_tests {
    #[test]
    fn a_password_in_the_database_url_is_never_shown() {
        assert_eq!(
            super::shown("postgres://nearmiss:s3cret@db.internal:5432/nearmiss"),
            "postgres://nearmiss:***@db.internal:5432/nearmiss"
        );
        assert_eq!(
            super::shown("postgres://nearmiss@db.internal/nearmiss"),
            "postgres://nearmiss@db.internal/nearmiss"
        );
        assert_eq!(super::shown("data/nearmiss.db"), "data/nearmiss.db");
        assert_eq!(
            super::shown("postgres://nearmiss:s3cret@db.internal?sslmode=disable"),
            "postgres://nearmiss:***@db.internal?sslmode=disable"
        );
    }

    #[test]
    fn another_database_on_the_same_server() {
        assert_eq!(
            super::with_database("postgres://u:p@h:5432/postgres?application_name=x", "t1"),
            "postgres://u:p@h:5432/t1?application_name=x"
        );
        assert_eq!(
            super::with_database("postgres://u@h", "t2"),
            "postgres://u@h/t2"
        );
    }
}

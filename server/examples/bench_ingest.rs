//! `cargo xtask bench ingest`: how many durable ratings a second the release `nearmiss`
//! server stores, next to a bare axum JSON endpoint as the ceiling, on this machine.
//!
//! The real server binary runs as a child process on a fresh site with one webhook
//! endpoint (a receiver in this process answers 200 to every POST, so alerts for the
//! flagged ratings are delivered during the run). The ceiling is this binary re-executed
//! with `--ceiling-server`: axum parsing the same JSON body and answering a small 201.
//!
//! Each target gets three phases over 64 keep-alive HTTP/1.1 connections on loopback,
//! each a 1 s warm-up and 5 s measured: offered loads of 1,000/s and 5,000/s (open loop:
//! every request has a scheduled time and its latency is measured from that time, so
//! queueing in the client is not hidden), then maximum throughput (closed loop: every
//! connection sends back to back). Every rating has a unique UUID-shaped id, and every
//! fifth is flagged (scores 1–4 on the 1–5 scale). Anything but a 201 is an error.
//!
//! Afterwards: `/healthz` must still answer, the server is killed with SIGKILL, and the
//! database must hold exactly the ratings that were answered 201 (and a case for each
//! flagged one). A failed check makes the exit status non-zero.
//!
//! `--db` is an SQLite file (default: a temporary one) or the URL of a PostgreSQL server
//! (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB`, where DB is only used to connect): the
//! bench then creates a database of its own there (`nearmiss_bench_<pid>_<time>`), so
//! runs never see each other's rows, and drops it at the end.
//!
//! With `--servers N` (PostgreSQL only, default 1), N `nearmiss serve` processes share
//! that database, each on its own port, and the 64 connections are spread over them
//! round-robin, as behind a load balancer; the ceiling stays one axum process. All N are
//! checked with `/healthz` and killed before the database is checked.
//!
//! With `--readers N`, N more clients read while the ratings come in, during the
//! nearmiss phases only (the ceiling has no cases): each repeatedly lists the open cases
//! (`GET /v1/cases?status=open`, up to 500 full case views) with an API token made by
//! `nearmiss token add`, one request at a time over its own keep-alive connection. They
//! run on their own thread, so their reading does not delay the rating connections' event
//! loop. Their lists a second, p50/p99 (from send to the whole answer) and errors are
//! printed under each phase's row; the point is the ratings' latency next to them.
//!
//! ```text
//! bench_ingest --server target/release/nearmiss [--db PATH|postgres://…] [--readers N]
//!              [--servers N]
//! ```

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Concurrent keep-alive connections, like a reverse proxy's upstream pool.
const CONNECTIONS: usize = 64;
/// Not measured: connections open, caches and the WAL warm up.
const WARM_UP: Duration = Duration::from_secs(1);
/// Measured part of each phase.
const MEASURE: Duration = Duration::from_secs(5);
/// A request unanswered this long is an error; it also bounds how long a phase can
/// overrun while in-flight requests finish.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long to wait after the run for the last alerts to be delivered.
const WEBHOOK_GRACE: Duration = Duration::from_secs(10);
/// Offered loads of the open-loop phases, ratings a second.
const OFFERED: [u64; 2] = [1_000, 5_000];
/// The issues' goals: durable ratings a second at maximum (on SQLite; on PostgreSQL with
/// one server), and p99 at this offered load.
const GOAL_RATE: f64 = 10_000.0;
const GOAL_RATE_POSTGRES: f64 = 5_000.0;
const GOAL_P99: Duration = Duration::from_millis(25);
const GOAL_P99_AT: u64 = 5_000;

/// Where the readers (`--readers N`) list cases: the open ones, full views, up to 500.
const READ_PATH: &str = "/v1/cases?status=open";

const USAGE: &str = "usage: bench_ingest --server PATH/TO/nearmiss [--db PATH|postgres://…] \
                     [--readers N] [--servers N] (N > 1 servers only with a postgres:// --db)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--ceiling-server") {
        ceiling_server();
        return ExitCode::SUCCESS;
    }
    let mut server = None;
    let mut db = None;
    let mut readers = 0;
    let mut servers = 1;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match (arg.as_str(), rest.next()) {
            ("--server", Some(path)) => server = Some(PathBuf::from(path)),
            ("--db", Some(url)) => db = Some(url.clone()),
            ("--readers", Some(n)) if n.parse::<usize>().is_ok() => {
                readers = n.parse().unwrap_or_default();
            }
            ("--servers", Some(n)) if n.parse::<usize>().is_ok_and(|n| n > 0) => {
                servers = n.parse().unwrap_or(1);
            }
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let Some(server) = server else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    if servers > 1 && !db.as_deref().is_some_and(is_postgres) {
        eprintln!("bench_ingest: --servers {servers} needs a postgres:// --db (several servers cannot share an SQLite file)\n{USAGE}");
        return ExitCode::from(2);
    }
    if bench(&server, db, readers, servers) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs the whole bench and prints the report; `false` when a durability check failed.
fn bench(server: &Path, db: Option<String>, readers: usize, servers: usize) -> bool {
    let dir = tempfile::Builder::new()
        .prefix("nearmiss-bench-")
        .tempdir()
        .expect("a temporary folder for the bench database and server log");
    // Declared before the servers, so dropped after them even on a panic: a PostgreSQL
    // database of the bench's own is dropped once every server is gone.
    let db = match db {
        Some(url) if is_postgres(&url) => Database::Postgres(BenchDatabase::create(&url)),
        Some(path) => Database::Sqlite(PathBuf::from(path)),
        None => Database::Sqlite(dir.path().join("bench.db")),
    };

    let hooks = Arc::new(Hooks::default());
    let site = add_site(server, &db, &start_webhook_receiver(hooks.clone()));
    let readers = (readers > 0).then(|| Readers {
        count: readers,
        token: add_token(server, &db),
    });

    // One thread drives every connection: the generator shares two cores with the
    // server, and a single-threaded runtime spends none of them on work stealing.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the load generator's tokio runtime");
    let ids = Arc::new(Ids::new());

    // The ceiling runs first and is gone before the server starts, so neither the
    // ceiling's process nor the server's alert backlog competes with the other's phases.
    let (ceiling, addr) = start_ceiling();
    let target = Target {
        name: "ceiling".into(),
        addrs: vec![addr],
        site: site.clone(),
    };
    let mut results = run_phases(&runtime, &target, &ids, None);
    drop(ceiling);

    let running = start_servers(server, &db, servers, dir.path());
    let target = Target {
        name: match servers {
            1 => "nearmiss".into(),
            n => format!("nearmiss ×{n}"),
        },
        addrs: running.iter().map(|s| s.addr).collect(),
        site: site.clone(),
    };
    let server_results = run_phases(&runtime, &target, &ids, readers.as_ref());
    let created = server_results.iter().map(|r| r.created).sum();
    let flagged = server_results.iter().map(|r| r.flagged_created).sum();
    let unanswered = server_results.iter().map(|r| r.unanswered).sum();
    results.extend(server_results);

    eprintln!(
        "bench ingest: waiting up to {}s for the alerts of {flagged} flagged ratings…",
        WEBHOOK_GRACE.as_secs(),
    );
    let waited = Instant::now();
    while (hooks.unique() as u64) < flagged && waited.elapsed() < WEBHOOK_GRACE {
        std::thread::sleep(Duration::from_millis(50));
    }
    let hooks_waited = waited.elapsed();
    let unhealthy = running
        .iter()
        .filter(|s| healthz(s.addr) != Some(200))
        .map(|s| s.addr)
        .collect();
    // SIGKILL rather than a clean stop: a 201 promises the rating is on disk, so it must
    // be there even when the process dies without shutting down. Every server is gone
    // before the database is read.
    let logs: Vec<PathBuf> = running
        .into_iter()
        .map(|RunningServer { process, log, .. }| {
            drop(process);
            log
        })
        .collect();
    let after = AfterRun {
        created,
        flagged,
        unanswered,
        hooks_unique: hooks.unique() as u64,
        hooks_posts: hooks.posts.load(Ordering::Relaxed),
        hooks_waited,
        servers,
        unhealthy,
        stored: db.count_rows(&site),
    };

    let mut report = String::new();
    let _ = writeln!(
        report,
        "\nbench ingest: {} UTC, nproc {}, {CONNECTIONS} connections, {}s warm-up + {}s measured per phase, 20% flagged",
        utc_now(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        WARM_UP.as_secs(),
        MEASURE.as_secs(),
    );
    if let Some(readers) = &readers {
        let _ = writeln!(
            report,
            "readers: {} clients listing GET {READ_PATH} back to back during the nearmiss phases",
            readers.count
        );
    }
    if servers > 1 {
        let _ = writeln!(
            report,
            "servers: {servers} `nearmiss serve` processes on the one database, the connections spread round-robin"
        );
    }
    report.push_str(&db.describe());
    let _ = writeln!(report);
    report.push_str(&table(&results));
    // Several servers share two cores with the database here: no goal, the figure. The
    // latency goal is SQLite's issue's; PostgreSQL's sets none.
    let postgres = matches!(db, Database::Postgres(_));
    let goal_rate = match (postgres, servers) {
        (false, _) => Some(GOAL_RATE),
        (true, 1) => Some(GOAL_RATE_POSTGRES),
        (true, _) => None,
    };
    report.push_str(&goals(&results, &target.name, goal_rate, !postgres));
    let (checks, ok) = after.report();
    report.push_str(&checks);
    for (i, log) in logs.iter().enumerate() {
        let which = if logs.len() > 1 {
            format!(" {}", i + 1)
        } else {
            String::new()
        };
        report.push_str(&server_log_summary(&which, log));
    }
    print!("{report}");
    ok
}

/// Whether `--db` names a PostgreSQL server rather than an SQLite file.
fn is_postgres(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// The database under test.
enum Database {
    Sqlite(PathBuf),
    /// A database of the bench's own on a PostgreSQL server.
    Postgres(BenchDatabase),
}

impl Database {
    /// What the server's `--db` gets.
    fn arg(&self) -> String {
        match self {
            Database::Sqlite(path) => path.display().to_string(),
            Database::Postgres(pg) => pg.url.clone(),
        }
    }

    /// The argument as it may be shown: no password.
    fn shown(&self) -> String {
        match self {
            Database::Sqlite(path) => path.display().to_string(),
            Database::Postgres(pg) => nearmiss_server::store::shown(&pg.url),
        }
    }

    /// The report's `database:` line, and a warning when the numbers are not durable.
    fn describe(&self) -> String {
        let mut out = String::new();
        let in_memory = match self {
            Database::Sqlite(path) => {
                let fs = filesystem_of(path).unwrap_or_else(|| "unknown filesystem".into());
                let _ = writeln!(out, "database: {} (SQLite on {fs})", path.display());
                (fs == "tmpfs" || fs == "ramfs")
                    .then_some("the database is in memory (fsync costs nothing)")
            }
            Database::Postgres(pg) => {
                let _ = writeln!(
                    out,
                    "database: PostgreSQL {} at {} (database {}, dropped afterwards; fsync {}, synchronous_commit {})",
                    pg.version, pg.at, pg.name, pg.fsync, pg.synchronous_commit
                );
                (pg.fsync != "on" || pg.synchronous_commit == "off")
                    .then_some("PostgreSQL does not flush each commit to disk")
            }
        };
        if let Some(why) = in_memory {
            let _ = writeln!(out, "WARNING: {why}: not durable-disk numbers");
        }
        out
    }

    /// The bench site's ratings and cases. The same query on both engines (`$1` is a
    /// parameter to SQLite as well).
    fn count_rows(&self, site: &str) -> Result<(u64, u64), String> {
        let sql = |table: &str| {
            format!("SELECT count(*) FROM {table} WHERE site_id = (SELECT id FROM sites WHERE key = $1)")
        };
        let (ratings, cases) = (sql("ratings"), sql("cases"));
        match self {
            Database::Sqlite(path) => {
                let conn = rusqlite::Connection::open_with_flags(
                    path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
                        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(|err| err.to_string())?;
                let count = |sql: &str| {
                    conn.query_row(sql, [site], |row| row.get::<_, i64>(0))
                        .map(|n| n as u64)
                        .map_err(|err| err.to_string())
                };
                Ok((count(&ratings)?, count(&cases)?))
            }
            Database::Postgres(pg) => {
                let mut client = pg_connect(&pg.url).map_err(|err| err.to_string())?;
                let mut count = |sql: &str| {
                    client
                        .query_one(sql, &[&site])
                        .map(|row| row.get::<_, i64>(0) as u64)
                        .map_err(|err| err.to_string())
                };
                Ok((count(&ratings)?, count(&cases)?))
            }
        }
    }
}

/// A fresh database on a PostgreSQL server, dropped (with any connections left to it)
/// when this is.
struct BenchDatabase {
    /// The server's URL as given, for creating and dropping.
    server: String,
    /// The bench database's URL.
    url: String,
    name: String,
    /// "15.18".
    version: String,
    /// "127.0.0.1:55432".
    at: String,
    fsync: String,
    synchronous_commit: String,
}

impl BenchDatabase {
    fn create(server: &str) -> BenchDatabase {
        let shown = nearmiss_server::store::shown(server);
        let config: postgres::Config = server
            .parse()
            .unwrap_or_else(|err| panic!("{shown} is not a PostgreSQL URL: {err}"));
        let mut client =
            pg_connect(server).unwrap_or_else(|err| panic!("connecting to {shown}: {err}"));
        let setting = |client: &mut postgres::Client, name: &str| -> String {
            client
                .query_one("SELECT current_setting($1)", &[&name])
                .and_then(|row| row.try_get(0))
                .unwrap_or_else(|err| panic!("reading {name} from {shown}: {err}"))
        };
        // "15.18 (Debian 15.18-0+deb12u1)": the number is enough.
        let version = setting(&mut client, "server_version");
        let version = version.split_whitespace().next().unwrap_or("?").to_owned();
        let fsync = setting(&mut client, "fsync");
        let synchronous_commit = setting(&mut client, "synchronous_commit");
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let name = format!("nearmiss_bench_{}_{secs}", std::process::id());
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|err| panic!("creating database {name} on {shown}: {err}"));
        let host = match config.get_hosts().first() {
            Some(postgres::config::Host::Tcp(host)) => host.clone(),
            Some(postgres::config::Host::Unix(path)) => path.display().to_string(),
            None => "localhost".into(),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        BenchDatabase {
            server: server.to_owned(),
            url: nearmiss_server::store::with_database(server, &name),
            name,
            version,
            at: format!("{host}:{port}"),
            fsync,
            synchronous_commit,
        }
    }
}

impl Drop for BenchDatabase {
    fn drop(&mut self) {
        let dropped = pg_connect(&self.server).and_then(|mut client| {
            client.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
        });
        if let Err(err) = dropped {
            eprintln!("bench ingest: dropping database {}: {err}", self.name);
        }
    }
}

fn pg_connect(url: &str) -> Result<postgres::Client, postgres::Error> {
    postgres::Client::connect(url, postgres::NoTls)
}

/// Adds the bench site with the receiver as its one webhook, through the server's CLI;
/// returns the site's key.
fn add_site(server: &Path, db: &Database, hook_url: &str) -> String {
    let site = nearmiss_cli(
        server,
        db,
        &[
            "site",
            "add",
            "--name",
            "Bench Bistro",
            "--origin",
            "https://bench.example",
        ],
    );
    let secret = nearmiss_cli(
        server,
        db,
        &[
            "alert",
            "add",
            "--site",
            &site,
            "--webhook",
            hook_url,
            "--allow-private",
        ],
    );
    assert!(
        site.starts_with("s_") && secret.starts_with("whsec_"),
        "unexpected output of the nearmiss CLI: site key {site:?}, webhook secret {secret:?}"
    );
    site
}

/// Adds an API token for the readers through the server's CLI; returns the token.
fn add_token(server: &Path, db: &Database) -> String {
    let token = nearmiss_cli(server, db, &["token", "add", "--name", "bench"]);
    assert!(
        !token.is_empty() && !token.contains(char::is_whitespace),
        "unexpected output of `nearmiss token add`: {token:?}"
    );
    token
}

/// Starts the ceiling (this binary with `--ceiling-server`) and reads its port.
fn start_ceiling() -> (ChildGuard, SocketAddr) {
    let exe = std::env::current_exe().expect("the path of this bench binary");
    let mut child = Command::new(exe)
        .arg("--ceiling-server")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting the ceiling server (this binary with --ceiling-server)");
    let stdout = child.stdout.take().expect("the ceiling server's stdout");
    let guard = ChildGuard(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("reading the ceiling server's port");
    let port: u16 = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("the ceiling server printed {line:?}, not a port"));
    (guard, SocketAddr::from(([127, 0, 0, 1], port)))
}

/// A `nearmiss serve` process (killed when dropped) and where it listens and logs.
struct RunningServer {
    process: ChildGuard,
    addr: SocketAddr,
    log: PathBuf,
}

/// Starts `count` `nearmiss serve` processes on `db`, each on its own port with limits
/// off and loopback alerts allowed, logging into `dir` (`server.log`, or `server-1.log`…
/// when there are several), and waits until each answers `/healthz`.
fn start_servers(server: &Path, db: &Database, count: usize, dir: &Path) -> Vec<RunningServer> {
    let mut running: Vec<RunningServer> = (1..=count)
        .map(|i| {
            let log = match count {
                1 => dir.join("server.log"),
                _ => dir.join(format!("server-{i}.log")),
            };
            let log_file = std::fs::File::create(&log).expect("creating a server log file");
            let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
            let child = Command::new(server)
                .arg("--db")
                .arg(db.arg())
                .args(["serve", "--listen", &addr.to_string()])
                .args(["--rate-limit", "0", "--site-rate-limit", "0"])
                .arg("--allow-private-targets")
                // Info logs a line per rating: it would measure the logger.
                .env("NEARMISS_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log_file)
                .spawn()
                .unwrap_or_else(|err| panic!("starting {} serve: {err}", server.display()));
            RunningServer {
                process: ChildGuard(child),
                addr,
                log,
            }
        })
        .collect();
    for one in &mut running {
        wait_healthy(&mut one.process, one.addr, &one.log);
    }
    running
}

/// The ratio of the maximums and the issue's goals, next to the numbers.
fn goals(results: &[PhaseResult], server: &str, goal_rate: Option<f64>, goal_p99: bool) -> String {
    let mut out = String::new();
    let max_of = |name: &str| {
        results
            .iter()
            .find(|r| r.target == name && r.offered.is_none())
            .map_or(0.0, |r| r.achieved)
    };
    let (server_max, ceiling_max) = (max_of(server), max_of("ceiling"));
    let _ = writeln!(
        out,
        "\n{server} max / ceiling max: {server_max:.0} / {ceiling_max:.0} = {:.3}",
        if ceiling_max > 0.0 {
            server_max / ceiling_max
        } else {
            0.0
        }
    );
    if let Some(goal_rate) = goal_rate {
        let _ = writeln!(
            out,
            "goal: >= {} durable ratings/s at max: {server_max:.0}/s, {}",
            thousands(goal_rate as u64),
            met(server_max >= goal_rate)
        );
    }
    if let Some(phase) = results
        .iter()
        .find(|r| goal_p99 && r.target == server && r.offered == Some(GOAL_P99_AT))
    {
        let (p99, exact) = phase.percentile(0.99);
        // A p99 only stands for the phase if every scheduled rating was sent and stored.
        let clean = phase.unsent == 0 && phase.errors.is_empty();
        let _ = writeln!(
            out,
            "goal: p99 <= {} ms at {}/s offered: {} ms{}, {}",
            GOAL_P99.as_millis(),
            thousands(GOAL_P99_AT),
            latency(p99, exact),
            if clean {
                ""
            } else {
                " (with errors or unsent)"
            },
            met(exact && clean && p99.is_some_and(|p| p <= GOAL_P99))
        );
    }
    out
}

/// What is checked once the phases are over.
struct AfterRun {
    /// The server's 201s, all phases.
    created: u64,
    /// Of those, flagged ones (each must have opened a case and sent an alert).
    flagged: u64,
    /// Requests that may or may not have been stored (no answer).
    unanswered: u64,
    hooks_unique: u64,
    hooks_posts: u64,
    hooks_waited: Duration,
    /// How many servers ran, and those that did not answer `/healthz` 200 at the end.
    servers: usize,
    unhealthy: Vec<SocketAddr>,
    /// The site's ratings and cases in the database after the servers were killed.
    stored: Result<(u64, u64), String>,
}

impl AfterRun {
    /// The report lines, and whether every durability check passed.
    fn report(&self) -> (String, bool) {
        let mut out = String::new();
        let mut ok = self.unhealthy.is_empty();
        let health = match (self.servers, self.unhealthy.as_slice()) {
            (1, []) => "200".into(),
            (n, []) => format!("200 on all {n} servers"),
            (1, _) => "FAILED".into(),
            (n, failed) => {
                let failed: Vec<String> = failed.iter().map(ToString::to_string).collect();
                format!("FAILED on {} of {n} ({})", failed.len(), failed.join(", "))
            }
        };
        let _ = writeln!(out, "\nafter the run: /healthz {health}");
        let _ = writeln!(
            out,
            "alerts: {} of {} flagged ratings' webhooks received within {:.1}s after the last phase ({} POSTs)",
            thousands(self.hooks_unique),
            thousands(self.flagged),
            self.hooks_waited.as_secs_f64(),
            thousands(self.hooks_posts),
        );
        match &self.stored {
            Err(err) => {
                ok = false;
                let _ = writeln!(out, "stored: FAILED to read the database: {err}");
            }
            Ok((ratings, cases)) => {
                // A request that timed out or lost its connection may or may not have
                // been stored; only those may make the counts exceed the 201s.
                let (created, flagged, unanswered) = (self.created, self.flagged, self.unanswered);
                let ratings_ok = (created..=created + unanswered).contains(ratings);
                let cases_ok = (flagged..=flagged + unanswered).contains(cases);
                ok &= ratings_ok && cases_ok;
                let _ = writeln!(
                    out,
                    "stored after SIGKILL: {} ratings for {} answered 201{} ({}), {} cases for {} flagged 201s ({})",
                    thousands(*ratings),
                    thousands(created),
                    if unanswered > 0 {
                        format!(" + up to {unanswered} unanswered")
                    } else {
                        String::new()
                    },
                    if ratings_ok { "ok" } else { "MISMATCH" },
                    thousands(*cases),
                    thousands(flagged),
                    if cases_ok { "ok" } else { "MISMATCH" },
                );
            }
        }
        (out, ok)
    }
}

/// Where load goes.
struct Target {
    /// "ceiling", "nearmiss", or "nearmiss ×N" for N servers.
    name: String,
    /// One per process; the connections are spread over them round-robin.
    addrs: Vec<SocketAddr>,
    site: String,
}

/// The three phases against one target: each offered load, then maximum.
fn run_phases(
    runtime: &tokio::runtime::Runtime,
    target: &Target,
    ids: &Arc<Ids>,
    readers: Option<&Readers>,
) -> Vec<PhaseResult> {
    let mut results = Vec::new();
    for load in OFFERED.map(Some).into_iter().chain([None]) {
        let label = match load {
            Some(rate) => format!("{rate}/s"),
            None => "max".into(),
        };
        eprintln!("bench ingest: phase {label} on {}…", target.name);
        let start = Instant::now();
        let reading = readers.map(|readers| start_readers(readers, &target.addrs, start));
        let mut result = runtime.block_on(run_phase(target, load, ids.clone(), start));
        result.readers = reading.map(|thread| thread.join().expect("the readers' thread panicked"));
        eprintln!(
            "bench ingest:   {:.0}/s, p99 {} ms, {} errors, {} unsent",
            result.achieved,
            {
                let (p99, exact) = result.percentile(0.99);
                latency(p99, exact)
            },
            result.errors.values().sum::<u64>(),
            result.unsent
        );
        if let Some(read) = &result.readers {
            eprintln!("bench ingest:   {}", read.line());
        }
        results.push(result);
        // A moment for the server to settle (finish writes, checkpoint) between phases.
        std::thread::sleep(Duration::from_millis(250));
    }
    results
}

/// Rating ids: a random per-run prefix, so runs against one database never collide,
/// and a counter, so ids within a run are unique.
struct Ids {
    prefix: u64,
    next: AtomicU64,
}

impl Ids {
    fn new() -> Ids {
        Ids {
            prefix: getrandom::u64().expect("random bits for the rating ids"),
            next: AtomicU64::new(0),
        }
    }

    /// The next rating: its UUID-shaped id (version 4, variant 8) and its score. Every
    /// fifth is flagged, cycling through 1–4; the rest are perfect (5).
    fn next(&self) -> (String, u8, bool) {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let p = self.prefix;
        let id = format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            p >> 32,
            (p >> 16) & 0xffff,
            (p >> 4) & 0xfff,
            ((p & 0xf) << 8) | ((n >> 48) & 0xff),
            n & 0xffff_ffff_ffff
        );
        let flagged = n.is_multiple_of(5);
        let score = if flagged { 1 + (n / 5 % 4) as u8 } else { 5 };
        (id, score, flagged)
    }
}

/// One phase's plan, shared by its connections.
struct Plan {
    /// Connection `i` goes to `addrs[i % addrs.len()]`.
    addrs: Vec<SocketAddr>,
    site: String,
    /// Open loop: ratings a second; closed loop (maximum): `None`.
    rate: Option<f64>,
    start: Instant,
    warm_end: Instant,
    end: Instant,
    /// Open loop: the next scheduled slot, taken by whichever connection is free.
    next_slot: AtomicU64,
    ids: Arc<Ids>,
}

impl Plan {
    fn scheduled(&self, slot: u64, rate: f64) -> Instant {
        self.start + Duration::from_secs_f64(slot as f64 / rate)
    }
}

/// A latency, or a lower bound of one (a request never sent or never answered).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Sample {
    micros: u64,
    /// Ordered after `micros` with `false` first, so at equal values a lower bound
    /// sorts first and percentiles err on the side of "not exact".
    exact: bool,
}

impl Sample {
    fn new(latency: Duration, exact: bool) -> Sample {
        Sample {
            micros: latency.as_micros() as u64,
            exact,
        }
    }
}

/// What one connection saw.
#[derive(Default)]
struct Tally {
    samples: Vec<Sample>,
    created: u64,
    created_in_window: u64,
    flagged_created: u64,
    unsent: u64,
    unanswered: u64,
    errors: BTreeMap<String, u64>,
}

impl Tally {
    fn error(&mut self, what: String) {
        *self.errors.entry(what).or_default() += 1;
    }

    fn merge(&mut self, other: Tally) {
        self.samples.extend(other.samples);
        self.created += other.created;
        self.created_in_window += other.created_in_window;
        self.flagged_created += other.flagged_created;
        self.unsent += other.unsent;
        self.unanswered += other.unanswered;
        for (what, n) in other.errors {
            *self.errors.entry(what).or_default() += n;
        }
    }
}

/// One phase's outcome.
struct PhaseResult {
    target: String,
    offered: Option<u64>,
    /// 201s completed in the measured window, a second.
    achieved: f64,
    /// Sorted; one per request scheduled (open loop) or started (closed loop) in the
    /// measured window that was answered 201, never sent, or timed out.
    samples: Vec<Sample>,
    /// 201s over the whole phase, warm-up included (for the durability check).
    created: u64,
    flagged_created: u64,
    /// Scheduled before the phase ended but never sent: every connection was busy.
    unsent: u64,
    /// Sent but never answered (timeout, connection lost): stored or not, unknown.
    unanswered: u64,
    /// Non-201 answers and failures over the whole phase, by kind.
    errors: BTreeMap<String, u64>,
    /// What the readers (`--readers N`) saw meanwhile, if there were any.
    readers: Option<ReadResult>,
}

impl PhaseResult {
    fn percentile(&self, q: f64) -> (Option<Duration>, bool) {
        percentile(&self.samples, q)
    }
}

/// The nearest-rank percentile of sorted samples and whether it is exact: it is only a
/// lower bound when a lower-bound sample sits at or below it.
fn percentile(samples: &[Sample], q: f64) -> (Option<Duration>, bool) {
    if samples.is_empty() {
        return (None, true);
    }
    let n = samples.len();
    let rank = ((n as f64 * q).ceil() as usize).clamp(1, n) - 1;
    let exact = samples[..=rank].iter().all(|s| s.exact);
    (Some(Duration::from_micros(samples[rank].micros)), exact)
}

async fn run_phase(
    target: &Target,
    rate: Option<u64>,
    ids: Arc<Ids>,
    start: Instant,
) -> PhaseResult {
    let plan = Arc::new(Plan {
        addrs: target.addrs.clone(),
        site: target.site.clone(),
        rate: rate.map(|r| r as f64),
        start,
        warm_end: start + WARM_UP,
        end: start + WARM_UP + MEASURE,
        next_slot: AtomicU64::new(0),
        ids,
    });
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|i| {
            let addr = plan.addrs[i % plan.addrs.len()];
            tokio::spawn(connection(plan.clone(), addr))
        })
        .collect();
    let mut tally = Tally::default();
    for worker in workers {
        tally.merge(worker.await.expect("a load-generating connection panicked"));
    }
    if let Some(rate) = plan.rate {
        // Slots due before the end that no connection got to: the client's backlog.
        // Each counts as a latency of at least the time it had waited at the end.
        let total = ((WARM_UP + MEASURE).as_secs_f64() * rate).ceil() as u64;
        for slot in plan.next_slot.load(Ordering::Relaxed)..total {
            let scheduled = plan.scheduled(slot, rate);
            if scheduled >= plan.end {
                break;
            }
            tally.unsent += 1;
            if scheduled >= plan.warm_end {
                tally
                    .samples
                    .push(Sample::new(plan.end.duration_since(scheduled), false));
            }
        }
    }
    tally.samples.sort_unstable();
    PhaseResult {
        target: target.name.clone(),
        offered: rate,
        achieved: tally.created_in_window as f64 / MEASURE.as_secs_f64(),
        samples: tally.samples,
        created: tally.created,
        flagged_created: tally.flagged_created,
        unsent: tally.unsent,
        unanswered: tally.unanswered,
        errors: tally.errors,
        readers: None,
    }
}

/// The clients that list cases while the ratings come in (`--readers N`).
struct Readers {
    count: usize,
    /// An API token (`nearmiss token add`).
    token: String,
}

/// What the readers saw in one phase.
struct ReadResult {
    readers: usize,
    /// 200s completed in the measured window, a second.
    achieved: f64,
    /// Sorted; one per list started in the measured window that was answered 200 or
    /// timed out (a lower bound), from sending the request to the whole answer read.
    samples: Vec<Sample>,
    /// Body bytes of the 200s in the measured window, to tell how big a list was.
    bytes: u64,
    lists: u64,
    /// Non-200 answers and failures over the whole phase, by kind.
    errors: BTreeMap<String, u64>,
}

impl ReadResult {
    /// "readers: 4 × GET /v1/cases: 312 lists/s, p50 12 ms, p99 40 ms, 0 errors".
    fn line(&self) -> String {
        let (p50, p50_exact) = percentile(&self.samples, 0.50);
        let (p99, p99_exact) = percentile(&self.samples, 0.99);
        let mut line = format!(
            "readers: {} × GET {READ_PATH}: {:.0} lists/s, p50 {} ms, p99 {} ms, {} errors, {} KB a list",
            self.readers,
            self.achieved,
            latency(p50, p50_exact),
            latency(p99, p99_exact),
            self.errors.values().sum::<u64>(),
            self.bytes.checked_div(self.lists).unwrap_or(0) / 1000,
        );
        if !self.errors.is_empty() {
            let kinds: Vec<String> = self
                .errors
                .iter()
                .map(|(k, n)| format!("{k} x{n}"))
                .collect();
            let _ = write!(line, " ({})", kinds.join(", "));
        }
        line
    }
}

/// Starts the readers for a phase that starts at `start`, on their own thread and
/// runtime; the thread returns their tally when the phase has ended.
fn start_readers(
    readers: &Readers,
    addrs: &[SocketAddr],
    start: Instant,
) -> std::thread::JoinHandle<ReadResult> {
    let count = readers.count;
    // Reader `i` reads from `addrs[i % addrs.len()]`, as the rating connections do.
    let requests: Vec<(SocketAddr, Arc<[u8]>)> = addrs
        .iter()
        .map(|addr| {
            let request = format!(
                "GET {READ_PATH} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\r\n",
                readers.token
            );
            (*addr, request.into_bytes().into())
        })
        .collect();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("the readers' tokio runtime");
        runtime.block_on(async move {
            let (warm_end, end) = (start + WARM_UP, start + WARM_UP + MEASURE);
            let loops: Vec<_> = (0..count)
                .map(|i| {
                    let (addr, request) = requests[i % requests.len()].clone();
                    tokio::spawn(reader(addr, request, warm_end, end))
                })
                .collect();
            let mut total = ReadTally::default();
            for one in loops {
                let one = one.await.expect("a reader panicked");
                total.samples.extend(one.samples);
                total.lists += one.lists;
                total.bytes += one.bytes;
                for (what, n) in one.errors {
                    *total.errors.entry(what).or_default() += n;
                }
            }
            total.samples.sort_unstable();
            ReadResult {
                readers: count,
                achieved: total.lists as f64 / MEASURE.as_secs_f64(),
                samples: total.samples,
                bytes: total.bytes,
                lists: total.lists,
                errors: total.errors,
            }
        })
    })
}

/// What one reader saw: lists and bytes count the measured window only.
#[derive(Default)]
struct ReadTally {
    samples: Vec<Sample>,
    lists: u64,
    bytes: u64,
    errors: BTreeMap<String, u64>,
}

/// One reader's loop: lists the open cases back to back over one keep-alive connection
/// until the phase ends.
async fn reader(
    addr: SocketAddr,
    request: Arc<[u8]>,
    warm_end: Instant,
    end: Instant,
) -> ReadTally {
    let mut tally = ReadTally::default();
    let mut conn: Option<Conn> = None;
    loop {
        let sent = Instant::now();
        if sent >= end {
            break;
        }
        let measured = sent >= warm_end;
        let outcome =
            tokio::time::timeout(REQUEST_TIMEOUT, exchange(&mut conn, addr, &request)).await;
        let done = Instant::now();
        let error = match outcome {
            Ok(Ok((200, length))) => {
                if done >= warm_end && done <= end {
                    tally.lists += 1;
                    tally.bytes += length as u64;
                }
                if measured {
                    tally
                        .samples
                        .push(Sample::new(done.duration_since(sent), true));
                }
                continue;
            }
            Ok(Ok((status, _))) => format!("HTTP {status}"),
            Ok(Err(failure)) => {
                conn = None;
                // Do not spin on a refusing server.
                tokio::time::sleep(Duration::from_millis(10)).await;
                failure.what
            }
            Err(_) => {
                conn = None;
                if measured {
                    tally
                        .samples
                        .push(Sample::new(done.duration_since(sent), false));
                }
                format!("timeout ({}s)", REQUEST_TIMEOUT.as_secs())
            }
        };
        *tally.errors.entry(error).or_default() += 1;
    }
    tally
}

/// One keep-alive connection's loop for a phase: takes the next scheduled slot (open
/// loop) or sends at once (closed loop), until the phase ends.
async fn connection(plan: Arc<Plan>, addr: SocketAddr) -> Tally {
    let mut tally = Tally::default();
    let mut conn: Option<Conn> = None;
    let mut request = Vec::with_capacity(256);
    let host = addr.to_string();
    loop {
        let due = match plan.rate {
            Some(rate) => {
                let scheduled =
                    plan.scheduled(plan.next_slot.fetch_add(1, Ordering::Relaxed), rate);
                if scheduled >= plan.end {
                    break;
                }
                let now = Instant::now();
                if now >= plan.end {
                    // Due, but this connection was busy until the phase ended.
                    tally.unsent += 1;
                    if scheduled >= plan.warm_end {
                        tally
                            .samples
                            .push(Sample::new(now.duration_since(scheduled), false));
                    }
                    break;
                }
                tokio::time::sleep_until(scheduled).await;
                scheduled
            }
            None => {
                let now = Instant::now();
                if now >= plan.end {
                    break;
                }
                now
            }
        };
        let measured = due >= plan.warm_end;
        let (id, score, flagged) = plan.ids.next();
        let body = format!(r#"{{"id":"{id}","site":"{}","score":{score}}}"#, plan.site);
        request.clear();
        request.extend_from_slice(
            format!(
                "POST /v1/ratings HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
        let outcome =
            tokio::time::timeout(REQUEST_TIMEOUT, exchange(&mut conn, addr, &request)).await;
        let done = Instant::now();
        match outcome {
            Ok(Ok((201, _))) => {
                tally.created += 1;
                tally.flagged_created += u64::from(flagged);
                if done >= plan.warm_end && done <= plan.end {
                    tally.created_in_window += 1;
                }
                if measured {
                    tally
                        .samples
                        .push(Sample::new(done.duration_since(due), true));
                }
            }
            Ok(Ok((status, _))) => tally.error(format!("HTTP {status}")),
            Ok(Err(failure)) => {
                conn = None;
                if failure.sent {
                    tally.unanswered += 1;
                }
                tally.error(failure.what);
                // Do not spin on a refusing server.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(_) => {
                // The connection is mid-request: it cannot be reused.
                conn = None;
                tally.unanswered += 1;
                tally.error(format!("timeout ({}s)", REQUEST_TIMEOUT.as_secs()));
                if measured {
                    tally
                        .samples
                        .push(Sample::new(done.duration_since(due), false));
                }
            }
        }
    }
    tally
}

/// A keep-alive connection and the bytes read past the last response.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Where reads land: large, so a list of cases (hundreds of KB) takes few reads.
    chunk: Box<[u8]>,
}

/// Why a request got no HTTP status.
struct Failure {
    what: String,
    /// The request may have reached the server.
    sent: bool,
}

/// Sends one request and reads its response: a lean HTTP/1.1 client (status line,
/// headers, a Content-Length body), so the generator costs little of the two cores.
/// Returns the status and the body's length.
async fn exchange(
    conn: &mut Option<Conn>,
    addr: SocketAddr,
    request: &[u8],
) -> Result<(u16, usize), Failure> {
    let fail = |what: String, sent: bool| Failure { what, sent };
    let c = match conn {
        Some(c) => c,
        None => {
            let stream = TcpStream::connect(addr)
                .await
                .map_err(|err| fail(format!("connect: {:?}", err.kind()), false))?;
            // Requests are small and one at a time: do not let Nagle hold them back.
            stream
                .set_nodelay(true)
                .map_err(|err| fail(format!("nodelay: {:?}", err.kind()), false))?;
            conn.insert(Conn {
                stream,
                buf: Vec::with_capacity(1024),
                chunk: vec![0; 64 * 1024].into_boxed_slice(),
            })
        }
    };
    write_all(&c.stream, request)
        .await
        .map_err(|err| fail(format!("write: {:?}", err.kind()), true))?;
    loop {
        if let Some(head) = find(&c.buf, b"\r\n\r\n") {
            let (status, length, close) =
                parse_head(&c.buf[..head]).map_err(|what| fail(what.into(), true))?;
            let total = head + 4 + length;
            while c.buf.len() < total {
                let n = read(&c.stream, &mut c.chunk)
                    .await
                    .map_err(|err| fail(format!("read: {:?}", err.kind()), true))?;
                if n == 0 {
                    return Err(fail("closed mid-body".into(), true));
                }
                c.buf.extend_from_slice(&c.chunk[..n]);
            }
            c.buf.drain(..total);
            if close {
                *conn = None;
            }
            return Ok((status, length));
        }
        let n = read(&c.stream, &mut c.chunk)
            .await
            .map_err(|err| fail(format!("read: {:?}", err.kind()), true))?;
        if n == 0 {
            return Err(fail("closed before answering".into(), true));
        }
        c.buf.extend_from_slice(&c.chunk[..n]);
    }
}

// The server crate's tokio has no `io-util` feature (no `AsyncReadExt`), so reads and
// writes go through the socket's readiness API, which `net` provides.

async fn write_all(stream: &TcpStream, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        stream.writable().await?;
        match stream.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

async fn read(stream: &TcpStream, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        stream.readable().await?;
        match stream.try_read(buf) {
            Ok(n) => return Ok(n),
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(err) => return Err(err),
        }
    }
}

/// The status, body length and `Connection: close` of a response head (without the
/// blank line).
fn parse_head(head: &[u8]) -> Result<(u16, usize, bool), &'static str> {
    let head = std::str::from_utf8(head).map_err(|_| "bad response: not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or("bad response: status line")?;
    let mut length = None;
    let mut close = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err("bad response: header line");
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse().map_err(|_| "bad response: Content-Length")?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            // Not needed against axum, whose JSON answers have a length.
            return Err("bad response: Transfer-Encoding is not supported");
        } else if name.eq_ignore_ascii_case("connection") && value.eq_ignore_ascii_case("close") {
            close = true;
        }
    }
    match (length, status) {
        (Some(length), _) => Ok((status, length, close)),
        (None, 204 | 304) | (None, 100..=199) => Ok((status, 0, close)),
        (None, _) => Err("bad response: no Content-Length"),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The ceiling: what axum alone does with the same requests. Parses the same JSON body
/// into a struct and answers a small JSON 201; prints its port on stdout, and exits when
/// its parent closes stdin (so a killed bench leaves no server behind).
fn ceiling_server() {
    use axum::http::StatusCode;
    use axum::routing::post;
    use axum::Json;

    #[derive(serde::Deserialize)]
    struct Rating {
        id: String,
        site: String,
        score: i64,
    }

    std::thread::spawn(|| {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        std::process::exit(0);
    });
    // The same runtime as `nearmiss serve`: multi-threaded, one worker per core.
    let runtime = tokio::runtime::Runtime::new().expect("the ceiling server's tokio runtime");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the ceiling server to a loopback port");
        let port = listener
            .local_addr()
            .expect("the ceiling server's address")
            .port();
        println!("{port}");
        let app = axum::Router::new().route(
            "/v1/ratings",
            post(|Json(rating): Json<Rating>| async move {
                let answer = serde_json::json!({
                    "id": rating.id,
                    "site": rating.site,
                    "flagged": rating.score < 5,
                    "case": null,
                });
                (StatusCode::CREATED, Json(answer))
            }),
        );
        axum::serve(listener, app)
            .await
            .expect("serving the ceiling endpoint");
    });
}

/// What the webhook receiver saw.
#[derive(Default)]
struct Hooks {
    posts: AtomicU64,
    /// `webhook-id`s: delivery is at least once, so a retry must not count twice.
    ids: Mutex<HashSet<String>>,
}

impl Hooks {
    fn unique(&self) -> usize {
        self.ids.lock().map_or(0, |ids| ids.len())
    }
}

/// A webhook endpoint on loopback that answers 200 to every POST; returns its URL. Its
/// own single thread keeps it off the load generator's runtime.
fn start_webhook_receiver(hooks: Arc<Hooks>) -> String {
    use axum::http::HeaderMap;
    use axum::routing::post;
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").expect("binding the webhook receiver");
    listener
        .set_nonblocking(true)
        .expect("a non-blocking webhook receiver socket");
    let url = format!(
        "http://{}/hook",
        listener
            .local_addr()
            .expect("the webhook receiver's address")
    );
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("the webhook receiver's tokio runtime");
        runtime.block_on(async move {
            let app = axum::Router::new().route(
                "/hook",
                post(move |headers: HeaderMap| {
                    hooks.posts.fetch_add(1, Ordering::Relaxed);
                    if let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok()) {
                        if let Ok(mut ids) = hooks.ids.lock() {
                            ids.insert(id.to_owned());
                        }
                    }
                    async { "ok" }
                }),
            );
            let listener = tokio::net::TcpListener::from_std(listener)
                .expect("the webhook receiver's tokio listener");
            axum::serve(listener, app)
                .await
                .expect("serving the webhook receiver");
        });
    });
    url
}

/// Kills the child process when dropped, so a failing bench leaves nothing running.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs a `nearmiss` management command and returns its stdout, trimmed.
fn nearmiss_cli(server: &Path, db: &Database, args: &[&str]) -> String {
    let output = Command::new(server)
        .arg("--db")
        .arg(db.arg())
        .args(args)
        .env("NEARMISS_LOG", "warn")
        .output()
        .unwrap_or_else(|err| panic!("running {}: {err}", server.display()));
    assert!(
        output.status.success(),
        "`nearmiss --db {} {}` failed ({}): {}",
        db.shown(),
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// A loopback port free right now (the server's `--listen` needs a number).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port for the server")
        .port()
}

/// `GET /healthz`'s status, or `None` when it did not answer.
fn healthz(addr: SocketAddr) -> Option<u16> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    agent
        .get(format!("http://{addr}/healthz"))
        .call()
        .ok()
        .map(|response| response.status().as_u16())
}

/// Waits for the server to answer `/healthz` 200; panics with its log if it exits first.
fn wait_healthy(server: &mut ChildGuard, addr: SocketAddr, log: &Path) {
    let started = Instant::now();
    while healthz(addr) != Some(200) {
        if let Ok(Some(status)) = server.0.try_wait() {
            panic!(
                "the server exited ({status}) before answering /healthz:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not answer /healthz within 30s on {addr}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The server's warnings and errors during the run, briefly.
/// `which` tells one of several servers' logs apart (" 2"), or is empty.
fn server_log_summary(which: &str, log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = format!(
        "server{which} log (NEARMISS_LOG=warn): {} lines\n",
        lines.len()
    );
    for line in lines.iter().take(5) {
        let _ = writeln!(out, "  {}", strip_ansi(line));
    }
    if lines.len() > 5 {
        let _ = writeln!(out, "  … (in {})", log.display());
    }
    out
}

/// The line without terminal colour codes (the server's log has them even in a file).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // An escape sequence ends with its first letter, as in "\x1b[2m".
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The results as a table.
fn table(results: &[PhaseResult]) -> String {
    // Wide enough for "nearmiss ×2", never narrower than it always was.
    let width = results
        .iter()
        .map(|r| r.target.chars().count())
        .fold(9, usize::max);
    let mut out = format!(
        "{:<width$} {:>8} {:>11} {:>9} {:>10} {:>10} {:>8} {:>7} {:>7}\n",
        "target", "load", "achieved/s", "p50 ms", "p99 ms", "max ms", "201s", "errors", "unsent"
    );
    for r in results {
        let (p50, p50_exact) = r.percentile(0.50);
        let (p99, p99_exact) = r.percentile(0.99);
        let (max, max_exact) = r.percentile(1.0);
        let _ = writeln!(
            out,
            "{:<width$} {:>8} {:>11} {:>9} {:>10} {:>10} {:>8} {:>7} {:>7}",
            r.target,
            r.offered.map_or("max".into(), |rate| format!("{rate}/s")),
            thousands(r.achieved.round() as u64),
            latency(p50, p50_exact),
            latency(p99, p99_exact),
            latency(max, max_exact),
            thousands(r.created),
            r.errors.values().sum::<u64>(),
            r.unsent
        );
        if let Some(read) = &r.readers {
            let _ = writeln!(out, "{:<width$} {}", "", read.line());
        }
    }
    for r in results.iter().filter(|r| !r.errors.is_empty()) {
        let kinds: Vec<String> = r.errors.iter().map(|(k, n)| format!("{k} x{n}")).collect();
        let _ = writeln!(
            out,
            "errors, {} {}: {}",
            r.target,
            r.offered.map_or("max".into(), |rate| format!("{rate}/s")),
            kinds.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "(latency from each request's scheduled time; \">=\": a lower bound, the percentile \
         includes requests never sent or never answered)"
    );
    out
}

fn latency(value: Option<Duration>, exact: bool) -> String {
    match value {
        None => "-".into(),
        Some(d) => format!(
            "{}{:.1}",
            if exact { "" } else { ">=" },
            d.as_secs_f64() * 1000.0
        ),
    }
}

fn met(yes: bool) -> &'static str {
    if yes {
        "met"
    } else {
        "NOT met"
    }
}

/// 12345 → "12,345".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The filesystem type holding `path` (from /proc/mounts: the longest mount point
/// that contains it), to tell a disk from tmpfs, where fsync is free.
fn filesystem_of(path: &Path) -> Option<String> {
    let dir = path.parent()?.canonicalize().ok()?;
    let mounts = std::fs::read_to_string("/proc/mounts").ok()?;
    mounts
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (_, point, fs) = (fields.next()?, fields.next()?, fields.next()?);
            dir.starts_with(point).then(|| (point.len(), fs.to_owned()))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, fs)| fs)
}

/// Now as "YYYY-MM-DD HH:MM" in UTC (civil-from-days, Howard Hinnant's algorithm).
fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        rem / 3_600,
        rem % 3_600 / 60
    )
}

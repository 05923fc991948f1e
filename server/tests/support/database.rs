//! The database a test server runs on: an SQLite file in the test's folder, or, when
//! `NEARMISS_TEST_POSTGRES` names a PostgreSQL server (`postgres://USER@HOST:PORT/DB`),
//! a fresh database of its own there. `cargo xtask test` runs the API, alert and crash
//! suites both ways.

use std::path::{Path, PathBuf};

/// The variable naming the PostgreSQL server tests may create databases on.
pub const POSTGRES: &str = "NEARMISS_TEST_POSTGRES";

/// A test's database.
#[derive(Clone, Debug)]
pub enum Database {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A database of its own on the test PostgreSQL server.
    Postgres {
        /// The URL servers open.
        url: String,
    },
}

/// A value both engines can answer with (`i64`, `String`, `Option` of them).
pub trait Answer: rusqlite::types::FromSql + for<'a> postgres::types::FromSql<'a> {}
impl<T: rusqlite::types::FromSql + for<'a> postgres::types::FromSql<'a>> Answer for T {}

impl Database {
    /// The database kept in `dir`: the same one each time for the same folder (a restart
    /// finds what it wrote), fresh for a new folder.
    pub fn in_dir(dir: &Path) -> Database {
        let Ok(server) = std::env::var(POSTGRES) else {
            return Database::Sqlite(dir.join("nearmiss.db"));
        };
        let marker = dir.join("postgres-database");
        let name = match std::fs::read_to_string(&marker) {
            Ok(name) => name,
            Err(_) => {
                let name = format!("nearmiss_test_{}", unique());
                let mut admin = postgres::Client::connect(&server, postgres::NoTls)
                    .unwrap_or_else(|err| panic!("connecting to {server} ({POSTGRES}): {err}"));
                admin
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("creating a test database");
                std::fs::write(&marker, &name).unwrap();
                name
            }
        };
        Database::Postgres {
            url: nearmiss_server::store::with_database(&server, &name),
        }
    }

    /// Whether the tests run on PostgreSQL.
    pub fn is_postgres() -> bool {
        std::env::var_os(POSTGRES).is_some()
    }

    /// What `--db` takes.
    pub fn url(&self) -> String {
        match self {
            Database::Sqlite(path) => path.display().to_string(),
            Database::Postgres { url } => url.clone(),
        }
    }

    /// The value `sql` (a query both engines understand) answers.
    #[track_caller]
    pub fn query<T: Answer>(&self, sql: &str) -> T {
        match self {
            Database::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).expect("opening the database file");
                conn.query_row(sql, [], |row| row.get(0))
                    .unwrap_or_else(|err| panic!("{sql}: {err}"))
            }
            Database::Postgres { url } => {
                let mut client =
                    postgres::Client::connect(url, postgres::NoTls).expect("connecting");
                let row = client
                    .query_one(sql, &[])
                    .unwrap_or_else(|err| panic!("{sql}: {err}"));
                row.try_get(0).unwrap_or_else(|err| panic!("{sql}: {err}"))
            }
        }
    }

    /// The first column of every row `sql` answers, as text.
    #[track_caller]
    pub fn strings(&self, sql: &str) -> Vec<String> {
        match self {
            Database::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).expect("opening the database file");
                let mut statement = conn
                    .prepare(sql)
                    .unwrap_or_else(|err| panic!("{sql}: {err}"));
                let rows = statement
                    .query_map([], |row| row.get(0))
                    .and_then(|rows| rows.collect::<Result<Vec<String>, _>>());
                rows.unwrap_or_else(|err| panic!("{sql}: {err}"))
            }
            Database::Postgres { url } => {
                let mut client =
                    postgres::Client::connect(url, postgres::NoTls).expect("connecting");
                let rows = client
                    .query(sql, &[])
                    .unwrap_or_else(|err| panic!("{sql}: {err}"));
                rows.iter()
                    .map(|row| row.try_get(0).unwrap_or_else(|err| panic!("{sql}: {err}")))
                    .collect()
            }
        }
    }

    /// Runs `sql` (statements both engines understand), for a test that changes stored
    /// data behind the server's back.
    #[track_caller]
    pub fn execute(&self, sql: &str) {
        match self {
            Database::Sqlite(path) => rusqlite::Connection::open(path)
                .and_then(|conn| conn.execute_batch(sql))
                .unwrap_or_else(|err| panic!("{sql}: {err}")),
            Database::Postgres { url } => postgres::Client::connect(url, postgres::NoTls)
                .and_then(|mut client| client.batch_execute(sql))
                .unwrap_or_else(|err| panic!("{sql}: {err}")),
        }
    }
}

/// A name no other test (or test process) uses.
fn unique() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

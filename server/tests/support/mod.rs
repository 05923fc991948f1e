//! A real `nearmiss` server for tests: its own runtime thread, an ephemeral port on
//! loopback, a temporary database (an SQLite file, or a PostgreSQL database: see
//! [`database`]), and a plain HTTP client.

#![allow(dead_code)] // each test file uses a different part

pub mod axe;
pub mod database;
pub mod desk;
pub mod host;
pub mod process;
pub mod receiver;
pub mod smtp;
pub mod webdriver;

use database::Database;
use nearmiss_server::sites::{self, SiteSettings};
use nearmiss_server::states::EndpointKind;
use nearmiss_server::{alerts, tokens, Alerts, AppState, Assets, Clock, ServeConfig, Store};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A clock for tests, starting at 2026-11-29T12:00:00Z.
pub fn test_clock() -> Arc<AtomicI64> {
    Arc::new(AtomicI64::new(1_795_953_600_000))
}

/// Waits up to 10 s for `condition`, checking every 20 ms.
#[track_caller]
pub fn wait_for(what: &str, condition: impl Fn() -> bool) {
    wait_within(Duration::from_secs(10), what, condition)
}

/// Waits up to `limit` for `condition`, checking every 20 ms.
#[track_caller]
pub fn wait_within(limit: Duration, what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A rating id for tests.
pub const ID: &str = "0b8f5c1e-4a7d-4c2b-9e3f-1a2b3c4d5e6f";

/// The `n`th rating id of a test.
pub fn id(n: u64) -> String {
    format!("0b8f5c1e-4a7d-4c2b-9e3f-{n:012}")
}

/// A `POST /v1/ratings` body: `rating(&site, 4).id(&id(2)).interaction("order-7").json()`.
#[derive(Clone)]
pub struct RatingBody(Value);

/// A rating of `score` for `site`, with the id [`ID`].
pub fn rating(site: &str, score: i64) -> RatingBody {
    RatingBody(json!({ "id": ID, "site": site, "score": score, "edit": edit(ID) }))
}

impl RatingBody {
    /// With this id (and its [`edit`] secret).
    pub fn id(self, id: &str) -> RatingBody {
        self.with("id", json!(id)).with("edit", json!(edit(id)))
    }

    /// With this interaction.
    pub fn interaction(self, interaction: &str) -> RatingBody {
        self.with("interaction", json!(interaction))
    }

    /// With `field` set to `value` (or removed, for `Value::Null`).
    pub fn with(mut self, field: &str, value: Value) -> RatingBody {
        let body = self.0.as_object_mut().expect("an object");
        match value {
            Value::Null => body.remove(field),
            value => body.insert(field.to_owned(), value),
        };
        self
    }

    /// The body.
    pub fn json(&self) -> Value {
        self.0.clone()
    }
}

/// The `edit` secret the test ratings of `id` carry: what `/details` and `/score` need.
pub fn edit(id: &str) -> String {
    format!("edit-{id}")
}

/// How a test server is set up: `Server::builder().rate_limit(3).start()`.
#[derive(Clone, Default)]
pub struct Builder {
    config: ServeConfig,
    clock: Option<Arc<AtomicI64>>,
    dir: Option<PathBuf>,
    widget: Option<PathBuf>,
    site: Option<String>,
    port: u16,
    names: Option<Arc<NameTable>>,
}

/// A DNS of the test's own for alert targets: names answer what the test put in, and
/// every lookup is counted.
#[derive(Default)]
pub struct NameTable {
    answers: std::sync::Mutex<std::collections::HashMap<String, std::net::IpAddr>>,
    lookups: std::sync::atomic::AtomicUsize,
}

impl NameTable {
    /// From now on `name` resolves to `ip`.
    pub fn set(&self, name: &str, ip: &str) {
        let ip = ip.parse().expect("an IP address");
        self.answers.lock().unwrap().insert(name.to_owned(), ip);
    }

    /// Lookups so far.
    pub fn lookups(&self) -> usize {
        self.lookups.load(Ordering::SeqCst)
    }
}

impl nearmiss_server::alerts::target::Names for NameTable {
    fn lookup(&self, host: &str, port: u16) -> std::io::Result<Vec<std::net::SocketAddr>> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        if let Ok(ip) = host.parse() {
            return Ok(vec![std::net::SocketAddr::new(ip, port)]);
        }
        match self.answers.lock().unwrap().get(host) {
            Some(ip) => Ok(vec![std::net::SocketAddr::new(*ip, port)]),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no such name",
            )),
        }
    }
}

impl Builder {
    /// Requests a minute per client address (default: unlimited).
    pub fn rate_limit(mut self, per_minute: u32) -> Builder {
        self.config.rate_limit = per_minute;
        self
    }

    /// `X-Forwarded-For` from this proxy address or network names the client.
    pub fn trusted_proxy(mut self, network: &str) -> Builder {
        self.config
            .trusted_proxies
            .push(network.parse().expect("an address or network"));
        self
    }

    /// Ratings and details a minute per site (default: unlimited).
    pub fn site_rate_limit(mut self, per_minute: u32) -> Builder {
        self.config.site_rate_limit = per_minute;
        self
    }

    /// A clock the test moves, in Unix milliseconds.
    pub fn clock(mut self, clock: Arc<AtomicI64>) -> Builder {
        self.clock = Some(clock);
        self
    }

    /// Email alerts through this `smtp://127.0.0.1:PORT` sink.
    pub fn smtp(mut self, url: &str) -> Builder {
        self.config.smtp_url = Some(url.to_owned());
        self
    }

    /// Header and body timeouts, and at most `max_connections` served at once.
    pub fn door(mut self, header: Duration, body: Duration, max_connections: usize) -> Builder {
        self.config.header_timeout = header;
        self.config.body_timeout = body;
        self.config.max_connections = Some(max_connections);
        self
    }

    /// Alert targets' names are looked up in `names`, not in DNS.
    pub fn names(mut self, names: Arc<NameTable>) -> Builder {
        self.names = Some(names);
        self
    }

    /// Refuse loopback alert targets, as production does.
    pub fn refuse_private(mut self) -> Builder {
        self.config.allow_private_targets = false;
        self
    }

    /// The database (and stand-in widget files) in `dir`, kept after the server stops;
    /// a server started in the same `dir` again is a restart.
    pub fn in_dir(mut self, dir: &Path) -> Builder {
        self.dir = Some(dir.to_path_buf());
        self
    }

    /// Serve the real built widget in `assets` (`target/widget`), with no site added.
    pub fn widget(mut self, assets: &Path) -> Builder {
        self.widget = Some(assets.to_path_buf());
        self
    }

    /// The test site is this existing one (a restart), instead of a new "Test Shop".
    pub fn site(mut self, key: &str) -> Builder {
        self.site = Some(key.to_owned());
        self
    }

    /// Listen on this port (to come back where a stopped server was).
    pub fn port(mut self, port: u16) -> Builder {
        self.port = port;
        self
    }

    /// Starts the server.
    pub fn start(self) -> Server {
        let (dir, temp) = match &self.dir {
            Some(dir) => (dir.clone(), None),
            None => {
                let temp = tempfile::tempdir().expect("a temporary folder");
                (temp.path().to_path_buf(), Some(temp))
            }
        };
        let assets = match &self.widget {
            Some(assets) => assets.clone(),
            None => stand_in_assets(&dir),
        };
        let mut server = Server::launch(Database::in_dir(&dir), &assets, &self);
        server._temp = temp;
        server.site = match (&self.site, &self.widget) {
            (Some(site), _) => site.clone(),
            (None, None) => server.add_site("Test Shop", &["https://shop.example"]),
            (None, Some(_)) => String::new(),
        };
        server
    }
}

/// Widget files that are not the widget: enough for the asset and page routes.
fn stand_in_assets(dir: &Path) -> PathBuf {
    let assets = dir.join("assets");
    std::fs::create_dir_all(assets.join("widget")).unwrap();
    let files: &[(&str, &[u8])] = &[
        ("nearmiss.js", b"/* loader */"),
        ("widget/nearmiss-0123456789.wasm", b"wasm"),
        ("widget/nearmiss-0123456789.wasm.gz", b"gzipped"),
        (
            "demo.html",
            b"<h1>{{SITE_NAME}}</h1><script data-site=\"{{SITE_KEY}}\"></script>",
        ),
        (
            "rerate.html",
            b"<p>{{CASE_REF}}</p><script data-site=\"{{SITE_KEY}}\" data-rerate=\"{{RERATE}}\"></script>",
        ),
    ];
    for (name, bytes) in files {
        std::fs::write(assets.join(name), bytes).unwrap();
    }
    assets
}

/// A real `nearmiss` server: its own runtime thread, an ephemeral port on loopback, a
/// database, and a plain HTTP client. Stops when dropped.
pub struct Server {
    pub base: String,
    /// The key of the test site ("Test Shop", origin https://shop.example, unless the
    /// builder named another).
    pub site: String,
    /// The SQLite file, for tests of SQLite alone (`database` otherwise).
    pub db: PathBuf,
    pub database: Database,
    pub store: Store,
    pub alerts: Arc<Alerts>,
    pub clock: Option<Arc<AtomicI64>>,
    agent: ureq::Agent,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _temp: Option<tempfile::TempDir>,
}

impl Server {
    /// A server on a fresh database with the site "Test Shop" and stand-in widget files.
    pub fn start() -> Server {
        Server::builder().start()
    }

    /// A server with the real built widget and no site yet.
    pub fn with_widget() -> Server {
        Server::builder().widget(&widget_dir()).start()
    }

    /// A server set up step by step; no rate limits, private alert targets allowed.
    pub fn builder() -> Builder {
        Builder {
            config: ServeConfig {
                rate_limit: 0,
                site_rate_limit: 0,
                allow_private_targets: true,
                mail_from: "nearmiss <alerts@shop.example>".into(),
                shutdown_grace: Duration::from_secs(1),
                ..ServeConfig::default()
            },
            ..Builder::default()
        }
    }

    /// The port this server listens on.
    pub fn port(&self) -> u16 {
        self.base
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a port")
    }

    fn launch(database: Database, assets: &Path, builder: &Builder) -> Server {
        let store = Store::open(&database.url()).expect("opening the test database");
        let assets = Assets::from_dir(assets).expect("reading the assets");
        let listener = std::net::TcpListener::bind(("127.0.0.1", builder.port)).expect("a port");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let config = ServeConfig {
            public_url: Some(base.clone()),
            ..builder.config.clone()
        };
        let mut state = AppState::new(store.clone(), assets, &config);
        if let Some(clock) = &builder.clock {
            let clock = clock.clone();
            state = state.with_clock(Clock::from_fn(move || clock.load(Ordering::SeqCst)));
        }
        if let Some(names) = &builder.names {
            state.alerts = Alerts::resolving(
                &config.public_url(),
                config.smtp_url.clone(),
                &config.mail_from,
                config.allow_private_targets,
                names.clone(),
            );
        }
        let alerts = state.alerts.clone();
        listener.set_nonblocking(true).unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                nearmiss_server::serve(listener, state, async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
            });
        });
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // No idle connections: a graceful shutdown waits for open ones.
            .max_idle_connections(0)
            .timeout_global(Some(std::time::Duration::from_secs(30)))
            .build()
            .into();
        Server {
            base,
            site: String::new(),
            db: PathBuf::from(database.url()),
            database,
            store,
            alerts,
            clock: builder.clock.clone(),
            agent,
            shutdown: Some(tx),
            thread: Some(thread),
            _temp: None,
        }
    }

    /// Adds a site and returns its key.
    pub fn add_site(&self, name: &str, origins: &[&str]) -> String {
        let mut settings = SiteSettings::new(name);
        settings.origins = origins.iter().map(|o| o.to_string()).collect();
        self.add_site_with(settings)
    }

    /// Adds a site with these settings (its secret is "secret"); returns its key.
    pub fn add_site_with(&self, settings: SiteSettings) -> String {
        let key = sites::new_key();
        let answer = key.clone();
        self.store
            .write_now(move |tx| tx.insert_site(&settings, &key, "secret", Clock::system().now()))
            .unwrap();
        self.store.forget_sites();
        answer
    }

    /// The server's time now: the test clock's, else the system's.
    pub fn now(&self) -> i64 {
        match &self.clock {
            Some(clock) => clock.load(Ordering::SeqCst),
            None => Clock::system().now(),
        }
    }

    /// A re-rating link's token for the case, as the customer's email would carry it.
    pub fn rerate_link(&self, reference: &str) -> String {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime
            .block_on(nearmiss_server::cases::rerate_link(
                &self.store,
                reference,
                self.now(),
            ))
            .unwrap()
            .expect("a case with this reference")
    }

    /// Moves the test clock forward and wakes the alert worker.
    pub fn advance(&self, by: Duration) {
        let clock = self
            .clock
            .as_ref()
            .expect("a server started with a test clock");
        clock.fetch_add(by.as_millis() as i64, Ordering::SeqCst);
        self.alerts.wake();
    }

    /// A new API token.
    pub fn token(&self, name: &str) -> String {
        tokens::add(&self.store, name, 0).unwrap()
    }

    /// Adds an alert endpoint to the test site; returns the webhook secret, if any.
    pub fn add_endpoint(&self, kind: &str, target: &str, escalation: bool) -> Option<String> {
        let site = self
            .store
            .read_now(|tx| tx.site_by_key(&self.site, Clock::system().now()))
            .unwrap()
            .expect("the test site");
        let kind = EndpointKind::parse(kind).expect("webhook, slack or email");
        alerts::add_endpoint(&self.store, site.id, kind, target, escalation, 0)
            .unwrap()
            .1
    }

    /// A request with a bearer token.
    pub fn authed(&self, method: &str, path: &str, token: &str, body: Option<&Value>) -> Reply {
        let auth = format!("Bearer {token}");
        let text = body.map(Value::to_string);
        self.request(
            method,
            path,
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            text.as_deref().map(str::as_bytes),
        )
    }

    /// The text the SQL query returns, read from the database.
    pub fn query_string(&self, sql: &str) -> String {
        self.database.query(sql)
    }

    /// The integer the SQL query returns, read from the database.
    pub fn count(&self, sql: &str) -> i64 {
        self.database.query(sql)
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{}", self.base, path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(body.map(<[u8]>::to_vec).unwrap_or_default())
            .unwrap();
        Reply::from(self.agent.run(request).expect("the server answers"))
    }

    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[], None)
    }

    pub fn post(&self, path: &str, content_type: &str, body: impl AsRef<[u8]>) -> Reply {
        self.request(
            "POST",
            path,
            &[("content-type", content_type)],
            Some(body.as_ref()),
        )
    }

    pub fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.post(path, "application/json", body.to_string())
    }
}

/// The built widget: `cargo xtask test` builds it into `target/widget` first.
pub fn widget_dir() -> std::path::PathBuf {
    let dir = std::env::var_os("NEARMISS_WIDGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/widget")
        });
    assert!(
        dir.join("nearmiss.js").exists(),
        "no built widget in {}: run `cargo xtask test` (it builds the widget first) or `cargo xtask build`",
        dir.display()
    );
    dir
}

/// The value an SQL query returns, read straight from the SQLite file.
#[track_caller]
pub fn query<T: rusqlite::types::FromSql>(db: &Path, sql: &str) -> T {
    let conn = rusqlite::Connection::open(db).expect("opening the database file");
    conn.query_row(sql, [], |row| row.get(0))
        .unwrap_or_else(|err| panic!("{sql}: {err}"))
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[derive(Debug, Default)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl From<ureq::http::Response<ureq::Body>> for Reply {
    fn from(mut response: ureq::http::Response<ureq::Body>) -> Reply {
        Reply {
            status: response.status().as_u16(),
            headers: response
                .headers()
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
                .collect(),
            body: response.body_mut().read_to_string().unwrap_or_default(),
        }
    }
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }

    /// Asserts the status and the error body `{"error": {code, message, field?}}`.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str, field: Option<&str>) {
        assert_eq!(self.status, status, "status of {}", self.body);
        let body = self.json();
        let error = &body["error"];
        assert_eq!(error["code"], code, "code in {}", self.body);
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "message in {}",
            self.body
        );
        assert_eq!(error["field"].as_str(), field, "field in {}", self.body);
    }
}

//! A real `nearmiss` server for tests: its own runtime thread, an ephemeral port on
//! loopback, a temporary SQLite file, and a plain HTTP client.

#![allow(dead_code)] // each test file uses a different part

pub mod host;
pub mod receiver;
pub mod smtp;
pub mod webdriver;

use nearmiss_server::sites::SiteSettings;
use nearmiss_server::{store, Alerts, AppState, Assets, Clock, Store};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How a test server is set up.
#[derive(Clone, Default)]
pub struct Options {
    /// Requests a minute per client address (0: unlimited).
    pub rate_limit: u32,
    /// Ratings and details a minute per site (0: unlimited).
    pub site_rate_limit: u32,
    /// A clock the test moves, in Unix milliseconds; the system clock when `None`.
    pub clock: Option<Arc<AtomicI64>>,
    /// `smtp://127.0.0.1:PORT` of a test SMTP sink.
    pub smtp_url: Option<String>,
    /// Refuse loopback alert targets, as production does.
    pub refuse_private: bool,
    /// Listen on this port (to come back where a stopped server was); any free one if 0.
    pub port: u16,
}

/// A clock for tests, starting at 2026-11-24T12:00:00Z.
pub fn test_clock() -> Arc<AtomicI64> {
    Arc::new(AtomicI64::new(1_795_953_600_000))
}

/// Waits up to 10 s for `condition`, checking every 20 ms.
#[track_caller]
pub fn wait_for(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A rating id for tests.
pub const ID: &str = "0b8f5c1e-4a7d-4c2b-9e3f-1a2b3c4d5e6f";

pub struct Server {
    pub base: String,
    /// The key of the site "Test Shop" (origin https://shop.example).
    pub site: String,
    pub db: PathBuf,
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
        let temp = tempfile::tempdir().expect("a temporary folder");
        let mut server = Server::start_in(temp.path(), Options::default());
        server._temp = Some(temp);
        server
    }

    pub fn start_with_rate_limit(per_minute: u32) -> Server {
        Server::start_with(Options {
            rate_limit: per_minute,
            ..Options::default()
        })
    }

    /// A server on a fresh database, set up as `options` say.
    pub fn start_with(options: Options) -> Server {
        let temp = tempfile::tempdir().expect("a temporary folder");
        let mut server = Server::start_in(temp.path(), options);
        server._temp = Some(temp);
        server
    }

    /// A new server with the database and assets in `dir`.
    pub fn start_in(dir: &Path, options: Options) -> Server {
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
        let mut server = Server::launch(dir.join("nearmiss.db"), &assets, String::new(), options);
        server.site = server.add_site("Test Shop", &["https://shop.example"]);
        server
    }

    /// A server on the database a stopped server left in `dir`.
    pub fn reopen(dir: &Path, site: String, options: Options) -> Server {
        Server::launch(dir.join("nearmiss.db"), &dir.join("assets"), site, options)
    }

    /// A server for the real built widget in `assets` (`target/widget`).
    pub fn with_widget(dir: &Path, assets: &Path) -> Server {
        Server::launch(
            dir.join("nearmiss.db"),
            assets,
            String::new(),
            Options::default(),
        )
    }

    /// The same, on `port` and the database in `dir`: a restart of a stopped one.
    pub fn with_widget_on(dir: &Path, assets: &Path, site: String, port: u16) -> Server {
        let options = Options {
            port,
            ..Options::default()
        };
        Server::launch(dir.join("nearmiss.db"), assets, site, options)
    }

    /// The port this server listens on.
    pub fn port(&self) -> u16 {
        self.base
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a port")
    }

    fn launch(db: PathBuf, assets: &Path, site: String, options: Options) -> Server {
        let store = Store::open(&db).expect("opening the test database");
        let assets = Assets::from_dir(assets).expect("reading the assets");
        let listener = std::net::TcpListener::bind(("127.0.0.1", options.port)).expect("a port");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let alerts = Alerts::new(
            &base,
            options.smtp_url.clone(),
            "nearmiss <alerts@shop.example>",
            !options.refuse_private,
        );
        let mut state = AppState::new(store, assets, options.rate_limit)
            .with_alerts(alerts.clone())
            .with_site_limit(options.site_rate_limit);
        if let Some(clock) = &options.clock {
            let clock = clock.clone();
            state = state.with_clock(Clock::from_fn(move || clock.load(Ordering::SeqCst)));
        }
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
            site,
            db,
            alerts,
            clock: options.clock,
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

    /// Adds a site with these settings and the secret `secret`; returns its key.
    pub fn add_site_with(&self, settings: SiteSettings) -> String {
        let key = format!("s_{}", nearmiss_server::sites::random_token(20));
        let store = Store::open(&self.db).unwrap();
        store
            .run_now(|conn| store::add_site(conn, &settings, &key, "secret", Clock::system().now()))
            .unwrap();
        key
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
        let store = Store::open(&self.db).unwrap();
        store
            .run_now(|conn| nearmiss_server::auth::add_token(conn, name, 0))
            .unwrap()
    }

    /// Adds an alert endpoint to the test site; returns the webhook secret, if any.
    pub fn add_endpoint(&self, kind: &str, target: &str, escalation: bool) -> Option<String> {
        let store = Store::open(&self.db).unwrap();
        let site = store
            .run_now(|conn| store::site_by_key(conn, &self.site))
            .unwrap()
            .unwrap();
        let endpoint = nearmiss_server::alerts::NewEndpoint {
            kind,
            target,
            escalation,
        };
        store
            .run_now(|conn| nearmiss_server::alerts::add_endpoint(conn, site.id, &endpoint, 0))
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

    /// The text the SQL query returns, read from the database file.
    pub fn query_string(&self, sql: &str) -> String {
        let store = Store::open(&self.db).unwrap();
        store
            .run_now(|conn| Ok(conn.query_row(sql, [], |row| row.get(0))?))
            .unwrap_or_else(|err| panic!("{sql}: {err}"))
    }

    /// The integer the SQL query returns, read from the database file.
    pub fn count(&self, sql: &str) -> i64 {
        let store = Store::open(&self.db).unwrap();
        store
            .run_now(|conn| Ok(conn.query_row(sql, [], |row| row.get(0))?))
            .unwrap_or_else(|err| panic!("{sql}: {err}"))
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
        let mut response = self.agent.run(request).expect("the server answers");
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

//! `cargo xtask …`: builds and optimises the widget, runs the demo and every test.
//!
//! Installs what cargo can install (the wasm32 target, `wasm-bindgen-cli` at the exact
//! version of the `wasm-bindgen` crate, and `wasm-opt` from npm when npm is there), and
//! says what it is doing while it does.

mod bench_widget;
mod postgres;
mod tools;
mod widget;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const USAGE: &str = "\
usage: cargo xtask <command>

  demo [--port N]   build the widget, start the server on an SQLite file with a demo
                    site, and print the demo page's URL
  test              every test: native, wasm in headless Chromium, end to end, size;
                    the store, API, alert, crash, desk, numbers, token and
                    several-server suites again on
                    PostgreSQL (NEARMISS_TEST_POSTGRES=postgres://…, or a throwaway
                    cluster xtask starts)
  build             build and optimise the widget into target/widget
  size              the widget's bytes (raw, gzip, brotli) against the budget
  dist              one release server binary with the widget embedded (target/dist)
  bench alerts      time from POST /v1/ratings to the webhook received (p50, p99)
  bench ingest [--db PATH|postgres://…] [--readers N] [--servers N]
                    durable ratings/s of the release server (offered 1,000/s and
                    5,000/s, then maximum) against a bare axum ceiling; about a
                    minute; fails if a 201 rating is missing from the database
                    (default database: a temporary SQLite file; with the URL of a
                    PostgreSQL server, a database of its own there, dropped
                    afterwards); --readers N: N clients list the open cases
                    meanwhile (GET /v1/cases); --servers N: N servers share the
                    PostgreSQL database, the load spread over them round-robin
  bench widget [--runs N] [--trace DIR]
                    the widget in headless Chromium (through playwright-core,
                    from npm): bytes before intent, button drawn, intent to
                    score radios interactive, longest task, layout shift; N cold
                    loads (default 20) plain, at 4x CPU throttling and on slow
                    3G; --trace DIR: a DevTools trace of each load
";

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(&args[1..]),
        Some("test") => test(),
        Some("build") => widget::build().map(|_| ()),
        Some("size") => widget::build().and_then(|dir| widget::size_report(&dir)),
        Some("dist") => dist(),
        Some("bench") => bench(&args[1..]),
        _ => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (xtask's parent folder).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is inside the workspace")
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// Says what is about to happen, then runs it; fails with the command's name.
fn run(cmd: &mut Command) -> Result {
    let shown = announce(cmd);
    outcome(&shown, cmd.current_dir(root()).status())
}

/// Prints the command line about to run, and returns it for messages.
fn announce(cmd: &Command) -> String {
    let shown = format!("{cmd:?}").replace('"', "");
    eprintln!("xtask: $ {shown}");
    shown
}

/// Runs a command for what it prints (stdout, as text); fails with its stderr.
fn captured(cmd: &mut Command) -> Result<String> {
    let shown = format!("{cmd:?}").replace('"', "");
    let output = cmd
        .output()
        .map_err(|err| format!("could not run {shown}: {err}"))?;
    if !output.status.success() {
        return Err(format!(
            "failed ({}): {shown}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn outcome(shown: &str, status: std::io::Result<std::process::ExitStatus>) -> Result {
    match status {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("failed ({status}): {shown}")),
        Err(err) => Err(format!("could not run {shown}: {err}")),
    }
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

fn say(message: &str) {
    eprintln!("xtask: {message}");
}

/// The demo's people's password: it is a local demo, printed for anyone to use.
const DEMO_PASSWORD: &str = "corner-bistro-demo";

/// Runs `command` with `input` on its standard input; fails when it fails.
fn feed(command: &mut Command, input: &str) -> Result {
    use std::io::Write;
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("running {command:?}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = writeln!(stdin, "{input}");
    }
    match child.wait() {
        Ok(status) if status.success() => Ok(()),
        _ => Err(format!("{command:?} failed")),
    }
}

fn demo(args: &[String]) -> Result {
    let port: u16 = match args {
        [] => 8080,
        [flag, port] if flag == "--port" => port
            .parse()
            .map_err(|_| format!("--port {port}: not a port number"))?,
        _ => return Err("usage: cargo xtask demo [--port N]".into()),
    };
    let assets = widget::build()?;
    run(cargo().args([
        "build",
        "--quiet",
        "-p",
        "nearmiss-server",
        "--bin",
        "nearmiss",
    ]))?;
    let server = target_dir().join("debug").join("nearmiss");
    let dir = target_dir().join("demo");
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let db = dir.join("nearmiss.db");
    let key_file = dir.join(format!("site-key-{port}"));
    let key = match std::fs::read_to_string(&key_file) {
        Ok(key) if db.exists() => key.trim().to_owned(),
        _ => {
            say("creating the demo site \"Corner Bistro\"");
            let origin = format!("http://127.0.0.1:{port}");
            let mut add = Command::new(&server);
            add.arg("--db")
                .arg(&db)
                .args([
                    "site",
                    "add",
                    "--name",
                    "Corner Bistro",
                    "--origin",
                    &origin,
                ])
                .args(["--origin", &format!("http://localhost:{port}")])
                .args(["--owner", "Sam, the Corner Bistro manager"])
                .args([
                    "--reason",
                    "Late delivery",
                    "--reason",
                    "Cold food",
                    "--reason",
                    "Missing item",
                ])
                .args([
                    "--reason",
                    "Wrong order",
                    "--reason",
                    "Rude staff",
                    "--reason",
                    "Something else",
                ]);
            let key = captured(&mut add)?.trim().to_owned();
            std::fs::write(&key_file, &key)
                .map_err(|e| format!("writing {}: {e}", key_file.display()))?;
            key
        }
    };
    let token_file = dir.join(format!("api-token-{port}"));
    let token = match std::fs::read_to_string(&token_file) {
        Ok(token) => token.trim().to_owned(),
        Err(_) => {
            let token = captured(Command::new(&server).arg("--db").arg(&db).args([
                "token",
                "add",
                "--name",
                "Demo manager",
            ]))?
            .trim()
            .to_owned();
            std::fs::write(&token_file, &token)
                .map_err(|e| format!("writing {}: {e}", token_file.display()))?;
            token
        }
    };
    let login_file = dir.join(format!("desk-login-{port}"));
    if !login_file.exists() {
        say("adding the demo's people and four weeks of made-up ratings and cases");
        for (email, name, role) in [
            ("sam@bistro.example", "Sam", "owner"),
            ("jo@bistro.example", "Jo", "agent"),
        ] {
            let mut add = Command::new(&server);
            add.arg("--db")
                .arg(&db)
                .args(["user", "add", "--email", email, "--name", name]);
            add.args(["--role", role]);
            if role == "agent" {
                add.args(["--site", &key]);
            }
            if let Err(err) = feed(&mut add, DEMO_PASSWORD) {
                say(&format!("{err}; carrying on with the people already there"));
            }
        }
        // Fills only a site without cases: an older demo database keeps what it has.
        let _ = Command::new(&server)
            .arg("--db")
            .arg(&db)
            .args(["demo", "--site", &key])
            .status();
        std::fs::write(&login_file, "sam@bistro.example")
            .map_err(|e| format!("writing {}: {e}", login_file.display()))?;
    }
    eprintln!();
    eprintln!("  Demo page:   http://127.0.0.1:{port}/demo/{key}");
    eprintln!(
        "  Desk:        http://127.0.0.1:{port}/desk/  (sam@bistro.example or jo@bistro.example, password {DEMO_PASSWORD})"
    );
    eprintln!(
        "  Cases:       curl -H 'Authorization: Bearer {token}' http://127.0.0.1:{port}/v1/cases"
    );
    eprintln!("  Database:    {}", db.display());
    eprintln!("  Site key:    {key}");
    eprintln!("  Stop with Ctrl-C.");
    eprintln!();
    run(Command::new(&server)
        .arg("--db")
        .arg(&db)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--assets")
        .arg(&assets))
}

fn test() -> Result {
    tools::ensure_packages(tools::BROWSER_PACKAGES)?;
    let assets = widget::build()?;
    let axe = tools::axe_core().ok_or("axe-core is needed for the desk's accessibility tests")?;
    let mut counts = Counts::default();
    say("native tests: core, server, end to end (real server, real Chromium)");
    let native = counts.run(
        cargo()
            .args(["test", "--workspace"])
            // SQLite first; the PostgreSQL pass below sets it.
            .env_remove("NEARMISS_TEST_POSTGRES")
            .env("NEARMISS_WIDGET_DIR", &assets)
            .env("NEARMISS_AXE", &axe),
    );
    // The suites that hold the engine to the contract, again on PostgreSQL.
    let cluster = match std::env::var("NEARMISS_TEST_POSTGRES") {
        Ok(url) => Ok((None, url)),
        Err(_) => postgres::Cluster::start().map(|c| {
            let url = c.url.clone();
            (Some(c), url)
        }),
    };
    let on_postgres = cluster.and_then(|(_cluster, url)| {
        say(&format!("the same suites on PostgreSQL ({url})"));
        counts.run(
            cargo()
                .args(["test", "-p", "nearmiss-server"])
                .args([
                    "--lib", "--test", "api", "--test", "alerts", "--test", "crash",
                ])
                .args(["--test", "desk", "--test", "numbers", "--test", "tokens"])
                .args(["--test", "servers"])
                .env("NEARMISS_TEST_POSTGRES", &url),
        )
    });
    say("widget tests: wasm in headless Chromium");
    let wasm = counts.run(
        cargo()
            .args([
                "test",
                "-p",
                "nearmiss-widget",
                "--target",
                "wasm32-unknown-unknown",
                // The test harness brings the standard library (see Cargo.toml).
                "--features",
                "std",
            ])
            .env("CHROMEDRIVER", tools::CHROMEDRIVER)
            .env("WASM_BINDGEN_TEST_TIMEOUT", "60"),
    );
    let size = widget::size_report(&assets);
    println!("tests: {} passed, {} failed", counts.passed, counts.failed);
    native.and(on_postgres).and(wasm).and(size)?;
    if counts.passed == 0 {
        return Err("no test ran".into());
    }
    Ok(())
}

/// Passed and failed tests, summed from cargo's `test result:` lines.
#[derive(Default)]
struct Counts {
    passed: u64,
    failed: u64,
}

impl Counts {
    /// Runs a `cargo test`, echoing its output while counting its results.
    fn run(&mut self, cmd: &mut Command) -> Result {
        use std::io::{BufRead, BufReader};
        let shown = announce(cmd);
        let mut child = cmd
            .current_dir(root())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .map_err(|err| format!("could not run {shown}: {err}"))?;
        let stdout = child.stdout.take().expect("piped stdout");
        for line in BufReader::new(stdout)
            .lines()
            .map_while(std::io::Result::ok)
        {
            println!("{line}");
            if let Some(rest) = line.trim().strip_prefix("test result: ") {
                let number = |word: &str| -> u64 {
                    rest.split(';')
                        .find_map(|part| {
                            part.trim()
                                .strip_suffix(word)?
                                .split_whitespace()
                                .last()?
                                .parse()
                                .ok()
                        })
                        .unwrap_or(0)
                };
                self.passed += number(" passed");
                self.failed += number(" failed");
            }
        }
        outcome(&shown, child.wait())
    }
}

fn bench(args: &[String]) -> Result {
    match args.first().map(String::as_str) {
        Some("alerts") => run(cargo().args([
            "run",
            "--quiet",
            "--release",
            "-p",
            "nearmiss-server",
            "--example",
            "bench_alerts",
        ])),
        Some("ingest") => bench_ingest(&args[1..]),
        Some("widget") => bench_widget::run(&args[1..]),
        _ => Err(
            "usage: cargo xtask bench alerts | bench ingest [--db PATH|postgres://…] [--readers N] [--servers N] | bench widget [--runs N] [--trace DIR]"
                .into(),
        ),
    }
}

/// Builds the release server and the load generator, then runs the generator against
/// the server binary (a child process, as in production) with the database, the
/// number of readers and the number of servers passed on.
fn bench_ingest(args: &[String]) -> Result {
    const USAGE: &str = "usage: cargo xtask bench ingest [--db PATH|postgres://…] [--readers N] \
                         [--servers N] (N > 1 servers only with a postgres:// --db)";
    let (mut db, mut readers, mut servers) = (None, None, None);
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        match (flag.as_str(), rest.next()) {
            ("--db", Some(path)) => db = Some(path),
            ("--readers", Some(n)) if n.parse::<usize>().is_ok() => readers = Some(n),
            ("--servers", Some(n)) => match n.parse::<usize>() {
                Ok(n) if n > 0 => servers = Some(n),
                _ => return Err(USAGE.into()),
            },
            _ => return Err(USAGE.into()),
        }
    }
    // Checked here too, so a mistake costs no release build.
    let postgres = db.is_some_and(|db| db.contains("://"));
    if servers.is_some_and(|n| n > 1) && !postgres {
        return Err(format!(
            "--servers N > 1 needs a PostgreSQL --db (postgres://…): several servers cannot share an SQLite file\n{USAGE}"
        ));
    }
    run(release_server().args(["--example", "bench_ingest"]))?;
    let release = target_dir().join("release");
    let mut bench = Command::new(release.join("examples").join("bench_ingest"));
    bench.arg("--server").arg(release.join("nearmiss"));
    if let Some(db) = db {
        // The bench runs from the workspace root: a relative file is the caller's.
        let db = match std::env::current_dir() {
            Ok(here) if !db.contains("://") => here.join(db).into_os_string(),
            _ => db.into(),
        };
        bench.arg("--db").arg(db);
    }
    if let Some(readers) = readers {
        bench.arg("--readers").arg(readers);
    }
    if let Some(servers) = servers {
        bench.arg("--servers").arg(servers.to_string());
    }
    run(&mut bench)
}

/// `cargo build` of the release `nearmiss` binary.
fn release_server() -> Command {
    let mut build = cargo();
    build.args([
        "build",
        "--release",
        "-p",
        "nearmiss-server",
        "--bin",
        "nearmiss",
    ]);
    build
}

fn dist() -> Result {
    let assets = widget::build()?;
    run(release_server().env("NEARMISS_EMBED_ASSETS", &assets))?;
    let out = target_dir().join("dist");
    std::fs::create_dir_all(&out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    let binary = out.join("nearmiss");
    std::fs::copy(target_dir().join("release").join("nearmiss"), &binary)
        .map_err(|e| format!("copying the binary: {e}"))?;
    let bytes = std::fs::metadata(&binary).map(|m| m.len()).unwrap_or(0);
    say(&format!(
        "{} ({} KiB), widget embedded: run `{} serve`",
        binary.display(),
        bytes / 1024,
        binary.display()
    ));
    Ok(())
}

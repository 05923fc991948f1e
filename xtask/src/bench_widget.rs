//! `cargo xtask bench widget [--runs N] [--trace DIR]`: what the widget costs a page and
//! how fast it answers, in headless Chromium, plain, at 4× CPU throttling and on slow 3G.
//!
//! The release server serves the built widget from a temporary SQLite file with one
//! site; a page on another origin (a small server here, as a customer's shop would be)
//! embeds it with the default button trigger. `xtask/bench/widget.mjs` drives Chromium
//! through playwright-core and prints one line of `key=value` fields per load; this file
//! makes the table.
//!
//! Every figure is on the page's own clock: "button drawn" from the loader's first
//! statement to the end of the first frame rendered with the button ("script ran" is the
//! loader's own part, to its end; the wait before the page's main thread gets to the
//! script is shown apart); "intent → interactive" from the first pointer over the
//! button, when the widget starts downloading, to the end of the first frame rendered
//! with the score radios visible; the longest task from the loader's start to intent, and
//! from intent on, each with what ran in it; the bytes of every response before intent
//! but the page's own HTML.

use crate::{captured, release_server, root, say, target_dir, tools, widget, Result};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: cargo xtask bench widget [--runs N] [--trace DIR]";
const CHROMIUM: &str = "/usr/bin/chromium";
const PROFILES: [(&str, &str); 3] = [
    ("plain", "plain"),
    ("cpu-4x", "4× CPU"),
    ("slow-3g", "slow 3G"),
];

pub fn run(args: &[String]) -> Result {
    let (mut runs, mut trace) = (20, None);
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        match (flag.as_str(), rest.next()) {
            ("--runs", Some(n)) => {
                runs = n
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("--runs {n}: not a positive number\n{USAGE}"))?
            }
            // The traces go where the caller is, like bench ingest's --db.
            ("--trace", Some(dir)) => {
                trace = Some(std::path::absolute(dir).map_err(|e| e.to_string())?)
            }
            _ => return Err(USAGE.into()),
        }
    }
    let assets = widget::build()?;
    crate::run(&mut release_server())?;
    tools::ensure_packages(tools::BROWSER_PACKAGES)?;
    captured(Command::new("node").arg("--version"))
        .map_err(|e| format!("the widget bench needs Node.js 20 or later: {e}"))?;
    let playwright = tools::playwright_core().ok_or("the widget bench needs playwright-core")?;

    let dir = target_dir().join("bench-widget");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let db = dir.join("nearmiss.db");
    let server = target_dir().join("release").join("nearmiss");

    // The page's port must be known before the site is made: it is the site's origin.
    let pages =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("a port for the page: {e}"))?;
    let page = format!("http://{}/", pages.local_addr().map_err(|e| e.to_string())?);
    let origin = page.trim_end_matches('/');
    let key = captured(
        Command::new(&server)
            .arg("--db")
            .arg(&db)
            .args(["site", "add", "--name", "Bench Bistro", "--origin", origin])
            .env("NEARMISS_LOG", "warn"),
    )?
    .trim()
    .to_owned();

    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()?));
    let log = dir.join("server.log");
    let log_file =
        std::fs::File::create(&log).map_err(|e| format!("creating {}: {e}", log.display()))?;
    let mut nearmiss = ChildGuard(
        Command::new(&server)
            .arg("--db")
            .arg(&db)
            .args(["serve", "--listen", &addr.to_string(), "--assets"])
            .arg(&assets)
            // Every load fetches the settings from one address: no limits.
            .args(["--rate-limit", "0", "--site-rate-limit", "0"])
            .env("NEARMISS_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("starting {} serve: {e}", server.display()))?,
    );
    wait_healthy(&mut nearmiss, addr, &log)?;
    let server_url = format!("http://{addr}");
    serve_page(
        pages,
        format!(
            "{PAGE_HEAD}<script src=\"{server_url}/nearmiss.js\" data-site=\"{key}\" async></script>\n</body>\n</html>\n"
        ),
    );

    say(&format!(
        "{runs} cold loads per profile of {page} (Chromium, headless), widget from {server_url}"
    ));
    if let Some(dir) = &trace {
        say(&format!(
            "recording a DevTools trace of each load into {} (tracing slows the page down)",
            dir.display()
        ));
    }
    let mut node = Command::new("node");
    node.arg(root().join("xtask/bench/widget.mjs"))
        .arg(&playwright)
        .args([CHROMIUM, &page, &server_url, &runs.to_string()])
        .args(&trace)
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = ChildGuard(
        node.spawn()
            .map_err(|e| format!("running node xtask/bench/widget.mjs: {e}"))?,
    );
    let stdout = child.0.stdout.take().ok_or("node's stdout")?;
    let mut loads = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| format!("reading the browser's results: {e}"))?;
        let load = Load::parse(&line)?;
        say(&load.progress(runs));
        loads.push(load);
    }
    let status = child.0.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!(
            "the browser side failed ({status}): node xtask/bench/widget.mjs"
        ));
    }
    if let Ok(Some(status)) = nearmiss.0.try_wait() {
        return Err(format!(
            "the server exited ({status}) during the bench:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        ));
    }
    println!("{}", report(&loads, runs));
    Ok(())
}

/// A shop's page that adds nothing to the page but the tag (and an empty icon, so the
/// browser asks for no favicon: every response before intent is counted).
const PAGE_HEAD: &str = "<!doctype html>
<html lang=\"en\">
<head>
<meta charset=\"utf-8\">
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">
<title>Thanks for your order · Bench Bistro</title>
<link rel=\"icon\" href=\"data:,\">
<style>body{margin:0;font:16px/1.5 Georgia,serif}main{max-width:640px;margin:32px auto;padding:0 20px}</style>
</head>
<body>
<main>
<h1>Thanks for your order!</h1>
<p>Order #1042 was delivered at 19:42. We hope you enjoyed it.</p>
<p>1 × Margherita pizza, 1 × Garlic bread, 1 × Large fries. Total £21.50.</p>
<p>A receipt is on its way to your inbox.</p>
</main>
";

/// Answers every request with `html`, on a thread that lives as long as xtask.
fn serve_page(listener: TcpListener, html: String) {
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = answer(stream, &html);
        }
    });
}

fn answer(mut stream: TcpStream, html: &str) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    // Reads the request's head; a GET has no body.
    let mut head = Vec::new();
    let mut buf = [0; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{html}",
        html.len()
    )
}

/// Kills the child process when dropped, so a failing bench leaves nothing running.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> Result<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| format!("a free loopback port for the server: {e}"))
}

/// Waits for `/healthz` to answer 200; fails with the server's log if it exits first.
fn wait_healthy(server: &mut ChildGuard, addr: SocketAddr, log: &Path) -> Result {
    let started = Instant::now();
    loop {
        if healthz(addr) {
            return Ok(());
        }
        if let Ok(Some(status)) = server.0.try_wait() {
            return Err(format!(
                "the server exited ({status}) before answering /healthz:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            ));
        }
        if started.elapsed() > Duration::from_secs(30) {
            return Err(format!(
                "the server did not answer /healthz within 30 s on {addr}"
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn healthz(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let mut response = String::new();
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_to_string(&mut response).is_ok()
        && response.starts_with("HTTP/1.1 200")
}

/// One page load's measurements, from one line of widget.mjs's output.
#[derive(Default)]
struct Load {
    profile: String,
    run: usize,
    /// Set when the load failed; then the numbers are missing.
    error: Option<String>,
    /// Every response the page received before intent but its own HTML: headers and
    /// encoded bodies, as the network saw them.
    bytes: f64,
    /// What was downloaded before intent, space-separated: the server's paths, other
    /// origins' whole URLs.
    files: String,
    /// Requests still unfinished at that moment.
    in_flight: f64,
    /// From nearmiss.js arriving to the page's main thread starting it.
    wait_ms: f64,
    /// From the loader's start to its end.
    ran_ms: f64,
    /// From the loader's start to the end of the first frame rendered with the button.
    button_ms: f64,
    /// From the first pointer over the button (intent: the widget starts downloading) to
    /// the end of the first frame rendered with the score radios visible.
    interactive_ms: f64,
    /// The same from the click, which comes just after the pointer.
    click_ms: f64,
    /// The longest task from the loader's start to intent (0: none over 50 ms).
    load_task_ms: f64,
    /// When it started, from the loader's start.
    load_task_at_ms: f64,
    /// What ran in it: scripts, rendering, the page's first paint.
    load_task_what: String,
    /// The longest task from intent on.
    intent_task_ms: f64,
    /// When it started, from intent.
    intent_task_at_ms: f64,
    intent_task_what: String,
    cls: f64,
    /// Each layout shift not caused by input: value, when, what moved.
    shifts: Vec<String>,
    /// Console errors and warnings, failed requests, uncaught exceptions.
    problems: Vec<String>,
}

impl Load {
    /// One line of widget.mjs's output: tab-separated `key=value` fields (see there).
    fn parse(line: &str) -> Result<Load> {
        let mut load = Load::default();
        for field in line.split('\t') {
            let (key, value) = field.split_once('=').unwrap_or((field, ""));
            // An empty figure (one the page could not give) reads as NaN: it shows as "?".
            let number = value.parse().unwrap_or(f64::NAN);
            match key {
                "profile" => load.profile = value.to_owned(),
                "run" => load.run = number as usize,
                "error" => load.error = Some(value.to_owned()),
                "bytes" => load.bytes = number,
                "files" => load.files = value.to_owned(),
                "in_flight" => load.in_flight = number,
                "wait_ms" => load.wait_ms = number,
                "button_ms" => load.button_ms = number,
                "interactive_ms" => load.interactive_ms = number,
                "click_ms" => load.click_ms = number,
                "ran_ms" => load.ran_ms = number,
                "load_task_ms" => load.load_task_ms = number,
                "load_task_at_ms" => load.load_task_at_ms = number,
                "load_task_what" => load.load_task_what = value.to_owned(),
                "intent_task_ms" => load.intent_task_ms = number,
                "intent_task_at_ms" => load.intent_task_at_ms = number,
                "intent_task_what" => load.intent_task_what = value.to_owned(),
                "cls" => load.cls = number,
                "shift" => load.shifts.push(value.to_owned()),
                "problem" => load.problems.push(value.to_owned()),
                _ => {}
            }
        }
        if load.profile.is_empty() {
            return Err(format!("unexpected line from widget.mjs: {line}"));
        }
        Ok(load)
    }

    fn progress(&self, runs: usize) -> String {
        let head = format!("{} {}/{runs}", self.profile, self.run);
        match &self.error {
            Some(error) => format!("{head}: failed: {error}"),
            None => {
                let task = |ms: f64, at: f64, what: &str, from: &str| match ms > 0.0 {
                    true => format!("a {ms:.0} ms task at {at:+.0} ms from {from} ({what})"),
                    false => "no long task".to_owned(),
                };
                format!(
                    "{head}: {} B before intent; button {:.1} ms (script {:.1} ms, after {:.0} ms waiting), {}; intent → interactive {:.0} ms (click → {:.0} ms), {}; CLS {:.4}",
                    self.bytes,
                    self.button_ms,
                    self.ran_ms,
                    self.wait_ms,
                    task(self.load_task_ms, self.load_task_at_ms, &self.load_task_what, "its start"),
                    self.interactive_ms,
                    self.click_ms,
                    task(self.intent_task_ms, self.intent_task_at_ms, &self.intent_task_what, "intent"),
                    self.cls
                )
            }
        }
    }
}

/// Nearest-rank percentile of the values (`q` in 0..=1); NaN when there are none.
fn percentile(values: &[f64], q: f64) -> f64 {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// A metric's row: its name, how to read it from a load, its unit's decimals, and the
/// goal for a profile, if the issue sets one: its text and the most the p90 may be.
struct Metric {
    name: &'static str,
    value: fn(&Load) -> f64,
    decimals: usize,
    goal: fn(&str) -> Option<(&'static str, f64)>,
}

const METRICS: [Metric; 9] = [
    Metric {
        name: "bytes before intent",
        value: |l| l.bytes,
        decimals: 0,
        goal: |_| None,
    },
    Metric {
        name: "script waited (ms)",
        value: |l| l.wait_ms,
        decimals: 1,
        goal: |_| None,
    },
    Metric {
        name: "script ran (ms)",
        value: |l| l.ran_ms,
        decimals: 1,
        goal: |_| None,
    },
    Metric {
        name: "button drawn (ms)",
        value: |l| l.button_ms,
        decimals: 1,
        goal: |_| Some(("≤ 50 ms", 50.0)),
    },
    Metric {
        name: "intent → interactive (ms)",
        value: |l| l.interactive_ms,
        decimals: 0,
        goal: |profile| match profile {
            "plain" => Some(("≤ 100 ms", 100.0)),
            "cpu-4x" => Some(("≤ 300 ms", 300.0)),
            _ => None,
        },
    },
    Metric {
        name: "click → interactive (ms)",
        value: |l| l.click_ms,
        decimals: 0,
        goal: |_| None,
    },
    // Chromium reports only tasks over 50 ms: 0 means none.
    Metric {
        name: "longest task, load (ms)",
        value: |l| l.load_task_ms,
        decimals: 0,
        goal: |_| Some(("none over 50 ms", 50.0)),
    },
    Metric {
        name: "longest task, intent (ms)",
        value: |l| l.intent_task_ms,
        decimals: 0,
        goal: |_| Some(("none over 50 ms", 50.0)),
    },
    Metric {
        name: "layout shift (CLS)",
        value: |l| l.cls,
        decimals: 4,
        goal: |_| Some(("0", 0.0)),
    },
];

fn report(loads: &[Load], runs: usize) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(String::new());
    line(format!(
        "widget in headless Chromium: {runs} cold loads per profile; goals are judged on the p90"
    ));
    line(String::new());
    line(format!(
        "{:<9} {:<26} {:>9} {:>9}  {:<16} {}",
        "profile", "metric", "median", "p90", "goal", ""
    ));
    line("-".repeat(82));
    for (profile, label) in PROFILES {
        let ok: Vec<&Load> = loads
            .iter()
            .filter(|l| l.profile == profile && l.error.is_none())
            .collect();
        for metric in &METRICS {
            let values: Vec<f64> = ok.iter().map(|l| (metric.value)(l)).collect();
            let (median, p90) = (percentile(&values, 0.5), percentile(&values, 0.9));
            let show = |v: f64| match v.is_nan() {
                true => "?".to_owned(),
                false => format!("{v:.*}", metric.decimals),
            };
            let (goal, verdict) = match (metric.goal)(profile) {
                Some((text, most)) if !p90.is_nan() => {
                    (text, if p90 <= most { "met" } else { "MISSED" })
                }
                Some((text, _)) => (text, "?"),
                None => ("", ""),
            };
            line(format!(
                "{label:<9} {:<26} {:>9} {:>9}  {goal:<16} {verdict}",
                metric.name,
                show(median),
                show(p90)
            ));
        }
        let failed = loads
            .iter()
            .filter(|l| l.profile == profile && l.error.is_some())
            .count();
        if failed > 0 {
            line(format!("{label:<9} {failed} of {runs} loads failed"));
        }
    }
    line(String::new());

    // What was downloaded before intent (the README says: nearmiss.js alone).
    let mut files: Vec<(&str, usize)> = Vec::new();
    for load in loads.iter().filter(|l| l.error.is_none()) {
        match files.iter_mut().find(|(f, _)| *f == load.files) {
            Some((_, n)) => *n += 1,
            None => files.push((&load.files, 1)),
        }
    }
    for (list, n) in &files {
        let list = if list.is_empty() { "nothing" } else { list };
        line(format!("downloaded before intent in {n} loads: {list}"));
    }
    let unfinished = loads.iter().filter(|l| l.in_flight > 0.0).count();
    if unfinished > 0 {
        line(format!(
            "{unfinished} loads still had a request unfinished at that moment"
        ));
    }

    // Shifts that count against CLS: which load, how much, when and what moved.
    let shifts: Vec<String> = loads
        .iter()
        .flat_map(|l| {
            let load = format!("{} {}/{runs}", l.profile, l.run);
            l.shifts.iter().map(move |s| format!("  {load}: {s}"))
        })
        .collect();
    if !shifts.is_empty() {
        line("layout shifts not caused by input:".into());
    }
    for shift in shifts.iter().take(10) {
        line(shift.clone());
    }
    if shifts.len() > 10 {
        line(format!("  … and {} more", shifts.len() - 10));
    }

    // Console errors and warnings, counted over all loads.
    let mut problems: Vec<(String, usize)> = Vec::new();
    for load in loads {
        let messages = load.problems.iter().cloned();
        for message in messages.chain(load.error.iter().map(|e| format!("load failed: {e}"))) {
            match problems.iter_mut().find(|(m, _)| *m == message) {
                Some((_, n)) => *n += 1,
                None => problems.push((message, 1)),
            }
        }
    }
    if problems.is_empty() {
        line("no console errors or warnings, no failed requests".into());
    }
    for (message, n) in &problems {
        line(format!("{n}× {message}"));
    }
    out
}

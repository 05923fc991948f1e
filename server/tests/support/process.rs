//! `nearmiss` as an operator runs it: the command line, and `nearmiss serve` as a child
//! process on a free port, killed with SIGKILL when a test is done with it.

use super::database::Database;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const NEARMISS: &str = env!("CARGO_BIN_EXE_nearmiss");

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn cli(db: &Database, args: &[&str]) -> String {
    let output = Command::new(NEARMISS)
        .arg("--db")
        .arg(db.url())
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// Adds a site with one webhook through the command line, as an operator would: its key
/// and the webhook's signing secret.
pub fn site_with_webhook(db: &Database, name: &str, origin: &str, hook: &str) -> (String, String) {
    let site = cli(db, &["site", "add", "--name", name, "--origin", origin]);
    let secret = cli(
        db,
        &[
            "alert",
            "add",
            "--site",
            &site,
            "--webhook",
            hook,
            "--allow-private",
        ],
    );
    (site, secret)
}

pub fn serve(db: &Database, port: u16) -> ServerProcess {
    serve_logging(db, port, Stdio::null(), "info")
}

/// Starts `nearmiss serve` with its log (stderr) going to `log`, and waits for its port.
pub fn serve_logging(db: &Database, port: u16, log: Stdio, level: &str) -> ServerProcess {
    let child = Command::new(NEARMISS)
        .arg("--db")
        .arg(db.url())
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--allow-private-targets",
        ])
        .env("NEARMISS_LOG", level)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    super::wait_within(Duration::from_secs(20), "the server to start", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    ServerProcess(child)
}

/// A `nearmiss serve` child process, killed with SIGKILL when dropped: a failing test
/// leaves no server behind.
pub struct ServerProcess(Child);

impl ServerProcess {
    /// SIGKILL, and wait for it to be gone.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

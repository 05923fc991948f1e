//! The server is SIGKILLed after a near miss is committed and before its alert could be
//! sent (the receiver is down); after a restart, the alert arrives.

mod support;

use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::receiver::Receiver;

const NEARMISS: &str = env!("CARGO_BIN_EXE_nearmiss");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn cli(db: &std::path::Path, args: &[&str]) -> String {
    let output = Command::new(NEARMISS)
        .arg("--db")
        .arg(db)
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

fn serve(db: &std::path::Path, port: u16) -> Child {
    let child = Command::new(NEARMISS)
        .arg("--db")
        .arg(db)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--allow-private-targets",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn count(db: &std::path::Path, sql: &str) -> i64 {
    let store = nearmiss_server::Store::open(db).unwrap();
    store
        .run_now(|conn| Ok(conn.query_row(sql, [], |row| row.get(0))?))
        .unwrap()
}

#[test]
fn an_alert_committed_before_a_sigkill_is_delivered_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nearmiss.db");
    let receiver_port = free_port();
    let hook = format!("http://127.0.0.1:{receiver_port}/hook");
    let site = cli(
        &db,
        &[
            "site",
            "add",
            "--name",
            "Corner Bistro",
            "--origin",
            "https://bistro.example",
        ],
    );
    let secret = cli(
        &db,
        &[
            "alert",
            "add",
            "--site",
            &site,
            "--webhook",
            &hook,
            "--allow-private",
        ],
    );

    let port = free_port();
    let mut server = serve(&db, port);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let rating = json!({ "id": "0b8f5c1e-4a7d-4c2b-9e3f-1a2b3c4d5e6f", "site": site, "score": 2 });
    let reply = agent
        .post(format!("http://127.0.0.1:{port}/v1/ratings"))
        .send_json(&rating)
        .unwrap();
    assert_eq!(reply.status(), 201);
    // The first attempt fails (nothing listens yet); then the server dies mid-flight.
    let deadline = Instant::now() + Duration::from_secs(10);
    while count(&db, "SELECT count(*) FROM outbox WHERE attempts > 0") == 0 {
        assert!(Instant::now() < deadline, "no delivery attempt");
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM outbox WHERE delivered_at IS NULL"
        ),
        1
    );

    let receiver = Receiver::start_on(
        std::net::TcpListener::bind(("127.0.0.1", receiver_port)).unwrap(),
        &[],
    );
    let mut server = serve(&db, port);
    let deadline = Instant::now() + Duration::from_secs(30);
    while receiver.of_type("case.opened").is_empty() {
        assert!(
            Instant::now() < deadline,
            "the alert never arrived after the restart"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let delivery = &receiver.deliveries()[0];
    let timestamp: i64 = delivery.header("webhook-timestamp").parse().unwrap();
    assert!(nearmiss_server::alerts::webhook::verify(
        &secret,
        &delivery.header("webhook-id"),
        timestamp,
        &delivery.body,
        &delivery.header("webhook-signature"),
    ));
    assert_eq!(count(&db, "SELECT count(*) FROM ratings"), 1);
    assert_eq!(count(&db, "SELECT count(*) FROM cases"), 1);
    server.kill().unwrap();
    server.wait().unwrap();
}

//! The front door over real sockets: clients that send half their headers, trickle a
//! body or sit idle are cut off, and past the connection cap `/healthz` still answers.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::Server;

const SECOND: Duration = Duration::from_secs(1);

fn connect(server: &Server) -> TcpStream {
    let stream = TcpStream::connect(server.base.trim_start_matches("http://")).unwrap();
    stream.set_read_timeout(Some(10 * SECOND)).unwrap();
    stream
}

/// Reads until the server closes the connection; what it sent, and when it closed.
fn read_until_closed(stream: &mut TcpStream, started: Instant) -> (String, Duration) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(err) if err.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(err) => panic!("the server kept the connection open: {err}"),
        }
    }
    (
        String::from_utf8_lossy(&seen).into_owned(),
        started.elapsed(),
    )
}

#[test]
fn half_sent_headers_and_idle_connections_are_closed() {
    let server = Server::builder().door(SECOND, SECOND, 100).start();
    let started = Instant::now();
    let mut half = connect(&server);
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .unwrap();
    let mut silent = connect(&server);
    let mut kept_alive = connect(&server);
    kept_alive
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();

    let (_, half_closed) = read_until_closed(&mut half, started);
    let (_, silent_closed) = read_until_closed(&mut silent, started);
    let (answered, idle_closed) = read_until_closed(&mut kept_alive, started);
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
    for (what, closed) in [
        ("half-sent headers", half_closed),
        ("a silent connection", silent_closed),
        ("an idle keep-alive connection", idle_closed),
    ] {
        assert!(
            closed < 4 * SECOND,
            "{what} stayed open for {closed:?} with a 1 s header timeout"
        );
    }
}

#[test]
fn a_trickled_body_is_answered_408_and_nothing_is_stored() {
    let server = Server::builder().door(10 * SECOND, SECOND, 100).start();
    let body = format!(
        r#"{{"site":"{}","score":2,"id":"{}"}}"#,
        server.site,
        support::id(1)
    );
    let mut stream = connect(&server);
    let started = Instant::now();
    write!(
        stream,
        "POST /v1/ratings HTTP/1.1\r\nHost: x\r\nOrigin: https://shop.example\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    // One byte every 200 ms: the whole body would take seconds longer than allowed.
    let mut trickle = stream.try_clone().unwrap();
    let bytes = body.into_bytes();
    std::thread::spawn(move || {
        for byte in bytes {
            if trickle.write_all(&[byte]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    let (answer, closed) = read_until_closed(&mut stream, started);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""code":"request_timeout""#), "{answer}");
    assert!(closed < 4 * SECOND, "answered after {closed:?}");
    assert_eq!(server.count("SELECT COUNT(*) FROM ratings"), 0);
}

#[test]
fn past_the_cap_connections_wait_and_health_still_answers() {
    let server = Server::builder().door(SECOND, SECOND, 20).start();
    let started = Instant::now();
    let idle: Vec<TcpStream> = (0..50).map(|_| connect(&server)).collect();
    let health = server.get("/healthz");
    let waited = started.elapsed();
    assert_eq!(health.status, 200);
    // 20 served at once: the 51st connection waits for the idle ones to time out.
    assert!(
        waited >= SECOND - Duration::from_millis(100),
        "answered after {waited:?}, before any idle connection was closed: no cap"
    );
    assert!(waited < 6 * SECOND, "answered only after {waited:?}");
    drop(idle);
}

/// The real binary with 256 open files allowed and 300 connections held open: the
/// default cap keeps descriptors for the database, so `/healthz` still answers.
#[test]
fn with_few_file_descriptors_health_answers_past_300_idle_connections() {
    let dir = tempfile::tempdir().unwrap();
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let script = format!(
        "ulimit -n 256 && exec {} --db {} serve --listen {addr} --header-timeout 2s",
        env!("CARGO_BIN_EXE_nearmiss"),
        dir.path().join("door.db").display()
    );
    let mut server = std::process::Command::new("sh")
        .args(["-c", &script])
        .env("NEARMISS_LOG", "warn")
        .spawn()
        .expect("starting nearmiss");
    support::wait_within(20 * SECOND, "the server to start", || {
        TcpStream::connect(addr).is_ok()
    });
    let idle: Vec<TcpStream> = (0..300)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(20 * SECOND))
        .build()
        .into();
    let started = Instant::now();
    let health = agent.get(&format!("http://{addr}/healthz")).call();
    let waited = started.elapsed();
    let _ = server.kill();
    let _ = server.wait();
    drop(idle);
    let health = health.expect("/healthz answered");
    assert_eq!(health.status().as_u16(), 200);
    assert!(waited < 10 * SECOND, "answered only after {waited:?}");
}

//! The `nearmiss` command line with operator mistakes: each is refused with one line
//! naming the flag, exit status 1, and nothing is stored.

use std::process::Command;

fn nearmiss(db: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_nearmiss"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("running nearmiss");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_site_with_a_wrong_value_is_refused_by_name_and_not_added() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let base = [
        "site",
        "add",
        "--name",
        "Shop",
        "--origin",
        "https://shop.example",
    ];
    for (extra, flag) in [
        (&["--close-within", "8000years"][..], "--close-within"),
        (&["--ack-within", "5s"], "--ack-within"),
        (&["--review-url", "not-a-url"], "--review-url"),
        (&["--review-url", "javascript:alert(1)"], "--review-url"),
        (&["--reason", ""], "--reason"),
        (&["--origin", "https://*.shop.example"], "--origin"),
        (&["--timezone", "Mars/Olympus"], "--timezone"),
    ] {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        let (ok, stdout, stderr) = nearmiss(&db, &args);
        assert!(!ok, "{extra:?} was accepted");
        assert!(stdout.is_empty(), "no key printed for {extra:?}");
        assert_eq!(
            stderr.lines().count(),
            1,
            "one line for {extra:?}: {stderr}"
        );
        assert!(stderr.starts_with(&format!("nearmiss: {flag}")), "{stderr}");
    }
    let (ok, stdout, _) = nearmiss(&db, &base);
    assert!(ok && stdout.starts_with("s_"), "a right one is added");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let sites: i64 = conn
        .query_row("SELECT count(*) FROM sites", [], |r| r.get(0))
        .unwrap();
    assert_eq!(sites, 1);
}

#[test]
fn an_alert_endpoint_is_added_even_when_its_name_does_not_resolve_now() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let (_, key, _) = nearmiss(
        &db,
        &[
            "site",
            "add",
            "--name",
            "Shop",
            "--origin",
            "https://shop.example",
        ],
    );
    let key = key.trim();
    let (ok, _, stderr) = nearmiss(
        &db,
        &[
            "alert",
            "add",
            "--site",
            key,
            "--slack",
            "https://hooks.nearmiss-test.invalid/x",
        ],
    );
    assert!(ok, "DNS is checked at delivery: {stderr}");
    let (ok, _, stderr) = nearmiss(
        &db,
        &[
            "alert",
            "add",
            "--site",
            key,
            "--webhook",
            "http://127.0.0.1:9/x",
        ],
    );
    assert!(!ok && stderr.contains("private or loopback"), "{stderr}");
    let (ok, _, stderr) = nearmiss(
        &db,
        &[
            "alert",
            "add",
            "--site",
            key,
            "--email",
            "jane,doe@customer.example",
        ],
    );
    assert!(
        !ok && !stderr.contains("jane"),
        "refused without echoing the address: {stderr}"
    );
}

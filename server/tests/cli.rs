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

/// Adds a site with one origin; returns its key.
fn add_site(db: &std::path::Path, name: &str, origin: &str) -> String {
    let (ok, key, stderr) = nearmiss(db, &["site", "add", "--name", name, "--origin", origin]);
    assert!(ok, "{stderr}");
    key.trim().to_owned()
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
        (&["--hours", "Mo 9-5"], "--hours"),
        (&["--hours", "Mo-Fr"], "--hours"),
        (&["--text", "en.done_miss=Thanks!"], "--text"),
        (&["--text", "en.headline=Hi"], "--text"),
        (&["--text", "question"], "--text"),
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
    let key = &add_site(&db, "Shop", "https://shop.example");
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

#[test]
fn sites_alerts_and_cases_are_managed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let run = |args: &[&str]| nearmiss(&db, args);
    let key = add_site(&db, "Corner Bistro", "https://bistro.example");

    let (ok, listed, _) = run(&["site", "list"]);
    assert!(
        ok && listed.starts_with(&format!("{key}\tCorner Bistro\thttps://bistro.example")),
        "{listed}"
    );
    let (ok, _, _) = run(&[
        "alert",
        "add",
        "--site",
        &key,
        "--webhook",
        "https://hooks.nearmiss-test.invalid/in",
    ]);
    assert!(ok);
    let (ok, _, stderr) = run(&[
        "site",
        "set",
        "--site",
        &key,
        "--apology",
        "Sorry: that was on us.",
        "--origin",
        "https://bistro.example",
        "--origin",
        "https://www.bistro.example",
        "--timezone",
        "Europe/London",
        "--hours",
        "mo-fr 09:00-17:30; sa 10:00-14:00",
        "--text",
        "en.question=How was your order?",
        "--text",
        "de.apology=Das tut uns leid.",
        "--accent",
        "#0A7",
    ]);
    assert!(ok, "{stderr}");
    let (_, shown, _) = run(&["site", "show", "--site", &key]);
    assert!(
        shown.contains("open          Mo-Fr 09:00-17:30; Sa 10:00-14:00 (Europe/London)")
            && shown.contains("text          en.question = How was your order?")
            && shown.contains("text          de.apology = Das tut uns leid.")
            && shown.contains("accent        #00aa77"),
        "{shown}"
    );
    let (ok, _, stderr) = run(&["site", "set", "--site", &key, "--accent", "teal"]);
    assert!(
        !ok && stderr.starts_with("nearmiss: --accent \"teal\""),
        "{stderr}"
    );
    let (ok, _, stderr) = run(&["site", "set", "--site", &key, "--close-within", "8000years"]);
    assert!(
        !ok && stderr.starts_with("nearmiss: --close-within"),
        "{stderr}"
    );
    // What a running server counted of pages on an origin the site does not allow.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(
            "INSERT INTO refused_origins (site_id, origin, refusals, first_at, last_at)
             VALUES (1, 'http://bistro.example', 12, 0, 60000);",
        )
        .unwrap();
    let (ok, _, stderr) = run(&["site", "set", "--site", &key, "--hours", ""]);
    assert!(ok, "{stderr}");
    let (ok, shown, _) = run(&["site", "show", "--site", &key]);
    assert!(shown.contains("open          always"), "{shown}");
    assert!(
        shown.contains("apology       Sorry: that was on us."),
        "{shown}"
    );
    assert!(
        shown.contains("refused       http://bistro.example: 12 requests")
            && shown.contains(&format!(
                "nearmiss site set --site {key} --origin https://bistro.example \
                 --origin https://www.bistro.example --origin http://bistro.example"
            )),
        "{shown}"
    );
    assert!(
        shown.contains("https://www.bistro.example") && shown.contains("Europe/London"),
        "{shown}"
    );
    assert!(
        shown.contains("close within  2days"),
        "the refused change changed nothing: {shown}"
    );
    assert!(
        ok && shown.contains("ack within    15m") && shown.contains("alert 1"),
        "{shown}"
    );

    let (ok, _, stderr) = run(&["alert", "test", "--site", &key, "--id", "1"]);
    assert!(ok, "{stderr}");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        count(
            "SELECT count(*) FROM outbox WHERE case_id IS NULL AND payload LIKE '%\"test\":true%'"
        ),
        1
    );
    let (ok, _, stderr) = run(&["alert", "test", "--site", &key, "--id", "9"]);
    assert!(!ok && stderr.contains("no active endpoint 9"), "{stderr}");

    let (ok, _, _) = run(&["alert", "remove", "--site", &key, "--id", "1"]);
    assert!(ok);
    assert_eq!(
        count("SELECT count(*) FROM endpoints WHERE disabled_reason = 'removed'"),
        1
    );
    assert_eq!(
        count("SELECT count(*) FROM outbox WHERE failed_at IS NULL AND delivered_at IS NULL"),
        0,
        "nothing left waiting"
    );
    let (ok, _, stderr) = run(&["alert", "redeliver", "--site", &key, "--id", "1"]);
    assert!(
        ok && stderr.starts_with("0 given-up"),
        "a removed endpoint gets nothing again: {stderr}"
    );

    // A message given up on an endpoint that works again is sent again, same id.
    let (ok, _, _) = run(&[
        "alert",
        "add",
        "--site",
        &key,
        "--slack",
        "https://hooks.nearmiss-test.invalid/2",
    ]);
    assert!(ok);
    assert!(run(&["alert", "test", "--site", &key, "--id", "2"]).0);
    conn.execute("UPDATE outbox SET failed_at = 1, attempts = 9, last_error = 'gave up' WHERE endpoint_id = 2", []).unwrap();
    let (ok, _, stderr) = run(&["alert", "redeliver", "--site", &key, "--id", "2"]);
    assert!(ok && stderr.starts_with("1 given-up"), "{stderr}");
    assert_eq!(count("SELECT count(*) FROM outbox WHERE endpoint_id = 2 AND failed_at IS NULL AND attempts = 0"), 1);

    let (ok, _, _) = run(&["demo", "--site", &key, "--days", "3"]);
    assert!(ok);
    let (ok, cases, _) = run(&["cases", "--status", "all"]);
    assert!(
        ok && cases.lines().count() > 1 && cases.starts_with("NM-"),
        "{cases}"
    );
    assert!(cases.lines().all(|l| l.contains("\tCorner Bistro\t")));
    let (ok, _, stderr) = run(&["cases", "--site", "s_nosuchsite"]);
    assert!(!ok && stderr.contains("--site"), "{stderr}");
    let (ok, _, stderr) = run(&["cases", "--status", "soon"]);
    assert!(!ok && stderr.contains("--status"), "{stderr}");
}

#[test]
fn a_webhook_secret_is_rotated_with_an_overlap() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let run = |args: &[&str]| nearmiss(&db, args);
    let key = add_site(&db, "Shop", "https://shop.example");
    let (_, old, _) = run(&[
        "alert",
        "add",
        "--site",
        &key,
        "--webhook",
        "https://hooks.nearmiss-test.invalid/in",
    ]);
    let (ok, new, stderr) = run(&[
        "alert",
        "rotate-secret",
        "--site",
        &key,
        "--id",
        "1",
        "--overlap",
        "2h",
    ]);
    assert!(ok, "{stderr}");
    assert!(new.starts_with("whsec_") && new != old, "{new}");
    assert!(
        stderr.contains("both sign every delivery for 2h"),
        "{stderr}"
    );
    let (_, _, _) = run(&[
        "alert",
        "add",
        "--site",
        &key,
        "--slack",
        "https://hooks.nearmiss-test.invalid/s",
    ]);
    let (ok, _, stderr) = run(&["alert", "rotate-secret", "--site", &key, "--id", "2"]);
    assert!(
        !ok && stderr.contains("no active webhook 2"),
        "a Slack endpoint has no secret: {stderr}"
    );
}

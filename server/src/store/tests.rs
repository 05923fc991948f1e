//! The store's test suite, run against both engines: an SQLite file in a temporary
//! folder, or, when `NEARMISS_TEST_POSTGRES` names a PostgreSQL server (like
//! `postgres://nearmiss@127.0.0.1:5432/postgres`), a database of its own there, dropped
//! after. `cargo xtask test` runs it both ways.

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::Instant;

/// A fresh database, removed with this.
enum TestDb {
    Sqlite {
        url: String,
        _dir: tempfile::TempDir,
    },
    Postgres {
        server: String,
        name: String,
        url: String,
    },
}

impl TestDb {
    /// Always `Some`: an `Option` so that a test that needs one engine can skip the
    /// other (see [`TestDb::postgres`]).
    fn new(_test: &str) -> Option<TestDb> {
        let Ok(server) = std::env::var("NEARMISS_TEST_POSTGRES") else {
            let dir = tempfile::tempdir().unwrap();
            let url = dir.path().join("store.db").display().to_string();
            return Some(TestDb::Sqlite { url, _dir: dir });
        };
        static MADE: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "nearmiss_test_{}_{nanos}_{}",
            std::process::id(),
            MADE.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = ::postgres::Client::connect(&server, ::postgres::NoTls).unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let url = with_database(&server, &name);
        Some(TestDb::Postgres { server, name, url })
    }

    /// A PostgreSQL database, or `None` (saying so) for a test of PostgreSQL alone.
    fn postgres(test: &str) -> Option<TestDb> {
        match TestDb::new(test)? {
            postgres @ TestDb::Postgres { .. } => Some(postgres),
            TestDb::Sqlite { .. } => {
                eprintln!("{test}: PostgreSQL only, skipped (NEARMISS_TEST_POSTGRES is not set)");
                None
            }
        }
    }

    fn is_postgres(&self) -> bool {
        matches!(self, TestDb::Postgres { .. })
    }

    fn url(&self) -> &str {
        match self {
            TestDb::Sqlite { url, .. } | TestDb::Postgres { url, .. } => url,
        }
    }

    fn open(&self) -> Store {
        Store::open(self.url()).unwrap()
    }

    /// The number `sql` counts, read beside the store.
    fn count(&self, sql: &str) -> i64 {
        match self {
            TestDb::Sqlite { url, .. } => rusqlite::Connection::open(url)
                .and_then(|conn| conn.query_row(sql, [], |row| row.get(0)))
                .unwrap(),
            TestDb::Postgres { url, .. } => ::postgres::Client::connect(url, ::postgres::NoTls)
                .and_then(|mut client| client.query_one(sql, &[]))
                .unwrap()
                .get(0),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let TestDb::Postgres { server, name, .. } = self else {
            return;
        };
        if let Ok(mut admin) = ::postgres::Client::connect(server, ::postgres::NoTls) {
            let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            if let Err(err) = admin.batch_execute(&drop) {
                eprintln!("could not drop {name}: {err}");
            }
        }
    }
}

fn write<T: Send + 'static>(
    store: &Store,
    work: impl FnOnce(&mut dyn Tx) -> Result<T, StoreError> + Send + 'static,
) -> T {
    store.write_now(work).unwrap()
}

fn read<T>(store: &Store, work: impl FnOnce(&mut dyn Tx) -> Result<T, StoreError>) -> T {
    store.read_now(work).unwrap()
}

fn settings(name: &str, origins: &[&str]) -> SiteSettings {
    SiteSettings {
        name: name.to_owned(),
        origins: origins.iter().map(|o| o.to_string()).collect(),
        scale: Scale::Stars5,
        ack_within: Duration::from_secs(900),
        close_within: Duration::from_secs(172_800),
        reasons: vec!["Slow".into(), "Rude".into()],
        causes: vec!["Staffing".into(), "Other".into()],
        require_token: true,
        apology: "Sorry".into(),
        owner: "The team".into(),
        review_url: Some("https://reviews.example/x".into()),
        timezone: "Europe/London".into(),
        hours: Some(
            crate::hours::OpeningHours::parse("Mo-Fr 09:00-17:30; Sa 10:00-14:00").unwrap(),
        ),
        words: crate::words::OwnWords::parse("en.question = How was your order?").unwrap(),
        accent: Some("#0a7d5a".into()),
    }
}

fn add_site(store: &Store, name: &'static str, origins: &'static [&'static str]) -> i64 {
    write(store, move |tx| {
        tx.insert_site(&settings(name, origins), &format!("s_{name}"), "secret", 0)
    })
}

fn rating(id: &str, site_id: i64, score: i64, at: i64) -> NewRating<'_> {
    NewRating {
        id,
        site_id,
        score,
        perfect: score == 5,
        interaction: None,
        page: Some("https://a.example/checkout"),
        locale: Some("en"),
        content: "{}",
        created_at: at,
        rerates_case: None,
        signed: false,
        edit_hash: "edit-hash",
    }
}

fn case<'a>(reference: &'a str, site_id: i64, rating_id: &'a str, at: i64) -> NewCase<'a> {
    NewCase {
        reference,
        site_id,
        rating_id,
        opened_at: at,
        ack_due_at: at + 900_000,
        close_due_at: at + 172_800_000,
        overdue_from: at + 900_000,
    }
}

fn case_ids(store: &Store, filter: CaseFilter<'_>) -> Vec<i64> {
    read(store, |tx| tx.case_ids(&filter))
}

fn filter(limit: i64) -> CaseFilter<'static> {
    CaseFilter {
        status: None,
        overdue_at: None,
        site_key: None,
        site_ids: None,
        assignee: None,
        cause: None,
        by_deadline: false,
        opened: None,
        limit,
    }
}

/// Runs `first` in a write on another thread; once it has done its work (but not
/// committed: it then waits `hold`), runs `second` in a write here. What `second`
/// returned and how long it took.
fn while_held<T: Send + 'static>(
    store: &Store,
    hold: Duration,
    first: impl FnOnce(&mut dyn Tx) -> Result<(), StoreError> + Send + 'static,
    second: impl FnOnce(&mut dyn Tx) -> Result<T, StoreError> + Send + 'static,
) -> (T, Duration) {
    let (done, worked) = mpsc::channel();
    let holder = store.clone();
    let thread = std::thread::spawn(move || {
        write(&holder, move |tx| {
            first(tx)?;
            done.send(()).unwrap();
            std::thread::sleep(hold);
            Ok(())
        })
    });
    worked.recv().unwrap();
    let started = Instant::now();
    let answer = write(store, second);
    let took = started.elapsed();
    thread.join().unwrap();
    (answer, took)
}

#[test]
fn servers_starting_together_migrate_once() {
    let Some(db) = TestDb::new("servers_starting_together_migrate_once") else {
        return;
    };
    let start = Arc::new(std::sync::Barrier::new(3));
    let servers: Vec<_> = (0..3)
        .map(|_| {
            let (url, start) = (db.url().to_owned(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                Store::open(&url).map(|_| ())
            })
        })
        .collect();
    for server in servers {
        server.join().unwrap().unwrap();
    }
    let applied = db.count("SELECT count(*) FROM schema_migrations");
    // Both engines have the same numbered list.
    assert_eq!(applied as usize, super::sqlite::MIGRATIONS.len());
    // And once more, finding everything applied.
    db.open();
}

#[test]
fn sites_keys_and_origins() {
    let Some(db) = TestDb::new("sites_keys_and_origins") else {
        return;
    };
    let store = db.open();
    let one = add_site(&store, "one", &["https://b.example", "https://a.example"]);
    let two = add_site(&store, "two", &[]);

    let site = read(&store, |tx| tx.site_by_key("s_one", 0)).unwrap();
    assert_eq!(site.id, one);
    assert_eq!(site.secret, "secret");
    let mut expected = settings("one", &["https://a.example", "https://b.example"]);
    assert_eq!(site.settings, expected);
    assert!(read(&store, |tx| tx.origin_is_known("https://a.example")));
    assert!(!read(&store, |tx| tx.origin_is_known("https://c.example")));
    assert!(!read(&store, move |tx| tx.site_has_ratings(one)));

    expected.origins = vec!["https://c.example".into()];
    expected.scale = Scale::Ten;
    expected.review_url = None;
    let update = expected.clone();
    write(&store, move |tx| tx.update_site(one, &update));
    let site = read(&store, move |tx| tx.site_by_id(one)).unwrap();
    assert_eq!(site.settings, expected);

    write(&store, move |tx| tx.rotate_key(one, "s_one_new", 1_000));
    assert!(read(&store, |tx| tx.site_by_key("s_one", 999)).is_some());
    assert!(read(&store, |tx| tx.site_by_key("s_one", 1_000)).is_none());
    assert!(read(&store, |tx| tx.site_by_key("s_one_new", 5_000)).is_some());
    assert_eq!(read(&store, |tx| tx.site_id_by_any_key("s_one")), Some(one));
    write(&store, move |tx| tx.revoke_site(one, 10));
    assert!(read(&store, |tx| tx.site_by_key("s_one_new", 0)).is_none());
    write(&store, move |tx| tx.rotate_key(one, "s_one_3", 20));
    assert!(read(&store, |tx| tx.site_by_key("s_one_3", 30)).is_some());

    let names: Vec<String> = read(&store, |tx| tx.sites())
        .into_iter()
        .map(|s| s.settings.name)
        .collect();
    assert_eq!(names, ["one", "two"]);
    let sites = read(&store, |tx| tx.sites());
    assert_eq!(sites[0].settings.origins, ["https://c.example"]);
    assert!(sites[1].settings.origins.is_empty());

    let noted = write(&store, move |tx| {
        Ok([
            tx.note_refused_origin(two, "https://x.example", 2, 100, 2)?,
            tx.note_refused_origin(two, "https://x.example", 1, 200, 2)?,
            tx.note_refused_origin(two, "https://y.example", 1, 300, 2)?,
            tx.note_refused_origin(two, "https://z.example", 1, 400, 2)?,
        ])
    });
    assert_eq!(noted, [true, false, true, false], "z is over the cap");
    let refused = read(&store, move |tx| tx.refused_origins(two));
    assert_eq!(refused.len(), 2);
    assert_eq!(refused[0].origin, "https://y.example");
    assert_eq!(
        (refused[1].refusals, refused[1].first_at, refused[1].last_at),
        (3, 100, 200)
    );
}

#[test]
fn ratings_cases_and_numbers() {
    let Some(db) = TestDb::new("ratings_cases_and_numbers") else {
        return;
    };
    let store = db.open();
    let one = add_site(&store, "one", &["https://a.example"]);
    let two = add_site(&store, "two", &[]);
    const DAY: i64 = 86_400_000;

    let case_id = write(&store, move |tx| {
        assert!(tx.rating_by_id("r1")?.is_none());
        assert!(tx.insert_rating(&rating("r1", one, 2, 3 * DAY + 5))?);
        // A taken id stores nothing, and the transaction goes on.
        assert!(!tx.insert_rating(&rating("r1", two, 4, 3 * DAY + 5))?);
        tx.insert_rating(&rating("r2", one, 5, 3 * DAY + 6))?;
        tx.insert_rating(&rating("r3", two, 1, 4 * DAY))?;
        let opened = tx
            .insert_case(&case("NM-AAAA", one, "r1", 3 * DAY + 5))?
            .unwrap();
        // The new case comes back as it reads.
        assert_eq!(Some(&opened), tx.case_by_id(opened.id)?.as_ref());
        assert_eq!((opened.rating.id.as_str(), opened.rating.score), ("r1", 2));
        // A taken reference is no error, and the transaction goes on.
        assert_eq!(tx.insert_case(&case("NM-AAAA", two, "r3", 4 * DAY))?, None);
        tx.insert_case(&case("NM-BBBB", two, "r3", 4 * DAY))?;
        Ok(opened.id)
    });
    assert!(read(&store, move |tx| tx.site_has_ratings(one)));
    let stored = write(&store, |tx| tx.rating_by_id("r1")).unwrap();
    assert!(stored.flagged);
    assert_eq!(stored.case.unwrap().reference, "NM-AAAA");
    assert_eq!(
        read(&store, |tx| tx.case_id_by_ref("NM-AAAA")),
        Some(case_id)
    );
    assert_eq!(
        read(&store, |tx| tx.case_id_for_rating("r1")),
        Some(case_id)
    );
    assert_eq!(read(&store, |tx| tx.case_id_for_rating("r2")), None);

    write(&store, |tx| {
        tx.save_details(&NewDetails {
            rating_id: "r1",
            comment: Some("cold"),
            reasons: &["Slow".to_owned()],
            contact_name: Some("Ann"),
            contact_email: Some("Ann@Example.com"),
            contact_phone: None,
            consent: true,
            now: 7,
            max_posts: 10,
        })
        .map(drop)
    });
    let details = read(&store, |tx| tx.details_for("r1")).unwrap();
    assert_eq!(details.reasons, ["Slow"]);
    assert!(details.consent);
    let found = read(&store, |tx| {
        tx.contacts_matching(Some("ann@EXAMPLE.com"), None)
    });
    assert_eq!(found.len(), 1);
    assert!(read(&store, |tx| tx.contacts_matching(None, Some(7))).is_empty());

    // Re-rating link, then a re-rating through it.
    write(&store, move |tx| {
        tx.set_rerate_link(case_id, Some(("hash1", 100 * DAY)))
    });
    let page = read(&store, |tx| tx.rerate_page("hash1", 0)).unwrap();
    assert_eq!(page, ("s_one".into(), "one".into(), "NM-AAAA".into()));
    write(&store, move |tx| {
        let rerates = tx.case_id_by_rerate_link(one, "hash1", 0)?;
        assert_eq!(rerates, Some(case_id));
        tx.insert_rating(&NewRating {
            rerates_case: rerates,
            ..rating("r4", one, 5, 5 * DAY)
        })?;
        tx.set_rerate_link(case_id, None)
    });
    assert_eq!(
        read(&store, |tx| tx.case_id_for_rating("r4")),
        Some(case_id)
    );
    assert_eq!(read(&store, |tx| tx.rerate_page("hash1", 0)), None);

    // Steps and the case.
    let mut record = write(&store, move |tx| {
        let prevention = tx.insert_prevention(one, "Staffing", "Two on Fridays", 9)?;
        assert_eq!(
            tx.prevention(one, prevention)?.unwrap().action,
            "Two on Fridays"
        );
        assert_eq!(tx.prevention(two, prevention)?, None);
        tx.insert_step(&NewStep {
            case_id,
            step: Step::CauseFound,
            actor: "Ann",
            note: None,
            cause: Some("Staffing"),
            prevention_id: Some(prevention),
            at: 10,
            message: None,
        })?;
        tx.case_by_id(case_id)
    })
    .unwrap();
    let steps = read(&store, move |tx| tx.steps(case_id));
    assert_eq!(steps[0].step, Step::CauseFound);
    assert_eq!(steps[0].prevention.as_ref().unwrap().cause, "Staffing");
    assert_eq!(read(&store, move |tx| tx.preventions(one)).len(), 1);
    assert_eq!(record.rating.id, "r1");
    assert_eq!(record.site_timezone, "Europe/London");
    assert_eq!(record.status, Status::Open);
    assert_eq!(record.recovered, None);
    record.acknowledged_at = Some(20);
    record.recovered = Some(true);
    let saved = record.clone();
    write(&store, move |tx| tx.save_case(&saved, 3 * DAY + 100));
    assert_eq!(read(&store, move |tx| tx.case_by_id(case_id)), Some(record));

    // Lists.
    let ids = |f: CaseFilter<'_>| case_ids(&store, f);
    let other = read(&store, |tx| tx.case_id_by_ref("NM-BBBB")).unwrap();
    assert_eq!(ids(filter(10)), [other, case_id], "newest first");
    assert_eq!(ids(filter(1)), [other]);
    assert_eq!(
        ids(CaseFilter {
            site_ids: Some(&[1_000]),
            ..filter(10)
        }),
        [] as [i64; 0]
    );
    let only_one = [one];
    assert_eq!(
        ids(CaseFilter {
            site_ids: Some(&only_one),
            ..filter(10)
        }),
        [case_id]
    );
    assert_eq!(
        ids(CaseFilter {
            cause: Some("Staffing"),
            ..filter(10)
        }),
        [case_id]
    );
    assert_eq!(
        ids(CaseFilter {
            site_key: Some("s_two"),
            status: Some(Status::Open),
            ..filter(10)
        }),
        [other]
    );
    assert_eq!(
        ids(CaseFilter {
            overdue_at: Some(3 * DAY + 100),
            ..filter(10)
        }),
        [case_id]
    );
    assert_eq!(
        ids(CaseFilter {
            by_deadline: true,
            ..filter(10)
        }),
        [case_id, other],
        "open cases by when they are (or became) overdue"
    );
    assert_eq!(
        ids(CaseFilter {
            opened: Some((4 * DAY, 5 * DAY)),
            ..filter(10)
        }),
        [other]
    );
    assert_eq!(read(&store, |tx| tx.count_cases(Status::Open, None)), 2);
    assert_eq!(
        read(&store, |tx| tx
            .count_cases(Status::Open, Some(3 * DAY + 100))),
        1
    );

    // Numbers.
    assert_eq!(
        read(&store, |tx| tx.rating_days(None, 0, 10 * DAY)),
        [(3, 2, 1), (4, 1, 0)],
        "the re-rating is not a first rating"
    );
    assert_eq!(
        read(&store, move |tx| tx.rating_days(Some(&[two]), 0, 10 * DAY)),
        [(4, 1, 0)]
    );
    assert_eq!(
        read(&store, |tx| tx.rerating_counts(None, 0, 10 * DAY)),
        (1, 1)
    );
    assert_eq!(
        read(&store, move |tx| tx.rerating_counts(
            Some(&[two]),
            0,
            10 * DAY
        )),
        (0, 0)
    );
    let timings = read(&store, move |tx| tx.case_timings(Some(&[one]), 0, 10 * DAY));
    assert_eq!(timings.len(), 1);
    assert_eq!(timings[0].acknowledged_at, Some(20));
    let causes = read(&store, |tx| tx.causes_found(None, 0, 10 * DAY));
    assert_eq!(
        causes,
        [("Staffing".into(), case_id, Some("Two on Fridays".into()))]
    );
    assert!(read(&store, move |tx| tx.causes_found(Some(&[two]), 0, 10 * DAY)).is_empty());

    // The export, page by page.
    let page = read(&store, |tx| tx.export_rows(None, (0, 10 * DAY), None, 2));
    let ids: Vec<&str> = page.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["r1", "r2"]);
    assert_eq!(page[0].case.as_deref(), Some("NM-AAAA"));
    assert_eq!(page[0].status, Some(Status::Open));
    assert_eq!(page[0].reasons, ["Slow"]);
    assert_eq!(page[0].contact_email.as_deref(), Some("Ann@Example.com"));
    assert!(page[1].perfect && page[1].case.is_none() && page[1].reasons.is_empty());
    let rest = read(&store, |tx| {
        tx.export_rows(None, (0, 10 * DAY), Some((3 * DAY + 6, "r2")), 10)
    });
    let ids: Vec<&str> = rest.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["r3", "r4"]);
    assert_eq!(
        rest[1].case.as_deref(),
        Some("NM-AAAA"),
        "the case it re-rates"
    );
    assert_eq!(
        read(&store, move |tx| tx.export_rows(
            Some(&[two]),
            (0, 10 * DAY),
            None,
            10
        ))
        .len(),
        1
    );

    write(&store, |tx| tx.clear_contact("r1"));
    assert!(read(&store, |tx| tx.contacts_matching(None, None)).is_empty());
    write(&store, |tx| tx.record_erasure("request", 1, "Ann", 11));
}

#[test]
fn cases_to_raise_are_raised_by_one_process() {
    let Some(db) = TestDb::postgres("cases_to_raise_are_raised_by_one_process") else {
        return;
    };
    let store = db.open();
    let one = add_site(&store, "one", &[]);
    write(&store, move |tx| {
        tx.insert_rating(&rating("r1", one, 2, 0))?;
        tx.insert_case(&case("NM-AAAA", one, "r1", 0))
    });
    let due = 900_000;
    assert_eq!(read(&store, |tx| tx.cases_to_raise(due)).len(), 1);
    let (seen, took) = while_held(
        &store,
        Duration::from_millis(500),
        move |tx| {
            assert_eq!(tx.cases_to_raise(due)?.len(), 1);
            Ok(())
        },
        move |tx| tx.cases_to_raise(due),
    );
    assert!(seen.is_empty(), "the case another process is raising");
    assert!(took < Duration::from_millis(400), "skipped, not waited for");
    assert!(read(&store, |tx| tx.cases_without_overdue_from()).is_empty());
}

#[test]
fn a_case_changed_by_two_processes_is_changed_in_turn() {
    let Some(db) = TestDb::new("a_case_changed_by_two_processes_is_changed_in_turn") else {
        return;
    };
    let store = db.open();
    let one = add_site(&store, "one", &[]);
    let case_id = write(&store, move |tx| {
        tx.insert_rating(&rating("r1", one, 2, 0))?;
        Ok(tx.insert_case(&case("NM-AAAA", one, "r1", 0))?.unwrap().id)
    });
    let (seen, took) = while_held(
        &store,
        Duration::from_millis(300),
        move |tx| {
            let mut case = tx.case_by_id(case_id)?.unwrap();
            case.acknowledged_at = Some(5);
            tx.save_case(&case, case.close_due_at)
        },
        move |tx| tx.case_by_id(case_id),
    );
    assert_eq!(
        seen.unwrap().acknowledged_at,
        Some(5),
        "read after the commit"
    );
    assert!(took >= Duration::from_millis(200), "waited for the first");
}

#[test]
fn a_rating_stored_twice_at_once_is_stored_once() {
    let Some(db) = TestDb::new("a_rating_stored_twice_at_once_is_stored_once") else {
        return;
    };
    let store = db.open();
    let one = add_site(&store, "one", &[]);
    let hold = Duration::from_millis(300);
    let (inserted, _) = while_held(
        &store,
        hold,
        move |tx| {
            assert!(tx.insert_rating(&rating("r1", one, 2, 0))?);
            Ok(())
        },
        move |tx| tx.insert_rating(&rating("r1", one, 2, 0)),
    );
    assert!(
        !inserted,
        "the second waits for the first's rating, then stores none"
    );
    let (replay, _) = while_held(
        &store,
        hold,
        move |tx| {
            assert!(tx.rating_by_id("r3")?.is_none());
            assert!(tx.insert_rating(&rating("r3", one, 2, 0))?);
            Ok(())
        },
        |tx| tx.rating_by_id("r3"),
    );
    assert!(replay.is_some(), "the second sees the first's rating");

    let signed = move |id: &'static str| NewRating {
        interaction: Some("order-1"),
        signed: true,
        ..rating(id, one, 2, 0)
    };
    let (rated, _) = while_held(
        &store,
        hold,
        move |tx| {
            assert!(!tx.signed_interaction_rated(one, "order-1")?);
            tx.insert_rating(&signed("r2")).map(drop)
        },
        move |tx| tx.signed_interaction_rated(one, "order-1"),
    );
    assert!(rated, "the second is refused, not failed");
}

#[test]
fn alert_messages_are_claimed_once() {
    let Some(db) = TestDb::new("alert_messages_are_claimed_once") else {
        return;
    };
    let store = db.open();
    let one = add_site(&store, "one", &[]);
    let now = 1_000;
    let (hook, gone) = write(&store, move |tx| {
        let endpoint = |kind, target| NewEndpoint {
            site_id: one,
            kind,
            target,
            secret: Some("whsec_1"),
            escalation: false,
            now,
        };
        let hook = tx.insert_endpoint(&endpoint(EndpointKind::Webhook, "https://h.example"))?;
        let gone = tx.insert_endpoint(&NewEndpoint {
            escalation: true,
            ..endpoint(EndpointKind::Slack, "https://s.example")
        })?;
        let messages = [
            ("m1", Some(hook)),
            ("m2", Some(hook)),
            ("m3", Some(hook)),
            ("m4", None),
            ("m5", None),
            ("m6", Some(gone)),
            ("m7", Some(gone)),
        ];
        for (msg_id, endpoint_id) in messages {
            tx.insert_message(&NewMessage {
                msg_id,
                endpoint_id,
                kind: if endpoint_id.is_some() {
                    MessageKind::Webhook
                } else {
                    MessageKind::CustomerEmail
                },
                target: "Ann@Example.com",
                event: Topic::Case(Event::Opened),
                case_id: None,
                payload: "{\"email\":\"ann@example.com\"}",
                now,
            })?;
        }
        Ok((hook, gone))
    });
    assert_eq!(
        read(&store, move |tx| tx.active_endpoints(one, false)).len(),
        1
    );
    assert_eq!(
        read(&store, move |tx| tx.active_endpoints(one, true)).len(),
        2
    );

    let mut lanes = read(&store, move |tx| tx.due_lanes(now, &[]));
    lanes.sort_unstable();
    assert_eq!(lanes, [0, hook, gone]);
    assert_eq!(
        read(&store, move |tx| tx.due_lanes(now, &[0, gone])),
        [hook]
    );
    assert!(read(&store, move |tx| tx.due_lanes(now - 1, &[])).is_empty());

    // One process claims some while a second claims: the second takes the rest,
    // at once.
    let lease_until = now + 60_000;
    let (first, claimed) = mpsc::channel();
    let (second, took) = while_held(
        &store,
        Duration::from_millis(500),
        move |tx| {
            let lanes = [(hook, 2), (0, 1)];
            let messages = tx.claim_messages(&Claim {
                now,
                lease_until,
                lanes: &lanes,
            })?;
            first.send(messages).unwrap();
            Ok(())
        },
        move |tx| {
            let lanes = [(hook, 10), (0, 10)];
            tx.claim_messages(&Claim {
                now,
                lease_until,
                lanes: &lanes,
            })
        },
    );
    let first = claimed.recv().unwrap();
    let names = |m: &[Message]| m.iter().map(|m| m.msg_id.clone()).collect::<Vec<_>>();
    assert_eq!(names(&first), ["m1", "m2", "m4"], "oldest first");
    assert_eq!(names(&second), ["m3", "m5"]);
    // (SQLite's one writer runs writes in turn: there the second waits, by design.)
    if db.is_postgres() {
        assert!(took < Duration::from_millis(400), "skipped, not waited for");
    }
    assert_eq!(first[0].secret.as_deref(), Some("whsec_1"));
    assert_eq!(first[0].kind, Some(MessageKind::Webhook));
    assert_eq!(first[2].endpoint_id, None);
    let leased = read(&store, move |tx| tx.due_lanes(now, &[]));
    assert_eq!(leased, [gone], "claimed messages wait for their lease");

    // Outcomes.
    let m1 = first[0].clone();
    let m2 = first[1].clone();
    let m2_id = m2.id;
    let m3 = second[0].clone();
    write(&store, move |tx| {
        tx.record_attempt(&Attempt {
            message: &m1,
            now: 2_000,
            result: AttemptResult::Delivered,
        })?;
        tx.record_attempt(&Attempt {
            message: &m2,
            now: 2_000,
            result: AttemptResult::RetryAt(3_000, "503 from ann@example.com"),
        })?;
        tx.record_attempt(&Attempt {
            message: &m3,
            now: 2_000,
            result: AttemptResult::Failed("400"),
        })
    });
    let states = read(&store, move |tx| tx.endpoint_states(one));
    let state = &states[0];
    assert_eq!(
        (state.delivered, state.pending, state.failed),
        (1, 1, 1),
        "{state:?}"
    );
    assert_eq!(state.last_success_at, Some(Timestamp(2_000)));
    assert_eq!(state.last_error.as_deref(), Some("400"));
    let log = read(&store, move |tx| tx.recent_messages(hook, 10));
    assert_eq!(log.len(), 3);
    assert_eq!(log[1].next_attempt_at, 3_000);
    assert_eq!(log[1].attempts, 1);

    // The Slack endpoint is gone: it is disabled and everything it had fails.
    let m6 = write(&store, move |tx| {
        tx.claim_messages(&Claim {
            now,
            lease_until,
            lanes: &[(gone, 1)],
        })
    });
    assert_eq!(names(&m6), ["m6"]);
    let m6 = m6[0].clone();
    write(&store, move |tx| {
        tx.record_attempt(&Attempt {
            message: &m6,
            now: 2_500,
            result: AttemptResult::EndpointGone("410 Gone"),
        })
    });
    assert_eq!(
        read(&store, move |tx| tx.active_endpoints(one, true)).len(),
        1
    );
    let attempts: Vec<i64> = read(&store, move |tx| tx.recent_messages(gone, 10))
        .iter()
        .map(|d| d.attempts)
        .collect();
    assert_eq!(attempts, [0, 1], "only the message sent counts an attempt");
    assert_eq!(read(&store, |tx| tx.count_messages(true)), 3);
    assert_eq!(read(&store, |tx| tx.count_messages(false)), 3);

    // Redelivery of the webhook's given-up message, due at once.
    assert_eq!(write(&store, move |tx| tx.redeliver(one, hook, 4_000)), 1);
    assert_eq!(write(&store, move |tx| tx.redeliver(one, gone, 4_000)), 0);
    assert_eq!(read(&store, |tx| tx.count_messages(true)), 2);

    // Erasure finds the address in any letter case.
    let mentioning = read(&store, |tx| tx.messages_mentioning("ANN@example.COM"));
    assert_eq!(mentioning.len(), 7);
    let m2 = mentioning.iter().find(|m| m.id == m2_id).unwrap().clone();
    assert!(m2.pending);
    write(&store, move |tx| {
        tx.rewrite_message(&MessageRewrite {
            id: m2.id,
            payload: "{}",
            target: "(erased)",
            cancel: None,
            forget: "ann@example.com",
        })
    });
    let log = read(&store, move |tx| tx.recent_messages(hook, 10));
    assert_eq!(log[1].last_error.as_deref(), Some("(erased)"));
    assert_eq!(read(&store, |tx| tx.messages_mentioning("ann@")).len(), 6);

    // Giving up on what waited too long, then pruning.
    assert_eq!(
        write(&store, move |tx| tx.give_up_messages(now + 1, 4_000)),
        2
    );
    assert_eq!(write(&store, |tx| tx.prune_messages(3_000)), 3);
    assert_eq!(write(&store, |tx| tx.prune_messages(5_000)), 2);

    assert!(write(&store, move |tx| tx
        .rotate_secret(one, hook, "whsec_2", 9_000)));
    assert!(!write(&store, move |tx| tx.rotate_secret(one, gone, "x", 9_000)));
    assert!(write(&store, move |tx| tx.remove_endpoint(one, hook, 6_000)));
    assert!(!write(&store, move |tx| tx.remove_endpoint(1_000, hook, 6_000)));
    assert!(read(&store, move |tx| tx.active_endpoints(one, true)).is_empty());
}

#[test]
fn people_and_sessions() {
    let Some(db) = TestDb::new("people_and_sessions") else {
        return;
    };
    let store = db.open();
    let one = add_site(&store, "one", &[]);
    let two = add_site(&store, "two", &[]);
    let person = move |email: &'static str, name: &'static str| NewUser {
        email,
        name,
        role: Role::Agent,
        password_hash: "$argon2id$x",
        site_ids: &[],
        now: 1,
    };
    let (ann, dup) = write(&store, move |tx| {
        let sites = [two, one];
        let ann = tx.insert_user(&NewUser {
            site_ids: &sites,
            ..person("Ann@Example.com", "Ann")
        })?;
        let dup = tx.insert_user(&person("ann@example.COM", "Other Ann"))?;
        tx.insert_user(&NewUser {
            role: Role::Owner,
            ..person("bob@example.com", "Bob")
        })?;
        Ok((ann.unwrap(), dup))
    });
    assert_eq!(dup, None, "taken in another letter case, and no error");
    let (user, hash) = read(&store, |tx| tx.user_by_email("ANN@example.com")).unwrap();
    assert_eq!(user.id, ann);
    assert_eq!(user.email, "Ann@Example.com");
    assert_eq!(user.role, Role::Agent);
    assert_eq!(user.site_ids, [one, two]);
    assert_eq!(
        user.alert_events,
        [Event::Opened, Event::Overdue, Event::Closed]
    );
    assert_eq!(hash, "$argon2id$x");
    write(&store, move |tx| tx.set_alert_events(ann, &[Event::Closed]));
    let users = read(&store, |tx| tx.users());
    assert_eq!(users.len(), 2);
    assert_eq!(users[0].alert_events, [Event::Closed]);
    assert!(users[1].site_ids.is_empty());

    write(&store, move |tx| {
        tx.insert_session(&NewSession {
            hash: "old",
            user_id: ann,
            csrf: "c0",
            now: 0,
            expires_at: 50,
        })?;
        tx.insert_session(&NewSession {
            hash: "h1",
            user_id: ann,
            csrf: "c1",
            now: 100,
            expires_at: 200,
        })
    });
    let (user, csrf) = read(&store, |tx| tx.session("h1", 150)).unwrap();
    assert_eq!((user.id, csrf.as_str()), (ann, "c1"));
    assert_eq!(read(&store, |tx| tx.session("h1", 200)), None, "expired");
    let kept = db.count("SELECT count(*) FROM sessions");
    assert_eq!(kept, 1, "expired sessions go when someone logs in");
    write(&store, |tx| tx.delete_session("h1"));
    assert_eq!(read(&store, |tx| tx.session("h1", 150)), None);

    // Removing a person takes them off their cases.
    let case_id = write(&store, move |tx| {
        tx.insert_rating(&rating("r1", one, 2, 0))?;
        let case_id = tx.insert_case(&case("NM-AAAA", one, "r1", 0))?.unwrap().id;
        tx.assign_case(case_id, Some(ann))?;
        Ok(case_id)
    });
    let assigned = read(&store, move |tx| tx.case_by_id(case_id)).unwrap();
    assert_eq!(assigned.assignee, Some((ann, "Ann".into())));
    let mine = case_ids(
        &store,
        CaseFilter {
            assignee: Some(ann),
            ..filter(10)
        },
    );
    assert_eq!(mine, [case_id]);
    assert!(write(&store, |tx| tx.remove_user("ann@EXAMPLE.com")));
    assert!(!write(&store, |tx| tx.remove_user("ann@example.com")));
    let unassigned = read(&store, move |tx| tx.case_by_id(case_id)).unwrap();
    assert_eq!(unassigned.assignee, None);
}

#[test]
fn api_tokens() {
    let Some(db) = TestDb::new("api_tokens") else {
        return;
    };
    let store = db.open();
    let one = add_site(&store, "one", &[]);
    let two = add_site(&store, "two", &[]);
    write(&store, move |tx| {
        let sites = [two, one, two];
        tx.insert_token(&NewToken {
            name: "ci",
            hash: "h-ci",
            now: 5,
            expires_at: Some(100),
            site_ids: &sites,
        })?;
        tx.insert_token(&NewToken {
            name: "all",
            hash: "h-all",
            now: 6,
            expires_at: None,
            site_ids: &[],
        })
    });
    let ci = read(&store, |tx| tx.token("h-ci", 99)).unwrap();
    assert_eq!(ci.name, "ci");
    assert_eq!(ci.site_ids, [one, two]);
    assert_eq!(ci.created_at, 5);
    assert_eq!(read(&store, |tx| tx.token("h-ci", 100)), None, "expired");
    assert!(read(&store, |tx| tx.token("h-all", i64::MAX)).is_some());
    assert_eq!(read(&store, |tx| tx.token("nope", 0)), None);
    let names: Vec<String> = read(&store, |tx| tx.tokens())
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["ci", "all"]);
    let id = ci.id;
    assert!(write(&store, move |tx| tx.delete_token(id)));
    assert!(!write(&store, move |tx| tx.delete_token(id)));
    assert_eq!(read(&store, |tx| tx.tokens()).len(), 1);
}

#[test]
fn changes_are_announced_to_listeners() {
    let Some(db) = TestDb::postgres("changes_are_announced_to_listeners") else {
        return;
    };
    let store = db.open();
    let one = add_site(&store, "one", &[]);
    let (heard, hear) = mpsc::channel();
    let cases = heard.clone();
    let _listening = store
        .listen(
            move || heard.send("outbox").unwrap_or_default(),
            move || cases.send("cases").unwrap_or_default(),
        )
        .unwrap();
    // The listener may not be listening yet: queue until it hears.
    let mut queued = 0;
    let outbox = loop {
        queued += 1;
        let msg_id = format!("m{queued}");
        write(&store, move |tx| {
            tx.insert_message(&NewMessage {
                msg_id: &msg_id,
                endpoint_id: None,
                kind: MessageKind::CustomerEmail,
                target: "ann@example.com",
                event: Topic::Case(Event::Closed),
                case_id: None,
                payload: "{}",
                now: 0,
            })
        });
        if let Ok(channel) = hear.recv_timeout(Duration::from_millis(200)) {
            break channel;
        }
        assert!(queued < 50, "never heard of the new message");
    };
    assert_eq!(outbox, "outbox");
    write(&store, move |tx| {
        tx.insert_rating(&rating("r1", one, 2, 0))?;
        tx.insert_case(&case("NM-AAAA", one, "r1", 0))
    });
    // (Past any late word of the messages queued above.)
    while hear.recv_timeout(Duration::from_secs(5)).unwrap() != "cases" {}

    // A lease and a failure say nothing; a redelivery does, though the message's
    // new due time is later than its old one.
    let hook = write(&store, move |tx| {
        let hook = tx.insert_endpoint(&NewEndpoint {
            site_id: one,
            kind: EndpointKind::Webhook,
            target: "https://h.example",
            secret: None,
            escalation: false,
            now: 0,
        })?;
        tx.insert_message(&NewMessage {
            msg_id: "hooked",
            endpoint_id: Some(hook),
            kind: MessageKind::Webhook,
            target: "https://h.example",
            event: Topic::Case(Event::Opened),
            case_id: None,
            payload: "{}",
            now: 0,
        })?;
        Ok(hook)
    });
    assert_eq!(hear.recv_timeout(Duration::from_secs(5)), Ok("outbox"));
    write(&store, move |tx| {
        let lanes = [(hook, 1)];
        let claimed = tx.claim_messages(&Claim {
            now: 0,
            lease_until: 60_000,
            lanes: &lanes,
        })?;
        tx.record_attempt(&Attempt {
            message: &claimed[0],
            now: 1_000,
            result: AttemptResult::Failed("400"),
        })
    });
    assert!(hear.recv_timeout(Duration::from_millis(300)).is_err());
    assert_eq!(write(&store, move |tx| tx.redeliver(one, hook, 100_000)), 1);
    assert_eq!(hear.recv_timeout(Duration::from_secs(5)), Ok("outbox"));
}

#[test]
fn a_failed_write_undoes_only_its_own_changes() {
    let Some(db) = TestDb::new("a_failed_write_undoes_only_its_own_changes") else {
        return;
    };
    let store = db.open();
    // Writes that hold every writer until released (SQLite has one, PostgreSQL
    // `WRITERS`), so that the next ones wait in line and are committed together.
    let (release, released) = mpsc::channel::<()>();
    let released = Arc::new(Mutex::new(released));
    let holders: Vec<_> = (0..postgres::WRITERS)
        .map(|_| {
            let (store, released) = (store.clone(), released.clone());
            std::thread::spawn(move || {
                write(&store, move |_| {
                    let _ = released.lock().unwrap().recv();
                    Ok(())
                })
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let site = |name: &'static str| settings(name, &[]);
    type Work = Box<dyn FnOnce(&mut dyn Tx) -> Result<i64, StoreError> + Send>;
    let writes: Vec<(&str, Work)> = vec![
        (
            "kept",
            Box::new(move |tx| tx.insert_site(&site("kept"), "s_kept", "secret", 0)),
        ),
        (
            "refused",
            Box::new(move |tx| {
                tx.insert_site(&site("refused"), "s_refused", "secret", 0)?;
                Err(StoreError::Task("refused by the product".into()))
            }),
        ),
        (
            "panicked",
            Box::new(move |tx| {
                tx.insert_site(&site("panicked"), "s_panicked", "secret", 0)?;
                panic!("a write panicked (on purpose)")
            }),
        ),
        (
            "after",
            Box::new(move |tx| tx.insert_site(&site("after"), "s_after", "secret", 0)),
        ),
    ];
    let waiting: Vec<_> = writes
        .into_iter()
        .map(|(name, work)| {
            let store = store.clone();
            let thread = std::thread::spawn(move || store.write_now(work).is_ok());
            // In this order in line.
            std::thread::sleep(Duration::from_millis(20));
            (name, thread)
        })
        .collect();
    for _ in 0..postgres::WRITERS {
        release.send(()).unwrap();
    }
    holders.into_iter().for_each(|h| h.join().unwrap());
    // Every answer first: a panicked write's caller hears at once, before its batch's
    // commit, and "after" is answered once that commit is done.
    let answers: Vec<(&str, bool)> = waiting
        .into_iter()
        .map(|(name, thread)| (name, thread.join().unwrap()))
        .collect();
    for (name, answered_ok) in answers {
        let stored = read(&store, move |tx| tx.site_by_key(&format!("s_{name}"), 0)).is_some();
        let expected = matches!(name, "kept" | "after");
        assert_eq!((answered_ok, stored), (expected, expected), "{name}");
    }
}

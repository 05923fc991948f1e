//! Several servers on one PostgreSQL database, as behind a load balancer: a rating sent
//! to both lands once, each alert is sent once, each passed deadline is raised once, and
//! SIGKILL of one server loses nothing it acknowledged.
//!
//! PostgreSQL only: these tests say they were skipped unless `NEARMISS_TEST_POSTGRES`
//! names a server (`cargo xtask test` starts one).

mod support;

use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::database::Database;
use support::process::{free_port, serve, site_with_webhook};
use support::receiver::{Delivery, Receiver};
use support::Server;

/// The shared database in `dir`, or `None` (and why) without PostgreSQL.
fn shared_database(dir: &std::path::Path) -> Option<Database> {
    if !Database::is_postgres() {
        eprintln!(
            "skipped: several servers share a PostgreSQL database ({} is not set)",
            support::database::POSTGRES
        );
        return None;
    }
    Some(Database::in_dir(dir))
}

/// Every delivery carries a valid Standard Webhooks signature; answers them by
/// `webhook-id`.
#[track_caller]
fn verified(deliveries: &[Delivery], secret: &str) -> HashMap<String, Vec<Delivery>> {
    let mut by_id: HashMap<String, Vec<Delivery>> = HashMap::new();
    for delivery in deliveries {
        let id = delivery.header("webhook-id");
        let timestamp: i64 = delivery.header("webhook-timestamp").parse().unwrap();
        assert!(
            nearmiss_server::alerts::webhook::verify(
                secret,
                &id,
                timestamp,
                &delivery.body,
                &delivery.header("webhook-signature"),
            ),
            "a delivery whose signature does not verify: {id}"
        );
        by_id.entry(id).or_default().push(delivery.clone());
    }
    by_id
}

/// The case reference of each `type` delivery.
fn references(deliveries: &[Delivery], event: &str) -> Vec<String> {
    deliveries
        .iter()
        .map(Delivery::json)
        .filter(|body| body["type"] == event)
        .map(|body| {
            body["data"]["case"]["ref"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect()
}

#[test]
fn two_servers_store_each_rating_once_and_send_each_alert_and_overdue_once() {
    let dir = tempfile::tempdir().unwrap();
    let Some(_database) = shared_database(dir.path()) else {
        return;
    };
    let clock = support::test_clock();
    let a = Server::builder()
        .in_dir(dir.path())
        .clock(clock.clone())
        .start();
    let b = Server::builder()
        .in_dir(dir.path())
        .clock(clock.clone())
        .site(&a.site)
        .start();
    let receiver = Receiver::start(&[]);
    let secret = a.add_endpoint("webhook", &receiver.url, false).unwrap();

    // Ratings alternate between the servers; every fourth is also sent to the other
    // server at the same moment, as a retry through a load balancer would be.
    const RATINGS: u64 = 40;
    let servers = [&a, &b];
    std::thread::scope(|scope| {
        for n in 0..RATINGS {
            let body = support::rating(&a.site, 1 + (n % 5) as i64)
                .id(&support::id(n))
                .json();
            let first = servers[(n % 2) as usize];
            let second = servers[(1 - n % 2) as usize];
            let again = body.clone();
            let twice = n % 4 == 0;
            let sent = scope.spawn(move || first.post_json("/v1/ratings", &body).status);
            let retried =
                twice.then(|| scope.spawn(move || second.post_json("/v1/ratings", &again).status));
            assert!(matches!(sent.join().unwrap(), 200 | 201));
            if let Some(retried) = retried {
                assert!(matches!(retried.join().unwrap(), 200 | 201));
            }
        }
    });
    let flagged = (0..RATINGS).filter(|n| n % 5 != 4).count();
    assert_eq!(a.count("SELECT count(*) FROM ratings"), RATINGS as i64);
    assert_eq!(a.count("SELECT count(*) FROM cases"), flagged as i64);

    support::wait_for("every case.opened alert", || {
        receiver.of_type("case.opened").len() >= flagged
    });
    // Every acknowledge deadline passes; both servers' scanners see it.
    clock.fetch_add(16 * 60 * 1000, std::sync::atomic::Ordering::SeqCst);
    b.alerts.wake();
    support::wait_for("every case.overdue alert", || {
        receiver.of_type("case.overdue").len() >= flagged
    });
    // Long enough for a second server's duplicate to arrive, were there one.
    std::thread::sleep(Duration::from_millis(2500));
    let deliveries = receiver.deliveries();
    let by_id = verified(&deliveries, &secret);
    assert_eq!(deliveries.len(), 2 * flagged, "each alert sent once");
    assert_eq!(by_id.len(), 2 * flagged, "each with its own webhook-id");
    let opened: HashSet<String> = references(&deliveries, "case.opened").into_iter().collect();
    let overdue: HashSet<String> = references(&deliveries, "case.overdue")
        .into_iter()
        .collect();
    assert_eq!(opened.len(), flagged, "case references are unique");
    assert_eq!(overdue, opened, "every case raised overdue once");
}

#[test]
fn sigkill_of_one_of_two_servers_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = shared_database(dir.path()) else {
        return;
    };
    let receiver = Receiver::start(&[]);
    let (site, secret) = site_with_webhook(
        &db,
        "Two Door Diner",
        "https://diner.example",
        &receiver.url,
    );
    let ports = [free_port(), free_port()];
    let mut doomed = serve(&db, ports[0]);
    let _survivor = serve(&db, ports[1]);

    // Clients alternate between the servers; a rating a dead server did not answer is
    // sent to the other one, as a load balancer retries.
    let acknowledged = Arc::new(Mutex::new(Vec::<(String, i64)>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clients: Vec<_> = (0..4u64)
        .map(|client| {
            let (site, stop, acknowledged) = (site.clone(), stop.clone(), acknowledged.clone());
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(5)))
                    .build()
                    .into();
                for n in (client * 1_000_000).. {
                    if stop.load(std::sync::atomic::Ordering::SeqCst) {
                        return;
                    }
                    let id = support::id(n);
                    let score = 1 + (n % 5) as i64;
                    let body: Value = support::rating(&site, score).id(&id).json();
                    let first = (n % 2) as usize;
                    let answered = [first, 1 - first].into_iter().find_map(|server| {
                        let url = format!("http://127.0.0.1:{}/v1/ratings", ports[server]);
                        agent
                            .post(url)
                            .send_json(&body)
                            .ok()
                            .map(|r| r.status().as_u16())
                    });
                    if matches!(answered, Some(200 | 201)) {
                        acknowledged.lock().unwrap().push((id, score));
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    doomed.kill(); // SIGKILL, mid-write
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for client in clients {
        client.join().unwrap();
    }

    let acknowledged = acknowledged.lock().unwrap();
    assert!(
        acknowledged.len() > 100,
        "too few ratings to prove anything: {}",
        acknowledged.len()
    );
    let stored: HashSet<String> = db
        .strings("SELECT id || ' ' || score FROM ratings")
        .into_iter()
        .collect();
    let with_case: HashSet<String> = db
        .strings("SELECT rating_id FROM cases")
        .into_iter()
        .collect();
    for (id, score) in acknowledged.iter() {
        assert!(
            stored.contains(&format!("{id} {score}")),
            "acknowledged rating {id} is missing"
        );
        assert_eq!(
            with_case.contains(id),
            *score < 5,
            "rating {id} (score {score}) and its case"
        );
    }
    // Alerts the dead server had claimed are sent by the survivor once their lease
    // (60 s) runs out: at least once each, a repeat only under the same webhook-id.
    let cases = db.query::<i64>("SELECT count(*) FROM cases") as usize;
    support::wait_within(Duration::from_secs(90), "an alert for every case", || {
        let ids: HashSet<String> = receiver
            .of_type("case.opened")
            .iter()
            .map(|d| d.header("webhook-id"))
            .collect();
        ids.len() >= cases
    });
    let deliveries = receiver.of_type("case.opened");
    let by_id = verified(&deliveries, &secret);
    assert_eq!(by_id.len(), cases, "one webhook-id per case");
    let references: HashSet<String> = references(&deliveries, "case.opened").into_iter().collect();
    assert_eq!(references.len(), cases, "one case reference per case");
    for (id, copies) in &by_id {
        let bodies: HashSet<&str> = copies.iter().map(|d| d.body.as_str()).collect();
        assert_eq!(bodies.len(), 1, "repeats of {id} carry the same alert");
    }
    eprintln!(
        "{} acknowledged ratings checked, {cases} cases, {} deliveries for {} alerts",
        acknowledged.len(),
        deliveries.len(),
        by_id.len()
    );
}

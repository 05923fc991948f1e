//! The numbers: `GET /v1/stats` for known histories over real HTTP, and a property test
//! that the stats agree with a plain recount of random histories.

mod support;

use nearmiss_server::bodies::{Stats, StepRequest};
use nearmiss_server::cases::{self, Actor};
use nearmiss_server::stats::{self, Period};
use nearmiss_server::{ratings, Store};
use proptest::prelude::*;
use support::{id, rating, test_clock, Server};

const DAY: i64 = 86_400_000;
/// 2026-11-29T12:00:00Z, the test clock's start.
const NOON: i64 = 1_795_953_600_000;
const MIDNIGHT: i64 = NOON - DAY / 2;

fn rate_at(server: &Server, n: u64, score: i64, at: i64) -> serde_json::Value {
    let clock = server.clock.as_ref().unwrap();
    clock.store(at, std::sync::atomic::Ordering::SeqCst);
    let reply = server.post_json(
        "/v1/ratings",
        &rating(&server.site, score).id(&id(n)).json(),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.json()
}

#[test]
fn seven_perfect_and_three_near_misses_are_a_perfection_rate_of_0_7() {
    let server = Server::builder().clock(test_clock()).start();
    let token = server.token("Numbers");
    for n in 0..10 {
        rate_at(
            &server,
            n,
            if n < 7 { 5 } else { 2 + (n as i64 % 3) },
            NOON - 60_000 * n as i64,
        );
    }
    let reply = server.authed(
        "GET",
        "/v1/stats?from=2026-11-29&to=2026-11-29",
        &token,
        None,
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let stats: Stats = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(
        (stats.ratings, stats.perfect, stats.near_misses),
        (10, 7, 3)
    );
    assert_eq!(stats.perfection_rate, Some(0.7));
    assert_eq!((stats.open, stats.overdue), (3, 0));
    assert_eq!(stats.days.len(), 1);
    assert_eq!(
        stats.recovery_rate, None,
        "no re-ratings: no rate, not zero"
    );
    assert_eq!(stats.ack_seconds.median, None);
    let site = server.authed(
        "GET",
        &format!("/v1/stats?site={}&to=2026-11-29", server.site),
        &token,
        None,
    );
    assert_eq!(site.json()["ratings"], 10);
    assert_eq!(
        site.json()["days"].as_array().unwrap().len(),
        30,
        "the last 30 days by default"
    );
}

#[test]
fn an_empty_period_has_no_rates_and_every_day_listed() {
    let server = Server::builder().clock(test_clock()).start();
    let token = server.token("Numbers");
    let reply = server.authed(
        "GET",
        "/v1/stats?from=2026-01-01&to=2026-01-07",
        &token,
        None,
    );
    let body = reply.json();
    assert_eq!(body["ratings"], 0);
    assert!(body["perfection_rate"].is_null() && body["recovery_rate"].is_null());
    assert!(body["ack_seconds"]["median"].is_null());
    let days: Vec<&str> = body["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["date"].as_str().unwrap())
        .collect();
    assert_eq!(days.first(), Some(&"2026-01-01"));
    assert_eq!(days.len(), 7);
}

#[test]
fn a_rating_at_midnight_utc_counts_on_the_day_it_starts() {
    let server = Server::builder().clock(test_clock()).start();
    let token = server.token("Numbers");
    rate_at(&server, 1, 5, MIDNIGHT - 1);
    rate_at(&server, 2, 3, MIDNIGHT);
    let body = server
        .authed(
            "GET",
            "/v1/stats?from=2026-11-28&to=2026-11-29",
            &token,
            None,
        )
        .json();
    assert_eq!(
        body["days"][0],
        serde_json::json!({"date": "2026-11-28", "ratings": 1, "perfect": 1})
    );
    assert_eq!(
        body["days"][1],
        serde_json::json!({"date": "2026-11-29", "ratings": 1, "perfect": 0})
    );
    let one_day = server
        .authed(
            "GET",
            "/v1/stats?from=2026-11-29&to=2026-11-29",
            &token,
            None,
        )
        .json();
    assert_eq!(one_day["ratings"], 1);
    assert_eq!(one_day["near_misses"], 1);
}

#[test]
fn bad_periods_and_unknown_sites_are_refused() {
    let server = Server::start();
    let token = server.token("Numbers");
    let get = |query: &str| server.authed("GET", &format!("/v1/stats?{query}"), &token, None);
    get("from=2026-02-30").assert_error(422, "invalid_date", Some("from"));
    get("to=next-week").assert_error(422, "invalid_date", Some("to"));
    get("from=2026-12-01&to=2026-11-01").assert_error(422, "invalid_period", Some("from"));
    get("from=2020-01-01&to=2026-01-01").assert_error(422, "period_too_long", Some("from"));
    get("site=s_nope").assert_error(404, "unknown_site", Some("site"));
    assert_eq!(server.get("/v1/stats").status, 401);
}

/// One rating of a random history: how many minutes after the period's start it came,
/// its score, and (for a near miss) after how many minutes it was acknowledged.
#[derive(Clone, Debug)]
struct Event {
    minute: i64,
    score: i64,
    ack_after: Option<i64>,
}

fn history() -> impl Strategy<Value = Vec<Event>> {
    prop::collection::vec(
        (
            0i64..(6 * 24 * 60),
            1i64..=5,
            prop::option::of(0i64..(3 * 24 * 60)),
        )
            .prop_map(|(minute, score, ack_after)| Event {
                minute,
                score,
                ack_after,
            }),
        0..30,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn the_stats_agree_with_a_plain_recount(history in history(), first in 0i64..4, days in 1i32..4) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("n.db")).unwrap();
        let mut settings = nearmiss_server::sites::SiteSettings::new("Shop");
        settings.origins = vec!["https://shop.example".into()];
        let site = nearmiss_server::sites::add(&store, settings, 0).unwrap();
        let start = NOON - 3 * DAY - DAY / 2; // 2026-11-26T00:00:00Z
        let now = start + 7 * DAY;
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let mut acked = Vec::new();
        runtime.block_on(async {
            for (n, event) in history.iter().enumerate() {
                let at = start + event.minute * 60_000;
                let rating = nearmiss_core::Rating {
                    id: id(n as u64 + 1), site: site.key.clone(), score: event.score,
                    interaction: None, token: None, page: None, locale: None, rerate: None, edit: None,
                };
                let answer = ratings::record(&store, site.clone(), rating, None, at).await.unwrap().answer;
                if let (Some(case), Some(after)) = (answer.case, event.ack_after) {
                    let step = StepRequest { step: "acknowledged".into(), ..StepRequest::default() };
                    let by = Actor { name: "Sam".into(), user: None, email: None, scope: None };
                    cases::add_step(&store, case.reference, step, by, at + after * 60_000).await.unwrap();
                    acked.push((event.minute, after));
                }
            }
        });
        let from = start + first * DAY;
        let to = from + days as i64 * DAY;
        let period = Period::parse(
            Some(&jiff::Timestamp::from_millisecond(from).unwrap().to_string()[..10]),
            Some(&jiff::Timestamp::from_millisecond(to - DAY).unwrap().to_string()[..10]),
            now,
        ).unwrap();
        let stats = runtime.block_on(stats::compute(&store, Some(vec![site.id]), period, now)).unwrap();

        // The plain recount, from the history alone.
        let within: Vec<&Event> = history.iter()
            .filter(|e| (from..to).contains(&(start + e.minute * 60_000)))
            .collect();
        let perfect = within.iter().filter(|e| e.score == 5).count() as i64;
        prop_assert_eq!(stats.ratings, within.len() as i64);
        prop_assert_eq!(stats.perfect, perfect);
        prop_assert_eq!(stats.near_misses, within.len() as i64 - perfect);
        prop_assert_eq!(stats.perfection_rate, (!within.is_empty()).then(|| perfect as f64 / within.len() as f64));
        prop_assert_eq!(stats.open, stats.near_misses, "nobody closed anything");
        let overdue = within.iter().filter(|e| e.score < 5).filter(|e| {
            let opened = start + e.minute * 60_000;
            match e.ack_after {
                None => opened + 15 * 60_000 <= now,
                Some(_) => opened + 2 * DAY <= now,
            }
        }).count() as i64;
        prop_assert_eq!(stats.overdue, overdue);
        let mut waits: Vec<i64> = acked.iter()
            .filter(|(minute, _)| (from..to).contains(&(start + minute * 60_000)))
            .map(|(_, after)| after * 60)
            .collect();
        waits.sort_unstable();
        let nearest = |p: usize| (!waits.is_empty()).then(|| waits[(p * waits.len()).div_ceil(100).max(1) - 1]);
        prop_assert_eq!(stats.ack_seconds.median, nearest(50));
        prop_assert_eq!(stats.ack_seconds.p90, nearest(90));
        prop_assert_eq!(stats.days.len(), days as usize);
        for (i, day) in stats.days.iter().enumerate() {
            let (lo, hi) = (from + i as i64 * DAY, from + (i as i64 + 1) * DAY);
            let on_day: Vec<&&Event> = within.iter().filter(|e| (lo..hi).contains(&(start + e.minute * 60_000))).collect();
            prop_assert_eq!(day.ratings, on_day.len() as i64);
            prop_assert_eq!(day.perfect, on_day.iter().filter(|e| e.score == 5).count() as i64);
        }
    }
}

/// Reads a CSV body with a CSV library: the header and the rows.
fn parse_csv(body: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

#[test]
fn the_export_is_csv_a_library_reads_back_with_formulas_defused() {
    let server = Server::builder().clock(test_clock()).start();
    let token = server.token("Numbers");
    rate_at(&server, 1, 5, NOON - 60_000);
    let answer = rate_at(&server, 2, 2, NOON);
    let details = serde_json::json!({
        "site": server.site,
        "edit": support::edit(&id(2)),
        "comment": "=HYPERLINK(\"https://evil.example\",\"Click\")\nSecond line, with a comma",
        "reasons": ["Quality", "Staff"],
        "contact": {"name": "Ana", "email": "ana@example.com", "consent": true}
    });
    assert_eq!(
        server
            .post_json(&format!("/v1/ratings/{}/details", id(2)), &details)
            .status,
        200
    );

    let reply = server.authed(
        "GET",
        "/v1/export.csv?from=2026-11-29&to=2026-11-29",
        &token,
        None,
    );
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    assert!(reply
        .header("content-disposition")
        .unwrap()
        .contains("nearmiss-all-2026-11-29-2026-11-29.csv"));
    let (header, rows) = parse_csv(&reply.body);
    assert_eq!(
        header.join(","),
        "id,created_at,site,score,scale,perfect,interaction,case,status,reasons,comment"
    );
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][0], id(1));
    assert_eq!(rows[0][5], "true");
    let near = &rows[1];
    assert_eq!(near[1], "2026-11-29T12:00:00Z");
    assert_eq!(near[3], "2");
    assert_eq!(near[7], answer["case"]["ref"].as_str().unwrap());
    assert_eq!(near[8], "open");
    assert_eq!(near[9], "Quality; Staff");
    assert!(near[10].starts_with("'=HYPERLINK"), "{}", near[10]);
    assert!(near[10].ends_with("Second line, with a comma"));
    assert!(
        !reply.body.contains("ana@example.com"),
        "no contact unless asked"
    );

    let with_contact = server.authed(
        "GET",
        "/v1/export.csv?from=2026-11-29&to=2026-11-29&contact=1",
        &token,
        None,
    );
    let (header, rows) = parse_csv(&with_contact.body);
    assert_eq!(header.len(), 14);
    assert_eq!(rows[1][12], "ana@example.com");
    let other_day = server.authed(
        "GET",
        "/v1/export.csv?from=2026-11-28&to=2026-11-28",
        &token,
        None,
    );
    assert_eq!(parse_csv(&other_day.body).1.len(), 0);
}

#[test]
fn a_long_export_arrives_whole_page_after_page() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::builder()
        .clock(test_clock())
        .in_dir(dir.path())
        .start();
    let token = server.token("Numbers");
    let site = server
        .store
        .read_now(|tx| tx.site_by_key(&server.site, 0))
        .unwrap()
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // 1,234 ratings, two of them in the same millisecond: pages must not lose or repeat one.
    runtime.block_on(futures_util::future::join_all((0..1234u64).map(|n| {
        let (store, site) = (server.store.clone(), site.clone());
        async move {
            let rating = nearmiss_core::Rating {
                id: id(n + 1),
                site: site.key.clone(),
                score: 5,
                interaction: None,
                token: None,
                page: None,
                locale: None,
                rerate: None,
                edit: None,
            };
            let at = NOON - (n as i64 / 2) * 1000;
            ratings::record(&store, site, rating, None, at)
                .await
                .unwrap();
        }
    })));
    let reply = server.authed(
        "GET",
        "/v1/export.csv?from=2026-11-29&to=2026-11-29",
        &token,
        None,
    );
    let (_, rows) = parse_csv(&reply.body);
    assert_eq!(rows.len(), 1234);
    let mut ids: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 1234, "no rating twice");
}

#[test]
fn a_re_rating_counts_as_a_recovery_not_as_a_new_rating() {
    let server = Server::builder().clock(test_clock()).start();
    let token = server.token("Numbers");
    let answer = rate_at(&server, 1, 2, NOON);
    let reference = answer["case"]["ref"].as_str().unwrap().to_owned();
    for step in [
        serde_json::json!({"step": "acknowledged"}),
        serde_json::json!({"step": "cause_found", "cause": "Process", "action": "A checklist."}),
        serde_json::json!({"step": "closed", "note": "No contact left."}),
    ] {
        let path = format!("/v1/cases/{reference}/steps");
        assert_eq!(
            server.authed("POST", &path, &token, Some(&step)).status,
            201
        );
    }
    let rerate = server.rerate_link(&reference);
    let again = serde_json::json!({"id": id(2), "site": server.site, "score": 5, "rerate": rerate});
    assert_eq!(server.post_json("/v1/ratings", &again).status, 201);
    let stats = server
        .authed(
            "GET",
            "/v1/stats?from=2026-11-29&to=2026-11-29",
            &token,
            None,
        )
        .json();
    assert_eq!(
        stats["ratings"], 1,
        "the re-rating is not a second customer"
    );
    assert_eq!(
        (stats["rerated"].as_i64(), stats["recovered"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(stats["recovery_rate"], 1.0);
    assert_eq!(stats["ack_seconds"]["median"], 0);
    assert_eq!(
        stats["causes"],
        serde_json::json!([{"cause": "Process", "cases": 1, "preventions": ["A checklist."]}])
    );
}

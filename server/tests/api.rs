//! The public API over a real socket: every status in the error table, replay and
//! conflict, CORS, perfect vs flagged, details, assets, and a restart.

mod support;

use serde_json::{json, Value};
use support::{Server, ID};

fn rating(server: &Server, id: &str, score: i64) -> Value {
    support::rating(&server.site, score)
        .id(id)
        .interaction("order-1042")
        .json()
}

#[test]
fn a_perfect_score_is_stored_without_a_case() {
    let server = Server::start();
    let reply = server.post_json("/v1/ratings", &rating(&server, ID, 5));
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(
        reply.json(),
        json!({ "id": ID, "flagged": false, "case": null, "edit": support::edit(ID) })
    );
    assert_eq!(server.count("SELECT count(*) FROM cases"), 0);
    assert_eq!(
        server.count("SELECT count(*) FROM ratings WHERE perfect"),
        1
    );
}

#[test]
fn every_score_below_perfect_opens_a_case_with_a_reference_and_a_promise() {
    let server = Server::start();
    for (i, score) in (1..=4).enumerate() {
        let id = format!("0b8f5c1e-4a7d-4c2b-9e3f-1a2b3c4d5e6{i}");
        let reply = server.post_json("/v1/ratings", &rating(&server, &id, score));
        assert_eq!(reply.status, 201, "{}", reply.body);
        let body = reply.json();
        assert_eq!(body["flagged"], true);
        let reference = body["case"]["ref"].as_str().expect("a case reference");
        assert!(
            reference.starts_with("NM-") && reference.len() == 7,
            "{reference}"
        );
        assert_eq!(body["case"]["promise"]["who"], "The Test Shop team");
        assert!(body["case"]["promise"]["by"]
            .as_str()
            .unwrap()
            .ends_with('Z'));
    }
    assert_eq!(
        server.count("SELECT count(*) FROM cases WHERE status = 'open'"),
        4
    );
    assert_eq!(
        server.count("SELECT count(*) FROM cases WHERE ack_due_at - opened_at = 15 * 60 * 1000"),
        4
    );
}

#[test]
fn a_replay_gets_the_same_answer_and_other_content_a_conflict() {
    let server = Server::start();
    let first = server.post_json("/v1/ratings", &rating(&server, ID, 3));
    let again = server.post_json("/v1/ratings", &rating(&server, ID, 3));
    assert_eq!((first.status, again.status), (201, 201));
    assert_eq!(first.json(), again.json());
    let other = server.post_json("/v1/ratings", &rating(&server, ID, 2));
    other.assert_error(409, "id_conflict", Some("id"));
    assert_eq!(server.count("SELECT count(*) FROM ratings"), 1);
    assert_eq!(server.count("SELECT count(*) FROM cases"), 1);
}

#[test]
fn bad_input_gets_the_documented_error_and_changes_nothing() {
    let server = Server::start();
    let site = server.site.clone();
    let with = |field: &str, value: Value| {
        let mut body = rating(&server, ID, 4);
        body[field] = value;
        server.post_json("/v1/ratings", &body)
    };
    server
        .post("/v1/ratings", "application/json", "{\"id\":")
        .assert_error(400, "malformed", None);
    server
        .post("/v1/ratings", "application/json", "not json")
        .assert_error(400, "malformed", None);
    server
        .post("/v1/ratings", "application/json", &[0xff, 0xfe, 0x7b][..])
        .assert_error(400, "malformed", None);
    let form = format!("id={ID}&site={site}&score=4");
    server
        .post(
            "/v1/ratings",
            "application/x-www-form-urlencoded",
            form.as_bytes(),
        )
        .assert_error(415, "unsupported_media_type", None);
    let deep = format!(
        "{{\"id\":\"{ID}\",\"site\":\"{site}\",\"score\":4,\"x\":{}",
        "[".repeat(5_000)
    );
    server
        .post("/v1/ratings", "application/json", deep.as_bytes())
        .assert_error(400, "malformed", None);
    let huge = json!({ "id": ID, "site": site, "score": 4, "page": "x".repeat(20_000) });
    server
        .post_json("/v1/ratings", &huge)
        .assert_error(413, "too_large", None);
    with("score", json!(6)).assert_error(422, "score_out_of_range", Some("score"));
    with("score", json!(0)).assert_error(422, "score_out_of_range", Some("score"));
    with("score", json!(-1)).assert_error(422, "score_out_of_range", Some("score"));
    with("score", json!(4.5)).assert_error(422, "invalid_type", Some("score"));
    with("score", json!("4")).assert_error(422, "invalid_type", Some("score"));
    with("score", json!(1e300)).assert_error(422, "invalid_type", Some("score"));
    with("id", json!("42")).assert_error(422, "invalid_id", Some("id"));
    with("interaction", json!("x".repeat(201))).assert_error(422, "too_long", Some("interaction"));
    with("interaction", json!("order\u{0}")).assert_error(
        422,
        "control_characters",
        Some("interaction"),
    );
    with("site", json!("s_nosuchsite")).assert_error(404, "unknown_site", Some("site"));
    let mut missing = rating(&server, ID, 4);
    missing.as_object_mut().unwrap().remove("score");
    server
        .post_json("/v1/ratings", &missing)
        .assert_error(422, "required", Some("score"));
    assert_eq!(server.count("SELECT count(*) FROM ratings"), 0);
    assert_eq!(server.count("SELECT count(*) FROM cases"), 0);
}

#[test]
fn unknown_fields_are_ignored_and_text_plain_is_json() {
    let server = Server::start();
    let mut body = rating(&server, ID, 5);
    body["added_in_a_later_version"] = json!(true);
    let reply = server.post(
        "/v1/ratings",
        "text/plain;charset=UTF-8",
        body.to_string().as_bytes(),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
}

#[test]
fn details_are_saved_last_one_wins_and_contact_needs_consent() {
    let server = Server::start();
    server.post_json("/v1/ratings", &rating(&server, ID, 2));
    let path = format!("/v1/ratings/{ID}/details");
    let details = json!({
        "site": server.site, "edit": support::edit(ID), "comment": "The fries were missing.",
        "reasons": ["Quality"], "contact": { "email": "ana@example.com", "consent": false }
    });
    let reply = server.post_json(&path, &details);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.json()["case"].as_str().map(|r| r.starts_with("NM-")),
        Some(true)
    );
    assert_eq!(
        server.count("SELECT count(*) FROM details WHERE contact_email IS NULL"),
        1
    );

    let details = json!({
        "site": server.site, "edit": support::edit(ID), "comment": "Fries missing, and cold.",
        "reasons": ["Quality", "Waiting time"],
        "contact": { "email": "ana@example.com", "consent": true }
    });
    assert_eq!(server.post_json(&path, &details).status, 200);
    assert_eq!(
        server.count(
            "SELECT count(*) FROM details WHERE contact_email = 'ana@example.com' AND consent
             AND comment = 'Fries missing, and cold.' AND reasons = '[\"Quality\",\"Waiting time\"]'"
        ),
        1
    );
}

#[test]
fn details_errors() {
    let server = Server::start();
    server.post_json("/v1/ratings", &rating(&server, ID, 2));
    let path = format!("/v1/ratings/{ID}/details");
    let with = |mut details: Value| {
        details["edit"] = json!(support::edit(ID));
        server.post_json(&path, &details)
    };
    let site = server.site.clone();
    with(json!({ "site": site, "reasons": ["Parking"] })).assert_error(
        422,
        "unknown_reason",
        Some("reasons"),
    );
    with(json!({ "site": site, "comment": "x".repeat(2001) })).assert_error(
        422,
        "too_long",
        Some("comment"),
    );
    with(json!({ "site": site, "contact": { "email": "ana@", "consent": true } })).assert_error(
        422,
        "invalid_email",
        Some("contact.email"),
    );
    with(json!({ "site": site, "contact": { "consent": true } })).assert_error(
        422,
        "contact_required",
        Some("contact"),
    );
    with(json!({ "site": site, "contact": { "consent": "yes" } })).assert_error(
        422,
        "invalid_type",
        Some("contact.consent"),
    );
    let unknown = "/v1/ratings/0b8f5c1e-0000-4c2b-9e3f-1a2b3c4d5e6f/details";
    server
        .post_json(unknown, &json!({ "site": site }))
        .assert_error(404, "unknown_rating", Some("id"));
    // Another site cannot add details to this site's rating.
    let other = server.add_site("Other Shop", &["https://other.example"]);
    with(json!({ "site": other })).assert_error(404, "unknown_rating", Some("id"));
    assert_eq!(server.count("SELECT count(*) FROM details"), 0);
}

#[test]
fn cors_answers_only_the_sites_origins() {
    let server = Server::start();
    let preflight = |origin: &str| {
        server.request(
            "OPTIONS",
            "/v1/ratings",
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "content-type"),
            ],
            None,
        )
    };
    let allowed = preflight("https://shop.example");
    assert_eq!(allowed.status, 204);
    assert_eq!(
        allowed.header("access-control-allow-origin").as_deref(),
        Some("https://shop.example")
    );
    assert!(allowed
        .header("access-control-allow-headers")
        .unwrap()
        .contains("content-type"));
    let refused = preflight("https://evil.example");
    refused.assert_error(403, "origin_refused", None);
    assert_eq!(refused.header("access-control-allow-origin"), None);

    let body = rating(&server, ID, 4).to_string();
    let from = |origin: &str| {
        server.request(
            "POST",
            "/v1/ratings",
            &[("origin", origin), ("content-type", "application/json")],
            Some(body.as_bytes()),
        )
    };
    let evil = from("https://evil.example");
    evil.assert_error(403, "origin_refused", None);
    assert_eq!(
        evil.header("access-control-allow-origin").as_deref(),
        Some("https://evil.example"),
        "a refusal is readable, so the widget does not take it for a network failure"
    );
    assert_eq!(server.count("SELECT count(*) FROM ratings"), 0);
    // Allowed for another site is not allowed for this one.
    server.add_site("Other Shop", &["https://other.example"]);
    from("https://other.example").assert_error(403, "origin_refused", None);
    let ok = from("https://shop.example");
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert_eq!(
        ok.header("access-control-allow-origin").as_deref(),
        Some("https://shop.example")
    );
}

#[test]
fn too_many_requests_from_one_address_get_429_with_retry_after() {
    let server = Server::builder().rate_limit(3).start();
    for i in 0..3 {
        let id = format!("0b8f5c1e-4a7d-4c2b-9e3f-1a2b3c4d5e6{i}");
        assert_eq!(
            server
                .post_json("/v1/ratings", &rating(&server, &id, 5))
                .status,
            201
        );
    }
    let limited = server.post_json("/v1/ratings", &rating(&server, ID, 5));
    limited.assert_error(429, "rate_limited", None);
    let retry_after: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry_after), "{retry_after}");
    assert_eq!(server.count("SELECT count(*) FROM ratings"), 3);
}

#[test]
fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit() {
    let send = |server: &Server, n: u64, forwarded_for: &str| {
        let body = rating(server, &support::id(n), 5).to_string();
        server
            .request(
                "POST",
                "/v1/ratings",
                &[
                    ("content-type", "application/json"),
                    ("x-forwarded-for", forwarded_for),
                ],
                Some(body.as_bytes()),
            )
            .status
    };
    // The test client connects from 127.0.0.1, which is the proxy here.
    let proxied = Server::builder()
        .rate_limit(2)
        .trusted_proxy("127.0.0.0/8")
        .start();
    assert_eq!(send(&proxied, 1, "198.51.100.1"), 201);
    assert_eq!(send(&proxied, 2, "198.51.100.1"), 201);
    assert_eq!(send(&proxied, 3, "198.51.100.1"), 429);
    // Another customer behind the same proxy, even claiming to be the first one
    // before it: the proxy's own entry is what counts.
    assert_eq!(send(&proxied, 4, "198.51.100.1, 198.51.100.2"), 201);
    // Without a trusted proxy the header is anyone's word and ignored.
    let direct = Server::builder().rate_limit(2).start();
    assert_eq!(send(&direct, 1, "198.51.100.1"), 201);
    assert_eq!(send(&direct, 2, "198.51.100.2"), 201);
    assert_eq!(send(&direct, 3, "198.51.100.3"), 429);
}

#[test]
fn one_site_cannot_flood_the_collector_from_many_addresses() {
    let server = Server::builder().site_rate_limit(2).start();
    let other = server.add_site("Other Shop", &["https://other.example"]);
    for i in 0..2 {
        let id = format!("0b8f5c1e-4a7d-4c2b-9e3f-1a2b3c4d5e6{i}");
        assert_eq!(
            server
                .post_json("/v1/ratings", &rating(&server, &id, 5))
                .status,
            201
        );
    }
    server
        .post_json("/v1/ratings", &rating(&server, ID, 5))
        .assert_error(429, "rate_limited", None);
    let elsewhere = json!({ "id": ID, "site": other, "score": 5 });
    assert_eq!(
        server.post_json("/v1/ratings", &elsewhere).status,
        201,
        "other sites are not limited"
    );
}

#[test]
fn junk_sent_in_a_sites_name_cannot_lock_its_customers_out() {
    let server = Server::builder().site_rate_limit(3).start();
    for i in 0..10u8 {
        let id = format!("0b8f5c1e-4a7d-4c2b-9e3f-1a2b3c4d5e{i:02}");
        let refused = server.request(
            "POST",
            "/v1/ratings",
            &[
                ("content-type", "application/json"),
                ("origin", "https://evil.example"),
            ],
            Some(rating(&server, &id, 2).to_string().as_bytes()),
        );
        assert_eq!(refused.status, 403);
        let junk = json!({ "id": id, "site": server.site, "score": 99 });
        assert_eq!(server.post_json("/v1/ratings", &junk).status, 422);
    }
    assert_eq!(
        server
            .post_json("/v1/ratings", &rating(&server, ID, 5))
            .status,
        201,
        "twenty refusals cost the site nothing"
    );
}

#[test]
fn unknown_routes_are_json_404s_and_health_is_ok() {
    let server = Server::start();
    server
        .get("/v1/nothing")
        .assert_error(404, "not_found", None);
    let health = server.get("/healthz");
    assert_eq!((health.status, health.body.trim()), (200, "ok"));
}

#[test]
fn widget_files_are_served_with_the_right_caching() {
    let server = Server::start();
    let loader = server.get("/nearmiss.js");
    assert_eq!(loader.status, 200);
    assert_eq!(loader.body, "/* loader */");
    assert_eq!(
        loader.header("cache-control").as_deref(),
        Some("public, max-age=300")
    );
    assert!(loader
        .header("content-type")
        .unwrap()
        .starts_with("text/javascript"));
    let wasm = server.get("/widget/nearmiss-0123456789.wasm");
    assert_eq!(wasm.status, 200);
    assert_eq!(
        wasm.header("content-type").as_deref(),
        Some("application/wasm")
    );
    assert_eq!(
        wasm.header("cache-control").as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(
        wasm.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    let gz = server.request(
        "GET",
        "/widget/nearmiss-0123456789.wasm",
        &[("accept-encoding", "gzip, deflate")],
        None,
    );
    assert_eq!(gz.header("content-encoding").as_deref(), Some("gzip"));
    assert_eq!(gz.body, "gzipped");
    server
        .get("/widget/nearmiss-missing.wasm")
        .assert_error(404, "not_found", None);
    let fish = server.add_site("Fish & <Chips>", &["https://fish.example"]);
    let demo = server.get(&format!("/demo/{fish}"));
    assert_eq!(demo.status, 200);
    assert!(
        demo.body.contains(&format!("data-site=\"{fish}\"")),
        "{}",
        demo.body
    );
    assert!(
        demo.body.contains("<h1>Fish &amp; &lt;Chips&gt;</h1>"),
        "{}",
        demo.body
    );
    server
        .get("/demo/s_nosuchsite")
        .assert_error(404, "unknown_site", Some("site"));
}

#[test]
fn a_rating_answered_201_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::builder().in_dir(dir.path()).start();
    let first = server.post_json("/v1/ratings", &rating(&server, ID, 1));
    assert_eq!(first.status, 201);
    let site = server.site.clone();
    drop(server);

    let server = Server::builder().in_dir(dir.path()).site(&site).start();
    let again = server.post_json("/v1/ratings", &rating(&server, ID, 1));
    assert_eq!(again.status, 201);
    assert_eq!(
        again.json(),
        first.json(),
        "the restarted server answers the replay as before"
    );
    assert_eq!(server.count("SELECT count(*) FROM ratings"), 1);
    assert_eq!(server.count("SELECT count(*) FROM cases"), 1);
}

#[test]
fn every_response_carries_security_headers() {
    let server = Server::start();
    let fish = server.add_site("Fish", &["https://fish.example"]);
    let replies = [
        server.get("/healthz"),
        server.get("/nearmiss.js"),
        server.get("/v1/nothing"),
        server.post_json("/v1/ratings", &json!({})),
        server.get(&format!("/demo/{fish}")),
    ];
    for reply in &replies {
        assert_eq!(
            reply.header("x-content-type-options").as_deref(),
            Some("nosniff")
        );
        assert_eq!(
            reply.header("referrer-policy").as_deref(),
            Some("no-referrer")
        );
        let csp = reply.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    }
    let page_csp = replies[4].header("content-security-policy").unwrap();
    assert!(
        page_csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{page_csp}"
    );
    assert!(replies[0]
        .header("content-security-policy")
        .unwrap()
        .starts_with("default-src 'none'"));
}

#[test]
fn signed_interactions_are_required_checked_and_rated_once() {
    use nearmiss_server::interactions::sign;
    let server = Server::start();
    let mut settings = nearmiss_server::sites::SiteSettings::new("Signed Shop");
    settings.require_token = true;
    let site = server.add_site_with(settings);
    let in_a_day = 1_795_953_600 + 86_400 * 3650; // far in the future
    let rate = |id: &str, interaction: Option<&str>, token: Option<String>| {
        server.post_json(
            "/v1/ratings",
            &json!({ "id": id, "site": site, "score": 2, "interaction": interaction, "token": token }),
        )
    };
    let id = |n: u32| format!("0b8f5c1e-4a7d-4c2b-9e3f-{n:012}");
    rate(&id(1), Some("order-1"), None).assert_error(403, "token_refused", Some("token"));
    rate(&id(1), None, Some(sign("secret", "order-1", in_a_day))).assert_error(
        403,
        "token_refused",
        Some("token"),
    );
    rate(
        &id(1),
        Some("order-2"),
        Some(sign("secret", "order-1", in_a_day)),
    )
    .assert_error(403, "token_refused", Some("token"));
    rate(
        &id(1),
        Some("order-1"),
        Some(sign("not-the-secret", "order-1", in_a_day)),
    )
    .assert_error(403, "token_refused", Some("token"));
    rate(
        &id(1),
        Some("order-1"),
        Some(sign("secret", "order-1", 1_000)),
    )
    .assert_error(403, "token_refused", Some("token"));
    assert_eq!(server.count("SELECT count(*) FROM ratings"), 0);

    let token = sign("secret", "order-1", in_a_day);
    assert_eq!(
        rate(&id(1), Some("order-1"), Some(token.clone())).status,
        201
    );
    assert_eq!(
        rate(&id(1), Some("order-1"), Some(token.clone())).status,
        201,
        "a replay is idempotent"
    );
    rate(&id(2), Some("order-1"), Some(token)).assert_error(
        409,
        "interaction_rated",
        Some("interaction"),
    );
    assert_eq!(server.count("SELECT count(*) FROM ratings"), 1);
    // A site that does not require tokens still checks one that is sent.
    let open_site = rating(&server, &id(3), 4);
    assert_eq!(server.post_json("/v1/ratings", &open_site).status, 201);
    let mut forged = rating(&server, &id(4), 4);
    forged["token"] = json!("v1.9999999999.forged");
    server
        .post_json("/v1/ratings", &forged)
        .assert_error(403, "token_refused", Some("token"));
}

#[test]
fn a_rotated_key_keeps_working_for_its_grace_and_a_revoked_site_stops() {
    use nearmiss_server::sites;
    use std::time::Duration;
    let server = Server::start();
    let old = server.site.clone();
    let now = nearmiss_server::Clock::system().now();
    let rate = |key: &str, n: u64| {
        server.post_json(
            "/v1/ratings",
            &support::rating(key, 5).id(&support::id(n)).json(),
        )
    };

    let new = sites::rotate_key(&server.store, &old, Duration::from_secs(60), now).unwrap();
    assert_eq!(rate(&new, 1).status, 201);
    assert_eq!(
        rate(&old, 2).status,
        201,
        "the old key works during its grace"
    );
    let newer = sites::rotate_key(&server.store, &new, Duration::ZERO, now).unwrap();
    rate(&old, 3).assert_error(404, "unknown_site", Some("site"));
    rate(&new, 3).assert_error(404, "unknown_site", Some("site"));
    assert_eq!(rate(&newer, 3).status, 201);

    let site_id = server
        .store
        .read_now(|tx| tx.site_by_key(&newer, now))
        .unwrap()
        .unwrap()
        .id;
    sites::revoke(&server.store, site_id, now).unwrap();
    rate(&newer, 4).assert_error(404, "unknown_site", Some("site"));
    let revived = sites::rotate_key(&server.store, &old, Duration::ZERO, now).unwrap();
    assert_eq!(rate(&revived, 4).status, 201);
    assert_eq!(server.count("SELECT count(*) FROM ratings"), 4);
}

#[test]
fn refusals_by_the_router_are_json_too() {
    let server = Server::start();
    let token = server.token("Sam");
    let bad_path = server.post_json(
        "/v1/ratings/%FF/details",
        &serde_json::json!({"site": server.site}),
    );
    bad_path.assert_error(400, "malformed", None);
    let wrong_method = server.get("/v1/ratings");
    wrong_method.assert_error(405, "method_not_allowed", None);
    assert_eq!(wrong_method.header("allow").as_deref(), Some("POST"));
    let bad_query = server.authed("GET", "/v1/cases?status=open&status=closed", &token, None);
    bad_query.assert_error(400, "malformed", None);
    let empty_site = server.authed(
        "GET",
        "/v1/export.csv?from=2026-01-01&contact=1&site",
        &token,
        None,
    );
    assert_eq!(empty_site.status, 200, "an empty site is every site");
}

#[test]
fn a_stalled_client_cannot_keep_the_server_from_stopping() {
    use std::io::Write;
    let server = Server::start();
    let addr = server.base.trim_start_matches("http://").to_owned();
    // Headers promise 100 bytes of body; two arrive, then nothing.
    let mut stalled = std::net::TcpStream::connect(&addr).unwrap();
    stalled
        .write_all(b"POST /v1/ratings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"")
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let (done, stopped) = std::sync::mpsc::channel();
    let started = std::time::Instant::now();
    std::thread::spawn(move || {
        drop(server);
        let _ = done.send(());
    });
    assert!(
        stopped
            .recv_timeout(std::time::Duration::from_secs(10))
            .is_ok(),
        "the server waited on the stalled client"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    drop(stalled);
}

#[test]
fn refused_origins_are_counted_and_the_settings_tell_the_widget() {
    let slack = support::receiver::Receiver::start(&[]);
    let server = Server::builder().clock(support::test_clock()).start();
    server.add_endpoint("slack", &slack.url, false);
    let settings = |origin: Option<&str>| {
        let headers: Vec<(&str, &str)> = origin.map(|o| ("origin", o)).into_iter().collect();
        server.request(
            "GET",
            &format!("/v1/sites/{}/widget", server.site),
            &headers,
            None,
        )
    };
    let right = settings(Some("https://shop.example"));
    assert_eq!(right.json()["origin_allowed"], true);
    assert_eq!(
        right.header("vary").as_deref(),
        Some("Origin, Accept-Language")
    );
    assert_eq!(settings(None).json()["origin_allowed"], true, "same origin");
    assert_eq!(
        settings(Some("https://www.shop.example")).json()["origin_allowed"],
        false
    );
    // Not an origin a browser sends: not a page of anybody's, not counted.
    settings(Some("https://junk.example/path"));
    settings(Some("null"));

    let post = |n: u64| {
        let body = support::rating(&server.site, 2).id(&support::id(n)).json();
        server.request(
            "POST",
            "/v1/ratings",
            &[
                ("origin", "https://www.shop.example"),
                ("content-type", "text/plain"),
            ],
            Some(body.to_string().as_bytes()),
        )
    };
    post(1).assert_error(403, "origin_refused", None);
    post(2).assert_error(403, "origin_refused", None);
    let counted = "SELECT CAST(coalesce(sum(refusals), 0) AS BIGINT) FROM refused_origins";
    assert_eq!(
        server.count(counted),
        1,
        "written at once the first time only"
    );
    server.advance(std::time::Duration::from_secs(61));
    post(3).assert_error(403, "origin_refused", None);
    assert_eq!(
        server.count(counted),
        4,
        "then with what was counted meanwhile"
    );
    assert_eq!(
        server.query_string("SELECT string_agg(origin, ',') FROM refused_origins"),
        "https://www.shop.example"
    );
    assert_eq!(server.count("SELECT count(*) FROM ratings"), 0);

    // The site's people heard of it; of a second new origin the same day, not: anyone
    // can claim any origin, and junk must not flood their channel.
    support::wait_for("the notice", || slack.deliveries().len() == 1);
    settings(Some("https://staging.shop.example"));
    assert_eq!(server.count("SELECT count(*) FROM refused_origins"), 2);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(slack.deliveries().len(), 1);
    assert_eq!(
        server.count("SELECT count(*) FROM outbox WHERE event = 'site.origin_refused'"),
        1
    );
}

#[test]
fn a_site_with_opening_hours_counts_its_deadlines_in_open_time() {
    // Sunday 2026-11-29 12:00 UTC (noon in London): closed until Monday 09:00.
    let server = Server::builder().clock(support::test_clock()).start();
    let mut settings = nearmiss_server::sites::SiteSettings::new("Corner Bistro");
    settings.timezone = "Europe/London".into();
    settings.hours =
        Some(nearmiss_server::hours::OpeningHours::parse("Mo-Fr 09:00-17:30").unwrap());
    let site = server.add_site_with(settings);
    let reply = server.post_json("/v1/ratings", &support::rating(&site, 2).id(ID).json());
    assert_eq!(reply.status, 201, "{}", reply.body);
    // The promise names the real time: 15 open minutes after Monday's opening.
    assert_eq!(
        reply.json()["case"]["promise"]["by"],
        "2026-11-30T09:15:00Z"
    );
    // Two days to close are 48 open hours: five and a half 8.5-hour days.
    let close_due = server.count("SELECT close_due_at FROM cases");
    assert_eq!(
        nearmiss_server::time::Timestamp(close_due).rfc3339(),
        "2026-12-07T14:30:00Z"
    );
    assert_eq!(
        server.count("SELECT ack_due_at FROM cases"),
        server.count("SELECT overdue_from FROM cases"),
        "overdue from the open-time deadline"
    );
}

#[test]
fn a_site_asks_in_its_own_words() {
    let server = Server::start();
    let mut settings = nearmiss_server::sites::SiteSettings::new("Corner Bistro");
    settings.words =
        nearmiss_server::words::OwnWords::parse("en.question = How was your order?").unwrap();
    let site = server.add_site_with(settings);
    let reply = server.get(&format!("/v1/sites/{site}/widget"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let words = &reply.json()["words"];
    assert_eq!(words["question"], "How was your order?");
    assert_eq!(words["send"], "Send", "the other words stay the product's");
}

#[test]
fn the_widget_speaks_the_customers_language_and_the_sites_words_in_it() {
    let server = Server::start();
    let mut settings = nearmiss_server::sites::SiteSettings::new("Café Luna");
    settings.timezone = "Europe/Berlin".into();
    settings.words = nearmiss_server::words::OwnWords::parse(
        "en.question = How was your order?\nde.question = Wie war Ihre Bestellung?\n\
         de.apology = Das tut uns leid. Wir bringen das in Ordnung.",
    )
    .unwrap();
    let site = server.add_site_with(settings);
    let ask = |query: &str, accept: &str| {
        let reply = server.request(
            "GET",
            &format!("/v1/sites/{site}/widget{query}"),
            &[("accept-language", accept)],
            None,
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()
    };
    // The browser's languages, first that the widget speaks.
    let german = ask("", "sv-SE,de-AT;q=0.9,en;q=0.8");
    assert_eq!(german["lang"], "de-AT");
    assert_eq!(german["time_zone"], "Europe/Berlin");
    assert_eq!(german["words"]["question"], "Wie war Ihre Bestellung?");
    assert_eq!(german["words"]["send"], "Senden");
    assert_eq!(
        german["apology"],
        "Das tut uns leid. Wir bringen das in Ordnung."
    );
    // The page's data-lang comes first.
    let french = ask("?lang=fr", "de-AT");
    assert_eq!(french["lang"], "fr");
    assert_eq!(
        french["words"]["question"],
        nearmiss_server::words::product("fr").question,
        "the product's French: the site words only English and German its own way"
    );
    let arabic = ask("?lang=", "ar-EG,ar");
    assert_eq!(arabic["lang"], "ar-EG");
    assert_eq!(arabic["words"]["send"], "إرسال");
    // None the widget speaks: English.
    let english = ask("?lang=ja", "zh-CN");
    assert_eq!(english["lang"], "en");
    assert_eq!(english["words"]["question"], "How was your order?");
    assert_eq!(
        english["apology"],
        nearmiss_server::sites::SiteSettings::new("x").apology,
        "the site's own apology where it gave none in the language"
    );
}

#[test]
fn a_customer_takes_a_mis_tap_back_within_ten_minutes() {
    use std::sync::atomic::Ordering;
    let clock = support::test_clock();
    let server = Server::builder().clock(clock.clone()).start();
    let site = server.site.clone();
    let change = |id: &str, score: i64| {
        server.post_json(
            &format!("/v1/ratings/{id}/score"),
            &json!({ "site": site, "score": score, "edit": support::edit(id) }),
        )
    };
    // A near miss that becomes perfect: its case closes, changed by the customer.
    let first = support::id(1);
    let rated = server.post_json("/v1/ratings", &support::rating(&site, 2).id(&first).json());
    assert_eq!(rated.status, 201);
    let reference = rated.json()["case"]["ref"].as_str().unwrap().to_owned();
    let perfect = change(&first, 5);
    assert_eq!(perfect.status, 200, "{}", perfect.body);
    assert_eq!(perfect.json()["flagged"], false);
    assert_eq!(perfect.json()["case"], json!(null));
    assert_eq!(
        server.count(&format!("SELECT score FROM ratings WHERE id = '{first}'")),
        5
    );
    assert_eq!(
        server.query_string(&format!(
            "SELECT status FROM cases WHERE ref = '{reference}'"
        )),
        "closed"
    );
    assert_eq!(
        server.query_string("SELECT actor FROM case_steps WHERE step = 'closed'"),
        "The customer"
    );
    let repeated = change(&first, 5);
    assert_eq!(
        repeated.json()["case"],
        json!(null),
        "the same answer again"
    );
    // And back: the same case, open again.
    let again = change(&first, 3);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json()["flagged"], true);
    assert_eq!(again.json()["case"]["ref"], reference.as_str());
    assert_eq!(
        server.query_string(&format!(
            "SELECT status FROM cases WHERE ref = '{reference}'"
        )),
        "open"
    );
    // The same score again changes nothing.
    assert_eq!(change(&first, 3).json()["case"]["ref"], reference.as_str());

    // A perfect score that becomes a near miss opens a case.
    let second = support::id(2);
    let rated = server.post_json("/v1/ratings", &support::rating(&site, 5).id(&second).json());
    assert_eq!(rated.json()["case"], json!(null));
    let miss = change(&second, 1);
    assert_eq!(miss.status, 200, "{}", miss.body);
    assert!(miss.json()["case"]["ref"]
        .as_str()
        .unwrap()
        .starts_with("NM-"));
    assert_eq!(server.count("SELECT count(*) FROM cases"), 2);

    // Bad input changes nothing.
    let unknown = support::id(9);
    for (id, body, status, code) in [
        (
            &second,
            json!({ "site": site, "score": 9 }),
            422,
            "score_out_of_range",
        ),
        (
            &unknown,
            json!({ "site": site, "score": 4 }),
            404,
            "unknown_rating",
        ),
        (
            &second,
            json!({ "site": site, "score": 4, "extra": 1 }),
            422,
            "invalid_type",
        ),
        (
            &second,
            json!({ "site": "s_nobody", "score": 4 }),
            404,
            "unknown_site",
        ),
    ] {
        let reply = server.post_json(&format!("/v1/ratings/{id}/score"), &body);
        assert_eq!(reply.status, status, "{}", reply.body);
        assert_eq!(reply.json()["error"]["code"], code, "{}", reply.body);
    }
    assert_eq!(
        server.count(&format!("SELECT score FROM ratings WHERE id = '{second}'")),
        1
    );
    // Ten minutes later the score stands.
    clock.fetch_add(10 * 60 * 1000 + 1, Ordering::SeqCst);
    let late = change(&second, 5);
    assert_eq!(late.status, 409, "{}", late.body);
    assert_eq!(late.json()["error"]["code"], "score_closed");
}

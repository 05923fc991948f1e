//! The README's error table, row by row, in-process: every status (400, 401, 403, 404,
//! 409, 413, 415, 422, 429, 500) is provoked through `nearmiss_server::app` with
//! `tower::ServiceExt::oneshot` (no socket), and each answer is checked for its status,
//! its `{"error": {code, message, field?}}` body, and, where it is cheap to count, for
//! having changed nothing.

mod support;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use nearmiss_server::sites::{Site, SiteSettings};
use nearmiss_server::{AppState, Assets, Clock, ServeConfig, Store};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

use support::ID;

const OTHER_ID: &str = "0b8f5c1e-4a7d-4c2b-9e3f-1a2b3c4d5e70";
const ORIGIN: &str = "https://shop.example";

/// One answer, with its body read and (when it is JSON) parsed.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
    json: Value,
}

impl Reply {
    /// Asserts the status and the error body: `code`, `field` (absent when `None`),
    /// a non-empty message, and nothing else in the envelope.
    #[track_caller]
    fn assert_error(&self, status: u16, code: &str, field: Option<&str>) {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        let error = &self.json["error"];
        assert_eq!(error["code"], code, "{}", self.text);
        assert_eq!(
            error.get("field").and_then(Value::as_str),
            field,
            "{}",
            self.text
        );
        if field.is_none() {
            assert!(error.get("field").is_none(), "no field: {}", self.text);
        }
        let message = error["message"].as_str().unwrap_or_default();
        assert!(!message.trim().is_empty(), "a message: {}", self.text);
        let keys = self.json.as_object().map(|o| o.len());
        assert_eq!(keys, Some(1), "only `error`: {}", self.text);
        let content_type = self.headers.get(header::CONTENT_TYPE);
        assert_eq!(
            content_type.and_then(|v| v.to_str().ok()),
            Some("application/json"),
            "errors are JSON"
        );
    }

    #[track_caller]
    fn assert_status(&self, status: u16) {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
    }
}

/// A server in a temporary directory, with one site (allowing `ORIGIN`), one API
/// token, and a clock the test moves.
struct Api {
    state: AppState,
    store: Store,
    site: Site,
    token: String,
    db: PathBuf,
    now: Arc<AtomicI64>,
    runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl Api {
    /// No rate limits: most rows are not about them.
    fn start() -> Api {
        Api::with(ServeConfig {
            rate_limit: 0,
            site_rate_limit: 0,
            ..Default::default()
        })
    }

    fn with(config: ServeConfig) -> Api {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("nearmiss.db");
        let store = Store::open_sqlite(&db).unwrap();
        let start = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        let now = Arc::new(AtomicI64::new(start));
        let clock = {
            let now = now.clone();
            Clock::from_fn(move || now.load(Ordering::SeqCst))
        };
        let state = AppState::new(store.clone(), Assets::default(), &config).with_clock(clock);
        // Setup writes with `write_now`, which blocks: done here, outside the runtime.
        let token = nearmiss_server::tokens::add(&store, "Sam", start).unwrap();
        let site = nearmiss_server::sites::add(&store, test_shop(|_| {}), start).unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        Api {
            state,
            store,
            site,
            token,
            db,
            now,
            runtime,
            _dir: dir,
        }
    }

    /// Another site, allowing `ORIGIN`, with `edit` applied to the defaults.
    fn add_site(&self, edit: impl FnOnce(&mut SiteSettings)) -> Site {
        nearmiss_server::sites::add(&self.store, test_shop(edit), self.now_ms()).unwrap()
    }

    fn now_ms(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }

    fn advance(&self, by: Duration) {
        self.now.fetch_add(by.as_millis() as i64, Ordering::SeqCst);
    }

    fn call(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Body>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(body.into()).unwrap();
        let app = nearmiss_server::app(self.state.clone());
        self.runtime.block_on(async move {
            let response = app.oneshot(request).await.unwrap();
            let status = response.status();
            let headers = response.headers().clone();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            Reply {
                status,
                headers,
                text,
                json,
            }
        })
    }

    /// A public POST of JSON, as a server (no `Origin`) would send it.
    fn post(&self, path: &str, body: &Value) -> Reply {
        self.post_bytes(path, "application/json", body.to_string())
    }

    fn post_bytes(&self, path: &str, content_type: &str, body: impl Into<Body>) -> Reply {
        self.call(Method::POST, path, &[("content-type", content_type)], body)
    }

    fn rate(&self, id: &str, score: i64) -> Reply {
        self.post("/v1/ratings", &rating(&self.site, id, score))
    }

    /// Details as the widget sends them: with the rating's `edit` secret, unless the
    /// body names its own.
    fn details(&self, id: &str, body: &Value) -> Reply {
        let mut body = body.clone();
        if body.get("edit").is_none() {
            body["edit"] = json!(support::edit(id));
        }
        self.post(&format!("/v1/ratings/{id}/details"), &body)
    }

    /// A private call with the API token.
    fn private(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        let auth = format!("Bearer {}", self.token);
        let mut headers = vec![("authorization", auth.as_str())];
        let body = match body {
            Some(body) => {
                headers.push(("content-type", "application/json"));
                body.to_string()
            }
            None => String::new(),
        };
        self.call(method, path, &headers, body)
    }

    fn step(&self, reference: &str, body: Value) -> Reply {
        self.private(
            Method::POST,
            &format!("/v1/cases/{reference}/steps"),
            Some(&body),
        )
    }

    /// Rates `id` below perfect and returns the case's reference.
    fn open_case(&self, id: &str) -> String {
        let reply = self.rate(id, 2);
        reply.assert_status(201);
        reply.json["case"]["ref"].as_str().unwrap().to_owned()
    }

    /// The integer `sql` returns, read from the database file beside the server.
    fn count(&self, sql: &str) -> i64 {
        support::query(&self.db, sql)
    }
}

/// The settings of "Test Shop" (allowing `ORIGIN`), with `edit` applied.
fn test_shop(edit: impl FnOnce(&mut SiteSettings)) -> SiteSettings {
    let mut settings = SiteSettings::new("Test Shop");
    settings.origins = vec![ORIGIN.into()];
    edit(&mut settings);
    settings
}

fn rating(site: &Site, id: &str, score: i64) -> Value {
    support::rating(&site.key, score).id(id).json()
}

/// A valid rating with one field replaced (or removed, with `Value::Null`).
fn rating_with(site: &Site, field: &str, value: Value) -> Value {
    support::rating(&site.key, 4).with(field, value).json()
}

#[test]
fn malformed_bodies_are_400_and_store_nothing() {
    let api = Api::start();
    let valid = rating(&api.site, ID, 4).to_string();
    let deep = format!("{{\"future\":{}", "[".repeat(10_000));
    let cases: [(&str, Vec<u8>); 5] = [
        ("not JSON", b"score=4".to_vec()),
        ("cut short", b"{\"id\":".to_vec()),
        (
            "invalid UTF-8",
            b"{\"id\":\"\xff\xfe\",\"site\":\"s\",\"score\":4}".to_vec(),
        ),
        ("trailing data", format!("{valid} trailing").into_bytes()),
        ("nested too deep", deep.into_bytes()),
    ];
    for (what, body) in cases {
        let reply = api.post_bytes("/v1/ratings", "application/json", body);
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{what}: {}",
            reply.text
        );
        reply.assert_error(400, "malformed", None);
    }
    // The widget's text/plain bodies go through the same parser.
    api.post_bytes("/v1/ratings", "text/plain", "{")
        .assert_error(400, "malformed", None);
    assert_eq!(api.count("SELECT count(*) FROM ratings"), 0);
}

#[test]
fn the_private_api_without_a_valid_token_is_401() {
    let api = Api::start();
    for headers in [
        &[][..],
        &[("authorization", "Bearer nm_not-a-real-token")][..],
        &[("authorization", "Bearer ")][..],
        // The right token in the wrong scheme.
        &[("authorization", &*format!("Basic {}", api.token))][..],
    ] {
        api.call(Method::GET, "/v1/cases", headers, Body::empty())
            .assert_error(401, "unauthorized", None);
    }
    // Writes are refused before the body is looked at.
    api.call(
        Method::POST,
        "/v1/cases/NM-ZZZZ/steps",
        &[("content-type", "application/json")],
        json!({ "step": "acknowledged" }).to_string(),
    )
    .assert_error(401, "unauthorized", None);
    // The same request with the token gets through the door.
    api.private(Method::GET, "/v1/cases", None)
        .assert_status(200);
}

#[test]
fn a_page_on_a_foreign_origin_is_403_origin_refused() {
    let api = Api::start();
    let body = rating(&api.site, ID, 4).to_string();
    let from = |origin| {
        api.call(
            Method::POST,
            "/v1/ratings",
            &[("content-type", "application/json"), ("origin", origin)],
            body.clone(),
        )
    };
    // No site allows this origin: the CORS layer passes the POST on, and the handler,
    // which knows the site, refuses it, readably for the page (its widget drops the
    // rating instead of retrying it for ever).
    let refused = from("https://evil.example");
    refused.assert_error(403, "origin_refused", None);
    assert_eq!(
        refused.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN),
        Some(&header::HeaderValue::from_static("https://evil.example"))
    );
    // Its preflight is refused too: no site allows the origin.
    api.call(
        Method::OPTIONS,
        "/v1/ratings",
        &[
            ("origin", "https://evil.example"),
            ("access-control-request-method", "POST"),
        ],
        Body::empty(),
    )
    .assert_error(403, "origin_refused", None);
    // An origin another site allows passes CORS but is still not this site's.
    api.add_site(|s| s.origins = vec!["https://other.example".into()]);
    from("https://other.example").assert_error(403, "origin_refused", None);
    // Details are checked the same way.
    api.call(
        Method::POST,
        &format!("/v1/ratings/{ID}/details"),
        &[
            ("content-type", "application/json"),
            ("origin", "https://evil.example"),
        ],
        json!({ "site": api.site.key, "comment": "slow" }).to_string(),
    )
    .assert_error(403, "origin_refused", None);
    assert_eq!(api.count("SELECT count(*) FROM ratings"), 0);
    // The site's own origin is accepted: the refusals were about the origin.
    from(ORIGIN).assert_status(201);
}

#[test]
fn a_site_requiring_tokens_refuses_a_missing_invalid_or_expired_one_with_403() {
    let api = Api::start();
    let site = api.add_site(|s| s.require_token = true);
    let now_s = api.now_ms() / 1000;
    let with = |extra: Value| {
        let mut body = rating(&site, ID, 2);
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        api.post("/v1/ratings", &body)
    };
    let valid = nearmiss_server::interactions::sign(&site.secret, "order-1", now_s + 3600);
    let expired = nearmiss_server::interactions::sign(&site.secret, "order-1", now_s - 1);
    let foreign = nearmiss_server::interactions::sign(&api.site.secret, "order-1", now_s + 3600);
    for (what, extra) in [
        ("missing", json!({ "interaction": "order-1" })),
        ("without its interaction", json!({ "token": valid })),
        (
            "for another interaction",
            json!({ "interaction": "order-2", "token": valid }),
        ),
        (
            "signed by another site",
            json!({ "interaction": "order-1", "token": foreign }),
        ),
        (
            "not a token",
            json!({ "interaction": "order-1", "token": "v1.x.y" }),
        ),
        (
            "expired",
            json!({ "interaction": "order-1", "token": expired }),
        ),
    ] {
        let reply = with(extra);
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{what}: {}",
            reply.text
        );
        reply.assert_error(403, "token_refused", Some("token"));
    }
    assert_eq!(api.count("SELECT count(*) FROM ratings"), 0);
    assert_eq!(api.count("SELECT count(*) FROM cases"), 0);
    with(json!({ "interaction": "order-1", "token": valid })).assert_status(201);
}

#[test]
fn unknown_sites_ratings_cases_and_routes_are_404() {
    let api = Api::start();
    api.post(
        "/v1/ratings",
        &json!({ "id": ID, "site": "s_nope", "score": 4 }),
    )
    .assert_error(404, "unknown_site", Some("site"));
    api.details(ID, &json!({ "site": "s_nope" }))
        .assert_error(404, "unknown_site", Some("site"));

    api.details(ID, &json!({ "site": api.site.key }))
        .assert_error(404, "unknown_rating", Some("id"));
    // A rating of another site is unknown to this one.
    api.rate(ID, 2).assert_status(201);
    let other = api.add_site(|_| {});
    api.details(ID, &json!({ "site": other.key }))
        .assert_error(404, "unknown_rating", Some("id"));
    assert_eq!(api.count("SELECT count(*) FROM details"), 0);

    api.private(Method::GET, "/v1/cases/NM-ZZZZ", None)
        .assert_error(404, "unknown_case", Some("ref"));
    api.step("NM-ZZZZ", json!({ "step": "acknowledged" }))
        .assert_error(404, "unknown_case", Some("ref"));

    for path in ["/nope", "/v1/nope", "/v1/cases/NM-ZZZZ/nope"] {
        api.call(Method::GET, path, &[], Body::empty())
            .assert_error(404, "not_found", None);
    }
}

#[test]
fn the_same_rating_id_with_other_content_is_409_id_conflict() {
    let api = Api::start();
    let first = api.rate(ID, 3);
    first.assert_status(201);
    // A replay is not a conflict: same answer.
    let replay = api.rate(ID, 3);
    replay.assert_status(201);
    assert_eq!(replay.json, first.json);
    api.rate(ID, 2).assert_error(409, "id_conflict", Some("id"));
    assert_eq!(api.count("SELECT count(*) FROM ratings"), 1);
    assert_eq!(api.count("SELECT count(*) FROM ratings WHERE score = 3"), 1);
    assert_eq!(api.count("SELECT count(*) FROM cases"), 1);
}

#[test]
fn closing_too_early_is_409_cannot_close_and_a_closed_case_is_409_case_closed() {
    let api = Api::start();
    let reference = api.open_case(ID);

    let early = api.step(&reference, json!({ "step": "closed" }));
    early.assert_error(409, "cannot_close", Some("step"));
    // The message names what is missing.
    let message = early.json["error"]["message"].as_str().unwrap();
    for missing in ["acknowledged", "cause_found", "customer_told"] {
        assert!(message.contains(missing), "{message}");
    }
    assert_eq!(api.count("SELECT count(*) FROM case_steps"), 0);

    for step in [
        json!({ "step": "acknowledged" }),
        json!({ "step": "cause_found", "cause": "Staffing", "action": "A second person on Friday nights." }),
        json!({ "step": "customer_told" }),
        json!({ "step": "closed" }),
    ] {
        api.step(&reference, step).assert_status(201);
    }
    for step in ["contacted", "acknowledged", "closed"] {
        api.step(&reference, json!({ "step": step }))
            .assert_error(409, "case_closed", None);
    }
    assert_eq!(api.count("SELECT count(*) FROM case_steps"), 4);
}

#[test]
fn a_signed_interaction_rated_twice_is_409_interaction_rated() {
    let api = Api::start();
    let site = api.add_site(|s| s.require_token = true);
    let token =
        nearmiss_server::interactions::sign(&site.secret, "order-1", api.now_ms() / 1000 + 3600);
    let signed = |id: &str, score: i64| {
        let mut body = rating(&site, id, score);
        body["interaction"] = json!("order-1");
        body["token"] = json!(token);
        api.post("/v1/ratings", &body)
    };
    signed(ID, 2).assert_status(201);
    // A new id for the same interaction: the customer (or a script) rating again.
    signed(OTHER_ID, 5).assert_error(409, "interaction_rated", Some("interaction"));
    assert_eq!(api.count("SELECT count(*) FROM ratings"), 1);
}

#[test]
fn details_after_24_hours_are_409_details_closed() {
    let api = Api::start();
    api.open_case(ID);
    let details = json!({ "site": api.site.key, "comment": "Cold soup." });
    api.advance(Duration::from_secs(23 * 3600));
    api.details(ID, &details).assert_status(200);
    api.advance(Duration::from_secs(2 * 3600));
    api.details(ID, &json!({ "site": api.site.key, "comment": "Too late." }))
        .assert_error(409, "details_closed", None);
    assert_eq!(
        api.count("SELECT count(*) FROM details WHERE comment = 'Cold soup.'"),
        1
    );
}

#[test]
fn a_body_over_16_kib_is_413_too_large() {
    let api = Api::start();
    let mut body = rating(&api.site, ID, 4);
    body["page"] = json!("x".repeat(20 * 1024));
    let body = body.to_string();
    // Refused on its declared length, and (without one) while it is read.
    let length = body.len().to_string();
    api.call(
        Method::POST,
        "/v1/ratings",
        &[
            ("content-type", "application/json"),
            ("content-length", &length),
        ],
        body.clone(),
    )
    .assert_error(413, "too_large", None);
    api.post_bytes("/v1/ratings", "application/json", body)
        .assert_error(413, "too_large", None);
    assert_eq!(api.count("SELECT count(*) FROM ratings"), 0);
}

#[test]
fn a_body_that_is_not_json_by_its_media_type_is_415() {
    let api = Api::start();
    let body = rating(&api.site, ID, 4).to_string();
    api.post_bytes(
        "/v1/ratings",
        "application/x-www-form-urlencoded",
        body.clone(),
    )
    .assert_error(415, "unsupported_media_type", None);
    api.call(Method::POST, "/v1/ratings", &[], body.clone())
        .assert_error(415, "unsupported_media_type", None);
    assert_eq!(api.count("SELECT count(*) FROM ratings"), 0);
    // The widget's text/plain and parameters on the type are fine.
    api.post_bytes("/v1/ratings", "text/plain;charset=UTF-8", body)
        .assert_status(201);
}

#[test]
fn an_invalid_rating_is_422_naming_its_field() {
    let api = Api::start();
    let site = &api.site;
    for (body, code, field) in [
        (
            rating_with(site, "score", json!(6)),
            "score_out_of_range",
            "score",
        ),
        (
            rating_with(site, "score", json!(0)),
            "score_out_of_range",
            "score",
        ),
        (
            rating_with(site, "score", json!("5")),
            "invalid_type",
            "score",
        ),
        (
            rating_with(site, "score", json!(4.5)),
            "invalid_type",
            "score",
        ),
        (rating_with(site, "score", Value::Null), "required", "score"),
        (rating_with(site, "id", Value::Null), "required", "id"),
        (rating_with(site, "site", json!("")), "required", "site"),
        (rating_with(site, "id", json!("nope")), "invalid_id", "id"),
        (
            rating_with(site, "interaction", json!("x".repeat(201))),
            "too_long",
            "interaction",
        ),
        (
            rating_with(site, "page", json!("a\u{7}b")),
            "control_characters",
            "page",
        ),
    ] {
        api.post("/v1/ratings", &body)
            .assert_error(422, code, Some(field));
    }
    assert_eq!(api.count("SELECT count(*) FROM ratings"), 0);
}

#[test]
fn invalid_details_are_422_naming_their_field() {
    let api = Api::start();
    api.open_case(ID);
    let key = &api.site.key;
    let eleven: Vec<&str> = ["Quality"; 11].to_vec();
    for (body, code, field) in [
        (
            json!({ "site": key, "comment": 7 }),
            "invalid_type",
            "comment",
        ),
        (
            json!({ "site": key, "reasons": eleven }),
            "too_many_reasons",
            "reasons",
        ),
        (
            json!({ "site": key, "reasons": ["Nope"] }),
            "unknown_reason",
            "reasons",
        ),
        (
            json!({ "site": key, "contact": { "email": "nope", "consent": true } }),
            "invalid_email",
            "contact.email",
        ),
        (
            // Looks like an address to the widget; the mailer would refuse it.
            json!({ "site": key, "contact": { "email": "jane,doe@customer.example", "consent": true } }),
            "invalid_email",
            "contact.email",
        ),
        (
            json!({ "site": key, "contact": { "phone": "call me", "consent": true } }),
            "invalid_phone",
            "contact.phone",
        ),
        (
            json!({ "site": key, "contact": { "name": "Ann", "consent": true } }),
            "contact_required",
            "contact",
        ),
        (
            json!({ "site": key, "comment": "x".repeat(2001) }),
            "too_long",
            "comment",
        ),
    ] {
        api.details(ID, &body).assert_error(422, code, Some(field));
    }
    assert_eq!(api.count("SELECT count(*) FROM details"), 0);
}

#[test]
fn invalid_steps_and_filters_are_422_naming_their_field() {
    let api = Api::start();
    let reference = api.open_case(ID);
    for (body, code, field) in [
        (json!({ "step": "dance" }), "unknown_step", "step"),
        (json!({}), "required", "step"),
        (json!({ "step": 1 }), "invalid_type", "step"),
        (json!({ "step": "made_good" }), "required", "note"),
        (
            json!({ "step": "cause_found", "cause": "Bad luck", "action": "Pray." }),
            "unknown_cause",
            "cause",
        ),
        (
            json!({ "step": "cause_found", "cause": "Staffing" }),
            "required",
            "action",
        ),
        (
            json!({ "step": "cause_found", "cause": "Staffing", "prevention": 999 }),
            "unknown_prevention",
            "prevention",
        ),
    ] {
        api.step(&reference, body)
            .assert_error(422, code, Some(field));
    }
    assert_eq!(api.count("SELECT count(*) FROM case_steps"), 0);
    api.private(Method::GET, "/v1/cases?status=nope", None)
        .assert_error(422, "invalid_status", Some("status"));
}

#[test]
fn a_site_over_its_rate_limit_is_429_with_retry_after() {
    // One rating a minute per site; the per-address limit needs the client's address,
    // which only a real socket provides.
    let api = Api::with(ServeConfig {
        rate_limit: 0,
        site_rate_limit: 1,
        ..Default::default()
    });
    api.rate(ID, 4).assert_status(201);
    let limited = api.rate(OTHER_ID, 4);
    limited.assert_error(429, "rate_limited", None);
    let retry_after: u64 = limited.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(api.count("SELECT count(*) FROM ratings"), 1);
    // After waiting as told, the same rating goes through.
    api.advance(Duration::from_secs(retry_after));
    api.rate(OTHER_ID, 4).assert_status(201);
}

#[test]
fn a_storage_failure_is_a_generic_500_that_leaks_nothing() {
    let api = Api::start();
    api.open_case(ID);
    // Break the database behind the server's back.
    let db = rusqlite::Connection::open(&api.db).unwrap();
    db.busy_timeout(Duration::from_secs(10)).unwrap();
    db.execute_batch("DROP TABLE details").unwrap();
    drop(db);

    let reply = api.details(
        ID,
        &json!({ "site": api.site.key, "comment": "Cold soup." }),
    );
    reply.assert_error(500, "internal", None);
    assert_eq!(
        reply.json,
        json!({ "error": {
            "code": "internal",
            "message": "Something went wrong on our side; please try again.",
        } })
    );
    let text = reply.text.to_lowercase();
    for secret in ["sql", "table", "details", "database", "no such"] {
        assert!(!text.contains(secret), "leaks {secret:?}: {}", reply.text);
    }
    // The failure was that request's alone: the server still takes ratings.
    api.rate(OTHER_ID, 5).assert_status(201);
}

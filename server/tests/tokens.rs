//! API tokens over real HTTP: a token limited to sites sees only their cases, numbers
//! and export, cannot ask for contacts or erase them, and cannot pick a step's actor;
//! expired and revoked tokens are refused; wrong tokens are limited per address.

mod support;

use nearmiss_server::tokens::{self, TokenSpec};
use serde_json::json;
use std::time::Duration;
use support::{id, rating, test_clock, Server};

fn near_miss(server: &Server, site: &str, n: u64) -> String {
    let reply = server.post_json("/v1/ratings", &rating(site, 2).id(&id(n)).json());
    reply.json()["case"]["ref"].as_str().unwrap().to_owned()
}

fn token(server: &Server, name: &str, sites: &[&str], expires_in: Option<Duration>) -> String {
    let spec = TokenSpec {
        name: name.into(),
        sites: sites.iter().map(|s| s.to_string()).collect(),
        expires_in,
    };
    let now = server
        .clock
        .as_ref()
        .map_or(0, |c| c.load(std::sync::atomic::Ordering::SeqCst));
    tokens::make(&server.store, spec, now).unwrap()
}

#[test]
fn a_token_limited_to_a_site_sees_only_that_site() {
    let server = Server::start();
    let other = server.add_site("Other Shop", &["https://other.example"]);
    let ours = near_miss(&server, &server.site, 1);
    let theirs = near_miss(&server, &other, 2);
    let limited = token(&server, "Shop integration", &[&server.site], None);
    let owner = token(&server, "Owner", &[], None);
    let get = |path: &str, token: &str| server.authed("GET", path, token, None);

    let listed = get("/v1/cases", &limited).json();
    let refs: Vec<&str> = listed["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["ref"].as_str().unwrap())
        .collect();
    assert_eq!(refs, [ours.as_str()]);
    assert_eq!(
        get("/v1/cases", &owner).json()["cases"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    get(&format!("/v1/cases/{theirs}"), &limited).assert_error(404, "unknown_case", Some("ref"));
    get(&format!("/v1/cases?site={other}"), &limited).assert_error(
        404,
        "unknown_site",
        Some("site"),
    );
    get("/v1/cases?site=s_nosuchsite", &owner).assert_error(404, "unknown_site", Some("site"));
    let step = json!({"step": "acknowledged", "actor": "Somebody Else"});
    server
        .authed(
            "POST",
            &format!("/v1/cases/{theirs}/steps"),
            &limited,
            Some(&step),
        )
        .assert_error(404, "unknown_case", Some("ref"));
    let done = server.authed(
        "POST",
        &format!("/v1/cases/{ours}/steps"),
        &limited,
        Some(&step),
    );
    assert_eq!(done.status, 201);
    assert_eq!(
        done.json()["steps"][0]["actor"],
        "Shop integration",
        "not the actor it named"
    );
    let step = json!({"step": "contacted", "actor": "Sam"});
    let by_owner = server.authed(
        "POST",
        &format!("/v1/cases/{ours}/steps"),
        &owner,
        Some(&step),
    );
    assert_eq!(
        by_owner.json()["steps"][1]["actor"],
        "Sam",
        "an owner's token may name the actor"
    );

    assert_eq!(get("/v1/stats", &limited).json()["ratings"], 1);
    assert_eq!(get("/v1/stats", &owner).json()["ratings"], 2);
    get(&format!("/v1/stats?site={other}"), &limited).assert_error(
        404,
        "unknown_site",
        Some("site"),
    );
    get(&format!("/v1/alerts?site={other}"), &limited).assert_error(
        404,
        "unknown_site",
        Some("site"),
    );
    let csv = get("/v1/export.csv", &limited);
    assert_eq!(
        csv.body.lines().count(),
        2,
        "a header and its site's one rating"
    );
    get("/v1/export.csv?contact=1", &limited).assert_error(403, "forbidden", None);
    get("/metrics", &limited).assert_error(403, "forbidden", None);
    server
        .authed("DELETE", "/v1/contacts?email=a@b.example", &limited, None)
        .assert_error(403, "forbidden", None);
}

#[test]
fn expired_and_revoked_tokens_are_refused() {
    let clock = test_clock();
    let server = Server::builder().clock(clock.clone()).start();
    let brief = token(&server, "Brief", &[], Some(Duration::from_secs(3600)));
    assert_eq!(server.authed("GET", "/v1/cases", &brief, None).status, 200);
    server.advance(Duration::from_secs(3601));
    assert_eq!(server.authed("GET", "/v1/cases", &brief, None).status, 401);

    let kept = token(&server, "Kept", &[], None);
    assert_eq!(server.authed("GET", "/v1/cases", &kept, None).status, 200);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let id = server.count("SELECT id FROM api_tokens WHERE name = 'Kept'");
    assert!(runtime.block_on(tokens::revoke(&server.store, id)).unwrap());
    assert_eq!(server.authed("GET", "/v1/cases", &kept, None).status, 401);
}

#[test]
fn wrong_tokens_are_limited_per_address() {
    let server = Server::start();
    let good = token(&server, "Good", &[], None);
    for guess in 0..10 {
        let reply = server.authed("GET", "/v1/cases", &format!("nm_guess{guess}"), None);
        assert_eq!(reply.status, 401, "guess {guess}");
    }
    let blocked = server.authed("GET", "/v1/cases", "nm_guess10", None);
    blocked.assert_error(429, "rate_limited", None);
    assert!(blocked.header("retry-after").is_some());
    let good = server.authed("GET", "/v1/cases", &good, None);
    assert_eq!(
        good.status, 200,
        "a good token from the same address still works"
    );
}

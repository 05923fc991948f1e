//! Data rights: a customer's contact data erased on request from everything stored
//! (details, queued and delivered alert messages), proved by scanning every byte of the
//! database files; retention erases old contact data and prunes delivered messages.

mod support;

use serde_json::json;
use support::receiver::Receiver;
use support::smtp::SmtpSink;
use support::{id, rating, test_clock, wait_for, Server};

const EMAIL: &str = "Erase.Me@example.com";
const NAME: &str = "Erin Eraseme";
const PHONE: &str = "+44 20 7946 0999";

/// Whether any byte of the database or its write-ahead log spells `needle` (in any
/// letter case).
fn on_disk(server: &Server, needle: &str) -> bool {
    [server.db.clone(), server.db.with_extension("db-wal")]
        .iter()
        .filter_map(|file| std::fs::read(file).ok())
        .any(|bytes| {
            String::from_utf8_lossy(&bytes)
                .to_lowercase()
                .contains(&needle.to_lowercase())
        })
}

#[track_caller]
fn assert_nowhere_on_disk(server: &Server, needles: &[&str]) {
    for needle in needles {
        assert!(!on_disk(server, needle), "{needle:?} is still on disk");
    }
}

fn near_miss_with_contact(server: &Server, n: u64, contact: serde_json::Value) -> String {
    let reply = server.post_json("/v1/ratings", &rating(&server.site, 2).id(&id(n)).json());
    let reference = reply.json()["case"]["ref"].as_str().unwrap().to_owned();
    let details = json!({
        "site": server.site, "edit": support::edit(&id(n)), "comment": "Cold fries.", "contact": contact
    });
    let path = format!("/v1/ratings/{}/details", id(n));
    assert_eq!(server.post_json(&path, &details).status, 200);
    reference
}

#[test]
fn an_erased_email_is_nowhere_in_the_database_files() {
    let smtp = SmtpSink::start();
    let hooks = Receiver::start(&[]);
    let server = Server::builder().smtp(&smtp.url).start();
    server.add_endpoint("webhook", &hooks.url, false);
    let token = server.token("Privacy desk");
    let contact = json!({"name": NAME, "email": EMAIL, "phone": PHONE, "consent": true});
    let first = near_miss_with_contact(&server, 1, contact.clone());
    near_miss_with_contact(
        &server,
        2,
        json!({"email": EMAIL.to_lowercase(), "consent": true}),
    );
    let kept = near_miss_with_contact(
        &server,
        3,
        json!({"email": "keep@example.com", "consent": true}),
    );
    // Close the first case: the customer is emailed what changed.
    for step in [
        json!({"step": "acknowledged"}),
        json!({"step": "cause_found", "cause": "Process", "action": "Checklist."}),
        json!({"step": "customer_told", "note": "Told her.", "message": "Hello, we fixed it."}),
        json!({"step": "closed"}),
    ] {
        let path = format!("/v1/cases/{first}/steps");
        assert_eq!(
            server.authed("POST", &path, &token, Some(&step)).status,
            201
        );
    }
    wait_for("the customer's email", || {
        smtp.mails().iter().any(|m| m.to == [EMAIL])
    });
    wait_for("every webhook delivered", || {
        server.count("SELECT count(*) FROM outbox WHERE delivered_at IS NULL") == 0
    });
    assert!(server.count("SELECT count(*) FROM outbox WHERE payload LIKE '%Erase.Me%'") > 0);
    for needle in [EMAIL, NAME, PHONE] {
        assert!(
            on_disk(&server, needle),
            "the scan sees {needle} before the erasure"
        );
    }

    let reply = server.authed(
        "DELETE",
        &format!("/v1/contacts?email={}", EMAIL.to_uppercase()),
        &token,
        None,
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json(), json!({"erased": 2}));

    assert_nowhere_on_disk(&server, &[EMAIL, NAME, PHONE]);
    let case = server
        .authed("GET", &format!("/v1/cases/{first}"), &token, None)
        .json();
    assert!(case["rating"]["details"]["contact"].is_null(), "{case}");
    assert_eq!(
        case["rating"]["details"]["comment"], "Cold fries.",
        "the words stay, anonymous"
    );
    let other = server
        .authed("GET", &format!("/v1/cases/{kept}"), &token, None)
        .json();
    assert_eq!(
        other["rating"]["details"]["contact"]["email"],
        "keep@example.com"
    );
    assert_eq!(
        server.query_string("SELECT reason || ' ' || erased || ' ' || by_whom FROM erasures"),
        "request (email) 2 Privacy desk"
    );
}

#[test]
fn a_phone_number_is_erased_by_its_digits() {
    let server = Server::start();
    let token = server.token("Privacy desk");
    near_miss_with_contact(
        &server,
        1,
        json!({"phone": "+1 (555) 010-9999", "consent": true}),
    );
    let reply = server.authed("DELETE", "/v1/contacts?phone=15550109999", &token, None);
    assert_eq!(reply.json(), json!({"erased": 1}));
    assert_eq!(
        server.count("SELECT count(*) FROM details WHERE contact_phone IS NOT NULL"),
        0
    );
    assert_nowhere_on_disk(&server, &["555) 010-9999"]);
    server
        .authed("DELETE", "/v1/contacts", &token, None)
        .assert_error(422, "required", Some("email"));
    server
        .authed(
            "DELETE",
            "/v1/contacts?email=a@b.example&phone=1",
            &token,
            None,
        )
        .assert_error(422, "required", Some("email"));
    server
        .authed("DELETE", "/v1/contacts?email=nobody", &token, None)
        .assert_error(422, "invalid_email", Some("email"));
    assert_eq!(
        server
            .request("DELETE", "/v1/contacts?email=a@b.example", &[], None)
            .status,
        401
    );
}

#[test]
fn retention_erases_old_contacts_and_prunes_delivered_messages() {
    let clock = test_clock();
    let hooks = Receiver::start(&[]);
    let server = Server::builder().clock(clock.clone()).start();
    server.add_endpoint("webhook", &hooks.url, false);
    near_miss_with_contact(
        &server,
        1,
        json!({"email": "old@example.com", "consent": true}),
    );
    wait_for("the webhooks", || {
        server.count("SELECT count(*) FROM outbox WHERE delivered_at IS NOT NULL") == 2
    });
    let now = clock.load(std::sync::atomic::Ordering::SeqCst);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let keep = Some(std::time::Duration::from_secs(180 * 86_400));
    let soon = runtime
        .block_on(nearmiss_server::erasure::retain(
            &server.store,
            keep,
            now + 86_400_000,
        ))
        .unwrap();
    assert_eq!(soon, (0, 0), "a day later nothing is old enough");
    let later = now + 181 * 86_400_000;
    let done = runtime
        .block_on(nearmiss_server::erasure::retain(&server.store, keep, later))
        .unwrap();
    assert_eq!(
        done,
        (1, 2),
        "the contact erased, both delivered messages pruned"
    );
    assert_eq!(
        server.count("SELECT count(*) FROM details WHERE contact_email IS NOT NULL"),
        0
    );
    assert_eq!(server.count("SELECT count(*) FROM outbox"), 0);
    assert_nowhere_on_disk(&server, &["old@example.com"]);
}

#[test]
fn an_address_the_details_no_longer_hold_is_still_erased_from_messages() {
    let hooks = Receiver::start(&[]);
    let server = Server::start();
    server.add_endpoint("webhook", &hooks.url, false);
    let token = server.token("Privacy desk");
    near_miss_with_contact(
        &server,
        1,
        json!({"email": "first@example.com", "consent": true}),
    );
    // The customer changes their mind: the details no longer hold the address, but the
    // update already queued for the webhook does.
    let details =
        json!({"site": server.site, "edit": support::edit(&id(1)), "comment": "Cold fries."});
    assert_eq!(
        server
            .post_json(&format!("/v1/ratings/{}/details", id(1)), &details)
            .status,
        200
    );
    wait_for("every webhook delivered", || {
        server.count("SELECT count(*) FROM outbox WHERE delivered_at IS NULL") == 0
    });
    assert!(on_disk(&server, "first@example.com"));
    let reply = server.authed(
        "DELETE",
        "/v1/contacts?email=first@example.com",
        &token,
        None,
    );
    assert_eq!(
        reply.json(),
        json!({"erased": 0}),
        "no details held it any more"
    );
    assert_nowhere_on_disk(&server, &["first@example.com"]);
}

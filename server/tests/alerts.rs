//! Cases and alerts with real parts: webhook receivers and an SMTP server on loopback,
//! a test clock for deadlines and backoff (never sleeps), and the recovery walk through
//! the private API.

mod support;

use nearmiss_server::alerts::webhook;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use support::receiver::Receiver;
use support::smtp::SmtpSink;
use support::{id, test_clock, wait_for, NameTable, Server};

fn rate(server: &Server, n: u64, score: i64) -> Value {
    let body = support::rating(&server.site, score)
        .id(&id(n))
        .interaction("order-1042");
    let reply = server.post_json("/v1/ratings", &body.json());
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.json()
}

fn verify(secret: &str, delivery: &support::receiver::Delivery) -> bool {
    let timestamp: i64 = delivery.header("webhook-timestamp").parse().unwrap();
    webhook::verify(
        secret,
        &delivery.header("webhook-id"),
        timestamp,
        &delivery.body,
        &delivery.header("webhook-signature"),
    )
}

#[test]
fn a_flagged_rating_reaches_a_signed_webhook() {
    let receiver = Receiver::start(&[]);
    let server = Server::start();
    let secret = server
        .add_endpoint("webhook", &receiver.url, false)
        .unwrap();
    assert!(secret.starts_with("whsec_"));
    rate(&server, 1, 5);
    let answer = rate(&server, 2, 3);
    wait_for("case.opened", || {
        !receiver.of_type("case.opened").is_empty()
    });
    let deliveries = receiver.deliveries();
    assert_eq!(deliveries.len(), 1, "a perfect score raises no alert");
    let delivery = &deliveries[0];
    assert!(delivery.header("webhook-id").starts_with("msg_"));
    assert!(verify(&secret, delivery), "the signature verifies");
    assert!(
        !verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", delivery),
        "and only with the secret"
    );
    let body = delivery.json();
    assert_eq!(body["data"]["case"]["ref"], answer["case"]["ref"]);
    assert_eq!(body["data"]["rating"]["score"], 3);
    assert_eq!(body["data"]["rating"]["interaction"], "order-1042");
}

#[test]
fn a_failing_endpoint_is_retried_with_backoff_and_the_same_webhook_id() {
    let clock = test_clock();
    let receiver = Receiver::start(&[500, 503]);
    let server = Server::builder().clock(clock.clone()).start();
    let secret = server
        .add_endpoint("webhook", &receiver.url, false)
        .unwrap();
    rate(&server, 1, 2);
    // Each attempt is recorded (its backoff counted from the clock then) before the
    // clock moves on.
    let attempted = |n: i64| server.count("SELECT attempts FROM outbox") == n;
    wait_for("the first attempt", || {
        receiver.deliveries().len() == 1 && attempted(1)
    });
    // Not retried before its backoff has passed.
    server.advance(Duration::from_secs(2));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(receiver.deliveries().len(), 1);
    server.advance(Duration::from_secs(10));
    wait_for("the second attempt", || {
        receiver.deliveries().len() == 2 && attempted(2)
    });
    server.advance(Duration::from_secs(20));
    wait_for("the third attempt", || receiver.deliveries().len() == 3);
    server.advance(Duration::from_secs(3600));
    std::thread::sleep(Duration::from_millis(300));
    let deliveries = receiver.deliveries();
    assert_eq!(
        deliveries.len(),
        3,
        "delivered once it succeeded, then never again"
    );
    let ids: Vec<String> = deliveries.iter().map(|d| d.header("webhook-id")).collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");
    assert!(deliveries.iter().all(|d| verify(&secret, d)));
    assert_eq!(
        server.count("SELECT count(*) FROM outbox WHERE delivered_at IS NOT NULL AND attempts = 3"),
        1
    );
}

#[test]
fn gone_disables_the_endpoint_and_redirects_are_not_followed() {
    let gone = Receiver::start(&[410]);
    let moved = Receiver::start(&[302]);
    let server = Server::start();
    server.add_endpoint("webhook", &gone.url, false);
    server.add_endpoint("webhook", &moved.url, false);
    rate(&server, 1, 1);
    wait_for("both endpoints tried", || {
        gone.deliveries().len() == 1 && moved.deliveries().len() == 1
    });
    let token = server.token("Sam");
    wait_for("the states recorded", || {
        let states = server
            .authed(
                "GET",
                &format!("/v1/alerts?site={}", server.site),
                &token,
                None,
            )
            .json();
        states["endpoints"][0]["state"] == "disabled"
            && states["endpoints"][1]["last_error"].is_string()
    });
    let states = server
        .authed(
            "GET",
            &format!("/v1/alerts?site={}", server.site),
            &token,
            None,
        )
        .json();
    let endpoints = &states["endpoints"];
    assert_eq!(
        endpoints[0]["disabled_reason"],
        "the endpoint answered 410 Gone"
    );
    assert_eq!(endpoints[0]["failed"], 1);
    assert_eq!(endpoints[1]["state"], "active");
    assert!(endpoints[1]["last_error"]
        .as_str()
        .unwrap()
        .contains("redirects are not followed"));
    assert_eq!(
        endpoints[1]["pending"], 1,
        "a redirect is retried later, visibly"
    );
    // A disabled endpoint gets nothing more.
    rate(&server, 2, 1);
    wait_for("the next alert", || {
        moved.deliveries().len() == 2
            || server.count("SELECT count(*) FROM outbox WHERE attempts > 0") >= 3
    });
    assert_eq!(gone.deliveries().len(), 1);
}

#[test]
fn private_addresses_are_refused_unless_allowed() {
    let receiver = Receiver::start(&[]);
    let server = Server::builder().refuse_private().start();
    server.add_endpoint("webhook", &receiver.url, false);
    rate(&server, 1, 2);
    wait_for("the refusal", || {
        server.count("SELECT count(*) FROM outbox WHERE failed_at IS NOT NULL") == 1
    });
    assert!(receiver.deliveries().is_empty());
    assert_eq!(
        server.count("SELECT count(*) FROM outbox WHERE last_error LIKE '%private or loopback%'"),
        1
    );
}

#[test]
fn slack_and_email_messages_say_what_a_person_needs_to_act() {
    let slack = Receiver::start(&[]);
    let smtp = SmtpSink::start();
    let server = Server::builder().smtp(&smtp.url).start();
    server.add_endpoint("slack", &slack.url, false);
    server.add_endpoint("email", "manager@shop.example", false);
    let answer = rate(&server, 1, 2);
    let reference = answer["case"]["ref"].as_str().unwrap().to_owned();
    let details = json!({
        "site": server.site, "edit": support::edit(&id(1)), "comment": "Fries missing.",
        "reasons": ["Quality"],
        "contact": { "email": "ana@example.com", "consent": true }
    });
    assert_eq!(
        server
            .post_json(&format!("/v1/ratings/{}/details", id(1)), &details)
            .status,
        200
    );
    wait_for("two slack messages", || slack.deliveries().len() == 2);
    wait_for("two emails", || smtp.mails().len() == 2);
    let texts: Vec<String> = slack
        .deliveries()
        .iter()
        .map(|d| d.json()["text"].as_str().unwrap().to_owned())
        .collect();
    let updated = texts
        .iter()
        .find(|t| t.contains("Fries missing."))
        .expect("the update carries the comment");
    for needed in [
        reference.as_str(),
        "2/5",
        "Test Shop",
        "Reasons: Quality",
        "ana@example.com",
        "Acknowledge by",
        "/desk/cases/",
    ] {
        assert!(updated.contains(needed), "{needed} in {updated}");
    }
    let mail = smtp
        .mails()
        .into_iter()
        .find(|m| m.data.contains("Fries missing."))
        .expect("an email with the comment");
    assert_eq!(mail.to, ["manager@shop.example"]);
    assert!(
        mail.data.contains(&format!(
            "Subject: [nearmiss] Updated {reference}: 2/5 at Test Shop"
        )),
        "{}",
        mail.data
    );
}

#[test]
fn a_customer_cannot_ping_a_slack_channel_or_forge_a_link() {
    let slack = Receiver::start(&[]);
    let smtp = SmtpSink::start();
    let server = Server::builder().smtp(&smtp.url).start();
    server.add_endpoint("slack", &slack.url, false);
    server.add_endpoint("email", "manager@shop.example", false);
    rate(&server, 1, 2);
    let comment = "<!channel> <https://evil.example|Acknowledge here> <script>x</script> & more";
    let details = json!({ "site": server.site, "edit": support::edit(&id(1)), "comment": comment });
    let path = format!("/v1/ratings/{}/details", id(1));
    assert_eq!(server.post_json(&path, &details).status, 200);
    wait_for("the update on Slack", || slack.deliveries().len() == 2);
    let update = slack.deliveries()[1].json()["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        update.contains("&lt;!channel&gt; &lt;https://evil.example|Acknowledge here&gt; &lt;script&gt;x&lt;/script&gt; &amp; more"),
        "{update}"
    );
    assert!(
        !update.contains("<!") && !update.contains("<https://evil"),
        "{update}"
    );
    // Plain-text email shows it as it was typed: nothing there is markup.
    wait_for("the update by email", || smtp.mails().len() == 2);
    assert!(smtp.mails().iter().any(|m| m.data.contains("<!channel>")));

    // A second line cannot pass for one of ours: every line of the comment is quoted.
    let forged = "Fine.\nContact (consented): evil@example.com\nAcknowledge by never";
    let details = json!({ "site": server.site, "edit": support::edit(&id(1)), "comment": forged });
    assert_eq!(server.post_json(&path, &details).status, 200);
    wait_for("the second update on Slack", || {
        slack.deliveries().len() == 3
    });
    let text = slack.deliveries()[2].json()["text"]
        .as_str()
        .unwrap()
        .to_owned();
    for line in text.lines() {
        assert!(!line.starts_with("Contact (consented): evil"), "{text}");
        assert!(!line.starts_with("Acknowledge by never"), "{text}");
    }
    assert!(
        text.contains("&gt; Contact (consented): evil@example.com"),
        "{text}"
    );
    wait_for("the second update by email", || smtp.mails().len() == 3);
    let mail = smtp
        .mails()
        .into_iter()
        .find(|m| m.data.contains("evil@example.com"))
        .unwrap();
    assert!(
        mail.data
            .contains("> Contact (consented): evil@example.com"),
        "{}",
        mail.data
    );
    assert!(
        !mail.data.contains("\nContact (consented): evil"),
        "{}",
        mail.data
    );
}

#[test]
fn an_unacknowledged_case_becomes_overdue_once_and_escalates() {
    let clock = test_clock();
    let staff = Receiver::start(&[]);
    let escalation = Receiver::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let builder = Server::builder().clock(clock.clone()).in_dir(dir.path());
    let server = builder.clone().start();
    server.add_endpoint("webhook", &staff.url, false);
    server.add_endpoint("webhook", &escalation.url, true);
    let answer = rate(&server, 1, 2);
    wait_for("case.opened", || staff.of_type("case.opened").len() == 1);
    assert!(
        escalation.deliveries().is_empty(),
        "escalation contacts get only overdue cases"
    );

    server.advance(Duration::from_secs(14 * 60));
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        escalation.deliveries().is_empty(),
        "not overdue before 15 minutes"
    );
    server.advance(Duration::from_secs(61));
    wait_for("case.overdue to escalation", || {
        escalation.of_type("case.overdue").len() == 1
    });
    wait_for("case.overdue to staff", || {
        staff.of_type("case.overdue").len() == 1
    });
    let overdue = escalation.of_type("case.overdue")[0].json();
    assert_eq!(overdue["data"]["case"]["ref"], answer["case"]["ref"]);
    assert_eq!(overdue["data"]["case"]["overdue"], true);
    let token = server.token("Sam");
    let listed = server
        .authed("GET", "/v1/cases?status=overdue", &token, None)
        .json();
    assert_eq!(listed["cases"].as_array().unwrap().len(), 1);

    // Exactly once: neither time nor a restart raises it again.
    server.advance(Duration::from_secs(600));
    std::thread::sleep(Duration::from_millis(1500));
    let site = server.site.clone();
    drop(server);
    let server = builder.site(&site).start();
    server.advance(Duration::from_secs(600));
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(escalation.of_type("case.overdue").len(), 1);
    assert_eq!(staff.of_type("case.overdue").len(), 1);
    // The close deadline (2 days) is a second deadline, raised once too.
    server.advance(Duration::from_secs(2 * 24 * 3600));
    wait_for("the close deadline", || {
        escalation.of_type("case.overdue").len() == 2
    });
}

#[test]
fn the_full_recovery_walk_closes_the_loop_with_the_customer() {
    let webhook = Receiver::start(&[]);
    let smtp = SmtpSink::start();
    let server = Server::builder().smtp(&smtp.url).start();
    server.add_endpoint("webhook", &webhook.url, false);
    let token = server.token("Sam");
    let answer = rate(&server, 1, 2);
    let reference = answer["case"]["ref"].as_str().unwrap().to_owned();
    let details = json!({
        "site": server.site, "edit": support::edit(&id(1)), "comment": "The fries were missing.",
        "contact": { "email": "ana@example.com", "consent": true }
    });
    server.post_json(&format!("/v1/ratings/{}/details", id(1)), &details);
    let steps = format!("/v1/cases/{reference}/steps");
    let step = |body: Value| server.authed("POST", &steps, &token, Some(&body));

    // The private API needs a token.
    server
        .request("GET", "/v1/cases", &[], None)
        .assert_error(401, "unauthorized", None);
    server
        .authed("GET", "/v1/cases", "nm_wrong", None)
        .assert_error(401, "unauthorized", None);
    server
        .authed("GET", "/v1/cases/NM-NONE", &token, None)
        .assert_error(404, "unknown_case", Some("ref"));

    // The closing rule refuses an early close, naming what is missing.
    let early = step(json!({ "step": "closed" }));
    early.assert_error(409, "cannot_close", Some("step"));
    assert!(early.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("acknowledged, cause_found, customer_told"));
    step(json!({ "step": "resolved" })).assert_error(422, "unknown_step", Some("step"));

    assert_eq!(step(json!({ "step": "acknowledged" })).status, 201);
    assert_eq!(
        step(json!({ "step": "contacted", "note": "Called Ana, apologised.", "actor": "Priya" }))
            .status,
        201
    );
    assert_eq!(
        step(json!({ "step": "fixed", "note": "Delivered fresh fries." })).status,
        201
    );
    step(json!({ "step": "made_good" })).assert_error(422, "required", Some("note"));
    assert_eq!(
        step(json!({ "step": "made_good", "note": "Refunded the order." })).status,
        201
    );
    step(json!({ "step": "cause_found", "cause": "Bad luck", "action": "x" })).assert_error(
        422,
        "unknown_cause",
        Some("cause"),
    );
    step(json!({ "step": "cause_found", "cause": "Process" })).assert_error(
        422,
        "required",
        Some("action"),
    );
    let found = step(json!({
        "step": "cause_found", "cause": "Process",
        "action": "Every bag is checked against the receipt before it leaves."
    }));
    assert_eq!(found.status, 201, "{}", found.body);
    let prevention = found.json()["steps"][4]["prevention"]["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        step(json!({
            "step": "customer_told", "note": "Ana sounded cross; be gentle.",
            "message": "Hello Ana,\n\nWe are sorry about the missing fries. From now on every bag is checked against the receipt before it leaves.\n\nTest Shop"
        }))
        .status,
        201
    );
    let closed = step(json!({ "step": "closed" }));
    assert_eq!(closed.status, 201, "{}", closed.body);
    let case = closed.json();
    assert_eq!(case["status"], "closed");
    let walked: Vec<&str> = case["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        walked,
        [
            "acknowledged",
            "contacted",
            "fixed",
            "made_good",
            "cause_found",
            "customer_told",
            "closed"
        ]
    );
    assert_eq!(case["steps"][0]["actor"], "Sam");
    assert_eq!(case["steps"][1]["actor"], "Priya");
    step(json!({ "step": "contacted" })).assert_error(409, "case_closed", None);

    // One prevention, linked to a second case it also explains.
    let second = rate(&server, 2, 3)["case"]["ref"]
        .as_str()
        .unwrap()
        .to_owned();
    let linked = server.authed(
        "POST",
        &format!("/v1/cases/{second}/steps"),
        &token,
        Some(&json!({ "step": "cause_found", "cause": "Process", "prevention": prevention })),
    );
    assert_eq!(linked.json()["steps"][0]["prevention"]["id"], prevention);

    // Every step reached the webhook; the customer got what changed and a re-rating link.
    wait_for("case.closed", || webhook.of_type("case.closed").len() == 1);
    // Steps recorded while an update waited are one update, the latest.
    assert!(!webhook.of_type("case.updated").is_empty());
    wait_for("the customer's email", || {
        smtp.mails().iter().any(|m| m.to == ["ana@example.com"])
    });
    let mail = smtp
        .mails()
        .into_iter()
        .find(|m| m.to == ["ana@example.com"])
        .unwrap();
    let text = mail.data.replace("=\r\n", "").replace("=3D", "=");
    assert!(
        text.contains("every bag is checked against the receipt"),
        "{text}"
    );
    // The step's note is the team's: it never reaches the customer.
    assert!(!text.contains("be gentle"), "{text}");
    let link_start = text
        .find(&format!("{}/rerate/", server.base))
        .expect("a re-rating link");
    let link: String = text[link_start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    let token_part = link.rsplit('/').next().unwrap().to_owned();

    // The link opens the widget in re-rate mode; a perfect score marks the case recovered.
    let page = server.get(&link[server.base.len()..]);
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(&format!("data-rerate=\"{token_part}\"")),
        "{}",
        page.body
    );
    let again = server.post_json(
        "/v1/ratings",
        &json!({ "id": id(3), "site": server.site, "score": 5, "rerate": token_part }),
    );
    assert_eq!(again.status, 201, "{}", again.body);
    let case = server
        .authed("GET", &format!("/v1/cases/{reference}"), &token, None)
        .json();
    assert_eq!(
        (case["recovered"].clone(), case["status"].clone()),
        (json!(true), json!("closed"))
    );
    assert_eq!(
        server.count("SELECT count(*) FROM cases"),
        2,
        "a re-rating opens no new case"
    );

    // The link worked once: a second score through it is refused, and the page says so.
    let twice = server.post_json(
        "/v1/ratings",
        &json!({ "id": id(4), "site": server.site, "score": 1, "rerate": token_part }),
    );
    twice.assert_error(404, "unknown_case", Some("ref"));
    let spent = server.get(&link[server.base.len()..]);
    assert_eq!(spent.status, 410);
    assert!(
        spent.body.contains("This link has been used"),
        "{}",
        spent.body
    );
}

/// A near miss (rating 1, two stars) worked to closed without contact; its reference.
fn closed_near_miss(server: &Server) -> String {
    let token = server.token("Closer");
    let reference = rate(server, 1, 2)["case"]["ref"]
        .as_str()
        .unwrap()
        .to_owned();
    let steps = format!("/v1/cases/{reference}/steps");
    for body in [
        json!({ "step": "acknowledged" }),
        json!({ "step": "cause_found", "cause": "Training", "action": "New starters shadow a senior." }),
        json!({ "step": "closed", "note": "No contact details were left." }),
    ] {
        let reply = server.authed("POST", &steps, &token, Some(&body));
        assert_eq!(reply.status, 201, "{}", reply.body);
    }
    reference
}

#[test]
fn a_re_rating_link_is_stored_hashed_and_expires_after_30_days() {
    let server = Server::builder().clock(test_clock()).start();
    let reference = closed_near_miss(&server);
    let link = server.rerate_link(&reference);
    let stored = server.query_string("SELECT rerate_token FROM cases");
    assert_ne!(stored, link, "the token itself is not stored");
    assert_eq!(stored.len(), 64, "its SHA-256 is: {stored}");
    assert_eq!(server.get(&format!("/rerate/{link}")).status, 200);

    server.advance(Duration::from_secs(31 * 24 * 3600));
    assert_eq!(server.get(&format!("/rerate/{link}")).status, 410);
    server
        .post_json(
            "/v1/ratings",
            &json!({ "id": id(2), "site": server.site, "score": 5, "rerate": link }),
        )
        .assert_error(404, "unknown_case", Some("ref"));
}

#[test]
fn a_re_rating_below_perfect_reopens_the_case() {
    let server = Server::start();
    let token = server.token("Sam");
    let reference = closed_near_miss(&server);
    let rerate = server.rerate_link(&reference);
    let reply = server.post_json(
        "/v1/ratings",
        &json!({ "id": id(2), "site": server.site, "score": 3, "rerate": rerate }),
    );
    assert_eq!(reply.status, 201);
    assert_eq!(reply.json()["case"]["ref"], reference.as_str());
    // Its score is the case's verdict: "Change my score" does not apply to it (even with
    // the secret the server made for this rating, which sent none of its own).
    let edit = reply.json()["edit"].as_str().unwrap().to_owned();
    let change = server.post_json(
        &format!("/v1/ratings/{}/score", id(2)),
        &json!({ "site": server.site, "score": 5, "edit": edit }),
    );
    assert_eq!(change.status, 422, "{}", change.body);
    assert_eq!(change.json()["error"]["code"], "rerating");
    let case = server
        .authed("GET", &format!("/v1/cases/{reference}"), &token, None)
        .json();
    assert_eq!(
        (case["status"].clone(), case["recovered"].clone()),
        (json!("open"), json!(false))
    );
    let unknown = server.post_json(
        "/v1/ratings",
        &json!({ "id": id(3), "site": server.site, "score": 3, "rerate": "nosuchtoken" }),
    );
    unknown.assert_error(404, "unknown_case", Some("ref"));
}

#[test]
fn times_in_alerts_are_in_the_sites_zone_and_in_words() {
    let slack = Receiver::start(&[]);
    let mut settings = nearmiss_server::sites::SiteSettings::new("Test Shop");
    settings.origins = vec!["https://shop.example".into()];
    settings.timezone = "America/New_York".into();
    let server = Server::builder().clock(test_clock()).site("").start();
    let mut server = server;
    server.site = server.add_site_with(settings);
    server.add_endpoint("slack", &slack.url, false);
    rate(&server, 1, 2);
    wait_for("the Slack message", || slack.deliveries().len() == 1);
    let text = slack.deliveries()[0].json()["text"]
        .as_str()
        .unwrap()
        .to_owned();
    // The test clock says 12:00 UTC, 07:00 in New York; acknowledge within 15 minutes.
    assert!(
        text.contains("Acknowledge by 07:15 EST, in 15 minutes"),
        "{text}"
    );
    assert!(
        !text.contains("T12:15:00Z"),
        "no ISO strings for people: {text}"
    );
}

#[test]
fn a_name_that_does_not_resolve_is_retried_then_delivered_once_it_does() {
    let clock = test_clock();
    let receiver = Receiver::start(&[]);
    let named = receiver.url.replace("127.0.0.1", "hooks.shop.test");
    let names = Arc::new(NameTable::default());
    let server = Server::builder()
        .clock(clock.clone())
        .names(names.clone())
        .start();
    // Not in the table yet: as if DNS were down when the alert is due.
    server.add_endpoint("webhook", &named, false);
    rate(&server, 1, 2);
    wait_for("the first attempt", || {
        server.count("SELECT attempts FROM outbox LIMIT 1") == 1
    });
    assert_eq!(
        server.count("SELECT count(*) FROM outbox WHERE failed_at IS NOT NULL"),
        0
    );
    assert_eq!(
        server.count("SELECT count(*) FROM outbox WHERE last_error LIKE 'cannot resolve hooks.shop.test%' AND next_attempt_at > 0"),
        1
    );
    names.set("hooks.shop.test", "127.0.0.1");
    server.advance(Duration::from_secs(10));
    wait_for("the delivery", || receiver.deliveries().len() == 1);
    wait_for("its record", || {
        server.count("SELECT count(*) FROM outbox WHERE delivered_at IS NOT NULL") == 1
    });
    assert_eq!(server.count("SELECT attempts FROM outbox"), 2);
    // One lookup per attempt: the client connects to the address it checked, with no
    // second lookup that could answer differently.
    assert_eq!(names.lookups(), 2);
}

#[test]
fn a_name_that_resolves_to_a_private_address_at_delivery_is_refused_for_good() {
    let receiver = Receiver::start(&[]);
    let named = receiver.url.replace("127.0.0.1", "hooks.shop.test");
    let names = Arc::new(NameTable::default());
    // Added unchecked (the system DNS does not know the name); at delivery it is loopback.
    names.set("hooks.shop.test", "127.0.0.1");
    let server = Server::builder()
        .refuse_private()
        .names(names.clone())
        .start();
    server.add_endpoint("webhook", &named, false);
    rate(&server, 1, 2);
    wait_for("the refusal", || {
        server.count("SELECT count(*) FROM outbox WHERE failed_at IS NOT NULL") == 1
    });
    assert!(receiver.deliveries().is_empty());
    assert_eq!(
        server.count("SELECT count(*) FROM outbox WHERE last_error LIKE 'hooks.shop.test resolves to a private or loopback address (127.0.0.1)%'"),
        1
    );
    assert_eq!(names.lookups(), 1);
}

#[test]
fn a_rotated_secret_and_the_old_one_both_sign_until_the_overlap_ends() {
    let clock = test_clock();
    let receiver = Receiver::start(&[]);
    let server = Server::builder().clock(clock.clone()).start();
    let old = server
        .add_endpoint("webhook", &receiver.url, false)
        .unwrap();
    let site = server
        .store
        .read_now(|tx| tx.site_by_key(&server.site, 0))
        .unwrap()
        .unwrap();
    let now = clock.load(std::sync::atomic::Ordering::SeqCst);
    let new = nearmiss_server::alerts::rotate_secret(
        &server.store,
        site.id,
        1,
        Duration::from_secs(3600),
        now,
    )
    .unwrap()
    .expect("the webhook");
    assert_ne!(new, old);
    rate(&server, 1, 2);
    wait_for("the first delivery", || receiver.deliveries().len() == 1);
    let during = &receiver.deliveries()[0];
    assert_eq!(during.header("webhook-signature").split(' ').count(), 2);
    assert!(
        verify(&new, during) && verify(&old, during),
        "both secrets sign"
    );

    server.advance(Duration::from_secs(3601));
    rate(&server, 2, 3);
    wait_for("the second delivery", || receiver.deliveries().len() == 2);
    let after = &receiver.deliveries()[1];
    assert_eq!(after.header("webhook-signature").split(' ').count(), 1);
    assert!(
        verify(&new, after) && !verify(&old, after),
        "only the new one, after"
    );
    assert!(nearmiss_server::alerts::rotate_secret(
        &server.store,
        site.id,
        99,
        Duration::from_secs(1),
        now
    )
    .unwrap()
    .is_none());
}

/// An endpoint that accepts connections and never answers.
struct Tarpit {
    url: String,
    /// The connections held open; `None` once closed, when new ones are refused.
    held: Arc<std::sync::Mutex<Option<Vec<std::net::TcpStream>>>>,
}

impl Tarpit {
    fn start() -> Tarpit {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let held = Arc::new(std::sync::Mutex::new(Some(Vec::new())));
        let holding = held.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if let Some(held) = holding.lock().unwrap().as_mut() {
                    held.push(stream);
                }
            }
        });
        Tarpit { url, held }
    }

    fn connections(&self) -> usize {
        self.held.lock().unwrap().as_ref().map_or(0, Vec::len)
    }
}

impl Drop for Tarpit {
    fn drop(&mut self) {
        // Closed, so the sends still waiting on it end now, not at their timeout.
        self.held.lock().unwrap().take();
    }
}

#[test]
fn a_tarpit_endpoint_does_not_delay_another_endpoints_alert() {
    let receiver = Receiver::start(&[]);
    let mut server = Server::start();
    let tarpit = Tarpit::start();
    server.add_endpoint("webhook", &tarpit.url, false);
    for n in 0..40 {
        rate(&server, n, 2);
    }
    wait_for("the tarpit to hold a send", || tarpit.connections() >= 1);
    server.site = server.add_site("Other Shop", &["https://shop.example"]);
    server.add_endpoint("webhook", &receiver.url, false);
    rate(&server, 100, 2);
    support::wait_within(Duration::from_secs(1), "the other endpoint's alert", || {
        receiver.deliveries().len() == 1
    });
}

/// A server whose one webhook answered five alerts with 500 in a row, and then a sixth
/// alert queued: the endpoint is resting. The receiver answers `failures` 500s in all.
fn resting_endpoint(failures: usize) -> (Server, Receiver) {
    let receiver = Receiver::start(&vec![500; failures]);
    let server = Server::builder().clock(test_clock()).start();
    server.add_endpoint("webhook", &receiver.url, false);
    for n in 0..5 {
        rate(&server, n, 2);
    }
    wait_for("five failures", || receiver.deliveries().len() == 5);
    rate(&server, 5, 2);
    (server, receiver)
}

#[test]
fn a_failing_endpoint_rests_then_one_alert_probes_it_before_the_rest_go() {
    let (server, receiver) = resting_endpoint(5);
    // The circuit is open: the new alert waits, due as it is, while the endpoint rests.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(receiver.deliveries().len(), 5, "sent to a resting endpoint");
    assert_eq!(
        server.count("SELECT count(*) FROM outbox WHERE attempts = 0"),
        1
    );
    // After the rest, one probe gets through, and then everything goes.
    server.advance(Duration::from_secs(31));
    wait_for("every alert", || {
        server.count("SELECT count(*) FROM outbox WHERE delivered_at IS NOT NULL") == 6
    });
    assert_eq!(receiver.deliveries().len(), 11);
}

#[test]
fn alerts_waiting_behind_a_resting_endpoint_fail_visibly_after_3_days() {
    let (server, _receiver) = resting_endpoint(50);
    server.advance(Duration::from_secs(3 * 24 * 3600 + 60));
    wait_for("every alert marked failed", || {
        server.count("SELECT count(*) FROM outbox WHERE failed_at IS NOT NULL") == 6
    });
    assert_eq!(
        server.count(
            "SELECT count(*) FROM outbox WHERE attempts = 0
                AND last_error = 'not sent: its endpoint was failing'"
        ),
        1
    );
}

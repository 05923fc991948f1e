//! Nobody can use nearmiss to write to a stranger or to rewrite what a customer said:
//! the rating's `edit` secret guards `/details` and `/score`, a customer's own changes
//! are bounded and email nobody, waiting updates are coalesced, and only what a person
//! wrote for the customer is emailed to them. Over real sockets, with a real SMTP sink.

mod support;

use serde_json::{json, Value};
use support::desk::Staff;
use support::smtp::SmtpSink;
use support::{edit, id, rating, wait_for, Server};

/// A webhook receiver that accepts connections and never answers: the endpoint's lane
/// stays busy with its first message, so everything after it waits in the outbox.
fn stuck_receiver() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    url
}

fn details_path(n: u64) -> String {
    format!("/v1/ratings/{}/details", id(n))
}

fn score_path(n: u64) -> String {
    format!("/v1/ratings/{}/score", id(n))
}

#[test]
fn the_toggle_attack_emails_nobody_and_queues_a_bounded_number_of_alerts() {
    let server = Server::start();
    let hook = stuck_receiver();
    server.add_endpoint("webhook", &hook, false);
    let site = server.site.clone();
    let rated = server.post_json("/v1/ratings", &rating(&site, 1).id(&id(1)).json());
    assert_eq!(rated.status, 201, "{}", rated.body);
    // The attacker names a victim as the contact, then flips the score.
    let victim = json!({
        "site": site, "edit": edit(&id(1)), "comment": "Awful.",
        "contact": { "email": "victim@example.com", "consent": true }
    });
    assert_eq!(server.post_json(&details_path(1), &victim).status, 200);
    let mut refused = 0;
    for score in [5, 1, 5, 1, 5, 1] {
        let reply = server.post_json(
            &score_path(1),
            &json!({ "site": site, "edit": edit(&id(1)), "score": score }),
        );
        match reply.status {
            200 => {}
            _ => {
                reply.assert_error(409, "too_many_changes", Some("score"));
                refused += 1;
            }
        }
    }
    // Three changes are taken (5, 1, 5); the next two are refused, and 5 again is no
    // change at all.
    assert_eq!(refused, 2);
    assert_eq!(
        server.count("SELECT score FROM ratings"),
        5,
        "the third change stands"
    );
    // Details re-posted over and over: ten are taken.
    let mut taken = 0;
    for n in 0..14 {
        let body = json!({ "site": site, "edit": edit(&id(1)), "comment": format!("Post {n}.") });
        let reply = server.post_json(&details_path(1), &body);
        match reply.status {
            200 => taken += 1,
            _ => reply.assert_error(409, "too_many_details", None),
        }
    }
    assert_eq!(taken, 9, "ten posts in all, counting the first");
    assert_eq!(
        server.count("SELECT count(*) FROM outbox WHERE kind = 'customer_email'"),
        0,
        "a customer's own changes email nobody"
    );
    // The webhook's lane is stuck on its first message: opened, then at most one
    // waiting update between the closes and reopenings (each a message of its own).
    let queued = server.count("SELECT count(*) FROM outbox WHERE endpoint_id IS NOT NULL");
    assert!(queued <= 6, "{queued} messages queued for one endpoint");
    // Eleven updates happened (ten details posts, one reopening); three wait: one
    // before each close, one after the last.
    assert_eq!(
        server.count("SELECT count(*) FROM outbox WHERE event = 'case.updated'"),
        3
    );
    let waiting = server.query_string(
        "SELECT payload FROM outbox WHERE event = 'case.updated' ORDER BY id DESC LIMIT 1",
    );
    assert!(
        waiting.contains("Post 8."),
        "the waiting update is the latest: {waiting}"
    );
}

#[test]
fn only_the_browser_that_rated_may_change_the_rating() {
    let server = Server::start();
    let site = server.site.clone();
    let rated = server.post_json("/v1/ratings", &rating(&site, 2).id(&id(1)).json());
    assert_eq!(
        rated.json()["edit"],
        edit(&id(1)),
        "the widget's own secret"
    );
    // Someone who saw the rating id (a webhook, the export) but not the secret.
    for body in [
        json!({ "site": site, "comment": "All fine actually." }),
        json!({ "site": site, "edit": "a-guess-that-is-long-enough-0000", "comment": "Fine." }),
    ] {
        server
            .post_json(&details_path(1), &body)
            .assert_error(403, "edit_refused", Some("edit"));
    }
    server
        .post_json(&score_path(1), &json!({ "site": site, "score": 5 }))
        .assert_error(403, "edit_refused", Some("edit"));
    assert_eq!(server.count("SELECT count(*) FROM details"), 0);
    assert_eq!(server.count("SELECT score FROM ratings"), 2);
    assert_eq!(
        server.query_string("SELECT status FROM cases"),
        "open",
        "nobody closed the case in the customer's name"
    );
    // The secret is kept only as a hash.
    assert_eq!(
        server.count(&format!(
            "SELECT count(*) FROM ratings WHERE edit_hash = '{}' OR content LIKE '%{}%'",
            edit(&id(1)),
            edit(&id(1))
        )),
        0
    );

    // A replay answers with the same secret; another secret under the same id is a
    // conflict, not a way in.
    let replay = server.post_json("/v1/ratings", &rating(&site, 2).id(&id(1)).json());
    assert_eq!(
        (replay.status, replay.json()["edit"].clone()),
        (201, json!(edit(&id(1))))
    );
    let forged = rating(&site, 2)
        .id(&id(1))
        .with("edit", json!("someone-elses-secret-000000"));
    server
        .post_json("/v1/ratings", &forged.json())
        .assert_error(409, "id_conflict", Some("id"));

    // An API client that sends no secret is given one, once.
    let bare = rating(&site, 1).id(&id(2)).with("edit", Value::Null);
    let first = server.post_json("/v1/ratings", &bare.json());
    let made = first.json()["edit"].as_str().unwrap().to_owned();
    assert!(made.len() >= 22, "{made}");
    let again = server.post_json("/v1/ratings", &bare.json());
    assert_eq!(again.status, 201);
    assert_eq!(
        again.json()["edit"],
        Value::Null,
        "not kept, so not told again"
    );
    let with_made = json!({ "site": site, "edit": made, "comment": "Slow." });
    assert_eq!(server.post_json(&details_path(2), &with_made).status, 200);

    // A rating stored before there were secrets keeps working without one.
    let old = rating(&site, 2).id(&id(3)).with("edit", Value::Null);
    server.post_json("/v1/ratings", &old.json());
    server.database.execute(&format!(
        "UPDATE ratings SET edit_hash = NULL WHERE id = '{}'",
        id(3)
    ));
    let plain = json!({ "site": site, "comment": "From an older widget." });
    assert_eq!(server.post_json(&details_path(3), &plain).status, 200);
}

/// A near miss of customer Pat, who left an email and consented; its reference.
fn pats_near_miss(server: &Server) -> String {
    let rated = server.post_json("/v1/ratings", &rating(&server.site, 2).id(&id(1)).json());
    let details = json!({
        "site": server.site, "edit": edit(&id(1)), "comment": "The hot bag was missing.",
        "contact": { "name": "Pat", "email": "pat@example.com", "consent": true }
    });
    assert_eq!(server.post_json(&details_path(1), &details).status, 200);
    rated.json()["case"]["ref"].as_str().unwrap().to_owned()
}

#[test]
fn closing_with_a_note_emails_only_what_was_written_for_the_customer() {
    let smtp = SmtpSink::start();
    let server = Server::builder().smtp(&smtp.url).start();
    server.add_person(
        "sam@shop.example",
        "Sam",
        nearmiss_server::states::Role::Owner,
        &[],
    );
    let staff = Staff::log_in(&server, "sam@shop.example");
    let reference = pats_near_miss(&server);
    let page = format!("/desk/cases/{reference}");
    for fields in [
        vec![("step", "acknowledged")],
        vec![
            ("step", "made_good"),
            ("note", "Refunded the delivery fee."),
        ],
        vec![
            ("step", "cause_found"),
            ("cause", "Process"),
            ("prevention", "new"),
            ("action", "Every van carries a spare hot bag."),
        ],
    ] {
        assert_eq!(staff.step(&reference, &fields).status, 303);
    }
    // The close form proposes a message from the case, for the person to edit.
    let form = staff.get(&page).body;
    assert!(form.contains("Message to the customer"), "{form}");
    assert!(form.contains("Emailed to"), "{form}");
    assert!(
        form.contains("To make up for it: Refunded the delivery fee."),
        "{form}"
    );
    assert!(
        form.contains("Every van carries a spare hot bag."),
        "{form}"
    );

    // Preview: the email exactly as it will be sent, and nothing recorded or sent.
    let note = "Told Pat the van hot bag was missing; driver was new.";
    let message = "Hello Pat,\n\nSorry about your cold dinner. We refunded the delivery fee, and every van now carries a spare hot bag.\n\nTest Shop";
    let preview = staff.step(
        &reference,
        &[
            ("step", "closed"),
            ("note", note),
            ("message", message),
            ("preview", "1"),
        ],
    );
    assert_eq!(preview.status, 200);
    assert!(
        preview.body.contains("The email as it will be sent"),
        "{}",
        preview.body
    );
    assert!(
        preview
            .body
            .contains("Subject: <bdi>About your feedback to Test Shop</bdi>"),
        "{}",
        preview.body
    );
    assert!(preview
        .body
        .contains("every van now carries a spare hot bag"));
    assert_eq!(server.query_string("SELECT status FROM cases"), "open");
    assert_eq!(
        server.count("SELECT count(*) FROM outbox WHERE kind = 'customer_email'"),
        0
    );

    let closed = staff.step(
        &reference,
        &[("step", "closed"), ("note", note), ("message", message)],
    );
    assert_eq!(closed.status, 303, "{}", closed.body);
    wait_for("Pat's email", || {
        smtp.mails().iter().any(|m| m.to == ["pat@example.com"])
    });
    let to_pat: Vec<_> = smtp
        .mails()
        .into_iter()
        .filter(|m| m.to == ["pat@example.com"])
        .collect();
    assert_eq!(to_pat.len(), 1);
    let text = to_pat[0].data.replace("=\r\n", "").replace("=3D", "=");
    assert!(
        text.contains("every van now carries a spare hot bag"),
        "{text}"
    );
    assert!(
        text.contains("/rerate/"),
        "a one-click re-rating link: {text}"
    );
    assert!(
        !text.contains("driver was new"),
        "the note stays internal: {text}"
    );

    // The case shows what was written and where it stands; so does the site's log.
    wait_for("the delivery recorded", || {
        staff.get(&page).body.contains("delivered")
    });
    let shown = staff.get(&page).body;
    assert!(shown.contains("Messages to the customer"), "{shown}");
    assert!(shown.contains("Written to the customer:"), "{shown}");
    let token = server.token("Reader");
    let case = server
        .authed("GET", &format!("/v1/cases/{reference}"), &token, None)
        .json();
    let last = &case["steps"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["step"].clone(), last["note"].clone()),
        (json!("closed"), json!(note))
    );
    assert_eq!(last["message"], message);
}

#[test]
fn a_customer_is_emailed_once_per_step_a_person_took_and_only_with_consent() {
    let smtp = SmtpSink::start();
    let server = Server::builder().smtp(&smtp.url).start();
    let token = server.token("Sam");
    let reference = pats_near_miss(&server);
    let steps = format!("/v1/cases/{reference}/steps");
    let step = |body: Value| server.authed("POST", &steps, &token, Some(&body));
    // A message only goes with the steps that tell the customer something.
    step(json!({ "step": "acknowledged", "message": "Hi!" })).assert_error(
        422,
        "message_not_sent",
        Some("message"),
    );
    for body in [
        json!({ "step": "acknowledged" }),
        json!({ "step": "cause_found", "cause": "Process", "action": "A spare hot bag per van." }),
        json!({ "step": "customer_told", "message": "Hello Pat, every van now has a spare hot bag." }),
        json!({ "step": "closed" }),
    ] {
        let reply = step(body);
        assert_eq!(reply.status, 201, "{}", reply.body);
    }
    assert_eq!(
        server.count("SELECT count(*) FROM outbox WHERE kind = 'customer_email'"),
        1,
        "the close wrote nothing more"
    );
    wait_for("Pat's email", || !smtp.mails().is_empty());

    // A customer who gave no email cannot be written to.
    let rated = server.post_json("/v1/ratings", &rating(&server.site, 1).id(&id(2)).json());
    let other = rated.json()["case"]["ref"].as_str().unwrap().to_owned();
    server
        .authed(
            "POST",
            &format!("/v1/cases/{other}/steps"),
            &token,
            Some(&json!({ "step": "customer_told", "message": "Hello?" })),
        )
        .assert_error(422, "no_contact", Some("message"));
}

//! The desk over real HTTP: logging in, the inbox, working a case to closed through its
//! forms, and what must be refused (a form without its CSRF token, a guessed password,
//! an agent reaching another site's case). Nothing a customer typed becomes markup.
//! The same in real Chromium, live updates included, is in `e2e.rs`.

mod support;

use nearmiss_server::states::Role;
use serde_json::json;
use support::desk::{Staff, PASSWORD};
use support::{id, rating, Server};

/// A near miss on `site`; returns its case reference.
fn near_miss(server: &Server, site: &str, n: u64, score: i64) -> String {
    let reply = server.post_json("/v1/ratings", &rating(site, score).id(&id(n)).json());
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.json()["case"]["ref"].as_str().unwrap().to_owned()
}

fn sam(server: &Server) -> Staff<'_> {
    server.add_person("sam@shop.example", "Sam", Role::Owner, &[]);
    Staff::log_in(server, "sam@shop.example")
}

#[test]
fn a_manager_logs_in_and_works_a_near_miss_to_closed() {
    let server = Server::start();
    let reference = near_miss(&server, &server.site, 1, 2);
    let staff = sam(&server);

    let inbox = staff.get("/desk/");
    assert_eq!(inbox.status, 200);
    assert!(
        inbox.body.contains(&format!("data-ref=\"{reference}\"")),
        "{}",
        inbox.body
    );
    assert!(inbox.body.contains("2/5") && inbox.body.contains("Acknowledge by"));
    assert_eq!(inbox.header("cache-control").as_deref(), Some("no-store"));

    // Closing first is refused, with the rule in words, and changes nothing.
    let refused = staff.step(&reference, &[("step", "closed"), ("note", "")]);
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("cannot be closed yet"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("href=\"#note-closed\""),
        "the error links to its field"
    );
    assert_eq!(server.count("SELECT count(*) FROM case_steps"), 0);

    for fields in [
        &[("step", "acknowledged"), ("note", "")][..],
        &[("step", "contacted"), ("note", "Called Ana, apologised.")],
        &[("step", "fixed"), ("note", "Sent the missing fries.")],
        &[
            ("step", "made_good"),
            ("note", "A free dessert next visit."),
        ],
        &[
            ("step", "cause_found"),
            ("cause", "Process"),
            ("prevention", "new"),
            ("action", "A checklist at the pass."),
        ],
        &[
            ("step", "customer_told"),
            ("note", "Told her about the checklist."),
        ],
        &[("step", "closed"), ("note", "")],
    ] {
        let reply = staff.step(&reference, fields);
        assert_eq!(reply.status, 303, "{fields:?}: {}", reply.body);
        assert_eq!(
            reply.header("location").as_deref(),
            Some(format!("/desk/cases/{reference}#steps").as_str())
        );
    }
    assert_eq!(server.query_string("SELECT status FROM cases"), "closed");
    assert_eq!(
        server.count("SELECT count(*) FROM case_steps WHERE actor = 'Sam'"),
        7,
        "every step is recorded as the person logged in"
    );
    assert_eq!(
        server.query_string("SELECT u.name FROM cases c JOIN users u ON u.id = c.assignee_id"),
        "Sam",
        "acknowledging an unowned case makes it yours"
    );
    let page = staff.get(&format!("/desk/cases/{reference}"));
    assert!(page.body.contains("Closed") && page.body.contains("A checklist at the pass."));
    assert!(
        !page.body.contains("Record a step"),
        "a closed case has no step forms"
    );
    assert!(
        !staff.get("/desk/").body.contains(&reference),
        "closed cases leave the inbox"
    );
    assert!(staff.get("/desk/?status=closed").body.contains(&reference));

    // Logging out ends the session on the server, not only in this browser.
    let session = staff.cookie("nm_session").unwrap();
    let out = staff.submit("/desk/", "/desk/logout", &[]);
    assert_eq!(out.status, 303);
    assert_eq!(server.count("SELECT count(*) FROM sessions"), 0);
    let old = server.request(
        "GET",
        "/desk/",
        &[("cookie", &format!("nm_session={session}"))],
        None,
    );
    assert!(
        old.body.contains("Log in to the desk"),
        "the old cookie opens nothing"
    );
}

#[test]
fn the_session_cookie_is_http_only_and_same_site() {
    let server = Server::start();
    server.add_person("sam@shop.example", "Sam", Role::Owner, &[]);
    let staff = Staff::new(&server);
    let reply = staff.try_log_in("sam@shop.example", PASSWORD, "/desk/");
    let cookie = reply
        .headers
        .iter()
        .find(|(k, v)| k.eq_ignore_ascii_case("set-cookie") && v.starts_with("nm_session="))
        .map(|(_, v)| v.clone())
        .expect("a session cookie");
    for needed in ["HttpOnly", "SameSite=Lax", "Path=/desk"] {
        assert!(cookie.contains(needed), "{needed} in {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain http here: a Secure cookie would not come back"
    );
    let csp = reply.header("content-security-policy").unwrap();
    assert!(
        csp.contains("form-action 'self'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
}

#[test]
fn an_alert_link_leads_through_login_to_its_case() {
    let server = Server::start();
    let reference = near_miss(&server, &server.site, 1, 3);
    server.add_person("sam@shop.example", "Sam", Role::Owner, &[]);
    let staff = Staff::new(&server);
    let path = format!("/desk/cases/{reference}");
    let away = staff.get(&path);
    assert_eq!(away.status, 303);
    let login = away.header("location").unwrap();
    assert_eq!(login, format!("/desk/login?next=/desk/cases/{reference}"));
    let form = staff.get(&login);
    assert!(
        form.body.contains(&format!("value=\"{path}\"")),
        "the form keeps where to go"
    );
    let landed = staff.try_log_in("sam@shop.example", PASSWORD, &path);
    assert_eq!(landed.header("location"), Some(path.clone()));
    assert_eq!(staff.get(&path).status, 200);
    // Somewhere else is never a landing place.
    let elsewhere = Staff::new(&server).try_log_in("sam@shop.example", PASSWORD, "//evil.example/");
    assert_eq!(elsewhere.header("location").as_deref(), Some("/desk/"));
}

#[test]
fn a_form_without_its_csrf_token_changes_nothing() {
    let server = Server::start();
    let reference = near_miss(&server, &server.site, 1, 2);
    let staff = sam(&server);
    let path = format!("/desk/cases/{reference}/steps");
    for csrf in ["", "forged-token-of-the-right-length-xxxxxx"] {
        let reply = staff.post(&path, &[("csrf", csrf), ("step", "acknowledged")]);
        assert_eq!(reply.status, 403, "{}", reply.body);
        assert!(reply.body.contains("Nothing was changed"));
    }
    let assign = staff.post(
        &format!("/desk/cases/{reference}/assign"),
        &[("owner", "1")],
    );
    assert_eq!(assign.status, 403);
    let logout = staff.post("/desk/logout", &[]);
    assert_eq!(logout.status, 403);
    assert_eq!(server.count("SELECT count(*) FROM case_steps"), 0);
    assert_eq!(
        server.count("SELECT count(*) FROM cases WHERE assignee_id IS NOT NULL"),
        0
    );
    assert_eq!(
        server.count("SELECT count(*) FROM sessions"),
        1,
        "still logged in"
    );

    // The login form needs its own token too (no logging a victim into our account).
    let bare = Staff::new(&server).post(
        "/desk/login",
        &[("email", "sam@shop.example"), ("password", PASSWORD)],
    );
    assert_eq!(bare.status, 403);
    assert_eq!(server.count("SELECT count(*) FROM sessions"), 1);
}

#[test]
fn wrong_passwords_are_throttled() {
    let server = Server::start();
    server.add_person("sam@shop.example", "Sam", Role::Owner, &[]);
    server.add_person("ana@shop.example", "Ana", Role::Owner, &[]);
    let guesser = Staff::new(&server);
    for guess in 0..5 {
        let reply = guesser.try_log_in(
            "sam@shop.example",
            &format!("guess number {guess}"),
            "/desk/",
        );
        assert_eq!(reply.status, 401, "guess {guess}");
        assert!(reply.body.contains("The email or the password is wrong."));
    }
    let blocked = guesser.try_log_in("SAM@shop.example", PASSWORD, "/desk/");
    assert_eq!(
        blocked.status, 429,
        "even the right password waits, in any letter case"
    );
    assert!(
        blocked.body.contains("Too many attempts"),
        "{}",
        blocked.body
    );
    assert_eq!(server.count("SELECT count(*) FROM sessions"), 0);
    // Somebody else is not locked out by it.
    let ana = Staff::new(&server).try_log_in("ana@shop.example", PASSWORD, "/desk/");
    assert_eq!(ana.status, 303);
    // An unknown email reads exactly like a wrong password.
    let unknown = Staff::new(&server).try_log_in("nobody@shop.example", PASSWORD, "/desk/");
    assert_eq!(unknown.status, 401);
    assert!(unknown.body.contains("The email or the password is wrong."));
}

#[test]
fn an_agent_sees_and_works_only_their_sites() {
    let server = Server::start();
    let other = server.add_site("Other Shop", &["https://other.example"]);
    let ours = near_miss(&server, &server.site, 1, 2);
    let theirs = near_miss(&server, &other, 2, 1);
    server.add_person("ana@shop.example", "Ana", Role::Agent, &[&server.site]);
    let ana = Staff::log_in(&server, "ana@shop.example");

    let inbox = ana.get("/desk/").body;
    assert!(inbox.contains(&ours));
    assert!(
        !inbox.contains(&theirs) && !inbox.contains("Other Shop"),
        "{inbox}"
    );
    let filtered = ana.get(&format!("/desk/?site={other}"));
    assert_eq!(filtered.status, 404);
    assert!(!filtered.body.contains(&theirs));
    assert_eq!(ana.get(&format!("/desk/cases/{theirs}")).status, 404);
    // Even with a valid token from a page of their own, a step on it is refused.
    let page = format!("/desk/cases/{ours}");
    let steal = ana.submit(
        &page,
        &format!("/desk/cases/{theirs}/steps"),
        &[("step", "acknowledged")],
    );
    assert_eq!(steal.status, 404);
    let grab = ana.submit(
        &page,
        &format!("/desk/cases/{theirs}/assign"),
        &[("owner", "1")],
    );
    assert_eq!(grab.status, 404);
    assert_eq!(server.count("SELECT count(*) FROM case_steps"), 0);

    // Their own case they work, by its reference in any letter case.
    let lower = ours.to_lowercase();
    assert_eq!(ana.get(&format!("/desk/cases/{lower}")).status, 200);
    assert_eq!(ana.step(&ours, &[("step", "acknowledged")]).status, 303);
}

/// Text a hostile customer might type.
pub const HOSTILE: &[&str] = &[
    "<script>alert('comment')</script>",
    "<img src=x onerror=alert(1)>",
    "\"><svg onload=alert(2)>",
    "javascript:alert(3)",
    "\u{202E}gnp.exe\u{202C} right-to-left override",
    "zero\u{200B}width\u{200D}joiners",
];

#[test]
fn what_a_customer_typed_is_text_on_every_page() {
    let mut settings = nearmiss_server::sites::SiteSettings::new("Test Shop");
    settings.origins = vec!["https://shop.example".into()];
    settings.reasons = HOSTILE.iter().map(|s| s.to_string()).collect();
    let server = Server::builder().site("").start();
    let site = server.add_site_with(settings);
    let reference = near_miss(&server, &site, 1, 1);
    let long = format!("{} {}", HOSTILE.join("\n"), "x".repeat(1700));
    let details = json!({
        "site": site,
        "edit": support::edit(&id(1)),
        "comment": long,
        "reasons": HOSTILE,
        "contact": {"name": HOSTILE[1], "email": "ana@example.com", "consent": true}
    });
    let reply = server.post_json(&format!("/v1/ratings/{}/details", id(1)), &details);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let staff = sam(&server);
    for path in ["/desk/".to_owned(), format!("/desk/cases/{reference}")] {
        let page = staff.get(&path).body;
        for raw in ["<script>alert", "<img src=x", "<svg onload"] {
            assert!(!page.contains(raw), "{raw} as markup on {path}");
        }
        assert!(
            page.contains("&lt;script&gt;alert('comment')&lt;/script&gt;"),
            "{path}"
        );
        assert!(
            page.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{path}"
        );
        assert!(!page.contains("href=\"javascript:"), "{path}");
    }
}

#[test]
fn the_demo_has_cases_in_every_state_and_refuses_a_site_with_cases() {
    let server = Server::start();
    server.add_person("sam@shop.example", "Sam", Role::Owner, &[]);
    let site = server
        .store
        .read_now(|tx| tx.site_by_key(&server.site, 0))
        .unwrap()
        .unwrap();
    let now = 1_795_953_600_000; // 2026-11-29T12:00:00Z
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let seeded = runtime
        .block_on(nearmiss_server::demo::seed(
            &server.store,
            site.clone(),
            28,
            now,
            |_| {},
        ))
        .unwrap();
    assert!(seeded.ratings > 28 * 10 && seeded.cases > 10, "{seeded:?}");
    let count = |sql: &str| server.count(sql);
    assert_eq!(count("SELECT count(*) FROM cases"), seeded.cases as i64);
    assert!(count("SELECT count(*) FROM cases WHERE status = 'closed'") > 0);
    assert!(count("SELECT count(*) FROM cases WHERE status = 'open' AND acknowledged_at IS NULL AND overdue_from <= 1795953600000") > 0, "overdue");
    assert!(
        count("SELECT count(*) FROM cases WHERE status = 'open' AND acknowledged_at IS NOT NULL")
            > 0,
        "being worked"
    );
    assert!(
        count("SELECT count(*) FROM cases WHERE status = 'open' AND overdue_from > 1795953600000")
            > 0,
        "just in"
    );
    assert!(
        count("SELECT max(n) FROM (SELECT count(*) AS n FROM case_steps WHERE prevention_id IS NOT NULL GROUP BY prevention_id) AS linked") > 1,
        "a prevention linked to several cases"
    );
    assert!(
        count("SELECT count(*) FROM ratings WHERE created_at > 1795953600000") == 0,
        "nothing from the future"
    );
    let again = runtime.block_on(nearmiss_server::demo::seed(
        &server.store,
        site,
        28,
        now,
        |_| {},
    ));
    assert!(again.is_err(), "a site with cases is left alone");
    assert_eq!(count("SELECT count(*) FROM cases"), seeded.cases as i64);
}

#[test]
fn a_person_is_emailed_what_they_chose_and_never_their_own_steps() {
    let smtp = support::smtp::SmtpSink::start();
    let server = Server::builder().smtp(&smtp.url).start();
    server.add_endpoint("email", "sam@shop.example", false);
    server.add_endpoint("email", "manager@shop.example", false);
    let staff = sam(&server);
    let mails_to = |to: &str| {
        smtp.mails()
            .iter()
            .filter(|m| m.to == [to])
            .map(|m| m.data.clone())
            .collect::<Vec<_>>()
    };
    let details = |comment: &str| {
        let body =
            json!({ "site": server.site, "edit": support::edit(&id(1)), "comment": comment });
        let path = format!("/v1/ratings/{}/details", id(1));
        assert_eq!(server.post_json(&path, &body).status, 200);
    };

    let reference = near_miss(&server, &server.site, 1, 2);
    support::wait_for("both told of the new near miss", || {
        mails_to("sam@shop.example").len() == 1 && mails_to("manager@shop.example").len() == 1
    });
    assert_eq!(
        staff.step(&reference, &[("step", "acknowledged")]).status,
        303
    );
    // Each update is waited for: one still waiting would be replaced by the next.
    support::wait_for("the manager told of the acknowledgement", || {
        mails_to("manager@shop.example").len() == 2
    });
    details("Cold fries.");
    support::wait_for("the manager told of both updates", || {
        mails_to("manager@shop.example").len() == 3
    });
    assert_eq!(
        mails_to("sam@shop.example").len(),
        1,
        "Sam chose no updates (the default), and the acknowledgement was his own"
    );

    // Sam now wants updates too: a customer's words reach him, his own steps never.
    let chosen = staff.submit(
        "/desk/me",
        "/desk/me/alerts",
        &[
            ("event", "case.opened"),
            ("event", "case.updated"),
            ("event", "case.overdue"),
            ("event", "case.closed"),
        ],
    );
    assert_eq!(chosen.status, 303, "{}", chosen.body);
    assert!(staff.get("/desk/me").body.contains("Email alerts reach"));
    assert_eq!(
        staff
            .step(&reference, &[("step", "contacted"), ("note", "Called.")])
            .status,
        303
    );
    support::wait_for("the manager told of the contact", || {
        mails_to("manager@shop.example").len() == 4
    });
    details("Cold fries, and no ketchup.");
    support::wait_for("the manager told of all four updates", || {
        mails_to("manager@shop.example").len() == 5
    });
    support::wait_for("Sam told of the customer's words", || {
        mails_to("sam@shop.example").len() == 2
    });
    let sams = mails_to("sam@shop.example");
    assert!(sams[1].contains("no ketchup"), "{}", sams[1]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(mails_to("sam@shop.example").len(), 2, "not his own step");
}

#[test]
fn owners_change_a_sites_settings_and_the_widget_sees_them_at_once() {
    let server = Server::start();
    let staff = sam(&server);
    let page = "/desk/settings/sites/1";
    assert!(staff.get(page).body.contains("https://shop.example"));
    let mut fields = vec![
        ("name", "Test Shop"),
        ("origins", "https://shop.example\nhttps://www.shop.example/"),
        ("scale", "5"),
        ("ack_within", "30m"),
        ("close_within", "3d"),
        ("timezone", "Europe/London"),
        ("reasons", "Slow\nCold"),
        ("causes", "Process\nTraining"),
        ("apology", "We got this wrong, and we will put it right."),
        ("owner", "Sam at Test Shop"),
        ("review_url", ""),
    ];
    let saved = staff.submit(page, page, &fields);
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert!(saved.body.contains("Saved."));
    let widget = server
        .get(&format!("/v1/sites/{}/widget", server.site))
        .json();
    assert_eq!(
        widget["apology"],
        "We got this wrong, and we will put it right."
    );
    assert_eq!(widget["ack_within_minutes"], 30);
    assert_eq!(widget["reasons"], json!(["Slow", "Cold"]));
    assert_eq!(
        server.count("SELECT count(*) FROM site_origins WHERE origin = 'https://www.shop.example'"),
        1
    );

    // A wrong value is named, linked to its field, and nothing changes.
    fields[5] = ("timezone", "Mars/Olympus");
    let refused = staff.submit(page, page, &fields);
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("href=\"#timezone\""),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("value=\"Mars/Olympus\""),
        "the form keeps what was typed"
    );
    assert_eq!(
        server.query_string("SELECT timezone FROM sites"),
        "Europe/London"
    );
    fields[5] = ("timezone", "UTC");
    fields[10] = ("review_url", "javascript:alert(1)");
    assert_eq!(staff.submit(page, page, &fields).status, 422);

    // Once ratings arrived, the scale stays: their scores would read wrong.
    near_miss(&server, &server.site, 1, 2);
    fields[10] = ("review_url", "");
    fields[2] = ("scale", "10");
    let refused = staff.submit(page, page, &fields);
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("href=\"#scale\""), "{}", refused.body);
    assert_eq!(server.count("SELECT scale FROM sites"), 5);
    assert_eq!(
        server.count("SELECT count(*) FROM sites WHERE review_url IS NOT NULL"),
        0
    );
}

#[test]
fn a_refused_origin_shows_on_the_site_page_and_one_click_allows_it() {
    let server = Server::start();
    let staff = sam(&server);
    let page = "/desk/settings/sites/1";
    assert!(!staff
        .get(page)
        .body
        .contains("Ratings refused from other origins"));
    let refused = server.request(
        "GET",
        &format!("/v1/sites/{}/widget", server.site),
        &[("origin", "https://www.shop.example")],
        None,
    );
    assert_eq!(refused.json()["origin_allowed"], false);
    let shown = staff.get(page).body;
    assert!(
        shown.contains("Ratings refused from other origins"),
        "{shown}"
    );
    assert!(shown.contains("Allow https://www.shop.example"), "{shown}");

    let allowed = staff.submit(
        page,
        "/desk/settings/sites/1/origins",
        &[("origin", "https://www.shop.example")],
    );
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    assert!(allowed
        .body
        .contains("Pages on https://www.shop.example can send ratings now"));
    assert!(!allowed.body.contains("Ratings refused from other origins"));
    let now_allowed = server.request(
        "GET",
        &format!("/v1/sites/{}/widget", server.site),
        &[("origin", "https://www.shop.example")],
        None,
    );
    assert_eq!(now_allowed.json()["origin_allowed"], true);
    assert_eq!(
        server.count("SELECT count(*) FROM site_origins WHERE origin = 'https://shop.example'"),
        1,
        "the other origins stay"
    );
}

#[test]
fn an_agent_cannot_open_or_post_settings() {
    let server = Server::start();
    server.add_person("ana@shop.example", "Ana", Role::Agent, &[&server.site]);
    let ana = Staff::log_in(&server, "ana@shop.example");
    assert_eq!(ana.get("/desk/settings").status, 403);
    assert_eq!(ana.get("/desk/settings/sites/1").status, 403);
    assert!(
        !ana.get("/desk/").body.contains("/desk/settings"),
        "no link to it either"
    );
    let token = ana.submit("/desk/", "/desk/settings/tokens", &[("name", "mine")]);
    assert_eq!(token.status, 403);
    assert_eq!(server.count("SELECT count(*) FROM api_tokens"), 0);
}

#[test]
fn owners_manage_people_and_api_tokens_from_the_desk() {
    let server = Server::start();
    let staff = sam(&server);
    let added = staff.submit(
        "/desk/settings",
        "/desk/settings/people",
        &[
            ("email", "jo@shop.example"),
            ("name", "Jo"),
            ("role", "agent"),
            ("site", &server.site),
            ("password", "a long first password"),
        ],
    );
    assert_eq!(added.status, 200, "{}", added.body);
    assert!(added.body.contains("Added Jo"));
    let jo = Staff::new(&server);
    assert_eq!(
        jo.try_log_in("jo@shop.example", "a long first password", "/desk/")
            .status,
        303
    );
    let weak = staff.submit(
        "/desk/settings",
        "/desk/settings/people",
        &[
            ("email", "x@shop.example"),
            ("name", "X"),
            ("role", "owner"),
            ("password", "short"),
        ],
    );
    assert_eq!(weak.status, 422);
    assert!(weak.body.contains("at least 10 characters"));

    let jo_id = server.count("SELECT id FROM users WHERE email = 'jo@shop.example'");
    let removed = staff.submit(
        "/desk/settings",
        &format!("/desk/settings/people/{jo_id}/remove"),
        &[],
    );
    assert_eq!(removed.status, 303);
    let after = jo.get("/desk/");
    assert_eq!(after.status, 303, "logged out everywhere");
    assert_eq!(after.header("location").as_deref(), Some("/desk/login"));

    let made = staff.submit(
        "/desk/settings",
        "/desk/settings/tokens",
        &[("name", "Zapier")],
    );
    assert_eq!(made.status, 200);
    let at = made.body.find("<code>nm_").expect("the token, shown once") + "<code>".len();
    let token = &made.body[at..at + made.body[at..].find('<').unwrap()];
    assert_eq!(server.authed("GET", "/v1/cases", token, None).status, 200);
    assert!(
        !staff.get("/desk/settings").body.contains(token),
        "shown only once"
    );
    let id = server.count("SELECT id FROM api_tokens");
    let revoked = staff.submit(
        "/desk/settings",
        &format!("/desk/settings/tokens/{id}/revoke"),
        &[],
    );
    assert_eq!(revoked.status, 303);
    assert_eq!(server.authed("GET", "/v1/cases", token, None).status, 401);
}

#[test]
fn a_test_alert_reaches_the_endpoint_and_shows_in_its_delivery_log() {
    let receiver = support::receiver::Receiver::start(&[]);
    let server = Server::start();
    let staff = sam(&server);
    let page = "/desk/settings/sites/1";
    let added = staff.submit(
        page,
        &format!("{page}/alerts"),
        &[("kind", "webhook"), ("target", &receiver.url)],
    );
    assert_eq!(added.status, 200, "{}", added.body);
    assert!(
        added.body.contains("<code>whsec_"),
        "the signing secret, shown once"
    );
    let bad = staff.submit(
        page,
        &format!("{page}/alerts"),
        &[("kind", "email"), ("target", "not an address")],
    );
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("href=\"#alert-target\""));

    let sent = staff.submit(page, &format!("{page}/alerts/1/test"), &[]);
    assert_eq!(sent.status, 200, "{}", sent.body);
    support::wait_for("the test alert", || receiver.deliveries().len() == 1);
    let body = receiver.deliveries()[0].json();
    assert_eq!(body["test"], true);
    assert_eq!(body["data"]["case"]["ref"], "NM-TEST");
    support::wait_for("the log to say delivered", || {
        staff.get(page).body.contains("<td>delivered</td>")
    });
}

#[test]
fn the_numbers_page_shows_the_rate_the_chart_and_every_near_miss() {
    let server = Server::start();
    let other = server.add_site("Other Shop", &["https://other.example"]);
    for n in 0..7 {
        let perfect = rating(&server.site, 5).id(&id(n)).json();
        assert_eq!(server.post_json("/v1/ratings", &perfect).status, 201);
    }
    let mut ours = Vec::new();
    for n in 7..10 {
        ours.push(near_miss(&server, &server.site, n, 2));
    }
    let theirs = near_miss(&server, &other, 10, 1);
    let details = json!({
        "site": server.site, "edit": support::edit(&id(7)), "comment": "=1+1 cold",
        "contact": {"email": "ana@example.com", "consent": true}
    });
    assert_eq!(
        server
            .post_json(&format!("/v1/ratings/{}/details", id(7)), &details)
            .status,
        200
    );

    server.add_person("ana@shop.example", "Ana", Role::Agent, &[&server.site]);
    let ana = Staff::log_in(&server, "ana@shop.example");
    let page = ana.get("/desk/numbers?period=7").body;
    assert!(page.contains("70.0%"), "7 perfect of 10: {page}");
    assert!(
        page.contains("<svg") && page.contains("polyline"),
        "the chart is drawn on the server"
    );
    for reference in &ours {
        assert!(page.contains(reference.as_str()), "each near miss listed");
    }
    assert!(!page.contains(&theirs), "an agent sees only their sites");
    assert_eq!(ana.get(&format!("/desk/numbers?site={other}")).status, 404);

    // An agent's download has no contact columns, even when asked for them.
    let csv = ana.get("/desk/numbers/export.csv?period=7&contact=1");
    assert_eq!(csv.status, 200);
    assert!(csv.body.starts_with("id,created_at,site,score"));
    assert!(!csv.body.contains("contact_email") && !csv.body.contains("ana@example.com"));
    assert!(csv.body.contains("'=1+1 cold"), "formulas defused");
    assert_eq!(csv.body.lines().count(), 11, "a header and our 10 ratings");

    let sam = sam(&server);
    let everything = sam.get("/desk/numbers/export.csv?period=7&contact=1");
    assert!(
        everything.body.contains("ana@example.com"),
        "an owner may ask for contacts"
    );
    assert_eq!(everything.body.lines().count(), 12, "every site's ratings");
    assert!(
        sam.get("/desk/numbers?period=custom&from=2026-12-01&to=2026-11-01")
            .status
            == 422
    );
}

//! The desk in real headless Chromium, with the real widget on the demo page: a near
//! miss sent from the widget appears in an open inbox without a reload, and is worked
//! to closed through the case page's forms. axe-core checks every page (numbers and
//! settings too); nothing scrolls sideways on a phone.
//!
//! Needs the built widget and axe-core: `cargo xtask test` provides both.
//! `NEARMISS_SCREENSHOTS=DIR` saves a PNG of each page there.

mod support;

use nearmiss_server::states::Role;
use serde_json::json;
use support::axe::{assert_accessible, axe_source};
use support::desk::PASSWORD;
use support::webdriver::Browser;
use support::{wait_for, Server};

/// Fails when the page is wider than a phone `width` pixels wide (a sideways scroll).
#[track_caller]
fn assert_no_sideways_scroll(browser: &Browser, width: u32, page: &str) {
    let widths = browser.script(
        "return [document.documentElement.scrollWidth, window.innerWidth]",
        json!([]),
    );
    assert_eq!(
        widths[1],
        json!(width),
        "the page is laid out {width} px wide"
    );
    assert!(
        widths[0].as_i64() <= widths[1].as_i64(),
        "the {page} page scrolls sideways: {widths}"
    );
}

fn screenshot(browser: &Browser, name: &str) {
    if let Some(dir) = std::env::var_os("NEARMISS_SCREENSHOTS") {
        browser.screenshot(&std::path::Path::new(&dir).join(format!("{name}.png")));
    }
}

#[test]
fn a_near_miss_from_the_widget_appears_live_and_is_worked_to_closed() {
    let axe = axe_source();
    let mut server = Server::with_widget();
    server.site = server.add_site("Corner Bistro", &[&server.base.clone()]);
    server.add_person("sam@bistro.example", "Sam", Role::Owner, &[]);
    let browser = Browser::start();
    let base = server.base.clone();

    browser.goto(&format!("{base}/desk/"));
    browser.find(None, "#email");
    assert_accessible(&browser, &axe, "login");
    screenshot(&browser, "desk-login");
    browser.type_text(&browser.find(None, "#email"), "sam@bistro.example");
    browser.type_text(&browser.find(None, "#password"), PASSWORD);
    browser.click(&browser.find(None, "form.stack button[type=submit]"));
    browser.find(None, "p#inbox.empty");
    // Marks this page: a reload would forget it.
    browser.script("window.stayed = true; return 1", json!([]));
    wait_for("the inbox listening for changes", || {
        browser.script("return !document.getElementById('live').hidden", json!([])) == json!(true)
    });

    // A customer rates 2 stars on the business's page, in another tab.
    let inbox_tab = browser.new_tab();
    browser.goto(&format!("{base}/demo/{}", server.site));
    let host = browser.find(None, "nearmiss-widget");
    let root = browser.shadow_root(&host);
    browser.click(&browser.find(Some(&root), "[role=radio][aria-label='2 of 5']"));
    let comment = browser.find(Some(&root), "textarea.comment");
    browser.type_text(
        &comment,
        "<img src=x onerror=\"window.pwned=1\"> The fries were cold.",
    );
    browser.click(&browser.find(Some(&root), ".send"));
    let reference = browser.text(&browser.find(Some(&root), ".ref"));
    assert!(reference.starts_with("NM-"), "{reference}");

    browser.switch_to(&inbox_tab);
    let row = browser.find(None, &format!("#inbox [data-ref='{reference}']"));
    assert!(browser.text(&row).contains("2/5"));
    wait_for("the comment in the row", || {
        browser
            .text(&browser.find(None, &format!("#inbox [data-ref='{reference}']")))
            .contains("The fries were cold.")
    });
    assert_eq!(
        browser.script("return window.stayed === true", json!([])),
        json!(true),
        "the case appeared without a reload"
    );
    assert!(browser
        .text(&browser.find(None, "#announce"))
        .contains(&reference));
    assert_accessible(&browser, &axe, "inbox");
    screenshot(&browser, "desk-inbox");

    browser.click(&browser.find(None, &format!("a[href='/desk/cases/{reference}']")));
    let said = browser.text(&browser.find(None, "blockquote"));
    assert!(said.contains("<img src=x"), "shown as text: {said}");
    assert_accessible(&browser, &axe, "case");
    screenshot(&browser, "desk-case");

    let steps: &[(&str, &[(&str, &str)])] = &[
        ("acknowledged", &[]),
        (
            "contacted",
            &[("#note-contacted", "Called her and apologised.")],
        ),
        ("fixed", &[("#note-fixed", "Fresh fries delivered.")]),
        (
            "made_good",
            &[("#note-made_good", "A free dessert next visit.")],
        ),
        (
            "cause_found",
            &[("#action-cause_found", "Fries held under the lamp.")],
        ),
        (
            "customer_told",
            &[("#note-customer_told", "Told her about the lamp.")],
        ),
        ("closed", &[]),
    ];
    for (step, fields) in steps {
        let form = format!("#step-{step}");
        if browser
            .attribute(&browser.find(None, &form), "open")
            .is_none()
        {
            browser.click(&browser.find(None, &format!("{form} summary")));
        }
        for (field, text) in *fields {
            browser.type_text(&browser.find(None, field), text);
        }
        browser.click(&browser.find(None, &format!("{form} button[type=submit]")));
        wait_for(&format!("the {step} step recorded"), || {
            server.count(&format!(
                "SELECT count(*) FROM case_steps WHERE step = '{step}' AND actor = 'Sam'"
            )) == 1
        });
    }
    browser.find(None, ".badge.closed");
    assert_eq!(server.query_string("SELECT status FROM cases"), "closed");
    assert_eq!(
        browser.script("return window.pwned === undefined", json!([])),
        json!(true)
    );
    assert_accessible(&browser, &axe, "closed case");
    for (path, page) in [
        ("/desk/me", "my alerts"),
        ("/desk/numbers", "numbers"),
        ("/desk/settings", "settings"),
        ("/desk/settings/sites/1", "site settings"),
    ] {
        browser.goto(&format!("{base}{path}"));
        browser.find(None, "main h1");
        assert_accessible(&browser, &axe, page);
    }
    screenshot(&browser, "desk-site-settings");

    // Phones: nothing scrolls sideways at 390 px (most phones) or 320 px (the smallest).
    for width in [390, 320] {
        browser.phone(width);
        for path in [
            format!("/desk/cases/{reference}"),
            "/desk/?status=all".to_owned(),
            "/desk/settings".to_owned(),
            "/desk/settings/sites/1".to_owned(),
            "/desk/me".to_owned(),
            "/desk/numbers".to_owned(),
        ] {
            browser.goto(&format!("{base}{path}"));
            browser.find(None, "main h1");
            assert_no_sideways_scroll(&browser, width, &format!("{path} at {width} px"));
        }
    }
    browser.phone(390);
    browser.goto(&format!("{base}/desk/?status=all"));
    browser.find(None, "#inbox");
    screenshot(&browser, "desk-inbox-phone");
}

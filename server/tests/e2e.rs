//! End to end: the demo page served by the real server, the real built widget, real
//! headless Chromium. A customer gives 4 stars, explains, consents, sends; the rating is
//! on disk, flagged, with its case and details, and the page shows the case reference.
//!
//! Needs the built widget: `cargo xtask test` builds it into `target/widget` first.

mod support;

use serde_json::json;
use support::host::HostPage;
use support::receiver::Receiver;
use support::webdriver::Browser;
use support::{wait_for, widget_dir, Server};

#[test]
fn a_customer_rates_4_stars_and_gets_a_case_reference() {
    let mut server = Server::with_widget();
    server.site = server.add_site("Corner Bistro", &[&server.base.clone()]);
    let browser = Browser::start();
    browser.goto(&format!("{}/demo/{}", server.base, server.site));

    let host = browser.find(None, "nearmiss-widget");
    let root = browser.shadow_root(&host);
    let four = browser.find(Some(&root), "[role=radio][aria-label='4 of 5']");
    browser.click(&four);

    // The score was sent the moment it was chosen, before any details.
    let comment = browser.find(Some(&root), "textarea.comment");
    wait_for("the 4-star rating stored", || {
        server.count("SELECT count(*) FROM ratings WHERE score = 4 AND NOT perfect") == 1
    });
    assert_eq!(server.count("SELECT count(*) FROM cases"), 1);

    browser.type_text(&comment, "The fries were missing from my order.");
    let chip = browser.find(Some(&root), ".chip");
    let reason = browser.text(&chip);
    browser.click(&chip);
    assert_eq!(
        browser.attribute(&chip, "aria-pressed").as_deref(),
        Some("true")
    );
    browser.click(&browser.find(Some(&root), ".consent input"));
    browser.type_text(
        &browser.find(Some(&root), ".contact input"),
        "ana@example.com",
    );
    browser.click(&browser.find(Some(&root), ".send"));

    let shown = browser.text(&browser.find(Some(&root), ".ref"));
    assert!(shown.starts_with("NM-") && shown.len() == 7, "{shown}");
    let stored_ref = format!("SELECT count(*) FROM cases WHERE ref = '{shown}'");
    assert_eq!(
        server.count(&stored_ref),
        1,
        "the page shows the stored case's reference"
    );
    let details = format!(
        "SELECT count(*) FROM details d JOIN cases c ON c.rating_id = d.rating_id
         WHERE c.ref = '{shown}' AND d.comment = 'The fries were missing from my order.'
           AND d.reasons = '[\"{reason}\"]' AND d.contact_email = 'ana@example.com' AND d.consent"
    );
    assert_eq!(server.count(&details), 1);
    let interaction = "SELECT count(*) FROM ratings WHERE interaction = 'order-1042'";
    assert_eq!(server.count(interaction), 1);
}

#[test]
fn a_site_closed_now_promises_in_opening_hours_and_names_the_day() {
    // Open one hour, two days from now (UTC): closed whenever this runs.
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let open_day = today.checked_add(jiff::Span::new().days(2)).unwrap();
    // "Saturday", and "Sa" as opening hours write it.
    let long = open_day.strftime("%A").to_string();
    let short = &long[..2];
    let mut server = Server::with_widget();
    let mut settings = nearmiss_server::sites::SiteSettings::new("Night Bakery");
    settings.origins = vec![server.base.clone()];
    settings.hours =
        Some(nearmiss_server::hours::OpeningHours::parse(&format!("{short} 03:00-04:00")).unwrap());
    server.site = server.add_site_with(settings);
    let browser = Browser::start();
    browser.goto(&format!("{}/demo/{}", server.base, server.site));
    let root = browser.shadow_root(&browser.find(None, "nearmiss-widget"));
    browser.click(&browser.find(Some(&root), "[role=radio][aria-label='2 of 5']"));
    let promise = browser.text(&browser.find(Some(&root), ".promise"));
    assert!(
        promise.contains("within 15 minutes during opening hours"),
        "{promise}"
    );
    browser.click(&browser.find(Some(&root), ".send"));
    browser.find(Some(&root), ".ref");
    let done = browser.text(&browser.find(Some(&root), "p.promise"));
    // Chromium here runs in UTC: 15 open minutes after 03:00 that day.
    assert!(
        done.contains(&long) && done.contains("3:15"),
        "the promise names the day and time: {done}"
    );
}

/// The CSP a host page needs, and nothing more: no `'unsafe-inline'` anywhere.
fn strict_csp(collector: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self' {collector} 'wasm-unsafe-eval'; \
         connect-src {collector}; style-src 'self'; base-uri 'none'"
    )
}

/// A business's page on another origin with the strict CSP, its site allowing that
/// origin (the server's `site`).
fn shop() -> (Server, HostPage) {
    let mut server = Server::with_widget();
    let host = HostPage::start(&server.base, &strict_csp(&server.base));
    server.site = server.add_site("Host Shop", &[&host.origin]);
    (server, host)
}

/// [`shop`], and a browser.
fn host_shop() -> (Server, HostPage, Browser) {
    let (server, host) = shop();
    (server, host, Browser::start())
}

#[test]
fn a_page_on_another_origin_with_a_strict_csp_reports_no_violation() {
    // The site allows the host page's origin, as a business would configure it.
    let (server, host, browser) = host_shop();
    browser.goto(&format!("{}/?site={}", host.origin, server.site));
    let widget = browser.find(None, "nearmiss-widget");
    let root = browser.shadow_root(&widget);
    browser.click(&browser.find(Some(&root), "[role=radio][aria-label='2 of 5']"));
    browser.find(Some(&root), "textarea.comment");
    let waited = std::time::Instant::now();
    while server.count("SELECT count(*) FROM cases") == 0 {
        if waited.elapsed() > std::time::Duration::from_secs(10) {
            let seen = browser.script("return [window.__violations, window.__console]", json!([]));
            panic!("the rating did not arrive; violations and console: {seen}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let violations = browser.script("return window.__violations", json!([]));
    assert_eq!(violations, json!([]), "no CSP violation");
    let styled = browser.script(
        "return getComputedStyle(arguments[0].shadowRoot.querySelector('.panel')).borderRadius",
        json!([{ "element-6066-11e4-a52e-4f735466cecf": widget_id(&widget) }]),
    );
    assert_eq!(
        styled,
        json!("14px"),
        "the widget is styled without 'unsafe-inline'"
    );
}

#[test]
fn without_wasm_unsafe_eval_the_widget_fails_quietly() {
    let mut server = Server::with_widget();
    let csp = strict_csp(&server.base).replace(" 'wasm-unsafe-eval'", "");
    let host = HostPage::start(&server.base, &csp);
    server.site = server.add_site("Host Shop", &[&host.origin]);
    let browser = Browser::start();
    browser.goto(&format!("{}/?site={}", host.origin, server.site));
    wait_for("the widget's console message", || {
        browser
            .script("return window.__console.length", json!([]))
            .as_u64()
            .unwrap_or(0)
            > 0
    });
    std::thread::sleep(std::time::Duration::from_millis(500));
    let console = browser.script("return window.__console", json!([]));
    let messages = console.as_array().unwrap();
    assert_eq!(messages.len(), 1, "one console message: {console}");
    assert!(
        messages[0]
            .as_str()
            .unwrap()
            .contains("nearmiss: no widget"),
        "{console}"
    );
    assert!(browser.find_now(None, "nearmiss-widget").is_none());
    let heading = browser.find(None, "#host");
    assert_eq!(
        browser.text(&heading),
        "Thanks for your order",
        "the host page is intact"
    );
}

#[test]
fn a_rating_made_offline_arrives_from_the_next_page_load() {
    let dir = tempfile::tempdir().unwrap();
    let assets = widget_dir();
    let mut server = Server::builder().in_dir(dir.path()).widget(&assets).start();
    let port = server.port();
    let collector = server.base.clone();
    let host = HostPage::start(&collector, &strict_csp(&collector));
    server.site = server.add_site("Host Shop", &[&host.origin]);
    let site = server.site.clone();
    let browser = Browser::start();
    let page = format!("{}/?site={site}", host.origin);
    browser.goto(&page);
    let root = browser.shadow_root(&browser.find(None, "nearmiss-widget"));
    let two = browser.find(Some(&root), "[role=radio][aria-label='2 of 5']");

    // The collector goes away (a phone losing its signal looks the same to the page).
    drop(server);
    browser.click(&two);
    browser.type_text(
        &browser.find(Some(&root), "textarea.comment"),
        "Sent from a tunnel",
    );
    browser.click(&browser.find(Some(&root), ".send"));
    let note = browser.text(&browser.find(Some(&root), ".note"));
    assert!(note.contains("offline"), "{note}");
    let waiting = browser.script(
        "return Object.keys(localStorage).filter(k => k.startsWith('nearmiss:o:')).length",
        json!([]),
    );
    assert_eq!(
        waiting,
        json!(2),
        "the rating and its details wait in the outbox"
    );

    // Back, and the customer opens another page of the shop.
    let server = Server::builder()
        .in_dir(dir.path())
        .widget(&assets)
        .site(&site)
        .port(port)
        .start();
    browser.goto(&page);
    wait_for("the offline rating and its details stored", || {
        server.count(
            "SELECT count(*) FROM ratings r JOIN details d ON d.rating_id = r.id
             WHERE r.score = 2 AND d.comment = 'Sent from a tunnel'",
        ) == 1
    });
    assert_eq!(server.count("SELECT count(*) FROM cases"), 1);
    wait_for("the browser's outbox emptied", || {
        browser.script(
            "return Object.keys(localStorage).filter(k => k.startsWith('nearmiss:o:')).length",
            json!([]),
        ) == json!(0)
    });
}

fn widget_id(node: &support::webdriver::Node) -> String {
    match node {
        support::webdriver::Node::Element(id) => id.clone(),
        support::webdriver::Node::Shadow(id) => id.clone(),
    }
}

/// The setup mistake of the hardening issue: the site allows `http://localhost:PORT`,
/// the page is on `http://127.0.0.1:PORT`. No customer is offered a widget whose
/// ratings would be refused, a rating left in the browser from before is dropped (not
/// kept for ever), and the owner is told.
#[test]
fn on_an_origin_the_site_does_not_allow_the_widget_stays_hidden_and_the_owner_is_told() {
    let slack = Receiver::start(&[]);
    let mut server = Server::with_widget();
    let host = HostPage::start(&server.base, &strict_csp(&server.base));
    let mistaken = host.origin.replace("127.0.0.1", "localhost");
    server.site = server.add_site("Host Shop", &[&mistaken]);
    server.add_endpoint("slack", &slack.url, false);
    let browser = Browser::start();
    let page = format!("{}/?site={}", host.origin, server.site);
    browser.goto(&page);
    wait_for("the console to say why", || {
        console(&browser).contains("is not an origin of site")
    });
    assert!(browser.find_now(None, "nearmiss-widget").is_none());

    // A rating this browser kept from before is refused, readably, and dropped.
    let leftover = json!({
        "u": format!("{}/v1/ratings", server.base),
        "b": json!({ "id": support::id(9), "site": server.site, "score": 2 }).to_string(),
        "a": 0,
        "n": 0,
    });
    browser.script(
        "localStorage.setItem('nearmiss:o:' + (1e13 + Date.now()) + ':' + arguments[0] + ':r', arguments[1])",
        json!([support::id(9), leftover.to_string()]),
    );
    browser.goto(&page);
    wait_for("the refused rating dropped", || {
        browser.script(
            "return Object.keys(localStorage).filter(k => k.startsWith('nearmiss:o:')).length",
            json!([]),
        ) == json!(0)
    });
    let said = console(&browser);
    assert!(said.contains("dropped a refused submission 403"), "{said}");
    assert_eq!(server.count("SELECT count(*) FROM ratings"), 0);

    // The owner sees the origin and hears of it once.
    assert_eq!(
        server.query_string("SELECT origin FROM refused_origins"),
        host.origin
    );
    wait_for("the Slack notice", || slack.deliveries().len() == 1);
    let text = &slack.deliveries()[0].body;
    assert!(
        text.contains(&format!(
            "Ratings from {} are being refused for Host Shop",
            host.origin
        )),
        "{text}"
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(slack.deliveries().len(), 1, "told once");

    // This browser remembers the mistake for an hour: the next page with the floating
    // button does not draw it for a customer to reach for, and asks nothing.
    browser.goto(&format!("{page}&trigger=button"));
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(browser.find_now(None, "nearmiss-widget").is_none());
    let said = console(&browser);
    assert!(said.contains("is not an origin of site"), "{said}");
    let after = downloaded(&browser);
    assert!(!after.iter().any(|n| n.contains("/widget")), "{after:?}");
}

/// A wrong `data-site` is a setup mistake: customers never see a widget that would fail
/// them, and the console says why.
#[test]
fn with_a_site_key_no_site_has_the_widget_stays_hidden_and_says_why() {
    let (_server, host, browser) = host_shop();
    browser.goto(&format!("{}/?site=s_nosuchkeyatall", host.origin));
    wait_for("the console to say why", || {
        console(&browser).contains("no site has the key s_nosuchkeyatall")
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(browser.find_now(None, "nearmiss-widget").is_none());
    let console = browser.script("return window.__console", json!([]));
    assert_eq!(console.as_array().map(Vec::len), Some(1), "once: {console}");
}

/// What the page wrote to its console so far (`spy.js` keeps it), one line each.
fn console(browser: &Browser) -> String {
    let lines = browser.script("return window.__console.join('\\n')", json!([]));
    lines.as_str().unwrap_or_default().to_owned()
}

/// What the page has downloaded so far, by name.
fn downloaded(browser: &Browser) -> Vec<String> {
    let names = browser.script(
        "return performance.getEntriesByType('resource').map(function (e) { return e.name; })",
        json!([]),
    );
    serde_json::from_value(names).unwrap()
}

/// The facade: a page view where nobody shows any wish to rate pays for the script tag
/// alone. The loader draws the button; the wasm, its glue and the site's settings come
/// on intent, and a tap made before they have arrived opens the widget once they have.
#[test]
fn the_button_costs_the_script_tag_alone_until_a_customer_shows_intent() {
    let (server, host, browser) = host_shop();
    browser.goto(&format!(
        "{}/?site={}&trigger=button",
        host.origin, server.site
    ));
    let root = browser.shadow_root(&browser.find(None, "nearmiss-widget"));
    let launcher = browser.find(Some(&root), ".launcher");
    assert_eq!(browser.text(&launcher), "Rate your visit");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let before = downloaded(&browser);
    assert!(
        before.iter().any(|n| n.ends_with("/nearmiss.js")),
        "{before:?}"
    );
    assert!(
        !before.iter().any(|n| n.contains("/widget")),
        "nothing but the script tag before intent: {before:?}"
    );

    // The tap is the intent: the first one opens the widget once it has arrived.
    browser.click(&launcher);
    let two = browser.find(Some(&root), "[role=radio][aria-label='2 of 5']");
    let after = downloaded(&browser);
    for part in [".wasm", ".js", "/widget?lang="] {
        assert!(
            after
                .iter()
                .any(|n| n.contains("/widget") && n.contains(part)),
            "{part} after the tap: {after:?}"
        );
    }
    assert_eq!(
        browser.attribute(&launcher, "hidden").as_deref(),
        Some("true")
    );
    browser.click(&two);
    wait_for("the rating stored", || {
        server.count("SELECT count(*) FROM ratings WHERE score = 2") == 1
    });
    let violations = browser.script("return window.__violations", json!([]));
    assert_eq!(violations, json!([]), "no CSP violation");
}

/// `data-preload="idle"`: the widget downloads when the browser is idle, untouched.
#[test]
fn preload_idle_downloads_the_widget_without_intent() {
    let (server, host, browser) = host_shop();
    browser.goto(&format!(
        "{}/?site={}&trigger=button&preload=idle",
        host.origin, server.site
    ));
    wait_for("the wasm downloaded", || {
        downloaded(&browser).iter().any(|n| n.ends_with(".wasm"))
    });
    let root = browser.shadow_root(&browser.find(None, "nearmiss-widget"));
    let panel = browser.find(Some(&root), ".panel");
    assert_eq!(
        browser.attribute(&panel, "hidden").as_deref(),
        Some("true"),
        "downloaded, not opened"
    );
}

/// What is too small for a thumb (under 44 px either way), a field under 16 px (iOS
/// zooms the page when one takes focus), and what pokes out of a phone's screen, among
/// the widget's visible elements.
const PHONE_CHECK: &str = r#"
const root = document.querySelector('nearmiss-widget').shadowRoot;
const shown = (sel) => [...root.querySelectorAll(sel)].filter((e) => e.getClientRects().length);
const name = (e) => e.className || e.localName;
const small = shown('button, [role=radio], label.consent, textarea, input[type=text], a')
  .map((e) => [name(e), e.getBoundingClientRect()])
  .filter(([, b]) => b.width < 44 || b.height < 44)
  .map(([n, b]) => `${n} ${Math.round(b.width)}x${Math.round(b.height)}`);
const fonts = shown('textarea, input[type=text]')
  .filter((e) => parseFloat(getComputedStyle(e).fontSize) < 16).map(name);
const cut = shown('*').filter((e) => {
  const b = e.getBoundingClientRect();
  return b.left < 0 || b.right > innerWidth;
}).map(name);
return { small, fonts, cut };
"#;

/// The host shop on a 320 px phone, its widget behind the button (the default trigger):
/// the servers (kept alive by the caller), the browser and the widget's shadow root.
fn phone_shop() -> (Server, HostPage, Browser, support::webdriver::Node) {
    let (server, host, browser) = host_shop();
    browser.phone(320);
    browser.goto(&format!(
        "{}/?site={}&trigger=button",
        host.origin, server.site
    ));
    let root = browser.shadow_root(&browser.find(None, "nearmiss-widget"));
    (server, host, browser, root)
}

#[test]
fn on_a_320_px_phone_every_target_takes_a_thumb_and_nothing_is_cut_off() {
    let (_server, _host, browser, root) = phone_shop();
    let clean = json!({ "small": [], "fonts": [], "cut": [] });
    assert_eq!(browser.script(PHONE_CHECK, json!([])), clean, "the button");
    browser.click(&browser.find(Some(&root), ".launcher"));
    let two = browser.find(Some(&root), "[role=radio][aria-label='2 of 5']");
    // Measured once the panel has risen into place.
    wait_for("the panel in place", || {
        browser.script(
            "return document.querySelector('nearmiss-widget').shadowRoot.getAnimations().length",
            json!([]),
        ) == json!(0)
    });
    assert_eq!(
        browser.script(PHONE_CHECK, json!([])),
        clean,
        "the question"
    );
    browser.click(&two);
    browser.click(&browser.find(Some(&root), ".consent input"));
    browser.find(Some(&root), ".contact input");
    assert_eq!(browser.script(PHONE_CHECK, json!([])), clean, "the details");
}

/// A phone's on-screen keyboard, as the page sees it: the visual viewport shrinks from
/// the bottom (the page's fixed elements do not move) and says so with `resize`.
const KEYBOARD: &str = r#"
const vv = new EventTarget();
Object.assign(vv, { width: innerWidth, height: innerHeight, offsetTop: 0 });
Object.defineProperty(window, 'visualViewport', { value: vv, configurable: true });
window.__keyboard = (px) => {
  vv.height = innerHeight - px;
  vv.dispatchEvent(new Event('resize'));
};
"#;

#[test]
fn on_a_phone_the_keyboard_never_covers_the_field_being_typed_in() {
    let (_server, _host, browser, root) = phone_shop();
    browser.script(KEYBOARD, json!([]));
    // ChromeDriver's own clicks read the real visual viewport: the page's clicks here.
    let act = |js: &str| {
        browser.script(
            &format!("document.querySelector('nearmiss-widget').shadowRoot.{js}"),
            json!([]),
        )
    };
    act("querySelector('.launcher').click()");
    browser.find(Some(&root), "[role=radio][aria-label='2 of 5']");
    act("querySelector(\"[aria-label='2 of 5']\").click()");
    browser.find(Some(&root), "textarea.comment");
    act("querySelector('textarea.comment').focus()");
    browser.script("window.__keyboard(360)", json!([]));
    let above = r#"
        const root = document.querySelector('nearmiss-widget').shadowRoot;
        const visible = innerHeight - 360;
        const box = (sel) => root.querySelector(sel).getBoundingClientRect();
        return [box('.panel'), box('textarea.comment')]
          .every((b) => b.top >= 0 && b.bottom <= visible);
    "#;
    wait_for("the panel and the comment box above the keyboard", || {
        browser.script(above, json!([])) == json!(true)
    });
    // The keyboard closing brings the panel back down.
    browser.script("window.__keyboard(0)", json!([]));
    let gap = "const b = document.querySelector('nearmiss-widget').shadowRoot
        .querySelector('.panel').getBoundingClientRect(); return innerHeight - b.bottom;";
    wait_for("the panel back at the bottom", || {
        let gap = browser.script(gap, json!([])).as_f64();
        gap.is_some_and(|px| (px - 16.0).abs() < 1.0)
    });
}

/// The literal parts of a word around its `{…}`s, which the shown text must hold.
fn pieces(word: &str) -> Vec<String> {
    word.split('{')
        .map(|part| part.split_once('}').map_or(part, |(_, rest)| rest))
        .map(|piece| piece.trim().to_owned())
        .filter(|piece| !piece.is_empty())
        .collect()
}

#[test]
fn each_language_shows_its_own_words_and_the_rating_carries_its_locale() {
    // A browser for each language, below.
    let (server, host) = shop();
    for (asked, locale) in [
        ("en-US,en", "en-US"),
        ("es-ES,es", "es-ES"),
        ("fr-FR,fr", "fr-FR"),
        ("de-DE,de", "de-DE"),
        ("pt-BR,pt", "pt-BR"),
        ("it-IT,it", "it-IT"),
        ("nl-NL,nl", "nl-NL"),
        ("ar-EG,ar", "ar-EG"),
    ] {
        let language = &locale[..2];
        let words = nearmiss_server::words::product(language);
        let browser = Browser::start_in(asked);
        browser.goto(&format!(
            "{}/?site={}&trigger=button",
            host.origin, server.site
        ));
        let root = browser.shadow_root(&browser.find(None, "nearmiss-widget"));
        let launcher = browser.find(Some(&root), ".launcher");
        assert_eq!(browser.text(&launcher), words.launcher, "{locale}");
        browser.click(&launcher);
        let two = format!("[role=radio][aria-label='2 {} 5']", words.of);
        let two = browser.find(Some(&root), &two);
        let panel = browser.find(Some(&root), ".panel");
        assert_eq!(browser.attribute(&panel, "lang").as_deref(), Some(locale));
        let dir = if language == "ar" { "rtl" } else { "ltr" };
        assert_eq!(browser.attribute(&panel, "dir").as_deref(), Some(dir));
        let title = browser.text(&browser.find(Some(&root), ".title"));
        assert_eq!(title, words.question, "{locale}");
        browser.click(&two);
        let promise = browser.text(&browser.find(Some(&root), ".promise"));
        for piece in pieces(&words.promise_look) {
            assert!(
                promise.contains(&piece),
                "{locale}: {promise:?} lacks {piece:?}"
            );
        }
        assert!(
            promise.contains("15") || promise.contains("١٥"),
            "{locale}: {promise}"
        );
        browser.click(&browser.find(Some(&root), ".send"));
        browser.find(Some(&root), ".ref");
        let done = browser.text(&browser.find(Some(&root), ".title"));
        for piece in pieces(&words.done_miss) {
            assert!(done.contains(&piece), "{locale}: {done:?} lacks {piece:?}");
        }
        let stored = format!("SELECT count(*) FROM ratings WHERE locale = '{locale}'");
        wait_for("the rating with its locale", || server.count(&stored) == 1);
    }
}

#[test]
fn an_app_starts_and_destroys_the_widget_100_times_and_nothing_is_left_behind() {
    let (server, host, browser) = host_shop();
    browser.goto(&format!("{}/?site={}&app", host.origin, server.site));
    wait_for("the module", || {
        browser.script("return !!window.nm", json!([])) == json!(true)
    });
    // Each cycle starts the widget, waits until it asks, listens, and destroys it; a
    // button never reached for is destroyed too. Listeners are counted by spy.js.
    let counted = browser.script_async(
        r#"
        var site = arguments[0], done = arguments[arguments.length - 1];
        function asking() {
          return new Promise(function (resolve) {
            (function look() {
              var host = document.querySelector('nearmiss-widget');
              var radio = host && host.shadowRoot.querySelector('.panel:not([hidden]) [role=radio]');
              radio ? resolve() : setTimeout(look, 5);
            })();
          });
        }
        async function cycle() {
          nm.init({ site: site, trigger: 'open' });
          await asking();
          nm.on('rated', function () {});
          nm.destroy();
          // A destroy that reached the loader's queue is run in its next task.
          await new Promise(function (resolve) { setTimeout(resolve); });
        }
        (async function () {
          await cycle();
          var first = __liveListeners();
          for (var i = 0; i < 100; i++) await cycle();
          nm.init({ site: site });
          nm.destroy();
          done({
            first: first,
            last: __liveListeners(),
            widgets: document.querySelectorAll('nearmiss-widget').length,
            tags: document.querySelectorAll('script[src*="nearmiss.js"]').length,
          });
        })().catch(function (e) { done({ error: String(e) }); });
        "#,
        json!([server.site]),
    );
    assert_eq!(counted["error"], serde_json::Value::Null, "{counted}");
    assert_eq!(
        counted["first"], counted["last"],
        "no listener left: {counted}"
    );
    assert_eq!(counted["widgets"], 0, "{counted}");
    assert_eq!(counted["tags"], 0, "{counted}");
    // And it still works: one more start, a rating, stored.
    browser.script(
        "nm.init({ site: arguments[0], trigger: 'open' })",
        json!([server.site]),
    );
    let root = browser.shadow_root(&browser.find(None, "nearmiss-widget"));
    browser.click(&browser.find(Some(&root), "[role=radio][aria-label='2 of 5']"));
    wait_for("the rating stored", || {
        server.count("SELECT count(*) FROM ratings WHERE score = 2") == 1
    });
    let types = server.get("/nearmiss.d.ts");
    assert_eq!(types.status, 200);
    assert!(types.body.contains("export function destroy(): void;"));
}

#[test]
fn on_a_page_whose_csp_allows_only_its_nonce_the_widget_works() {
    let mut server = Server::with_widget();
    let csp = format!(
        "default-src 'none'; script-src 'nonce-n0nce' 'strict-dynamic' 'wasm-unsafe-eval'; \
         connect-src {}; style-src 'nonce-n0nce'; base-uri 'none'",
        server.base
    );
    let host = HostPage::start(&server.base, &csp);
    server.site = server.add_site("Host Shop", &[&host.origin]);
    let browser = Browser::start();
    browser.goto(&format!(
        "{}/?site={}&nonce=n0nce",
        host.origin, server.site
    ));
    let root = browser.shadow_root(&browser.find(None, "nearmiss-widget"));
    browser.click(&browser.find(Some(&root), "[role=radio][aria-label='2 of 5']"));
    wait_for("the rating stored", || {
        server.count("SELECT count(*) FROM ratings WHERE score = 2") == 1
    });
    let violations = browser.script("return window.__violations", json!([]));
    assert_eq!(violations, json!([]), "no CSP violation");
}

#[test]
fn axe_finds_nothing_in_any_state_in_english_and_arabic_light_and_dark() {
    let axe = support::axe::axe_source();
    // A browser for each language, below.
    let (server, host) = shop();
    for (languages, theme) in [
        ("en-US,en", "light"),
        ("en-US,en", "dark"),
        ("ar-EG,ar", "light"),
        ("ar-EG,ar", "dark"),
    ] {
        let of = nearmiss_server::words::product(&languages[..2]).of.clone();
        let browser = Browser::start_in(languages);
        browser.goto(&format!(
            "{}/?site={}&trigger=button&theme={theme}",
            host.origin, server.site
        ));
        let state = |name: &str| format!("{languages} {theme}: {name}");
        let root = browser.shadow_root(&browser.find(None, "nearmiss-widget"));
        let launcher = browser.find(Some(&root), ".launcher");
        support::axe::assert_accessible(&browser, &axe, &state("the button"));
        browser.click(&launcher);
        let two = browser.find(Some(&root), &format!("[role=radio][aria-label='2 {of} 5']"));
        support::axe::assert_accessible(&browser, &axe, &state("the question"));
        browser.click(&two);
        browser.find(Some(&root), ".chip");
        support::axe::assert_accessible(&browser, &axe, &state("the details"));
        browser.click(&browser.find(Some(&root), ".send"));
        browser.find(Some(&root), ".ref");
        support::axe::assert_accessible(&browser, &axe, &state("the last screen"));
    }
}

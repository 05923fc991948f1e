//! The widget in headless Chromium (`cargo xtask test`, via wasm-bindgen-test-runner):
//! the radio group's keyboard behaviour, the perfect and near-miss branches, the shadow
//! root's isolation from a hostile page, and the outbox (`www/outbox.js`, the real one):
//! stored before sending, kept offline, retried, bounded, locked. The collector is a
//! stand-in `fetch` that records what is sent; the real server is exercised end to end
//! elsewhere.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, KeyboardEvent, KeyboardEventInit, ShadowRoot};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
// The collector's stand-in. `window.__mode`: 'ok', 'offline' (the network fails),
// 'busy' (429 with Retry-After: 7) or 'refuse' (400). Each POST records whether its item
// was already in localStorage when the network was asked.
export function fake_collector(scale) {
  // What `keep_memo` named survives, as a second page view would find it.
  const kept = (window.__keep || []).map((k) => [k, localStorage.getItem(k)]);
  localStorage.clear();
  kept.forEach(([k, v]) => v !== null && localStorage.setItem(k, v));
  window.__keep = [];
  window.__posts = [];
  window.__events = [];
  window.__mode = 'ok';
  window.__in_flight = 0;
  window.__most_in_flight = 0;
  window.fetch = async (url, init) => {
    const body = JSON.parse(init.body);
    const stored = Object.keys(localStorage).some(
      (k) => k.startsWith('nearmiss:o:') && localStorage.getItem(k).includes(body.id || body.site));
    window.__posts.push({ url: String(url), body, stored });
    if (window.__mode === 'offline') throw new TypeError('Failed to fetch');
    window.__in_flight++;
    window.__most_in_flight = Math.max(window.__most_in_flight, window.__in_flight);
    await new Promise((resolve) => setTimeout(resolve, 20));
    window.__in_flight--;
    if (window.__mode === 'busy') return new Response('{}', { status: 429, headers: { 'retry-after': '7' } });
    if (window.__mode === 'refuse') return new Response('{}', { status: 400 });
    const flagged = body.score !== undefined && body.score !== scale;
    // A rating is answered with its own edit secret, or one made "by the server".
    const rating = body.id !== undefined && body.score !== undefined;
    const reply = { id: body.id, flagged,
      case: flagged ? { ref: 'NM-TEST', promise: { who: 'Sam', by: '2026-11-24T13:15:00Z' } } : null,
      edit: rating ? body.edit || 'made-by-the-server-000000' : undefined };
    return new Response(JSON.stringify(reply), { status: 201 });
  };
}
export function set_mode(mode) { window.__mode = mode; }
export function keep_memo(key) { window.__keep = [key]; }
export function memo_of(key) { return localStorage.getItem(key); }
export function stored_keys() { return Object.keys(localStorage).filter((k) => k.startsWith('nearmiss:o:')).sort(); }
export function stored(key) { return JSON.parse(localStorage.getItem(key)); }
export function store_raw(key, text) { localStorage.setItem(key, text); }
export function dropped() { return localStorage.getItem('nearmiss:dropped'); }
export function most_in_flight() { return window.__most_in_flight; }
export function blocked_window() {
  return { get localStorage() { throw new Error('blocked'); }, fetch: (u, i) => window.fetch(u, i),
    navigator: window.navigator, document: window.document, addEventListener: () => {} };
}
export function spy_warnings() {
  window.__warnings = [];
  const original = console.warn;
  console.warn = function () { window.__warnings.push(Array.prototype.join.call(arguments, ' ')); original.apply(console, arguments); };
}
export function warnings() { return window.__warnings.join('\n'); }
export function recorder(name) { return (event) => window.__events.push([name, event]); }
export function posts() { return window.__posts; }
export function event_names() { return window.__events.map((e) => e[0]).join(','); }
export function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }
"#)]
extern "C" {
    fn fake_collector(scale: u8);
    fn set_mode(mode: &str);
    fn keep_memo(key: &str);
    fn memo_of(key: &str) -> Option<String>;
    fn stored_keys() -> js_sys::Array;
    fn stored(key: &str) -> JsValue;
    fn store_raw(key: &str, text: &str);
    fn dropped() -> Option<String>;
    fn most_in_flight() -> u32;
    fn blocked_window() -> JsValue;
    fn spy_warnings();
    fn warnings() -> String;
    fn recorder(name: &str) -> JsValue;
    fn posts() -> js_sys::Array;
    fn event_names() -> String;
    fn sleep(ms: u32) -> js_sys::Promise;
}

#[wasm_bindgen(module = "/www/outbox.js")]
extern "C" {
    /// The loader's outbox, as nearmiss.js inlines it.
    fn outbox(window: &JsValue) -> JsValue;
}

#[wasm_bindgen(module = "/www/facade.js")]
extern "C" {
    /// The loader's facade: the element, its shadow root, and the button for "button".
    fn facade(document: &JsValue, label: &JsValue) -> JsValue;
    /// Puts the element on the page, as the loader does when the widget starts.
    fn place(document: &JsValue, root: &JsValue, mount: &JsValue);
}

/// A site's settings as the server sends them: the core's type, serialised, so the
/// widget is tested on the schema the server uses.
fn site_config(scale: u8) -> JsValue {
    site_config_in(scale, "en-GB", include_str!("../www/words/en.json"))
}

/// The settings for a customer whose language is `lang`, with the words of that file.
fn site_config_in(scale: u8, lang: &str, words: &str) -> JsValue {
    let settings = nearmiss_core::WidgetSettings {
        scale,
        reasons: vec!["Cold food".into(), "Late delivery".into()],
        apology: "Sorry, that is on us.".into(),
        owner: "Sam".into(),
        ack_within_minutes: 15,
        review_url: None,
        origin_allowed: true,
        accent: None,
        lang: lang.into(),
        time_zone: "Europe/London".into(),
        words: serde_json::from_str(words).unwrap(),
    };
    js_sys::JSON::parse(&serde_json::to_string(&settings).unwrap()).unwrap()
}

/// A body the widget sent, read as the core's `T` (as the server does): it must hold
/// exactly the fields `T` writes, so a misspelt or missing field fails.
fn as_core<T: serde::de::DeserializeOwned + serde::Serialize>(body: &JsValue) -> T {
    let text = String::from(js_sys::JSON::stringify(body).unwrap());
    let parsed: T = serde_json::from_str(&text).expect("a body of the core's schema");
    let sent: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        serde_json::to_value(&parsed).unwrap(),
        sent,
        "exactly the schema's fields"
    );
    parsed
}

fn call(object: &JsValue, method: &str, args: &[JsValue]) -> JsValue {
    let function: js_sys::Function = js_sys::Reflect::get(object, &method.into())
        .unwrap()
        .dyn_into()
        .unwrap();
    let args: js_sys::Array = args.iter().collect();
    function.apply(object, &args).unwrap()
}

async fn settled(promise: JsValue) -> Result<JsValue, JsValue> {
    wasm_bindgen_futures::JsFuture::from(js_sys::Promise::from(promise)).await
}

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

/// Boots a widget against the stand-in collector and returns its shadow root.
async fn boot(trigger: &str, scale: u8) -> ShadowRoot {
    boot_with(trigger, scale, &[]).await
}

async fn boot_with(trigger: &str, scale: u8, extra: &[(&str, &str)]) -> ShadowRoot {
    boot_config(trigger, scale, extra, site_config(scale)).await
}

async fn boot_config(
    trigger: &str,
    scale: u8,
    extra: &[(&str, &str)],
    config: JsValue,
) -> ShadowRoot {
    fake_collector(scale);
    let settings = js_sys::Object::new();
    let base = [
        ("site", "s_test"),
        ("trigger", trigger),
        ("endpoint", "https://collector.test"),
    ];
    for (key, value) in base.iter().chain(extra) {
        js_sys::Reflect::set(&settings, &(*key).into(), &(*value).into()).unwrap();
    }
    let window: JsValue = web_sys::window().unwrap().into();
    js_sys::Reflect::set(&settings, &"outbox".into(), &outbox(&window)).unwrap();
    js_sys::Reflect::set(&settings, &"config".into(), &config).unwrap();
    let label = match trigger {
        "button" => "Rate your visit".into(),
        _ => JsValue::FALSE,
    };
    let root = facade(&document().into(), &label);
    if trigger != "button" {
        let mount = extra.iter().find(|(key, _)| *key == "mount");
        let mount = mount.map_or(JsValue::UNDEFINED, |(_, selector)| (*selector).into());
        place(&document().into(), &root, &mount);
    }
    js_sys::Reflect::set(&settings, &"root".into(), &root).unwrap();
    nearmiss_widget::boot(settings.into());
    for event in ["rated", "flagged", "sent"] {
        nearmiss_widget::command("on", event.into(), recorder(event));
    }
    root.dyn_into().expect("an open shadow root")
}

async fn find(root: &ShadowRoot, selector: &str) -> Element {
    for _ in 0..200 {
        if let Some(el) = root.query_selector(selector).unwrap() {
            return el;
        }
        wasm_bindgen_futures::JsFuture::from(sleep(10))
            .await
            .unwrap();
    }
    panic!("{selector} did not appear");
}

/// Clicks an element as a customer's tap would.
fn click(el: &Element) {
    el.dyn_ref::<web_sys::HtmlElement>().unwrap().click();
}

/// Waits for the element matching `selector`, then clicks it.
async fn tap(root: &ShadowRoot, selector: &str) {
    click(&find(root, selector).await);
}

/// Waits until `condition` holds (checking every 10 ms, up to 5 s): what happens after a
/// response, not a fixed delay, so a busy machine does not make the test flaky.
async fn eventually(what: &str, condition: impl Fn() -> bool) {
    for _ in 0..500 {
        if condition() {
            return;
        }
        wasm_bindgen_futures::JsFuture::from(sleep(10))
            .await
            .unwrap();
    }
    panic!("timed out waiting for {what}");
}

async fn settle() {
    wasm_bindgen_futures::JsFuture::from(sleep(30))
        .await
        .unwrap();
}

fn press(target: &Element, key: &str) {
    let init = KeyboardEventInit::new();
    init.set_key(key);
    init.set_bubbles(true);
    init.set_cancelable(true);
    let event = KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    target.dispatch_event(&event).unwrap();
}

fn checked(radios: &[Element]) -> Vec<(String, String)> {
    radios
        .iter()
        .map(|r| {
            (
                r.get_attribute("aria-checked").unwrap(),
                r.get_attribute("tabindex").unwrap(),
            )
        })
        .collect()
}

fn radios(root: &ShadowRoot) -> Vec<Element> {
    let list = root.query_selector_all("[role=radio]").unwrap();
    (0..list.length())
        .map(|i| list.item(i).unwrap().dyn_into::<Element>().unwrap())
        .collect()
}

fn active_label(root: &ShadowRoot) -> Option<String> {
    root.active_element()
        .and_then(|e| e.get_attribute("aria-label"))
}

/// A computed style property of `el`.
fn computed(el: &Element, property: &str) -> String {
    web_sys::window()
        .unwrap()
        .get_computed_style(el)
        .unwrap()
        .unwrap()
        .get_property_value(property)
        .unwrap()
}

/// The WCAG contrast ratio of two computed colours (`rgb(r, g, b)`, or the
/// `color(srgb-linear r g b)` that text on the accent computes to).
fn contrast(a: &str, b: &str) -> f64 {
    let luminance = |colour: &str| {
        let linear = colour.starts_with("color(srgb-linear");
        let numbers: Vec<f64> = colour
            .trim_start_matches("color(srgb-linear")
            .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == '-'))
            .filter_map(|n| n.parse::<f64>().ok())
            .take(3)
            .collect();
        let channels: Vec<f64> = numbers
            .iter()
            .map(|&n| match linear {
                true => n.clamp(0.0, 1.0),
                false => {
                    let c = n / 255.0;
                    if c <= 0.03928 {
                        c / 12.92
                    } else {
                        ((c + 0.055) / 1.055).powf(2.4)
                    }
                }
            })
            .collect();
        0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]
    };
    let (x, y) = (luminance(a), luminance(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

#[wasm_bindgen_test]
async fn unlit_stars_and_field_edges_stand_out_three_to_one() {
    let root = boot("open", 5).await;
    let panel = find(&root, ".panel").await;
    let background = computed(&panel, "background-color");
    let star = find(&root, "[aria-label='1 of 5']").await;
    let ratio = contrast(&computed(&star, "color"), &background);
    assert!(ratio >= 3.0, "an unlit star is {ratio:.2}:1");
    tap(&root, "[aria-label='2 of 5']").await;
    for field in [".comment", ".chip"] {
        let el = find(&root, field).await;
        let ratio = contrast(&computed(&el, "border-top-color"), &background);
        assert!(ratio >= 3.0, "{field}'s edge is {ratio:.2}:1");
    }
    nearmiss_widget::command("destroy", JsValue::UNDEFINED, JsValue::UNDEFINED);
}

#[wasm_bindgen_test]
async fn opening_moves_focus_into_the_panel_and_each_screen_takes_it() {
    let root = boot("manual", 5).await;
    nearmiss_widget::command("open", JsValue::UNDEFINED, JsValue::UNDEFINED);
    // After the screen's first frame, not in the same task (that forced a layout).
    eventually("focus on the first radio", || {
        active_label(&root).as_deref() == Some("1 of 5")
    })
    .await;
    tap(&root, "[aria-label='2 of 5']").await;
    find(&root, "textarea.comment").await;
    eventually("focus on the details' title", || {
        root.active_element()
            .is_some_and(|el| el.id() == "nm-title")
    })
    .await;
    nearmiss_widget::command("destroy", JsValue::UNDEFINED, JsValue::UNDEFINED);
}

#[wasm_bindgen_test]
async fn the_score_control_is_a_radio_group_with_a_roving_tabindex() {
    let root = boot("open", 5).await;
    let group = find(&root, "[role=radiogroup]").await;
    let title_id = group.get_attribute("aria-labelledby").unwrap();
    assert_eq!(
        root.get_element_by_id(&title_id)
            .unwrap()
            .text_content()
            .unwrap(),
        "How was your visit?"
    );
    let radios = radios(&root);
    let labels: Vec<_> = radios
        .iter()
        .map(|r| r.get_attribute("aria-label").unwrap())
        .collect();
    assert_eq!(labels, ["1 of 5", "2 of 5", "3 of 5", "4 of 5", "5 of 5"]);
    // One tab stop before anything is checked: the first radio.
    let tab_stops: Vec<_> = checked(&radios).into_iter().map(|(_, t)| t).collect();
    assert_eq!(tab_stops, ["0", "-1", "-1", "-1", "-1"]);

    // From the focused radio, not from the checked one (none yet): "2 of 5".
    press(&radios[0], "ArrowRight");
    assert_eq!(checked(&radios)[1], ("true".into(), "0".into()));
    assert_eq!(active_label(&root).as_deref(), Some("2 of 5"));
    press(&radios[1], "ArrowDown");
    assert_eq!(
        checked(&radios),
        [
            ("false", "-1"),
            ("false", "-1"),
            ("true", "0"),
            ("false", "-1"),
            ("false", "-1")
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    assert_eq!(
        active_label(&root).as_deref(),
        Some("3 of 5"),
        "focus follows the check"
    );
    press(&radios[2], "End");
    assert_eq!(active_label(&root).as_deref(), Some("5 of 5"));
    press(&radios[4], "ArrowRight");
    assert_eq!(
        active_label(&root).as_deref(),
        Some("1 of 5"),
        "arrows wrap around"
    );
    press(&radios[0], "ArrowLeft");
    press(&radios[4], "Home");
    press(&radios[0], "ArrowUp");
    assert_eq!(active_label(&root).as_deref(), Some("5 of 5"));
    settle().await;
    assert_eq!(posts().length(), 0, "moving the check sends nothing");

    // Space chooses the checked score: sent at once.
    press(&radios[4], " ");
    find(&root, "textarea.comment").await;
    eventually("the rating sent", || posts().length() >= 1).await;
    let sent = posts();
    assert_eq!(sent.length(), 1);
    let body = js_sys::Reflect::get(&sent.get(0), &"body".into()).unwrap();
    let score = js_sys::Reflect::get(&body, &"score".into()).unwrap();
    assert_eq!(score.as_f64(), Some(5.0));
}

/// A stylesheet on the page, as a business would add one; removed by the caller.
fn page_style(css: &str) -> Element {
    let style = document().create_element("style").unwrap();
    style.set_text_content(Some(css));
    document().body().unwrap().append_child(&style).unwrap();
    style
}

/// `#rrggbb` as a computed colour reads.
fn rgb(hex: &str) -> String {
    let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap();
    format!("rgb({}, {}, {})", channel(1), channel(3), channel(5))
}

#[wasm_bindgen_test]
async fn any_accent_the_page_sets_reaches_the_buttons_with_readable_text() {
    // Light and dark, and the hardest: where black and white are nearly as good.
    for accent in ["#ffd54f", "#0a7d5a", "#777777", "#00b0ff", "#6750a4"] {
        let style = page_style(&format!(
            "nearmiss-widget {{ --nearmiss-accent: {accent}; }}"
        ));
        let root = boot("button", 5).await;
        let launcher = find(&root, ".launcher").await;
        let background = computed(&launcher, "background-color");
        assert_eq!(background, rgb(accent));
        let ratio = contrast(&computed(&launcher, "color"), &background);
        assert!(
            ratio >= 4.5,
            "the button's text on {accent} is {ratio:.2}:1"
        );
        // What the loader's button does.
        nearmiss_widget::command("open", JsValue::UNDEFINED, JsValue::UNDEFINED);
        tap(&root, "[aria-label='2 of 5']").await;
        let send = find(&root, ".send").await;
        let background = computed(&send, "background-color");
        assert_eq!(background, rgb(accent));
        let ratio = contrast(&computed(&send, "color"), &background);
        assert!(ratio >= 4.5, "Send on {accent} is {ratio:.2}:1");
        nearmiss_widget::command("destroy", JsValue::UNDEFINED, JsValue::UNDEFINED);
        style.remove();
    }
}

#[wasm_bindgen_test]
async fn the_sites_accent_is_used_where_the_page_sets_none() {
    let config = site_config(5);
    js_sys::Reflect::set(&config, &"accent".into(), &"#0a7d5a".into()).unwrap();
    let root = boot_config("button", 5, &[], config.clone()).await;
    let launcher = find(&root, ".launcher").await;
    assert_eq!(computed(&launcher, "background-color"), rgb("#0a7d5a"));
    nearmiss_widget::command("destroy", JsValue::UNDEFINED, JsValue::UNDEFINED);

    let style = page_style("nearmiss-widget { --nearmiss-accent: #6750a4; }");
    let root = boot_config("button", 5, &[], config).await;
    let launcher = find(&root, ".launcher").await;
    assert_eq!(
        computed(&launcher, "background-color"),
        rgb("#6750a4"),
        "the page's own wins"
    );
    nearmiss_widget::command("destroy", JsValue::UNDEFINED, JsValue::UNDEFINED);
    style.remove();
}

#[wasm_bindgen_test]
async fn dark_on_a_dark_page_every_colour_keeps_its_contrast() {
    let style = page_style("body { background: #121212; color: #eee; }");
    let root = boot_with("open", 5, &[("theme", "dark")]).await;
    let panel = find(&root, ".panel").await;
    let background = computed(&panel, "background-color");
    let page = computed(&document().body().unwrap(), "background-color");
    assert!(
        contrast(&background, "rgb(0, 0, 0)") < 1.5,
        "dark: {background}"
    );
    let title = find(&root, ".title").await;
    let text = contrast(&computed(&title, "color"), &background);
    assert!(text >= 4.5, "the question is {text:.2}:1");
    let star = find(&root, "[aria-label='1 of 5']").await;
    let unlit = contrast(&computed(&star, "color"), &background);
    assert!(unlit >= 3.0, "an unlit star is {unlit:.2}:1");
    tap(&root, "[aria-label='2 of 5']").await;
    for (selector, property, least) in [
        (".promise", "color", 4.5),
        (".prompt", "color", 4.5),
        (".comment", "border-top-color", 3.0),
        (".chip", "border-top-color", 3.0),
        (".chip", "color", 4.5),
    ] {
        let el = find(&root, selector).await;
        let ratio = contrast(&computed(&el, property), &background);
        assert!(ratio >= least, "{selector} {property}: {ratio:.2}:1");
    }
    assert_ne!(background, page, "the panel stands apart from the page");
    nearmiss_widget::command("destroy", JsValue::UNDEFINED, JsValue::UNDEFINED);
    style.remove();
}

#[wasm_bindgen_test]
async fn inline_it_renders_inside_the_pages_element_sized_by_it() {
    let order = document().create_element("section").unwrap();
    order.set_id("order-confirmation");
    order.set_attribute("style", "width: 520px").unwrap();
    document().body().unwrap().append_child(&order).unwrap();
    let root = boot_with("", 5, &[("mount", "#order-confirmation")]).await;
    let host = root.host();
    assert_eq!(host.parent_element().unwrap().id(), "order-confirmation");
    let panel = find(&root, ".panel").await;
    assert!(!panel.has_attribute("hidden"), "asked at once");
    assert!(root.query_selector(".launcher").unwrap().is_none());
    assert!(root.query_selector(".close").unwrap().is_none());
    let frame = root.query_selector(".frame").unwrap().unwrap();
    assert_eq!(computed(&frame, "position"), "static");
    assert_eq!(panel.get_bounding_client_rect().width(), 520.0);
    assert_eq!(panel.get_attribute("role").as_deref(), Some("region"));
    // Part of the page: neither Escape nor nearmiss('close') takes it away.
    press(&find(&root, "[aria-label='1 of 5']").await, "Escape");
    nearmiss_widget::command("close", JsValue::UNDEFINED, JsValue::UNDEFINED);
    assert!(!panel.has_attribute("hidden"));
    nearmiss_widget::command("open", JsValue::UNDEFINED, JsValue::UNDEFINED);
    assert!(!panel.has_attribute("hidden"));
    nearmiss_widget::command("destroy", JsValue::UNDEFINED, JsValue::UNDEFINED);
    assert!(
        order.first_element_child().is_none(),
        "destroy leaves the page's element empty"
    );
    order.remove();
}

#[wasm_bindgen_test]
async fn a_mis_tap_is_taken_back_with_change_my_score() {
    let root = boot("open", 5).await;
    tap(&root, "[aria-label='2 of 5']").await;
    tap(&root, ".send").await;
    find(&root, ".ref").await;
    let change = find(&root, ".change").await;
    assert_eq!(change.text_content().unwrap(), "Change my score");
    click(&change);
    // The question again, the score given checked.
    find(&root, "[role=radio]").await;
    let checked: Vec<_> = checked(&radios(&root))
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    assert_eq!(checked[1], "true");
    tap(&root, "[aria-label='5 of 5']").await;
    // The perfect path now, and the change sent after its rating.
    let title = find(&root, ".title").await;
    assert_eq!(title.text_content().unwrap(), "Thank you! We're so glad.");
    eventually("the change sent", || {
        posts()
            .iter()
            .any(|p| field(&p, "url").as_string().unwrap().ends_with("/score"))
    })
    .await;
    let sent = posts();
    let change_post = sent
        .iter()
        .find(|p| field(p, "url").as_string().unwrap().ends_with("/score"))
        .unwrap();
    let rating_id = field(&body_of(&sent.get(0)), "id").as_string().unwrap();
    assert_eq!(
        field(&change_post, "url").as_string().unwrap(),
        format!("https://collector.test/v1/ratings/{rating_id}/score")
    );
    let change: nearmiss_core::ScoreChange = as_core(&body_of(&change_post));
    let rating: nearmiss_core::Rating = as_core(&body_of(&sent.get(0)));
    assert!(rating.edit.as_ref().is_some_and(|e| e.len() >= 22));
    assert_eq!(
        change,
        nearmiss_core::ScoreChange {
            site: "s_test".into(),
            edit: rating.edit,
            score: 5
        }
    );
    assert_eq!(event_names(), "rated,flagged,sent,rated");
    nearmiss_widget::command("destroy", JsValue::UNDEFINED, JsValue::UNDEFINED);
}

#[wasm_bindgen_test]
async fn a_rated_interaction_shows_its_reference_and_a_dismissed_one_stays_closed() {
    let memo = "nearmiss:i:s_test:order-77";
    let root = boot_with("open", 5, &[("interaction", "order-77")]).await;
    tap(&root, "[aria-label='2 of 5']").await;
    eventually("the answer", || {
        memo_of(memo).as_deref() == Some("rNM-TEST")
    })
    .await;
    nearmiss_widget::command("destroy", JsValue::UNDEFINED, JsValue::UNDEFINED);
    // The next page view of the same order: its reference, no question.
    keep_memo(memo);
    let root = boot_with("open", 5, &[("interaction", "order-77")]).await;
    let title = find(&root, ".title").await;
    assert_eq!(
        title.text_content().unwrap(),
        "Thank you for telling us. Your reference is NM-TEST"
    );
    assert!(root.query_selector("[role=radio]").unwrap().is_none());
    nearmiss_widget::command("destroy", JsValue::UNDEFINED, JsValue::UNDEFINED);

    // Closed without a score: the page that asks at once does not ask again.
    let memo = "nearmiss:i:s_test:order-78";
    let root = boot_with("open", 5, &[("interaction", "order-78")]).await;
    tap(&root, ".close").await;
    assert_eq!(memo_of(memo).as_deref(), Some("d"));
    nearmiss_widget::command("destroy", JsValue::UNDEFINED, JsValue::UNDEFINED);
    keep_memo(memo);
    let root = boot_with("open", 5, &[("interaction", "order-78")]).await;
    settle().await;
    let panel = root.query_selector(".panel").unwrap().unwrap();
    assert!(panel.has_attribute("hidden"), "not asked again");
    // The customer may still open it themselves.
    nearmiss_widget::command("open", JsValue::UNDEFINED, JsValue::UNDEFINED);
    find(&root, "[aria-label='2 of 5']").await;
    nearmiss_widget::command("destroy", JsValue::UNDEFINED, JsValue::UNDEFINED);

    // The page closing a panel nobody saw dismisses nothing.
    let root = boot_with("manual", 5, &[("interaction", "order-79")]).await;
    nearmiss_widget::command("close", JsValue::UNDEFINED, JsValue::UNDEFINED);
    assert_eq!(memo_of("nearmiss:i:s_test:order-79"), None);
    // A refused rating rated nothing: nothing is remembered.
    set_mode("refuse");
    nearmiss_widget::command("open", JsValue::UNDEFINED, JsValue::UNDEFINED);
    tap(&root, "[aria-label='2 of 5']").await;
    find(&root, ".error:not(:empty)").await;
    assert_eq!(memo_of("nearmiss:i:s_test:order-79"), None);
    nearmiss_widget::command("destroy", JsValue::UNDEFINED, JsValue::UNDEFINED);
}

#[wasm_bindgen_test]
async fn in_arabic_the_panel_is_right_to_left_and_the_arrows_follow_the_eye() {
    let config = site_config_in(5, "ar-EG", include_str!("../www/words/ar.json"));
    let root = boot_config("open", 5, &[], config).await;
    let panel = find(&root, ".panel").await;
    assert_eq!(panel.get_attribute("dir").as_deref(), Some("rtl"));
    assert_eq!(panel.get_attribute("lang").as_deref(), Some("ar-EG"));
    assert_eq!(
        find(&root, ".title").await.text_content().unwrap(),
        "كيف كانت زيارتك؟"
    );
    let radios = radios(&root);
    // Read 1 to 5 in order, laid out from the right: "1 من 5" is the rightmost.
    assert_eq!(
        radios[0].get_attribute("aria-label").as_deref(),
        Some("1 من 5")
    );
    let x = |r: &Element| r.get_bounding_client_rect().left();
    assert!(x(&radios[0]) > x(&radios[1]) && x(&radios[3]) > x(&radios[4]));
    // The close button sits at the inline end: the left.
    let close = root.query_selector(".close").unwrap().unwrap();
    assert!(x(&close) < x(&radios[4]));
    press(&radios[0], "ArrowLeft");
    assert_eq!(
        active_label(&root).as_deref(),
        Some("2 من 5"),
        "left is onward"
    );
    press(&radios[1], "ArrowRight");
    assert_eq!(
        active_label(&root).as_deref(),
        Some("1 من 5"),
        "right is back"
    );
    press(&radios[0], "ArrowDown");
    assert_eq!(
        active_label(&root).as_deref(),
        Some("2 من 5"),
        "down is onward"
    );
    settle().await;
    assert_eq!(posts().length(), 0);
    // The promise's minutes are said by the browser, in Arabic.
    press(&radios[1], "Enter");
    let promise = find(&root, ".promise").await.text_content().unwrap();
    assert!(
        promise.contains("Sam") && promise.contains("دقيقة"),
        "{promise}"
    );
    nearmiss_widget::command("destroy", JsValue::UNDEFINED, JsValue::UNDEFINED);
}

#[wasm_bindgen_test]
async fn a_german_customer_is_promised_minutes_in_german() {
    let config = site_config_in(5, "de-DE", include_str!("../www/words/de.json"));
    let root = boot_config("open", 5, &[], config).await;
    let two = find(&root, "[aria-label='2 von 5']").await;
    click(&two);
    let promise = find(&root, ".promise").await.text_content().unwrap();
    assert!(promise.contains("15 Minuten"), "{promise}");
    assert!(promise.starts_with("\u{2068}Sam\u{2069} "), "{promise}");
    nearmiss_widget::command("destroy", JsValue::UNDEFINED, JsValue::UNDEFINED);
}

#[wasm_bindgen_test]
async fn a_near_miss_apologises_asks_why_and_promises_who_and_when() {
    let root = boot("open", 5).await;
    find(&root, "[role=radio]").await;
    let two = root
        .query_selector("[aria-label='2 of 5']")
        .unwrap()
        .unwrap();
    click(&two);

    let title = find(&root, ".title").await;
    assert_eq!(title.text_content().unwrap(), "Sorry, that is on us.");
    let chips = root.query_selector_all(".chip").unwrap();
    assert_eq!(chips.length(), 2);
    let prompt = root.query_selector(".prompt").unwrap().unwrap();
    assert_eq!(
        prompt.text_content().unwrap(),
        "What should have been better?"
    );
    let promise = root.query_selector(".promise").unwrap().unwrap();
    assert_eq!(
        promise.text_content().unwrap(),
        "\u{2068}Sam\u{2069} will look into this within 15 minutes.",
        "the business's name isolated from the sentence's direction"
    );
    assert!(root.query_selector(".consent input").unwrap().is_some());
    eventually("sent", || event_names() == "rated,flagged,sent").await;
    let body = js_sys::Reflect::get(&posts().get(0), &"body".into()).unwrap();
    assert_eq!(
        js_sys::Reflect::get(&body, &"score".into())
            .unwrap()
            .as_f64(),
        Some(2.0)
    );
    assert_eq!(
        js_sys::Reflect::get(&body, &"site".into())
            .unwrap()
            .as_string()
            .as_deref(),
        Some("s_test")
    );
}

#[wasm_bindgen_test]
async fn a_perfect_score_is_thanked_and_asked_what_made_it_great() {
    let root = boot("open", 10).await;
    find(&root, "[role=radio]").await;
    assert_eq!(radios(&root).len(), 11, "0 to 10");
    let ten = root
        .query_selector("[aria-label='10 of 10, Excellent']")
        .unwrap()
        .unwrap();
    assert!(root
        .query_selector("[aria-label='0 of 10, Very poor']")
        .unwrap()
        .is_some());
    let ends = root.query_selector(".ends").unwrap().unwrap();
    assert_eq!(ends.text_content().unwrap(), "Very poorExcellent");
    assert_eq!(ends.get_attribute("aria-hidden").as_deref(), Some("true"));
    let tops: Vec<i32> = radios(&root)
        .iter()
        .map(|r| r.get_bounding_client_rect().top() as i32)
        .collect();
    assert!(tops.iter().all(|top| *top == tops[0]), "one row: {tops:?}");
    click(&ten);
    let title = find(&root, ".title").await;
    assert_eq!(title.text_content().unwrap(), "Thank you! We're so glad.");
    let prompt = root.query_selector(".prompt").unwrap().unwrap();
    assert_eq!(prompt.text_content().unwrap(), "What made it great?");
    assert!(root.query_selector(".chip").unwrap().is_none());
    assert!(root.query_selector(".consent").unwrap().is_none());
    eventually("sent", || event_names().ends_with("sent")).await;
    assert_eq!(
        event_names(),
        "rated,sent",
        "a perfect score is not flagged"
    );
}

#[wasm_bindgen_test]
async fn a_hostile_page_stylesheet_cannot_reach_inside_and_ours_does_not_leak_out() {
    let doc = document();
    let style = doc.create_element("style").unwrap();
    style.set_text_content(Some(
        "* { all: unset !important; color: rgb(255, 0, 0) !important; font-size: 40px !important; z-index: 2147483647 !important; }
         button, div, h2 { display: none !important; }
         nearmiss-widget { display: none !important; opacity: 0 !important; }",
    ));
    doc.document_element()
        .unwrap()
        .append_child(&style)
        .unwrap();
    let page_panel = doc.create_element("div").unwrap();
    page_panel.set_class_name("panel launcher");
    doc.body().unwrap().append_child(&page_panel).unwrap();

    let root = boot("button", 5).await;
    let launcher = find(&root, ".launcher").await;
    let host = doc.query_selector("nearmiss-widget").unwrap().unwrap();
    assert_eq!(computed(&host, "display"), "block");
    assert_eq!(computed(&host, "opacity"), "1");
    let on_accent = contrast(
        &computed(&launcher, "color"),
        &computed(&launcher, "background-color"),
    );
    assert!(
        on_accent >= 4.5,
        "the page's red did not reach: {on_accent:.2}:1"
    );
    assert_eq!(
        computed(&launcher, "display"),
        "block",
        "a flex item, not hidden"
    );
    assert_ne!(computed(&launcher, "font-size"), "40px");
    assert!(
        launcher
            .dyn_ref::<web_sys::HtmlElement>()
            .unwrap()
            .offset_height()
            > 0,
        "visible"
    );
    assert_eq!(launcher.text_content().unwrap(), "Rate your visit");
    // The widget's own classes do not style the page's elements.
    assert_eq!(computed(&page_panel, "position"), "static");
    assert_eq!(computed(&page_panel, "border-radius"), "0px");
    nearmiss_widget::command("destroy", JsValue::UNDEFINED, JsValue::UNDEFINED);
    style.remove();
    page_panel.remove();
}

#[wasm_bindgen_test]
async fn manual_waits_for_the_js_api_and_takes_its_interaction() {
    let root = boot("manual", 5).await;
    settle().await;
    let panel = root.query_selector(".panel").unwrap().unwrap();
    assert!(
        panel.has_attribute("hidden"),
        "manual shows nothing by itself"
    );
    assert!(root.query_selector(".launcher").unwrap().is_none());

    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"interaction".into(), &"ticket-77".into()).unwrap();
    nearmiss_widget::command("open", options.into(), JsValue::UNDEFINED);
    assert!(!panel.has_attribute("hidden"));
    tap(&root, "[aria-label='3 of 5']").await;
    find(&root, "textarea.comment").await;
    eventually("the rating sent", || posts().length() >= 1).await;
    let body = js_sys::Reflect::get(&posts().get(0), &"body".into()).unwrap();
    let interaction = js_sys::Reflect::get(&body, &"interaction".into()).unwrap();
    assert_eq!(interaction.as_string().as_deref(), Some("ticket-77"));

    nearmiss_widget::command("close", JsValue::UNDEFINED, JsValue::UNDEFINED);
    assert!(panel.has_attribute("hidden"));
    nearmiss_widget::command("destroy", JsValue::UNDEFINED, JsValue::UNDEFINED);
    assert!(document()
        .query_selector("nearmiss-widget")
        .unwrap()
        .is_none());
}

#[wasm_bindgen_test]
async fn the_re_rating_page_links_the_score_to_its_case() {
    let root = boot_with("open", 5, &[("rerate", "tok3n")]).await;
    tap(&root, "[aria-label='5 of 5']").await;
    find(&root, "textarea.comment").await;
    eventually("the rating sent", || posts().length() >= 1).await;
    let body = js_sys::Reflect::get(&posts().get(0), &"body".into()).unwrap();
    let rerate = js_sys::Reflect::get(&body, &"rerate".into()).unwrap();
    assert_eq!(rerate.as_string().as_deref(), Some("tok3n"));
    nearmiss_widget::command("destroy", JsValue::UNDEFINED, JsValue::UNDEFINED);
}

#[wasm_bindgen_test]
async fn the_widget_retries_on_the_outboxs_schedule_and_honours_retry_after() {
    let root = boot("open", 5).await;
    set_mode("busy");
    tap(&root, "[aria-label='2 of 5']").await;
    eventually("the first try", || posts().length() == 1).await;
    // Retry-After: 7. A schedule of its own (it used to try again after 2 s) would have
    // sent it again by now.
    wasm_bindgen_futures::JsFuture::from(sleep(3000))
        .await
        .unwrap();
    assert_eq!(posts().length(), 1, "not before Retry-After");
    nearmiss_widget::command("destroy", JsValue::UNDEFINED, JsValue::UNDEFINED);
}

#[wasm_bindgen_test]
async fn the_contact_fields_error_names_what_was_typed() {
    let root = boot("open", 5).await;
    tap(&root, "[aria-label='2 of 5']").await;
    tap(&root, ".consent input").await;
    let contact = find(&root, ".contact input").await;
    let send = root.query_selector(".send").unwrap().unwrap();
    let error_for = |typed: &str| {
        js_sys::Reflect::set(&contact, &"value".into(), &typed.into()).unwrap();
        click(&send);
        root.query_selector(".error")
            .unwrap()
            .and_then(|e| e.text_content())
            .unwrap_or_default()
    };
    assert_eq!(
        error_for("not an email"),
        "Please enter a valid email address."
    );
    assert_eq!(error_for("12"), "Please enter a valid phone number.");
    nearmiss_widget::command("destroy", JsValue::UNDEFINED, JsValue::UNDEFINED);
}

fn body_of(post: &JsValue) -> JsValue {
    js_sys::Reflect::get(post, &"body".into()).unwrap()
}

fn field(object: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(object, &name.into()).unwrap()
}

#[wasm_bindgen_test]
async fn a_score_is_stored_before_it_is_sent_and_removed_after_the_2xx() {
    let root = boot("open", 5).await;
    tap(&root, "[aria-label='2 of 5']").await;
    find(&root, "textarea.comment").await;
    eventually("sent", || event_names() == "rated,flagged,sent").await;
    let sent = posts();
    assert_eq!(sent.length(), 1);
    assert_eq!(
        field(&sent.get(0), "stored").as_bool(),
        Some(true),
        "in storage before the network was asked"
    );
    assert_eq!(stored_keys().length(), 0, "removed after the server's 2xx");
}

#[wasm_bindgen_test]
async fn offline_the_customer_is_told_and_the_next_page_sends_it() {
    let root = boot("open", 5).await;
    set_mode("offline");
    tap(&root, "[aria-label='2 of 5']").await;
    let comment = find(&root, "textarea.comment").await;
    js_sys::Reflect::set(&comment, &"value".into(), &"Cold fries".into()).unwrap();
    let send = root.query_selector(".send").unwrap().unwrap();
    click(&send);
    let note = find(&root, ".note").await;
    assert!(
        note.text_content().unwrap().contains("offline"),
        "{:?}",
        note.text_content()
    );
    assert_eq!(event_names(), "rated,flagged", "not 'sent' before a 2xx");
    let keys = stored_keys();
    assert_eq!(keys.length(), 2, "the rating and its details wait");
    nearmiss_widget::command("destroy", JsValue::UNDEFINED, JsValue::UNDEFINED);

    // The next page load: the loader's outbox sends both, the rating first.
    set_mode("ok");
    let before = posts().length();
    let next_page = outbox(&web_sys::window().unwrap().into());
    settled(call(&next_page, "flush", &[true.into()]))
        .await
        .unwrap();
    let sent = posts();
    let rating: nearmiss_core::Rating = as_core(&body_of(&sent.get(before)));
    let details: nearmiss_core::Details = as_core(&body_of(&sent.get(before + 1)));
    assert_eq!((rating.site.as_str(), rating.score), ("s_test", 2));
    assert_eq!(details.comment.as_deref(), Some("Cold fries"));
    assert_eq!(details.site, "s_test");
    // The details carry the rating's own secret, made before anything was sent.
    assert!(rating.edit.is_some());
    assert_eq!(details.edit, rating.edit);
    assert_eq!(stored_keys().length(), 0);
}

#[wasm_bindgen_test]
async fn a_refused_rating_is_said_at_once_and_its_details_are_not_offered() {
    let root = boot("open", 5).await;
    set_mode("refuse");
    tap(&root, "[aria-label='2 of 5']").await;
    let error = find(&root, ".error").await;
    eventually("the refusal on screen", || {
        error.text_content().unwrap_or_default() == "Sorry, we couldn't send this."
    })
    .await;
    let send = root.query_selector(".send").unwrap().unwrap();
    assert!(send.has_attribute("disabled"), "nothing left to send");
    let promise = root.query_selector(".promise").unwrap().unwrap();
    assert!(
        promise.has_attribute("hidden"),
        "no promise nobody will keep"
    );
    // Even a forced click sends nothing: the details would need their refused rating.
    set_mode("ok");
    send.remove_attribute("disabled").unwrap();
    click(&send);
    settle().await;
    assert_eq!(
        posts().length(),
        1,
        "only the refused rating was ever posted"
    );
    assert_eq!(stored_keys().length(), 0, "and nothing waits to be sent");
    assert_eq!(event_names(), "rated,flagged", "never 'sent'");
    nearmiss_widget::command("destroy", JsValue::UNDEFINED, JsValue::UNDEFINED);
}

#[wasm_bindgen_test]
async fn retry_after_is_honoured_and_refusals_are_dropped_with_a_warning() {
    fake_collector(5);
    spy_warnings();
    let outbox = outbox(&web_sys::window().unwrap().into());
    let body = r#"{"id":"0b8f5c1e-4a7d-4c2b-9e3f-000000000001","site":"s_test","score":3}"#;
    let key = call(
        &outbox,
        "put",
        &[
            "0b8f5c1e-4a7d-4c2b-9e3f-000000000001".into(),
            "r".into(),
            "https://c.test/v1/ratings".into(),
            body.into(),
        ],
    );
    let key = key.as_string().unwrap();
    set_mode("busy");
    let before = js_sys::Date::now();
    let failed = settled(call(
        &outbox,
        "send",
        &[
            key.as_str().into(),
            "https://c.test/v1/ratings".into(),
            body.into(),
        ],
    ))
    .await;
    assert_eq!(failed.unwrap_err().as_f64(), Some(429.0));
    let item = stored(&key);
    assert_eq!(field(&item, "a").as_f64(), Some(1.0));
    assert!(
        field(&item, "n").as_f64().unwrap() >= before + 7000.0,
        "waits at least Retry-After"
    );
    // Not due yet: a scheduled flush leaves it; a page load sends it anyway.
    let posted = posts().length();
    settled(call(&outbox, "flush", &[false.into()]))
        .await
        .unwrap();
    assert_eq!(posts().length(), posted);
    set_mode("refuse");
    let refused = settled(call(
        &outbox,
        "send",
        &[
            key.as_str().into(),
            "https://c.test/v1/ratings".into(),
            body.into(),
        ],
    ))
    .await;
    assert_eq!(refused.unwrap_err().as_f64(), Some(-400.0));
    assert_eq!(
        stored_keys().length(),
        0,
        "a refusal that will never pass is dropped"
    );
    assert!(
        warnings().contains("nearmiss: dropped a refused submission 400"),
        "{}",
        warnings()
    );
}

#[wasm_bindgen_test]
async fn details_an_older_widget_queued_get_the_secret_from_their_ratings_answer() {
    fake_collector(5);
    let outbox = outbox(&web_sys::window().unwrap().into());
    let id = "0b8f5c1e-4a7d-4c2b-9e3f-000000000077";
    // What an older widget left: a rating and its details, neither with a secret.
    for (kind, url, body) in [
        (
            "r",
            "https://c.test/v1/ratings".to_owned(),
            format!(r#"{{"id":"{id}","site":"s_test","score":2}}"#),
        ),
        (
            "d",
            format!("https://c.test/v1/ratings/{id}/details"),
            r#"{"site":"s_test","comment":"Cold"}"#.to_owned(),
        ),
    ] {
        call(
            &outbox,
            "put",
            &[id.into(), kind.into(), url.into(), body.into()],
        );
        // Keys sort by the time they were put: the details after their rating.
        wasm_bindgen_futures::JsFuture::from(sleep(5))
            .await
            .unwrap();
    }
    let before = posts().length();
    settled(call(&outbox, "flush", &[true.into()]))
        .await
        .unwrap();
    let sent = posts();
    assert_eq!(sent.length(), before + 2, "the rating, then its details");
    let details: nearmiss_core::Details = as_core(&body_of(&sent.get(before + 1)));
    assert_eq!(details.edit.as_deref(), Some("made-by-the-server-000000"));
    assert_eq!(details.comment.as_deref(), Some("Cold"));
    assert_eq!(stored_keys().length(), 0);
}

#[wasm_bindgen_test]
async fn without_storage_the_outbox_keeps_items_in_memory() {
    fake_collector(5);
    let outbox = outbox(&blocked_window());
    let body = r#"{"id":"0b8f5c1e-4a7d-4c2b-9e3f-000000000002","site":"s_test","score":5}"#;
    set_mode("offline");
    let key = call(
        &outbox,
        "put",
        &[
            "0b8f5c1e-4a7d-4c2b-9e3f-000000000002".into(),
            "r".into(),
            "https://c.test/v1/ratings".into(),
            body.into(),
        ],
    );
    assert!(key.as_string().unwrap().starts_with("nearmiss:o:"));
    settled(call(&outbox, "flush", &[true.into()]))
        .await
        .unwrap();
    assert_eq!(posts().length(), 1, "tried, and kept");
    assert_eq!(stored_keys().length(), 0, "nothing reached localStorage");
    set_mode("ok");
    settled(call(&outbox, "flush", &[true.into()]))
        .await
        .unwrap();
    assert_eq!(posts().length(), 2, "sent from memory");
    settled(call(&outbox, "flush", &[true.into()]))
        .await
        .unwrap();
    assert_eq!(posts().length(), 2, "and then gone");
}

#[wasm_bindgen_test]
async fn the_outbox_is_bounded_and_counts_what_it_dropped() {
    fake_collector(5);
    let outbox = outbox(&web_sys::window().unwrap().into());
    for n in 0..55 {
        let id = format!("0b8f5c1e-4a7d-4c2b-9e3f-{n:012}");
        call(
            &outbox,
            "put",
            &[
                id.as_str().into(),
                "r".into(),
                "https://c.test/v1/ratings".into(),
                "{}".into(),
            ],
        );
    }
    assert_eq!(stored_keys().length(), 50);
    assert_eq!(dropped().as_deref(), Some("5"));
    let oldest = stored_keys().get(0).as_string().unwrap();
    assert!(
        oldest.contains("-000000000005:"),
        "the oldest were dropped: {oldest}"
    );
}

#[wasm_bindgen_test]
async fn two_sends_of_one_item_never_overlap() {
    fake_collector(5);
    let first = outbox(&web_sys::window().unwrap().into());
    let second = outbox(&web_sys::window().unwrap().into());
    let body = r#"{"id":"0b8f5c1e-4a7d-4c2b-9e3f-000000000003","site":"s_test","score":5}"#;
    let url = "https://c.test/v1/ratings";
    let key = call(
        &first,
        "put",
        &[
            "0b8f5c1e-4a7d-4c2b-9e3f-000000000003".into(),
            "r".into(),
            url.into(),
            body.into(),
        ],
    );
    let a = call(&first, "send", &[key.clone(), url.into(), body.into()]);
    let b = call(&second, "send", &[key, url.into(), body.into()]);
    assert!(settled(a).await.is_ok());
    assert!(settled(b).await.is_ok());
    assert_eq!(
        posts().length(),
        1,
        "the second tab, given the lock, finds the item sent and sends nothing"
    );
    assert_eq!(most_in_flight(), 1);
}

#[wasm_bindgen_test]
async fn an_unreadable_item_is_dropped_and_stops_nothing() {
    fake_collector(5);
    let outbox = outbox(&web_sys::window().unwrap().into());
    // Older than anything put now, so it comes first; cut short, as a full disk might.
    store_raw("nearmiss:o:1000000000000:x:r", "{\"u\":\"https://c.");
    call(
        &outbox,
        "put",
        &[
            "0b8f5c1e-4a7d-4c2b-9e3f-000000000004".into(),
            "r".into(),
            "https://c.test/v1/ratings".into(),
            r#"{"id":"0b8f5c1e-4a7d-4c2b-9e3f-000000000004","site":"s_test","score":5}"#.into(),
        ],
    );
    settled(call(&outbox, "flush", &[true.into()]))
        .await
        .unwrap();
    assert_eq!(posts().length(), 1, "the readable item was sent");
    assert_eq!(stored_keys().length(), 0, "and the unreadable one is gone");
}

//! The widget in headless Chromium (`cargo xtask test`, via wasm-bindgen-test-runner):
//! the radio group's keyboard behaviour, the perfect and near-miss branches, and the
//! shadow root's isolation from a hostile page. The collector is a stand-in `fetch` that
//! records what the widget sends; the real server is exercised end to end elsewhere.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, KeyboardEvent, KeyboardEventInit, ShadowRoot};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
export function fake_collector(scale) {
  window.__posts = [];
  window.__events = [];
  window.fetch = async (url, init) => {
    if (init && init.method === 'POST') {
      const body = JSON.parse(init.body);
      window.__posts.push({ url: String(url), body });
      const flagged = body.score !== scale;
      const reply = { id: body.id, flagged,
        case: flagged ? { ref: 'NM-TEST', promise: { who: 'Sam', by: '2026-11-24T13:15:00Z' } } : null };
      return new Response(JSON.stringify(reply), { status: 201 });
    }
    return new Response(JSON.stringify({
      scale, reasons: ['Cold food', 'Late delivery'], apology: 'Sorry, that is on us.',
      owner: 'Sam', ack_within_minutes: 15, review_url: null,
    }), { status: 200 });
  };
}
export function recorder(name) { return (event) => window.__events.push([name, event]); }
export function posts() { return window.__posts; }
export function event_names() { return window.__events.map((e) => e[0]).join(','); }
export function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }
"#)]
extern "C" {
    fn fake_collector(scale: u8);
    fn recorder(name: &str) -> JsValue;
    fn posts() -> js_sys::Array;
    fn event_names() -> String;
    fn sleep(ms: u32) -> js_sys::Promise;
}

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

/// Boots a widget against the stand-in collector and returns its shadow root.
async fn boot(trigger: &str, scale: u8) -> ShadowRoot {
    boot_with(trigger, scale, &[]).await
}

async fn boot_with(trigger: &str, scale: u8, extra: &[(&str, &str)]) -> ShadowRoot {
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
    nearmiss_widget::boot(settings.into());
    for event in ["rated", "flagged", "sent"] {
        nearmiss_widget::command("on", event.into(), recorder(event));
    }
    let host = document()
        .query_selector("nearmiss-widget")
        .unwrap()
        .expect("the widget element");
    host.shadow_root().expect("an open shadow root")
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

    press(&radios[0], "ArrowRight");
    assert_eq!(checked(&radios)[0], ("true".into(), "0".into()));
    press(&radios[0], "ArrowRight");
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
    settle().await;
    let sent = posts();
    assert_eq!(sent.length(), 1);
    let body = js_sys::Reflect::get(&sent.get(0), &"body".into()).unwrap();
    let score = js_sys::Reflect::get(&body, &"score".into()).unwrap();
    assert_eq!(score.as_f64(), Some(5.0));
}

#[wasm_bindgen_test]
async fn a_near_miss_apologises_asks_why_and_promises_who_and_when() {
    let root = boot("open", 5).await;
    find(&root, "[role=radio]").await;
    let two = root
        .query_selector("[aria-label='2 of 5']")
        .unwrap()
        .unwrap();
    two.dyn_ref::<web_sys::HtmlElement>().unwrap().click();

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
        "Sam will look into this within 15 minutes."
    );
    assert!(root.query_selector(".consent input").unwrap().is_some());
    settle().await;
    assert_eq!(event_names(), "rated,flagged,sent");
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
        .query_selector("[aria-label='10 of 10']")
        .unwrap()
        .unwrap();
    ten.dyn_ref::<web_sys::HtmlElement>().unwrap().click();
    let title = find(&root, ".title").await;
    assert_eq!(title.text_content().unwrap(), "Thank you! We're so glad.");
    let prompt = root.query_selector(".prompt").unwrap().unwrap();
    assert_eq!(prompt.text_content().unwrap(), "What made it great?");
    assert!(root.query_selector(".chip").unwrap().is_none());
    assert!(root.query_selector(".consent").unwrap().is_none());
    settle().await;
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
        "* { color: rgb(255, 0, 0) !important; font-size: 40px !important; }
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
    let window = web_sys::window().unwrap();
    let css = |el: &Element, property: &str| {
        window
            .get_computed_style(el)
            .unwrap()
            .unwrap()
            .get_property_value(property)
            .unwrap()
    };
    let host = doc.query_selector("nearmiss-widget").unwrap().unwrap();
    assert_eq!(css(&host, "display"), "block");
    assert_eq!(css(&host, "opacity"), "1");
    assert_eq!(css(&launcher, "color"), "rgb(255, 255, 255)");
    assert_eq!(css(&launcher, "display"), "inline-block");
    assert_ne!(css(&launcher, "font-size"), "40px");
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
    assert_eq!(css(&page_panel, "position"), "static");
    assert_eq!(css(&page_panel, "border-radius"), "0px");
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
    let three = find(&root, "[aria-label='3 of 5']").await;
    three.dyn_ref::<web_sys::HtmlElement>().unwrap().click();
    find(&root, "textarea.comment").await;
    settle().await;
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
    let five = find(&root, "[aria-label='5 of 5']").await;
    five.dyn_ref::<web_sys::HtmlElement>().unwrap().click();
    find(&root, "textarea.comment").await;
    settle().await;
    let body = js_sys::Reflect::get(&posts().get(0), &"body".into()).unwrap();
    let rerate = js_sys::Reflect::get(&body, &"rerate".into()).unwrap();
    assert_eq!(rerate.as_string().as_deref(), Some("tok3n"));
    nearmiss_widget::command("destroy", JsValue::UNDEFINED, JsValue::UNDEFINED);
}

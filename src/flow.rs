//! The customer's flow: ask, send the score the moment it is chosen, then the perfect
//! path (thanks, "what made it great?") or the near-miss path (an apology that takes
//! ownership, reasons, comment, contact consent and the promise), then the confirmation
//! with the case reference.

use crate::dom;
use crate::embed::{Embed, OpenOptions, Trigger};
use crate::events::Events;
use crate::net::{self, Failure};
use crate::outbox::Outbox;
use crate::score::{key_target, ScoreGroup};
use crate::site::SiteConfig;
use crate::text;
use gloo_events::{EventListener, EventListenerOptions};
use nearmiss_core::{is_perfect, Contact, Details, Rating};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, Event, EventTarget};

// `style.css`, minified by build.rs.
const STYLE: &str = include_str!(concat!(env!("OUT_DIR"), "/style.min.css"));

/// What a listener runs, given the widget it belongs to.
type Handler = dyn Fn(&Rc<Widget>, &Event);

/// One widget on the page.
pub struct Widget {
    embed: Embed,
    outbox: Outbox,
    pub events: Events,
    host: Element,
    launcher: Option<Element>,
    panel: Element,
    screen: Element,
    site: RefCell<Load>,
    state: RefCell<State>,
    /// Listeners of the current screen; replaced on every render.
    listeners: RefCell<Vec<EventListener>>,
    /// Listeners that live as long as the widget (launcher, close button).
    fixed: RefCell<Vec<EventListener>>,
    /// Set by `destroy`: background sends stop (the outbox keeps what they carried).
    gone: std::cell::Cell<bool>,
}

enum Load {
    Loading,
    Ready(Rc<SiteConfig>),
    Failed,
}

#[derive(Default)]
struct State {
    open: bool,
    /// Move focus into the next screen: only after the customer acted, never on page load.
    focus: bool,
    options: OpenOptions,
    stage: Stage,
    rating: Option<Chosen>,
    sending: bool,
    error: Option<&'static str>,
    /// The customer left a way to reach them.
    contact_given: bool,
    /// Something the customer sent is still in the outbox, waiting for the network.
    waiting: bool,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum Stage {
    #[default]
    Question,
    Details,
    Done,
}

struct Chosen {
    rating: Rating,
    perfect: bool,
    /// The rating's outbox key, URL and JSON body.
    key: String,
    url: String,
    body: String,
    answer: Option<Answer>,
}

#[derive(Clone)]
struct Answer {
    case_ref: Option<String>,
    promise_by: Option<String>,
}

impl Widget {
    /// Builds the element, fetches the site's settings, and asks at once for `open`.
    pub fn start(embed: Embed) -> Option<Rc<Widget>> {
        let doc = dom::document()?;
        let host = doc.create_element("nearmiss-widget").ok()?;
        let root = host
            .attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))
            .ok()?;
        let frame = doc.create_element("div").ok()?;
        frame.set_class_name("frame");
        if !adopt_style(&root) {
            dom::add_text(&frame, "style", "", STYLE);
        }
        let _ = root.append_child(&frame);
        let launcher = (embed.trigger == Trigger::Button)
            .then(|| dom::add_text(&frame, "button", "launcher", text::OPEN_BUTTON));
        let panel = dom::add(&frame, "div", "panel");
        dom::attrs(
            &panel,
            &[
                ("role", "dialog"),
                ("aria-labelledby", "nm-title"),
                ("hidden", ""),
            ],
        );
        let close = dom::add_text(&panel, "button", "close", "×");
        dom::attrs(&close, &[("aria-label", text::CLOSE), ("type", "button")]);
        let screen = dom::add(&panel, "div", "screen");
        let parent = doc
            .body()
            .map(Element::from)
            .or_else(|| doc.document_element())?;
        let _ = parent.append_child(&host);

        let widget = Rc::new(Widget {
            outbox: Outbox(embed.outbox.clone()),
            embed,
            events: Events::default(),
            host,
            launcher,
            panel,
            screen,
            site: RefCell::new(Load::Loading),
            state: RefCell::new(State::default()),
            listeners: RefCell::default(),
            fixed: RefCell::default(),
            gone: std::cell::Cell::new(false),
        });
        let fixed = vec![
            widget.listener(&close, "click", |w, _| w.close()),
            widget.listener(&widget.panel, "keydown", |w, e| {
                if key(e).as_deref() == Some("Escape") {
                    w.close();
                }
            }),
        ];
        widget.fixed.borrow_mut().extend(fixed);
        if let Some(launcher) = &widget.launcher {
            let l = widget.listener(launcher, "click", |w, _| {
                w.state.borrow_mut().focus = true;
                w.open(OpenOptions::default());
            });
            widget.fixed.borrow_mut().push(l);
        }
        let weak = Rc::downgrade(&widget);
        wasm_bindgen_futures::spawn_local(async move {
            let Some(w) = weak.upgrade() else { return };
            let config = w.embed.config.clone();
            drop(w);
            let loaded = SiteConfig::load(config).await;
            let Some(w) = weak.upgrade() else { return };
            *w.site.borrow_mut() = match loaded {
                Some(config) => Load::Ready(Rc::new(config)),
                None => {
                    net::warn("nearmiss: no site settings");
                    Load::Failed
                }
            };
            if w.state.borrow().open {
                w.render();
            }
        });
        if widget.embed.trigger == Trigger::Open {
            widget.open(OpenOptions::default());
        }
        Some(widget)
    }

    /// Shows the panel at its current step.
    pub fn open(self: &Rc<Self>, options: OpenOptions) {
        {
            let mut state = self.state.borrow_mut();
            state.open = true;
            // A bare `open` (the launcher, `nearmiss('open')`) keeps earlier options.
            let given = options.interaction.is_some()
                || options.token.is_some()
                || options.email.is_some()
                || options.phone.is_some();
            if given {
                state.options = options;
            }
        }
        let _ = self.panel.remove_attribute("hidden");
        if let Some(launcher) = &self.launcher {
            let _ = launcher.set_attribute("hidden", "");
        }
        self.render();
    }

    /// Hides the panel; a rating already chosen keeps sending.
    pub fn close(&self) {
        self.state.borrow_mut().open = false;
        let _ = self.panel.set_attribute("hidden", "");
        if let Some(launcher) = &self.launcher {
            let _ = launcher.remove_attribute("hidden");
            dom::focus(launcher);
        }
    }

    /// Removes the element and every listener.
    pub fn destroy(&self) {
        self.gone.set(true);
        self.listeners.borrow_mut().clear();
        self.fixed.borrow_mut().clear();
        self.host.remove();
    }

    fn listener(
        self: &Rc<Self>,
        target: &EventTarget,
        event: &'static str,
        handler: impl Fn(&Rc<Widget>, &Event) + 'static,
    ) -> EventListener {
        self.boxed_listener(target, event, Box::new(handler))
    }

    /// Not generic: one copy of gloo's and wasm-bindgen's closure code for every
    /// listener, instead of one per handler (a few KB of wasm).
    #[inline(never)]
    fn boxed_listener(
        self: &Rc<Self>,
        target: &EventTarget,
        event: &'static str,
        handler: Box<Handler>,
    ) -> EventListener {
        let weak: Weak<Widget> = Rc::downgrade(self);
        EventListener::new_with_options(
            target,
            event,
            EventListenerOptions::enable_prevent_default(),
            move |e| {
                if let Some(w) = weak.upgrade() {
                    handler(&w, e);
                }
            },
        )
    }

    fn listen(
        self: &Rc<Self>,
        target: &EventTarget,
        event: &'static str,
        handler: impl Fn(&Rc<Widget>, &Event) + 'static,
    ) {
        let l = self.listener(target, event, handler);
        self.listeners.borrow_mut().push(l);
    }

    /// Draws the current step from scratch.
    fn render(self: &Rc<Self>) {
        // The listener that triggered this render may be running: drop the old ones
        // after the current event has finished, not under its feet.
        let old = std::mem::take(&mut *self.listeners.borrow_mut());
        wasm_bindgen_futures::spawn_local(async move { drop(old) });
        self.screen.set_text_content(None);
        let site = match &*self.site.borrow() {
            Load::Ready(site) => Some(site.clone()),
            Load::Loading => None,
            Load::Failed => {
                dom::add_text(&self.screen, "p", "note", text::UNAVAILABLE);
                return;
            }
        };
        let Some(site) = site else {
            dom::attrs(&self.screen, &[("aria-busy", "true")]);
            dom::add_text(&self.screen, "h2", "title", text::QUESTION)
                .set_attribute("id", "nm-title")
                .ok();
            return;
        };
        let _ = self.screen.remove_attribute("aria-busy");
        let stage = self.state.borrow().stage;
        let focus_target = match stage {
            Stage::Question => self.render_question(&site),
            Stage::Details => self.render_details(&site),
            Stage::Done => self.render_done(&site),
        };
        let focus = std::mem::take(&mut self.state.borrow_mut().focus);
        if focus {
            dom::focus(&focus_target);
        }
    }

    fn render_question(self: &Rc<Self>, site: &SiteConfig) -> Element {
        dom::add_text(&self.screen, "h2", "title", text::QUESTION)
            .set_attribute("id", "nm-title")
            .ok();
        let group = Rc::new(ScoreGroup::build(&self.screen, site.scale, "nm-title"));
        for (index, (score, radio)) in group.radios.iter().enumerate() {
            let (score, g) = (*score, group.clone());
            self.listen(radio, "click", move |w, _| {
                g.check(index);
                w.choose(score);
            });
        }
        let g = group.clone();
        self.listen(&group.group, "keydown", move |w, e| {
            let Some(k) = key(e) else { return };
            // Keys act from the focused radio, as the WAI-ARIA radio group does: the
            // checked one, or before anything is checked the first (the one tab stop).
            let from = g.checked().or(Some(0));
            if k == " " || k == "Enter" {
                e.prevent_default();
                if let Some(index) = from {
                    w.choose(g.radios[index].0);
                }
            } else if let Some(index) = key_target(&k, from, g.radios.len()) {
                e.prevent_default();
                g.check(index);
            }
        });
        group.radios[0].1.clone()
    }

    /// The customer chose `score`: record it, send it at once, and show the next step.
    fn choose(self: &Rc<Self>, score: i64) {
        let Load::Ready(site) = &*self.site.borrow() else {
            return;
        };
        let perfect = is_perfect(score, site.scale);
        let rating = {
            let state = self.state.borrow();
            Rating {
                id: new_id(),
                site: self.embed.site.clone(),
                score,
                interaction: state
                    .options
                    .interaction
                    .clone()
                    .or_else(|| self.embed.interaction.clone()),
                token: state
                    .options
                    .token
                    .clone()
                    .or_else(|| self.embed.token.clone()),
                page: page(),
                locale: self.embed.lang.clone().or_else(language),
                rerate: self.embed.rerate.clone(),
            }
        };
        let detail = net::object(&[
            ("id", rating.id.as_str().into()),
            ("score", (score as f64).into()),
            ("perfect", perfect.into()),
        ]);
        // Into the outbox before any network call: a customer who walks away now still
        // raises the flag, from this page or the next one they open.
        let url = self.url("/v1/ratings");
        let body = net::json_text(&rating_to_js(&rating));
        let key = self.outbox.put(&rating.id, "r", &url, &body);
        {
            let mut state = self.state.borrow_mut();
            state.rating = Some(Chosen {
                rating,
                perfect,
                key,
                url,
                body,
                answer: None,
            });
            state.stage = Stage::Details;
            state.focus = true;
        }
        self.events.emit("rated", &detail);
        if !perfect {
            self.events.emit("flagged", &detail);
        }
        self.render();
        let w = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let _ = w.send_rating(true).await;
        });
    }

    /// Sends the chosen rating through the outbox; with `keep_trying`, retries what is
    /// worth retrying while the page is open. Safe to call again: the id makes the
    /// server answer a repeat with the first answer.
    async fn send_rating(self: &Rc<Self>, keep_trying: bool) -> Result<Answer, Failure> {
        let (key, url, body, id) = {
            let state = self.state.borrow();
            let Some(c) = &state.rating else {
                return Err(Failure::Network);
            };
            if let Some(answer) = &c.answer {
                return Ok(answer.clone());
            }
            (
                c.key.clone(),
                c.url.clone(),
                c.body.clone(),
                c.rating.id.clone(),
            )
        };
        let reply = loop {
            if self.gone.get() {
                return Err(Failure::Network);
            }
            match self.outbox.send(&key, &url, &body).await {
                Ok(reply) => break reply,
                // The outbox keeps the one schedule (its backoff, or `Retry-After`).
                Err(failure) if failure.is_transient() && keep_trying => {
                    net::sleep(self.outbox.wait(&key)).await;
                }
                Err(failure) => return Err(failure),
            }
        };
        let case = dom::prop(&reply, "case");
        let answer = Answer {
            case_ref: dom::prop(&case, "ref").as_string(),
            promise_by: dom::prop(&dom::prop(&case, "promise"), "by").as_string(),
        };
        let first = {
            let mut state = self.state.borrow_mut();
            match state.rating.as_mut() {
                Some(chosen) if chosen.rating.id == id && chosen.answer.is_none() => {
                    chosen.answer = Some(answer.clone());
                    true
                }
                _ => false,
            }
        };
        if first && self.state.borrow().stage == Stage::Done {
            // Back online: the reference can be shown, and the offline note goes.
            self.state.borrow_mut().waiting = false;
            self.render();
        }
        if first && !self.gone.get() {
            let case_ref = answer
                .case_ref
                .as_deref()
                .map(JsValue::from)
                .unwrap_or(JsValue::NULL);
            self.events.emit(
                "sent",
                &net::object(&[("id", id.as_str().into()), ("case", case_ref)]),
            );
        }
        Ok(answer)
    }

    fn render_details(self: &Rc<Self>, site: &SiteConfig) -> Element {
        let perfect = self
            .state
            .borrow()
            .rating
            .as_ref()
            .is_some_and(|c| c.perfect);
        let screen = &self.screen;
        let title = if perfect {
            dom::add_text(screen, "h2", "title", text::PERFECT_THANKS)
        } else {
            dom::add_text(screen, "h2", "title apology", &site.apology)
        };
        title.set_attribute("id", "nm-title").ok();
        dom::attrs(&title, &[("tabindex", "-1")]);
        let prompt = dom::add_text(
            screen,
            "p",
            "prompt",
            if perfect {
                text::PERFECT_PROMPT
            } else {
                text::MISS_PROMPT
            },
        );
        let _ = prompt.set_attribute("id", "nm-prompt");
        if !perfect && !site.reasons.is_empty() {
            let chips = dom::add(screen, "div", "chips");
            dom::attrs(
                &chips,
                &[("role", "group"), ("aria-labelledby", "nm-prompt")],
            );
            for reason in &site.reasons {
                let chip = dom::add_text(&chips, "button", "chip", reason);
                dom::attrs(&chip, &[("type", "button"), ("aria-pressed", "false")]);
                self.listen(&chip.clone(), "click", move |_, _| {
                    let on = chip.get_attribute("aria-pressed").as_deref() != Some("true");
                    dom::attrs(
                        &chip,
                        &[("aria-pressed", if on { "true" } else { "false" })],
                    );
                });
            }
        }
        let comment = dom::add(screen, "textarea", "comment");
        let limit = nearmiss_core::LIMITS.comment.to_string();
        dom::attrs(
            &comment,
            &[
                ("aria-labelledby", "nm-prompt"),
                ("maxlength", &limit),
                ("rows", "3"),
            ],
        );

        if !perfect {
            let consent_label = dom::add(screen, "label", "consent");
            let consent = dom::add(&consent_label, "input", "");
            dom::attrs(&consent, &[("type", "checkbox")]);
            dom::add_text(&consent_label, "span", "", text::CONTACT_CONSENT);
            let contact_label = dom::add(screen, "label", "contact");
            dom::add_text(&contact_label, "span", "", text::CONTACT_LABEL);
            let contact = dom::add(&contact_label, "input", "");
            dom::attrs(
                &contact,
                &[
                    ("type", "text"),
                    ("autocomplete", "email"),
                    ("maxlength", "200"),
                ],
            );
            let promise = dom::add(screen, "p", "promise");
            let (prefill, consent_given) = {
                let state = self.state.borrow();
                let prefill = state
                    .options
                    .email
                    .clone()
                    .or_else(|| state.options.phone.clone());
                (
                    prefill,
                    state.options.email.is_some() || state.options.phone.is_some(),
                )
            };
            if let Some(value) = prefill {
                dom::set_prop(&contact, "value", &value.into());
            }
            let owner = site.owner.clone();
            let minutes = site.ack_within_minutes.to_string();
            let update = move |consented: bool| {
                if consented {
                    let _ = contact_label.remove_attribute("hidden");
                } else {
                    let _ = contact_label.set_attribute("hidden", "");
                }
                let mut words = owner.clone();
                words.push_str(if consented {
                    text::PROMISE_WITHIN
                } else {
                    text::PROMISE_LOOK
                });
                words.push_str(&minutes);
                words.push_str(text::MINUTES);
                promise.set_text_content(Some(&words));
            };
            dom::set_prop(&consent, "checked", &consent_given.into());
            update(consent_given);
            self.listen(&consent, "change", move |_, e| {
                let checked = e.target().and_then(|t| dom::prop(&t, "checked").as_bool());
                update(checked == Some(true));
            });
        }
        let error = dom::add(screen, "p", "error");
        dom::attrs(&error, &[("role", "alert")]);
        if let Some(message) = self.state.borrow().error {
            error.set_text_content(Some(message));
        }
        let sending = self.state.borrow().sending;
        let send = dom::add_text(
            screen,
            "button",
            "send",
            if sending { text::SENDING } else { text::SEND },
        );
        dom::attrs(&send, &[("type", "button")]);
        if sending {
            dom::attrs(&send, &[("disabled", "")]);
        }
        self.listen(&send, "click", |w, _| w.send_details());
        title
    }

    /// Reads the form, checks it with the core's rules, and sends it.
    fn send_details(self: &Rc<Self>) {
        let screen = &self.screen;
        let query = |selector: &str| screen.query_selector(selector).ok().flatten();
        let comment = query(".comment")
            .and_then(|e| dom::prop(&e, "value").as_string())
            .filter(|v| !v.trim().is_empty());
        let offered = match &*self.site.borrow() {
            Load::Ready(site) => site.reasons.clone(),
            _ => return,
        };
        let pressed =
            |chip: &Element| chip.get_attribute("aria-pressed").as_deref() == Some("true");
        let reasons: Vec<String> = match screen.query_selector(".chips") {
            Ok(Some(chips)) => {
                let mut reasons = Vec::new();
                let mut chip = chips.first_element_child();
                for reason in &offered {
                    let Some(element) = chip else { break };
                    if pressed(&element) {
                        reasons.push(reason.clone());
                    }
                    chip = element.next_element_sibling();
                }
                reasons
            }
            _ => Vec::new(),
        };
        let consent =
            query(".consent input").and_then(|e| dom::prop(&e, "checked").as_bool()) == Some(true);
        let contact = consent.then(|| {
            let value = query(".contact input")
                .and_then(|e| dom::prop(&e, "value").as_string())
                .map(|v| v.trim().to_owned())
                .unwrap_or_default();
            // Letters are an email being typed ("not an email" must not be told it is a
            // bad phone number); digits and signs are a phone number.
            let is_email = value.contains('@') || value.bytes().any(|b| b.is_ascii_alphabetic());
            Contact {
                name: None,
                email: is_email.then(|| value.clone()).filter(|v| !v.is_empty()),
                phone: (!is_email).then_some(value).filter(|v| !v.is_empty()),
                consent: true,
            }
        });
        let details = Details {
            site: self.embed.site.clone(),
            comment,
            reasons,
            contact,
        };
        if let Err(err) = details.validate(&offered) {
            if let Some(error) = query(".error") {
                error.set_text_content(Some(err.message()));
            }
            return;
        }
        {
            let mut state = self.state.borrow_mut();
            if state.sending {
                return;
            }
            state.sending = true;
            state.error = None;
            state.contact_given = details.contact.is_some();
        }
        if let Some(send) = query(".send") {
            send.set_text_content(Some(text::SENDING));
            dom::attrs(&send, &[("disabled", "")]);
        }
        let Some(id) = self
            .state
            .borrow()
            .rating
            .as_ref()
            .map(|c| c.rating.id.clone())
        else {
            return;
        };
        let mut path = String::from("/v1/ratings/");
        path.push_str(&id);
        path.push_str("/details");
        let url = self.url(&path);
        let body = net::json_text(&details_to_js(&details));
        let key = self.outbox.put(&id, "d", &url, &body);
        let w = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let result = match w.send_rating(false).await {
                Ok(_) => w.outbox.send(&key, &url, &body).await.map(|_| ()),
                Err(failure) => Err(failure),
            };
            let waiting = matches!(&result, Err(f) if f.is_transient());
            {
                let mut state = w.state.borrow_mut();
                state.sending = false;
                state.focus = true;
                state.waiting = waiting;
                match result {
                    Err(failure) if !failure.is_transient() => state.error = Some(text::NOT_SENT),
                    _ => state.stage = Stage::Done,
                }
            }
            // What is still waiting, the outbox keeps sending (on a timer, when the
            // browser is back online, when the page is hidden, on the next page load).
            w.render();
        });
    }

    fn render_done(self: &Rc<Self>, site: &SiteConfig) -> Element {
        let state = self.state.borrow();
        let chosen = state.rating.as_ref();
        let answer = chosen.and_then(|c| c.answer.clone());
        let title = match answer.as_ref().and_then(|a| a.case_ref.clone()) {
            Some(case_ref) => {
                let title = dom::add(&self.screen, "h2", "title");
                dom::add_text(&title, "span", "", text::DONE_MISS);
                dom::add_text(&title, "strong", "ref", &case_ref);
                let mut next = site.owner.clone();
                next.push_str(if state.contact_given {
                    text::DONE_CONTACT_BY
                } else {
                    text::DONE_LOOK_BY
                });
                if let Some(by) = answer.as_ref().and_then(|a| a.promise_by.as_deref()) {
                    next.push_str(&local_time(by));
                }
                next.push('.');
                dom::add_text(&self.screen, "p", "promise", &next);
                title
            }
            None => dom::add_text(&self.screen, "h2", "title", text::DONE_PERFECT),
        };
        title.set_attribute("id", "nm-title").ok();
        dom::attrs(&title, &[("tabindex", "-1")]);
        if state.waiting {
            let note = dom::add_text(&self.screen, "p", "note", text::OFFLINE);
            dom::attrs(&note, &[("role", "status")]);
        }
        if let Some(url) = &site.review_url {
            // Offered to every rater, perfect or not: never review gating.
            let link = dom::add_text(&self.screen, "a", "review", text::REVIEW);
            dom::attrs(
                &link,
                &[("href", url), ("target", "_blank"), ("rel", "noopener")],
            );
        }
        title
    }

    fn url(&self, path: &str) -> String {
        let mut url = self.embed.endpoint.clone();
        url.push_str(path);
        url
    }
}

/// Styles the shadow root with a constructed stylesheet: unlike a `<style>` element, it
/// needs no `style-src 'unsafe-inline'` in the host page's CSP. `false` where the
/// browser cannot (then a `<style>` element is used).
fn adopt_style(root: &web_sys::ShadowRoot) -> bool {
    let global = js_sys::global();
    let Ok(constructor) = dom::prop(&global, "CSSStyleSheet").dyn_into::<js_sys::Function>() else {
        return false;
    };
    let Ok(sheet) = js_sys::Reflect::construct(&constructor, &js_sys::Array::new()) else {
        return false;
    };
    let Ok(replace) = dom::prop(&sheet, "replaceSync").dyn_into::<js_sys::Function>() else {
        return false;
    };
    if replace.call1(&sheet, &JsValue::from_str(STYLE)).is_err() {
        return false;
    }
    let sheets = js_sys::Array::of1(&sheet);
    js_sys::Reflect::set(root, &JsValue::from_str("adoptedStyleSheets"), &sheets).unwrap_or(false)
}

fn key(event: &Event) -> Option<String> {
    dom::prop(event, "key").as_string()
}

/// The JSON body of `POST /v1/ratings` (absent fields left out).
fn rating_to_js(r: &Rating) -> JsValue {
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(JsValue::from)
            .unwrap_or(JsValue::UNDEFINED)
    };
    net::object(&[
        ("id", r.id.as_str().into()),
        ("site", r.site.as_str().into()),
        ("score", (r.score as f64).into()),
        ("interaction", text(&r.interaction)),
        ("token", text(&r.token)),
        ("page", text(&r.page)),
        ("locale", text(&r.locale)),
        ("rerate", text(&r.rerate)),
    ])
}

/// The JSON body of `POST /v1/ratings/{id}/details`.
fn details_to_js(d: &Details) -> JsValue {
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(JsValue::from)
            .unwrap_or(JsValue::UNDEFINED)
    };
    let reasons: js_sys::Array = d
        .reasons
        .iter()
        .map(|r| JsValue::from(r.as_str()))
        .collect();
    let contact = match &d.contact {
        Some(c) => net::object(&[
            ("name", text(&c.name)),
            ("email", text(&c.email)),
            ("phone", text(&c.phone)),
            ("consent", c.consent.into()),
        ]),
        None => JsValue::UNDEFINED,
    };
    net::object(&[
        ("site", d.site.as_str().into()),
        ("comment", text(&d.comment)),
        ("reasons", reasons.into()),
        ("contact", contact),
    ])
}

/// A random (version 4) UUID. `crypto.getRandomValues` works on plain-http pages too,
/// where `crypto.randomUUID` does not.
fn new_id() -> String {
    let mut bytes = [0u8; 16];
    if let Some(crypto) = web_sys::window().and_then(|w| w.crypto().ok()) {
        let _ = crypto.get_random_values_with_u8_array(&mut bytes);
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            id.push('-');
        }
        id.push(HEX[(b >> 4) as usize] as char);
        id.push(HEX[(b & 0x0f) as usize] as char);
    }
    id
}

/// The page without its query string or fragment, which may hold personal data.
fn page() -> Option<String> {
    let location = dom::prop(web_sys::window()?.as_ref(), "location");
    let mut page = dom::prop(&location, "origin").as_string()?;
    page.push_str(&dom::prop(&location, "pathname").as_string()?);
    Some(page)
}

fn language() -> Option<String> {
    dom::prop(
        &dom::prop(web_sys::window()?.as_ref(), "navigator"),
        "language",
    )
    .as_string()
}

/// An RFC 3339 time as the customer's local clock time ("3:15 PM").
fn local_time(rfc3339: &str) -> String {
    let date = js_sys::Date::new(&JsValue::from_str(rfc3339));
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"hour".into(), &"numeric".into());
    let _ = js_sys::Reflect::set(&options, &"minute".into(), &"2-digit".into());
    String::from(date.to_locale_time_string_with_options("default", &options))
}

//! The widget and its lifecycle: built in the shadow root the loader drew, opened and
//! closed, and destroyed; the customer's steps (ask, send the score the moment it is
//! chosen, details, done) as one state; and the one handler every listener, reply and
//! timer calls back into.

use crate::details::{self, toggle_chip};
use crate::dom::{self, prop};
use crate::embed::{Embed, OpenOptions, Trigger};
use crate::events::{self, Events};
use crate::js::{self, Element};
use crate::memo::{self, Memo};
use crate::outbox::Outbox;
use crate::score::{key_target, ScoreGroup};
use crate::send::{self, Answer};
use crate::site::Site;
use crate::{done, question};
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::{Cell, OnceCell, RefCell};
use nearmiss_core::{is_perfect, Rating};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

// `style.css`, minified by build.rs.
const STYLE: &str = include_str!(concat!(env!("OUT_DIR"), "/style.min.css"));

/// The DOM events the widget listens to, all on its shadow root.
const LISTENED: [&str; 3] = ["click", "keydown", "change"];

/// The visual viewport's events: an on-screen keyboard opening or closing resizes it.
const VIEWPORT: [&str; 2] = ["resize", "scroll"];

/// What a reply or a timer is about; the handler gets it with the widget's generation,
/// so a reply meant for a destroyed widget is ignored.
const RATING_SENT: u32 = 0;
const RATING_FAILED: u32 = 1;
const DETAILS_SENT: u32 = 2;
const DETAILS_FAILED: u32 = 3;
const RETRY_RATING: u32 = 4;
const FOCUS: u32 = 5;
const SCORE_SENT: u32 = 6;
const SCORE_FAILED: u32 = 7;
const RETRY_SCORE: u32 = 8;

/// How long "Change my score" is offered: the server takes a change for 10 minutes, and
/// the customer may take a while to choose.
const CHANGE_OFFERED_MS: f64 = 9.0 * 60_000.0;
const KINDS: u32 = 16;

/// The page's one widget, and the one JS function that calls back into it.
struct Shared {
    widget: RefCell<Option<Widget>>,
    generation: Cell<u32>,
    handler: OnceCell<Closure<dyn FnMut(JsValue, JsValue)>>,
}

// The widget lives on the page's one thread: wasm32-unknown-unknown has no others.
unsafe impl Sync for Shared {}

static SHARED: Shared = Shared {
    widget: RefCell::new(None),
    generation: Cell::new(0),
    handler: OnceCell::new(),
};

/// The function every listener, promise and timer calls: with a DOM event, or with a
/// tag (a number) and a value. Made once and kept for the page's life, so a late reply
/// never calls a dropped closure.
fn handler() -> &'static JsValue {
    SHARED.handler.get_or_init(|| Closure::new(handle)).as_ref()
}

fn handle(a: JsValue, b: JsValue) {
    with(|w| match a.as_f64() {
        Some(tag) => w.reply(tag as u32, b),
        None => w.event(&a),
    });
}

/// Runs `f` on the widget, then the host page's callbacks it asked for, once the
/// widget is let go (a callback may call `nearmiss(…)` again). `None` if there is none.
fn with<R>(f: impl FnOnce(&mut Widget) -> R) -> Option<R> {
    let (result, calls) = {
        let mut slot = SHARED.widget.try_borrow_mut().ok()?;
        let w = slot.as_mut()?;
        let result = f(w);
        let calls: Vec<_> = core::mem::take(&mut w.emits)
            .into_iter()
            .map(|(event, detail)| (w.events.for_event(event), detail))
            .collect();
        (result, calls)
    };
    for (callbacks, detail) in calls {
        events::call(&callbacks, &detail);
    }
    Some(result)
}

/// Takes the widget out (`try_`: a `RefCell` panic would bring its message's
/// formatting code into the wasm).
fn take() -> Option<Widget> {
    SHARED.widget.try_borrow_mut().ok()?.take()
}

pub fn boot(settings: JsValue) {
    let embed = match Embed::from_js(&settings) {
        Ok(embed) => embed,
        Err(message) => return dom::warn(message),
    };
    if let Some(previous) = take() {
        previous.remove();
    }
    let open_now = embed.trigger == Trigger::Open;
    let Some(widget) = Widget::start(embed) else {
        return;
    };
    if let Ok(mut slot) = SHARED.widget.try_borrow_mut() {
        *slot = Some(widget);
    }
    if open_now {
        // Opened by the page, not by the customer: focus stays where it is. Not again
        // for an interaction the customer closed without rating.
        with(|w| {
            if !matches!(w.memo(), Some(Memo::Dismissed)) {
                w.open(OpenOptions::default(), false);
            }
        });
    }
}

pub fn command(name: &str, a: JsValue, b: JsValue) {
    let done = match name {
        "open" => with(|w| w.open(OpenOptions::from_js(&a), true)),
        "close" => with(|w| w.close()),
        "on" => with(|w| match a.as_string() {
            Some(event) if b.is_function() => w.events.add(event, b),
            _ => dom::warn("nearmiss: 'on' needs an event name and a function"),
        }),
        "destroy" => take().map(Widget::remove),
        _ => return dom::warn("nearmiss: unknown command"),
    };
    if done.is_none() {
        dom::warn("nearmiss: not started (is data-site set?)");
    }
}

/// One widget on the page.
struct Widget {
    generation: u32,
    embed: Embed,
    site: Site,
    outbox: Outbox,
    events: Events,
    root: JsValue,
    /// The page's window (through the root rather than a global: one JS shim fewer).
    window: JsValue,
    /// `window.visualViewport`: what of the page is on screen, above a phone's keyboard.
    viewport: JsValue,
    /// The loader's floating button, when the trigger is a button.
    launcher: Option<Element>,
    /// The loader's fixed frame, which the panel is drawn in.
    frame: Element,
    panel: Element,
    screen: Element,
    state: State,
    view: View,
    /// Host page callbacks to run once the widget is let go: (event, detail).
    emits: Vec<(&'static str, JsValue)>,
}

/// The current screen's elements.
enum View {
    /// Nothing drawn yet: the panel was never opened.
    None,
    Question(ScoreGroup),
    Details(details::View),
    Done(Element),
}

#[derive(Default)]
struct State {
    stage: Stage,
    options: OpenOptions,
    rating: Option<Chosen>,
    /// The details, stored in the outbox, while they wait for their rating's answer.
    details: Option<Stored>,
    /// The customer pressed Send and no answer has come yet.
    sending: bool,
    /// The customer left a way to reach them.
    contact_given: bool,
    /// Something the customer sent is still in the outbox, waiting for the network.
    waiting: bool,
    /// Changing the score: the score given before.
    changing: Option<i64>,
    /// The server refused the change: the score stands.
    change_refused: bool,
    /// The changed score, stored in the outbox, until the server has it.
    score: Option<Stored>,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum Stage {
    #[default]
    Question,
    Details,
    Done,
}

/// A submission in the outbox: its key, URL and JSON body.
struct Stored {
    key: String,
    url: String,
    body: String,
}

struct Chosen {
    id: String,
    /// The rating's secret, which its details and score changes carry.
    edit: String,
    score: i64,
    /// When it was chosen (ms): its score may be changed for a while.
    at: f64,
    stored: Stored,
    answer: Option<Answer>,
    in_flight: bool,
    /// The server refused it (the outbox dropped it): nothing more can be sent.
    refused: bool,
}

impl Widget {
    /// Builds the panel (hidden) in the loader's shadow root.
    fn start(embed: Embed) -> Option<Widget> {
        let generation = SHARED.generation.get() + 1;
        SHARED.generation.set(generation);
        let root = embed.root.clone();
        let root_node: &Element = root.unchecked_ref();
        let find = |selector| root_node.query_selector(selector);
        let Some(frame) = find(".frame") else {
            dom::warn("nearmiss: the shadow root has no frame to draw in");
            return None;
        };
        let window = prop(&prop(&root, "ownerDocument"), "defaultView");
        adopt_style(&root, &window, &frame, embed.nonce.as_deref());
        let launcher = find(".launcher").filter(|_| embed.trigger == Trigger::Button);
        let site = Site::from_js(&embed.config);
        // The look: the page's theme, inline or floating, and the site's accent (which
        // the page's --nearmiss-accent overrides).
        if let Some(theme) = &embed.theme {
            dom::attrs(&frame, &[("data-theme", theme)]);
        }
        frame.toggle_attribute("data-inline", embed.inline);
        if let Some(accent) = &site.accent {
            let style = prop(&frame, "style");
            dom::call(&style, "setProperty", &["--s".into(), accent.into()]);
        }
        let panel = dom::add(&frame, "div", "panel");
        dom::attrs(
            &panel,
            &[
                // Inline, it is part of the page: a region, not a dialog.
                ("role", if embed.inline { "region" } else { "dialog" }),
                ("aria-labelledby", "nm-title"),
                ("hidden", ""),
                ("dir", if site.rtl { "rtl" } else { "ltr" }),
            ],
        );
        dom::set_prop(&panel, "lang", &site.lang);
        // Inline, the panel is part of the page: nothing to close.
        if !embed.inline {
            let close = dom::add_text(&panel, "button", "close", "×");
            dom::attrs(
                &close,
                &[("aria-label", &site.word("close")), ("type", "button")],
            );
        }
        let screen = dom::add(&panel, "div", "screen");
        let viewport = prop(&window, "visualViewport");
        listen(&root, &LISTENED, "addEventListener");
        listen(&viewport, &VIEWPORT, "addEventListener");
        Some(Widget {
            generation,
            outbox: Outbox(embed.outbox.clone()),
            embed,
            site,
            events: Events::default(),
            root,
            window,
            viewport,
            launcher,
            frame,
            panel,
            screen,
            state: State::default(),
            view: View::None,
            emits: Vec::new(),
        })
    }

    /// Shows the panel at its current step; `focus` moves keyboard focus into it.
    fn open(&mut self, options: OpenOptions, focus: bool) {
        // A bare `open` (the launcher, `nearmiss('open')`) keeps earlier options.
        if options.any() {
            self.state.options = options;
        }
        dom::show(&self.panel, true);
        if let Some(launcher) = &self.launcher {
            dom::show(launcher, false);
        }
        self.fit_viewport();
        if matches!(self.view, View::None) {
            self.render(focus);
        } else if focus {
            self.focus_next_frame();
        }
    }

    /// Hides the panel; a rating already chosen keeps sending. Closed before a score, it
    /// stays closed for this interaction.
    fn close(&mut self) {
        // Inline, the panel is part of the page: it stays.
        if self.embed.inline {
            return;
        }
        // Only what the customer saw and closed counts as dismissed.
        let seen = !self.panel.has_attribute("hidden");
        if seen && self.state.rating.is_none() && !matches!(self.memo(), Some(Memo::Rated(_))) {
            self.remember(&Memo::Dismissed);
        }
        dom::show(&self.panel, false);
        if let Some(launcher) = &self.launcher {
            dom::show(launcher, true);
            dom::focus(launcher);
        }
    }

    /// Removes the element and the listeners. What it was sending stays in the outbox.
    /// The loader's mark goes too, so that a script tag added again starts a new widget
    /// (a single-page app's next page).
    fn remove(self) {
        listen(&self.root, &LISTENED, "removeEventListener");
        listen(&self.viewport, &VIEWPORT, "removeEventListener");
        dom::call(&prop(&self.root, "host"), "remove", &[]);
        dom::set_prop(&self.window, "__nearmiss", &JsValue::from(0));
    }

    /// The interaction being rated: `nearmiss('open')`'s, or the script tag's.
    fn interaction(&self) -> Option<&str> {
        let options = self.state.options.interaction.as_deref();
        options.or(self.embed.interaction.as_deref())
    }

    /// What this browser remembers of the interaction.
    fn memo(&self) -> Option<Memo> {
        memo::read(&self.window, &self.embed.site, self.interaction()?)
    }

    fn remember(&self, what: &Memo) {
        if let Some(interaction) = self.interaction() {
            memo::write(&self.window, &self.embed.site, interaction, what);
        }
    }

    fn forget(&self) {
        if let Some(interaction) = self.interaction() {
            memo::forget(&self.window, &self.embed.site, interaction);
        }
    }

    /// Draws the current step from scratch.
    fn render(&mut self, focus: bool) {
        self.screen.set_text_content("");
        // Read only where it decides what is drawn: a question not yet answered here.
        let asking = self.state.stage == Stage::Question && self.state.rating.is_none();
        let rated = match asking.then(|| self.memo()).flatten() {
            Some(Memo::Rated(reference)) => Some(reference),
            _ => None,
        };
        let (screen, site) = (&self.screen, &self.site);
        self.view = match self.state.stage {
            // Rated already in this browser: its reference, not the question again.
            Stage::Question if rated.is_some() => {
                View::Done(done::already(screen, site, rated.flatten().as_deref()))
            }
            Stage::Question => {
                let group = question::build(screen, site, self.embed.rerate.is_some());
                if let (Some(chosen), Some(_)) = (&self.state.rating, self.state.changing) {
                    group.check((chosen.score - site.scale.min()) as usize);
                }
                View::Question(group)
            }
            Stage::Details => {
                let perfect = self
                    .state
                    .rating
                    .as_ref()
                    .is_some_and(|c| is_perfect(c.score, site.scale));
                View::Details(details::build(screen, site, perfect, &self.state.options))
            }
            Stage::Done => {
                let chosen = self.state.rating.as_ref();
                let answer = chosen.and_then(|c| c.answer.as_ref());
                // Offered while the server takes it, once it has the rating.
                // Not on the re-rating page: that score is the case's, not a new one.
                let changeable = self.embed.rerate.is_none()
                    && chosen.is_some_and(|c| {
                        c.answer.is_some() && js::Date::now_ms() - c.at < CHANGE_OFFERED_MS
                    });
                let state = &self.state;
                View::Done(done::build(
                    screen,
                    site,
                    answer,
                    state.contact_given,
                    // What the customer sent waits for the network, or a change was
                    // refused.
                    match (state.waiting, state.change_refused) {
                        (true, _) => Some("offline"),
                        (_, true) => Some("not_sent"),
                        _ => None,
                    },
                    changeable && !state.change_refused,
                ))
            }
        };
        if focus {
            self.focus_next_frame();
        }
    }

    /// Focuses the current screen once it has been drawn: focusing it in the same task
    /// forces the browser to lay it out there and then (half the first screen's task at
    /// 4x CPU throttling, measured with `cargo xtask bench widget --trace`).
    fn focus_next_frame(&self) {
        js::request_animation_frame(&self.callback(FOCUS));
    }

    /// Focuses the current screen: its checked (or first) radio, or its title.
    fn focus(&self) {
        let target = match &self.view {
            View::None => return,
            View::Question(group) => group.radios.get(group.checked().unwrap_or(0)),
            View::Details(view) => Some(&view.title),
            View::Done(title) => Some(title),
        };
        if let Some(target) = target {
            dom::focus(target);
        }
    }

    /// A click, key or change inside the shadow root, or the visual viewport resized or
    /// scrolled.
    fn event(&mut self, event: &JsValue) {
        let target = prop(event, "target");
        if target == self.viewport {
            self.fit_viewport();
            // The field being typed in, back into sight inside the panel.
            let focused = prop(&self.root, "activeElement");
            let nearest = dom::object(&[("block", "nearest".into())]);
            dom::call(&focused, "scrollIntoView", &[nearest]);
            return;
        }
        let Some(target) = target.dyn_ref::<Element>() else {
            return;
        };
        let class = prop(target, "className").as_string().unwrap_or_default();
        match prop(event, "type").as_string().as_deref() {
            Some("click") => match class.as_str() {
                "close" => self.close(),
                "score" => self.score_clicked(target),
                "chip" => toggle_chip(target),
                "send" => self.submit(),
                "change" => self.start_change(),
                _ => {}
            },
            Some("keydown") => {
                let key = prop(event, "key").as_string().unwrap_or_default();
                if key == "Escape" {
                    self.close();
                } else if class == "score" {
                    self.score_key(event, target, &key);
                }
            }
            Some("change") if class == "agree" => {
                if let View::Details(view) = &self.view {
                    view.consented(&self.site);
                }
            }
            _ => {}
        }
    }

    /// Keeps the panel inside the visual viewport: above a phone's on-screen keyboard
    /// (which covers the bottom of the page without moving what is fixed to it), and no
    /// taller than what is left.
    fn fit_viewport(&self) {
        let number = |object: &JsValue, key| prop(object, key).as_f64().unwrap_or(0.0);
        let (height, top) = (
            number(&self.viewport, "height"),
            number(&self.viewport, "offsetTop"),
        );
        if height <= 0.0 {
            // No visual viewport (an older browser): the stylesheet's defaults hold.
            return;
        }
        let covered = number(&self.window, "innerHeight") - height - top;
        let style = prop(&self.frame, "style");
        // Plain numbers: the stylesheet makes them pixels.
        for (name, px) in [
            ("--nm-keyboard", covered.max(0.0)),
            ("--nm-visible", height),
        ] {
            dom::call(&style, "setProperty", &[name.into(), px.into()]);
        }
    }

    fn score_clicked(&mut self, radio: &Element) {
        let View::Question(group) = &self.view else {
            return;
        };
        let Some(score) = group.score_of(radio) else {
            return;
        };
        group.check((score - group.scale.min()) as usize);
        self.choose(score);
    }

    /// Keys act from the focused radio (the event's target), as the WAI-ARIA radio group
    /// does: arrows move the check, Space or Enter chooses.
    fn score_key(&mut self, event: &JsValue, radio: &Element, key: &str) {
        let View::Question(group) = &self.view else {
            return;
        };
        let Some(score) = group.score_of(radio) else {
            return;
        };
        let from = (score - group.scale.min()) as usize;
        if key == " " || key == "Enter" {
            dom::call(event, "preventDefault", &[]);
            group.check(from);
            self.choose(score);
        } else if let Some(index) = key_target(key, Some(from), group.radios.len(), self.site.rtl) {
            dom::call(event, "preventDefault", &[]);
            group.check(index);
        }
    }

    /// The customer chose `score`: store it, send it at once, and show the next step.
    fn choose(&mut self, score: i64) {
        if self.state.rating.is_some() {
            if self.state.changing.is_some() {
                self.change_score(score);
            }
            return;
        }
        let perfect = is_perfect(score, self.site.scale);
        let options = &self.state.options;
        let embed = &self.embed;
        // Made here, not by the server, so a rating whose answer was lost on the way can
        // still be given its details: the replay's answer carries it too.
        let edit = send::new_id();
        let rating = Rating {
            id: send::new_id(),
            edit: Some(edit.clone()),
            site: embed.site.clone(),
            score,
            interaction: options.interaction.clone().or(embed.interaction.clone()),
            token: options.token.clone().or(embed.token.clone()),
            page: send::page(&self.window),
            locale: embed.lang.clone().or_else(|| send::language(&self.window)),
            rerate: embed.rerate.clone(),
        };
        // Into the outbox before any network call: a customer who walks away now still
        // raises the flag, from this page or the next one they open.
        let url = self.url("/v1/ratings");
        let body = send::rating_body(&rating);
        let key = self.outbox.put(&rating.id, "r", &url, &body);
        rated(&mut self.emits, &rating.id, score, perfect);
        self.remember(&Memo::Rated(None));
        self.state.rating = Some(Chosen {
            id: rating.id,
            edit,
            score,
            at: js::Date::now_ms(),
            stored: Stored { key, url, body },
            answer: None,
            in_flight: false,
            refused: false,
        });
        self.state.stage = Stage::Details;
        self.render(true);
        self.send_rating();
    }

    /// Sends the chosen rating through the outbox, unless it is answered or on its way.
    /// Safe to repeat: the id makes the server answer a repeat with the first answer.
    fn send_rating(&mut self) {
        let Some(chosen) = self.state.rating.as_mut() else {
            return;
        };
        if chosen.answer.is_some() || chosen.in_flight || chosen.refused {
            return;
        }
        chosen.in_flight = true;
        if let Some(chosen) = &self.state.rating {
            self.send(&chosen.stored, RATING_SENT, RATING_FAILED);
        }
    }

    /// Reads the details form, checks it with the core's rules, stores and sends it.
    fn submit(&mut self) {
        let View::Details(view) = &self.view else {
            return;
        };
        let Some(chosen) = &self.state.rating else {
            return;
        };
        if self.state.sending || chosen.refused {
            return;
        }
        let mut details = view.read(&self.embed.site);
        details.edit = Some(chosen.edit.clone());
        if let Err(err) = details.validate(&self.site.reasons) {
            let mut words = self.site.word(err.code());
            if words.is_empty() {
                words = self.site.word("invalid");
            }
            return view.error(&words);
        }
        view.error("");
        view.sending(&self.site, true);
        let url = rating_url(&self.embed.endpoint, &chosen.id, "/details");
        let body = send::details_body(&details);
        let key = self.outbox.put(&chosen.id, "d", &url, &body);
        let answered = chosen.answer.is_some();
        self.state.details = Some(Stored { key, url, body });
        self.state.sending = true;
        self.state.contact_given = details.contact.is_some();
        if answered {
            self.send_details();
        } else {
            // The customer is waiting: try the rating now rather than on its backoff.
            self.send_rating();
        }
    }

    fn send_details(&mut self) {
        if let Some(s) = &self.state.details {
            self.send(s, DETAILS_SENT, DETAILS_FAILED);
        }
    }

    /// Sends a stored submission through the outbox; the handler hears `ok` or `failed`.
    fn send(&self, s: &Stored, ok: u32, failed: u32) {
        let promise = self.outbox.send(&s.key, &s.url, &s.body);
        self.then(promise, ok, failed);
    }

    /// Calls the handler back with `ok` or `failed` when `promise` settles.
    fn then(&self, promise: JsValue, ok: u32, failed: u32) {
        dom::call(
            &promise,
            "then",
            &[self.callback(ok), self.callback(failed)],
        );
    }

    /// The handler with this widget's tag for `kind` as its first argument.
    fn callback(&self, kind: u32) -> JsValue {
        let tag = (self.generation * KINDS + kind) as f64;
        dom::call(handler(), "bind", &[JsValue::NULL, tag.into()])
    }

    /// A send settled or a retry is due.
    fn reply(&mut self, tag: u32, value: JsValue) {
        if tag / KINDS != self.generation {
            return;
        }
        match tag % KINDS {
            RATING_SENT => self.rating_answered(&value),
            SCORE_SENT => self.score_answered(&value),
            SCORE_FAILED => self.score_failed(&value),
            RATING_FAILED => self.rating_failed(&value),
            RETRY_RATING => self.send_rating(),
            RETRY_SCORE => self.send_score(),
            FOCUS => self.focus(),
            DETAILS_SENT => {
                self.state.details = None;
                self.finish(false);
            }
            _ => {
                if send::is_transient(&value) {
                    // The outbox keeps them and sends them when it can.
                    self.finish(true);
                } else {
                    self.refused();
                }
            }
        }
    }

    /// "Change my score": the question again, the score given checked.
    fn start_change(&mut self) {
        let Some(chosen) = &self.state.rating else {
            return;
        };
        // Offered when drawn; a screen left open past the window loses the offer.
        if js::Date::now_ms() - chosen.at >= CHANGE_OFFERED_MS {
            return self.render(true);
        }
        self.state.changing = Some(chosen.score);
        self.state.stage = Stage::Question;
        self.render(true);
    }

    /// The customer chose `score` instead: stored and sent like the rating (after it),
    /// and the next step is the one for the new score. The same score changes nothing.
    fn change_score(&mut self, score: i64) {
        let Some(chosen) = self.state.rating.as_mut() else {
            return;
        };
        if score == chosen.score {
            self.state.changing = None;
            self.state.stage = Stage::Done;
            return self.render(true);
        }
        let perfect = is_perfect(score, self.site.scale);
        chosen.score = score;
        let url = rating_url(&self.embed.endpoint, &chosen.id, "/score");
        let body = send::score_body(&self.embed.site, &chosen.edit, score);
        let key = self.outbox.put(&chosen.id, "s", &url, &body);
        rated(&mut self.emits, &chosen.id, score, perfect);
        self.state.score = Some(Stored { key, url, body });
        self.send_score();
        self.state.stage = Stage::Details;
        self.render(true);
    }

    /// Sends the changed score through the outbox (again, after a network failure).
    fn send_score(&mut self) {
        if let Some(s) = &self.state.score {
            self.send(s, SCORE_SENT, SCORE_FAILED);
        }
    }

    /// The server took the new score: its answer names the case now told about.
    fn score_answered(&mut self, reply: &JsValue) {
        let Some(chosen) = self.state.rating.as_mut() else {
            return;
        };
        let answer = Answer::from_reply(reply);
        let reference = answer.case_ref.clone();
        chosen.answer = Some(answer);
        self.state.changing = None;
        self.state.score = None;
        self.remember(&Memo::Rated(reference));
        if self.state.stage == Stage::Done {
            self.render(false);
        }
    }

    /// The change did not reach the server: kept in the outbox while the network is the
    /// cause; refused (too late), the score given before stands, and the customer is told.
    fn score_failed(&mut self, code: &JsValue) {
        if send::is_transient(code) {
            // Again on the outbox's schedule while the page is open (the outbox keeps it
            // for the next page otherwise).
            if let Some(s) = &self.state.score {
                let wait = self.outbox.wait(&s.key);
                js::set_timeout(&self.callback(RETRY_SCORE), wait);
            }
            return;
        }
        self.state.score = None;
        let (Some(chosen), Some(score)) = (self.state.rating.as_mut(), self.state.changing.take())
        else {
            return;
        };
        chosen.score = score;
        self.state.change_refused = true;
        self.state.stage = Stage::Done;
        self.render(true);
    }

    fn rating_answered(&mut self, reply: &JsValue) {
        let Some(chosen) = self.state.rating.as_mut() else {
            return;
        };
        chosen.in_flight = false;
        // `null` when another tab had sent it: it is on the server all the same.
        let answer = Answer::from_reply(reply);
        let case = answer
            .case_ref
            .as_deref()
            .map_or(JsValue::NULL, JsValue::from);
        self.emits.push((
            "sent",
            dom::object(&[("id", chosen.id.as_str().into()), ("case", case)]),
        ));
        let reference = answer.case_ref.clone();
        chosen.answer = Some(answer);
        self.remember(&Memo::Rated(reference));
        if self.state.details.is_some() {
            self.send_details();
        } else if self.state.stage == Stage::Done && self.state.waiting {
            // Back online: the reference can be shown, and the offline note goes.
            self.finish(false);
        }
    }

    fn rating_failed(&mut self, code: &JsValue) {
        let Some(chosen) = self.state.rating.as_mut() else {
            return;
        };
        chosen.in_flight = false;
        if !send::is_transient(code) {
            // Refused: the outbox dropped it (and said why on the console). The customer
            // is told at once, and the details, which need their rating, are not offered.
            // Nothing is rated, so nothing is remembered.
            chosen.refused = true;
            self.forget();
            return self.refused();
        }
        // Keep trying while the page is open, on the outbox's schedule (its backoff or
        // the server's Retry-After).
        let wait = self.outbox.wait(&chosen.stored.key);
        js::set_timeout(&self.callback(RETRY_RATING), wait);
        if self.state.sending {
            // The details wait in the outbox behind their rating.
            self.finish(true);
        }
    }

    /// The details were taken, or wait in the outbox (`waiting`): the last screen.
    fn finish(&mut self, waiting: bool) {
        self.state.sending = false;
        self.state.waiting = waiting;
        self.state.stage = Stage::Done;
        self.render(true);
    }

    /// The server refused the details, or their rating: the outbox dropped them. The
    /// customer may send the details again, unless it was the rating.
    fn refused(&mut self) {
        self.state.sending = false;
        self.state.details = None;
        let rating_refused = self.state.rating.as_ref().is_some_and(|c| c.refused);
        if let View::Details(view) = &self.view {
            view.error(&self.site.word("not_sent"));
            view.sending(&self.site, false);
            if rating_refused {
                view.closed();
            }
        }
    }

    fn url(&self, path: &str) -> String {
        let mut url = self.embed.endpoint.clone();
        url.push_str(path);
        url
    }
}

/// `/v1/ratings/{id}` and `tail` at `endpoint`: where a rating's details and changed
/// score go.
fn rating_url(endpoint: &str, id: &str, tail: &str) -> String {
    let mut url = String::from(endpoint);
    url.push_str("/v1/ratings/");
    url.push_str(id);
    url.push_str(tail);
    url
}

/// The page's `rated` event, and `flagged` for a near miss: `{id, score, perfect}`.
fn rated(emits: &mut Vec<(&'static str, JsValue)>, id: &str, score: i64, perfect: bool) {
    let detail = dom::object(&[
        ("id", id.into()),
        ("score", (score as f64).into()),
        ("perfect", perfect.into()),
    ]);
    emits.push(("rated", detail.clone()));
    if !perfect {
        emits.push(("flagged", detail));
    }
}

/// Adds (`method`: `addEventListener`) or removes the handler for `events` on `target`
/// (nothing when `target` is missing, as `visualViewport` is in older browsers).
fn listen(target: &JsValue, events: &[&str], method: &str) {
    for event in events {
        dom::call(target, method, &[(*event).into(), handler().into()]);
    }
}

/// Adds the panel's stylesheet to the shadow root, after the loader's, as a constructed
/// stylesheet: unlike a `<style>` element it needs no `style-src 'unsafe-inline'` in the
/// host page's CSP. A `<style>` element (with the page's nonce) where the browser cannot.
fn adopt_style(root: &JsValue, window: &JsValue, frame: &Element, nonce: Option<&str>) {
    let sheet = js::construct(&prop(window, "CSSStyleSheet"), &js::Array::new());
    if let Ok(sheet) = sheet {
        dom::call(&sheet, "replaceSync", &[STYLE.into()]);
        let sheets = dom::call(&prop(root, "adoptedStyleSheets"), "concat", &[sheet]);
        dom::set_prop(root, "adoptedStyleSheets", &sheets);
    } else {
        let style = dom::add_text(frame, "style", "", STYLE);
        if let Some(nonce) = nonce {
            dom::set_prop(&style, "nonce", &nonce.into());
        }
    }
}

//! What the loader hands to `boot` (the script tag's `data-` attributes, the site's
//! settings, the shadow root it drew in) and `nearmiss('open', …)` options, read from
//! plain JS objects.

use crate::dom::{prop, text};
use alloc::borrow::ToOwned;
use alloc::string::String;
use wasm_bindgen::JsValue;

/// When the widget asks.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// A floating "Rate your visit" button (the default), drawn by the loader.
    Button,
    /// Ask at once: receipt and thank-you pages.
    Open,
    /// Only through `nearmiss('open')`.
    Manual,
}

/// What the loader passes to `boot`.
pub struct Embed {
    pub site: String,
    pub trigger: Trigger,
    pub interaction: Option<String>,
    pub token: Option<String>,
    pub lang: Option<String>,
    /// `data-mount`: drawn inside the page's element, not floating.
    pub inline: bool,
    /// `data-theme`: `light`, `dark` or `auto` (the browser's).
    pub theme: Option<String>,
    /// `data-nonce`: the page's CSP nonce, for a `<style>` where constructed stylesheets
    /// are not supported.
    pub nonce: Option<String>,
    /// The re-rating link's token (`data-rerate`, on the re-rating page).
    pub rerate: Option<String>,
    /// The collector's base URL, without a trailing slash.
    pub endpoint: String,
    /// The loader's outbox.
    pub outbox: JsValue,
    /// The site's settings (`GET /v1/sites/{key}/widget`), as JSON.
    pub config: JsValue,
    /// The shadow root the loader drew in.
    pub root: JsValue,
}

/// What `nearmiss('open', {...})` may set.
#[derive(Clone, Default)]
pub struct OpenOptions {
    pub interaction: Option<String>,
    pub token: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

impl Embed {
    pub fn from_js(value: &JsValue) -> Result<Embed, &'static str> {
        let site = text(value, "site").ok_or("nearmiss: data-site is missing")?;
        let endpoint = text(value, "endpoint").ok_or("nearmiss: no endpoint")?;
        let inline = text(value, "mount").is_some();
        let trigger = match text(value, "trigger").as_deref() {
            // Inline asks at once, as the loader does.
            None if inline => Trigger::Open,
            None | Some("button") => Trigger::Button,
            Some("open") => Trigger::Open,
            Some("manual") => Trigger::Manual,
            Some(_) => return Err("nearmiss: data-trigger must be button, open or manual"),
        };
        let root = prop(value, "root");
        if !root.is_object() {
            return Err("nearmiss: no shadow root to draw in");
        }
        Ok(Embed {
            site,
            trigger,
            interaction: text(value, "interaction"),
            token: text(value, "interactionToken"),
            lang: text(value, "lang"),
            inline,
            theme: text(value, "theme"),
            nonce: text(value, "nonce"),
            rerate: text(value, "rerate"),
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            outbox: prop(value, "outbox"),
            config: prop(value, "config"),
            root,
        })
    }
}

impl OpenOptions {
    pub fn from_js(value: &JsValue) -> OpenOptions {
        let contact = prop(value, "contact");
        OpenOptions {
            interaction: text(value, "interaction"),
            // `token` as the product documents it; `interactionToken` as the tag's.
            token: text(value, "token").or_else(|| text(value, "interactionToken")),
            email: text(&contact, "email"),
            phone: text(&contact, "phone"),
        }
    }

    /// Whether any option was given (a bare `open` keeps the earlier ones).
    pub fn any(&self) -> bool {
        self.interaction.is_some()
            || self.token.is_some()
            || self.email.is_some()
            || self.phone.is_some()
    }
}

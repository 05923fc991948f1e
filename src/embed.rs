//! The embed settings (the script tag's `data-` attributes) and `nearmiss('open', …)`
//! options, read from plain JS objects.

use wasm_bindgen::JsValue;

/// When the widget asks.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// A floating "Rate your visit" button (the default).
    Button,
    /// Ask at once: receipt and thank-you pages.
    Open,
    /// Only through `nearmiss('open')`.
    Manual,
}

/// What the loader passes to `boot`.
#[derive(Clone)]
pub struct Embed {
    pub site: String,
    pub trigger: Trigger,
    pub interaction: Option<String>,
    pub token: Option<String>,
    pub lang: Option<String>,
    /// The re-rating link's token (`data-rerate`, on the re-rating page).
    pub rerate: Option<String>,
    /// The collector's base URL, without a trailing slash.
    pub endpoint: String,
    /// The loader's outbox.
    pub outbox: JsValue,
    /// The loader's fetch of the site's settings: a promise of their JSON.
    pub config: JsValue,
}

/// What `nearmiss('open', {...})` may set.
#[derive(Clone, Default)]
pub struct OpenOptions {
    pub interaction: Option<String>,
    pub token: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

fn string(object: &JsValue, key: &str) -> Option<String> {
    crate::dom::prop(object, key)
        .as_string()
        .filter(|s| !s.is_empty())
}

impl Embed {
    pub fn from_js(value: &JsValue) -> Result<Embed, &'static str> {
        let site = string(value, "site").ok_or("nearmiss: data-site is missing")?;
        let endpoint = string(value, "endpoint").ok_or("nearmiss: no endpoint")?;
        let trigger = match string(value, "trigger").as_deref() {
            None | Some("button") => Trigger::Button,
            Some("open") => Trigger::Open,
            Some("manual") => Trigger::Manual,
            Some(_) => return Err("nearmiss: data-trigger must be button, open or manual"),
        };
        Ok(Embed {
            site,
            trigger,
            interaction: string(value, "interaction"),
            token: string(value, "token"),
            lang: string(value, "lang"),
            rerate: string(value, "rerate"),
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            outbox: crate::dom::prop(value, "outbox"),
            config: crate::dom::prop(value, "config"),
        })
    }
}

impl OpenOptions {
    pub fn from_js(value: &JsValue) -> OpenOptions {
        if !value.is_object() {
            return OpenOptions::default();
        }
        let contact = crate::dom::prop(value, "contact");
        OpenOptions {
            interaction: string(value, "interaction"),
            token: string(value, "token"),
            email: string(&contact, "email"),
            phone: string(&contact, "phone"),
        }
    }
}

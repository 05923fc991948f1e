//! The site's settings for the widget (`GET /v1/sites/{key}/widget`): its scale, reason
//! chips, apology, who answers, and the public review link. The loader starts fetching
//! them while the wasm downloads, and hands the promise to `boot`.

use crate::dom::prop;
use nearmiss_core::Scale;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

#[derive(Clone)]
pub struct SiteConfig {
    pub scale: Scale,
    pub reasons: Vec<String>,
    pub apology: String,
    pub owner: String,
    pub ack_within_minutes: u32,
    pub review_url: Option<String>,
}

impl SiteConfig {
    /// Waits for the loader's fetch of the settings (a promise of their JSON).
    pub async fn load(promise: JsValue) -> Option<SiteConfig> {
        let body = JsFuture::from(js_sys::Promise::resolve(&promise))
            .await
            .ok()?;
        body.is_object().then(|| SiteConfig::from_js(&body))
    }

    fn from_js(body: &JsValue) -> SiteConfig {
        let scale = prop(body, "scale")
            .as_f64()
            .and_then(|top| Scale::try_from(top as u8).ok())
            .unwrap_or_default();
        let reasons = js_sys::Array::from(&prop(body, "reasons"))
            .iter()
            .filter_map(|reason| reason.as_string())
            .collect();
        SiteConfig {
            scale,
            reasons,
            apology: prop(body, "apology").as_string().unwrap_or_default(),
            owner: prop(body, "owner").as_string().unwrap_or_default(),
            ack_within_minutes: prop(body, "ack_within_minutes").as_f64().unwrap_or(15.0) as u32,
            review_url: prop(body, "review_url")
                .as_string()
                .filter(|url| url.starts_with("https://") || url.starts_with("http://")),
        }
    }
}

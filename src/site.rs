//! The site's settings for the widget (`GET /v1/sites/{key}/widget`): its scale, reason
//! chips, apology, who answers, and the public review link.

use crate::dom::prop;
use crate::net::{self, Failure};
use nearmiss_core::Scale;
use wasm_bindgen::JsValue;

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
    pub async fn fetch(endpoint: &str, site: &str) -> Result<SiteConfig, Failure> {
        let mut url = String::from(endpoint);
        url.push_str("/v1/sites/");
        url.push_str(&String::from(js_sys::encode_uri_component(site)));
        url.push_str("/widget");
        let mut attempt = 0;
        loop {
            match net::get_json(&url).await {
                Ok(body) => return Ok(SiteConfig::from_js(&body)),
                Err(failure) if failure.is_transient() && attempt < 3 => {
                    attempt += 1;
                    net::sleep(500 << attempt).await;
                }
                Err(failure) => return Err(failure),
            }
        }
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

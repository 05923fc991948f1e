//! Sites: the businesses' pages that embed the widget, with their scale, deadlines,
//! reason chips, the apology's words, the origins allowed to send ratings, and their keys.

use crate::error::Error;
use crate::hours::OpeningHours;
use crate::store::{Store, StoreError};
use crate::time::millis;
use nearmiss_core::{check_line, check_text, Scale, LIMITS};
use std::time::Duration;

pub use crate::store::{Site, SiteSettings};

impl SiteSettings {
    /// Settings with the product's defaults for a business called `name`.
    pub fn new(name: &str) -> SiteSettings {
        SiteSettings {
            name: name.to_owned(),
            origins: Vec::new(),
            scale: Scale::Stars5,
            ack_within: Duration::from_secs(15 * 60),
            close_within: Duration::from_secs(2 * 24 * 60 * 60),
            reasons: ["Waiting time", "Quality", "Staff", "Price", "Something else"]
                .map(String::from)
                .to_vec(),
            causes: [
                "Staffing",
                "Training",
                "Process",
                "Supplier",
                "Equipment",
                "Communication",
                "Other",
            ]
            .map(String::from)
            .to_vec(),
            require_token: false,
            apology: "We're sorry. That's not the experience we promised you, and it's on us to put it right.".into(),
            owner: format!("The {name} team"),
            review_url: None,
            timezone: "UTC".into(),
            hours: None,
            words: Default::default(),
            accent: None,
        }
    }

    /// When a case opened at `now` must be acknowledged: `ack_within` of open time.
    pub fn ack_due(&self, now: i64) -> i64 {
        self.due(now, self.ack_within)
    }

    /// When a case opened at `now` must be closed: `close_within` of open time.
    pub fn close_due(&self, now: i64) -> i64 {
        self.due(now, self.close_within)
    }

    /// `within` after `now`, counting only the opening hours when the site has them.
    fn due(&self, now: i64, within: Duration) -> i64 {
        match &self.hours {
            Some(hours) => hours.deadline(now, within, &self.timezone),
            None => now.saturating_add(millis(within)),
        }
    }
}

impl Site {
    /// Whether a browser page on `origin` may send this site's ratings.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.settings.origins.iter().any(|o| o == origin)
    }
}

/// A new site's public key.
pub fn new_key() -> String {
    format!("s_{}", crate::random::token(20))
}

/// Adds a site with a new key and signing secret.
pub fn add(store: &Store, settings: SiteSettings, now: i64) -> Result<Site, StoreError> {
    let key = new_key();
    let secret = crate::random::token(40);
    let site = store.write_now(move |tx| {
        let id = tx.insert_site(&settings, &key, &secret, now)?;
        Ok::<_, StoreError>(Site {
            id,
            key,
            secret,
            settings,
        })
    })?;
    store.forget_sites();
    Ok(site)
}

/// The active site with this key (a rotated-out key works during its grace).
pub async fn find(store: &Store, key: &str, now: i64) -> Result<Site, Error> {
    if key.trim().is_empty() {
        return Err(nearmiss_core::ValidationError {
            kind: nearmiss_core::ErrorKind::Required,
            field: "site",
        }
        .into());
    }
    store.site_by_key(key, now).await?.ok_or(Error::UnknownSite)
}

/// Gives the site that has or had `key` a new key; the old one works for `grace`, and a
/// revoked site works again. Returns the new key.
pub fn rotate_key(store: &Store, key: &str, grace: Duration, now: i64) -> Result<String, Error> {
    let key = key.to_owned();
    let new_key = new_key();
    let answer = new_key.clone();
    store.write_now(move |tx| {
        let site_id = tx.site_id_by_any_key(&key)?.ok_or(Error::UnknownSite)?;
        tx.rotate_key(site_id, &new_key, now.saturating_add(millis(grace)))?;
        Ok::<_, Error>(())
    })?;
    store.forget_sites();
    Ok(answer)
}

/// Stops every key of a site at once; its data stays, and `rotate_key` revives it.
pub fn revoke(store: &Store, site_id: i64, now: i64) -> Result<(), StoreError> {
    store.write_now(move |tx| tx.revoke_site(site_id, now))?;
    store.forget_sites();
    Ok(())
}

/// Turns `https://Shop.Example:443/path` into `https://shop.example`: the form browsers
/// send in the `Origin` header. `None` when it is not an http(s) origin.
pub fn normalize_origin(input: &str) -> Option<String> {
    let input = input.trim();
    let (scheme, rest) = input.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next()?.to_ascii_lowercase();
    // A host, maybe a port: never a wildcard, a user or anything a browser would not send.
    let host_chars =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
    if authority.is_empty()
        || !authority.chars().all(host_chars)
        || authority.starts_with(['.', ':'])
    {
        return None;
    }
    let authority = authority.strip_suffix(default_port).unwrap_or(&authority);
    Some(format!("{scheme}://{authority}"))
}

/// A site's settings as staff type them in the desk's form, before they are checked.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct SiteForm {
    /// The business's name.
    pub name: String,
    /// Allowed origins, one per line.
    pub origins: String,
    /// "5" or "10".
    pub scale: String,
    /// Like "15m".
    pub ack_within: String,
    /// Like "2d".
    pub close_within: String,
    /// Reason chips, one per line.
    pub reasons: String,
    /// Root-cause categories, one per line.
    pub causes: String,
    /// The apology.
    pub apology: String,
    /// Who will get back to the customer.
    pub owner: String,
    /// A public review link, or empty.
    pub review_url: String,
    /// An IANA time zone.
    pub timezone: String,
    /// Opening hours like `Mo-Fr 09:00-17:30; Sa 10:00-14:00`, or empty: always open.
    #[serde(default)]
    pub hours: String,
    /// The site's own wording, one `en.question = How was your order?` a line.
    #[serde(default)]
    pub words: String,
    /// The accent colour, `#0a7d5a`, or empty: the widget's own.
    #[serde(default)]
    pub accent: String,
    /// "on" when ticked.
    pub require_token: Option<String>,
}

impl SiteForm {
    /// The form filled with a site's settings.
    pub fn of(settings: &SiteSettings) -> SiteForm {
        let span = |d: Duration| humantime::format_duration(d).to_string();
        SiteForm {
            name: settings.name.clone(),
            origins: settings.origins.join("\n"),
            scale: u8::from(settings.scale).to_string(),
            ack_within: span(settings.ack_within),
            close_within: span(settings.close_within),
            reasons: settings.reasons.join("\n"),
            causes: settings.causes.join("\n"),
            apology: settings.apology.clone(),
            owner: settings.owner.clone(),
            review_url: settings.review_url.clone().unwrap_or_default(),
            timezone: settings.timezone.clone(),
            hours: settings
                .hours
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            words: settings.words.to_string(),
            accent: settings.accent.clone().unwrap_or_default(),
            require_token: settings.require_token.then(|| "on".into()),
        }
    }

    /// The settings it describes, or the first field that is wrong and why.
    pub fn settings(&self) -> Result<SiteSettings, Error> {
        let bad = |field, message| Err(Error::invalid("invalid_setting", field, message));
        let name = self.name.trim();
        if name.is_empty() || check_line(name, "name", LIMITS.site).is_err() {
            return bad("name", "Give the business's name, on one line.");
        }
        let mut settings = SiteSettings::new(name);
        for line in lines(&self.origins) {
            match normalize_origin(line) {
                Some(origin) if !settings.origins.contains(&origin) => settings.origins.push(origin),
                Some(_) => {}
                None => return bad("origins", "Each origin is like https://shop.example: http or https, a host, maybe a port."),
            }
        }
        if settings.origins.is_empty() {
            return bad(
                "origins",
                "Give at least one origin the widget is embedded on.",
            );
        }
        settings.scale = match self.scale.trim() {
            "5" => Scale::Stars5,
            "10" => Scale::Ten,
            _ => return bad("scale", "The scale is 1 to 5 stars or 0 to 10."),
        };
        settings.ack_within = match deadline(&self.ack_within, MIN_ACK, MAX_ACK) {
            Some(d) => d,
            None => {
                return bad(
                    "ack_within",
                    "Acknowledge within 1 minute to 30 days, like 15m or 2h.",
                )
            }
        };
        settings.close_within = match deadline(&self.close_within, MIN_CLOSE, MAX_CLOSE) {
            Some(d) => d,
            None => return bad("close_within", "Close within 1 hour to 365 days, like 2d."),
        };
        settings.reasons = lines(&self.reasons).map(str::to_owned).collect();
        if settings.reasons.is_empty()
            || settings.reasons.len() > MAX_CHOICES
            || settings
                .reasons
                .iter()
                .any(|r| check_line(r, "reasons", LIMITS.reason).is_err())
        {
            return bad("reasons", "Give 1 to 12 reasons, one short line each.");
        }
        settings.causes = lines(&self.causes).map(str::to_owned).collect();
        if settings.causes.is_empty()
            || settings.causes.len() > MAX_CHOICES
            || settings
                .causes
                .iter()
                .any(|c| check_line(c, "causes", LIMITS.reason).is_err())
        {
            return bad(
                "causes",
                "Give 1 to 12 root-cause categories, one short line each.",
            );
        }
        settings.apology = self.apology.trim().to_owned();
        if settings.apology.is_empty()
            || check_text(&settings.apology, "apology", LIMITS.note).is_err()
        {
            return bad(
                "apology",
                "Write the apology customers see after a near miss.",
            );
        }
        settings.owner = self.owner.trim().to_owned();
        if settings.owner.is_empty() || check_line(&settings.owner, "owner", LIMITS.actor).is_err()
        {
            return bad(
                "owner",
                "Say who will get back to the customer, on one line.",
            );
        }
        let review = self.review_url.trim();
        settings.review_url = match review {
            "" => None,
            url if (url.starts_with("https://") || url.starts_with("http://"))
                && url.len() > "https://".len()
                && check_line(url, "review_url", LIMITS.page).is_ok()
                && !url.contains(char::is_whitespace) =>
            {
                Some(url.to_owned())
            }
            _ => {
                return bad(
                    "review_url",
                    "The review link is an http or https address, or empty.",
                )
            }
        };
        settings.timezone = self.timezone.trim().to_owned();
        if !crate::time::is_zone(&settings.timezone) {
            return bad(
                "timezone",
                "Give a time zone like Europe/London or America/New_York.",
            );
        }
        settings.hours = match self.hours.trim() {
            "" => None,
            text => match OpeningHours::parse(text) {
                Ok(hours) => Some(hours),
                Err(_) => return bad("hours", "Opening hours are days and times, like Mo-Fr 09:00-17:30; Sa 10:00-14:00 (an end before its start runs past midnight), or empty for always open."),
            },
        };
        settings.words = match crate::words::OwnWords::parse(&self.words) {
            Ok(words) => words,
            Err(_) => return bad("words", "Each line is LANGUAGE.WORD = text, like en.question = How was your order?, with the {…} names of the word it replaces."),
        };
        settings.accent = match self.accent.trim() {
            "" => None,
            text => match accent(text) {
                Some(colour) => Some(colour),
                None => {
                    return bad(
                        "accent",
                        "The accent is a colour like #0a7d5a, or empty for the widget's own.",
                    )
                }
            },
        };
        settings.require_token = self.require_token.is_some();
        Ok(settings)
    }
}

/// An accent colour as `#rrggbb` (lower case), from `#rgb` or `#rrggbb`; `None` for
/// anything else. Only these reach the widget's stylesheet.
pub fn accent(text: &str) -> Option<String> {
    let hex = text.trim().strip_prefix('#')?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let hex = hex.to_ascii_lowercase();
    match hex.len() {
        6 => Some(format!("#{hex}")),
        3 => Some(hex.chars().fold("#".to_owned(), |mut out, c| {
            out.push(c);
            out.push(c);
            out
        })),
        _ => None,
    }
}

/// Most reasons or causes a site may offer.
const MAX_CHOICES: usize = 12;
const MIN_ACK: Duration = Duration::from_secs(60);
const MAX_ACK: Duration = Duration::from_secs(30 * 24 * 3600);
const MIN_CLOSE: Duration = Duration::from_secs(3600);
const MAX_CLOSE: Duration = Duration::from_secs(365 * 24 * 3600);

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty())
}

fn deadline(text: &str, min: Duration, max: Duration) -> Option<Duration> {
    humantime::parse_duration(text.trim())
        .ok()
        .filter(|d| (min..=max).contains(d))
}

/// Replaces a site's settings; a running server sees them at once. The scale stays once
/// ratings have arrived: their scores would otherwise read against the wrong one.
pub async fn update(store: &Store, site_id: i64, settings: SiteSettings) -> Result<(), Error> {
    store
        .write(move |tx| {
            let current = tx.site_by_id(site_id)?.ok_or(Error::UnknownSite)?;
            if current.settings.scale != settings.scale && tx.site_has_ratings(site_id)? {
                return Err(Error::invalid(
                    "scale_fixed",
                    "scale",
                    "The scale cannot change once ratings have arrived: their scores would read wrong. Add a new site for the new scale.",
                ));
            }
            Ok(tx.update_site(site_id, &settings)?)
        })
        .await?;
    store.forget_sites();
    Ok(())
}

/// The widget's settings for `site`, asked by a page that may send ratings or not, for
/// a customer who reads the languages `asked` (most wanted first, see
/// [`crate::words::negotiate`]).
pub fn widget_settings(
    site: &Site,
    origin_allowed: bool,
    asked: &str,
) -> nearmiss_core::WidgetSettings {
    let s = &site.settings;
    let (lang, language) = crate::words::negotiate(asked);
    let own = |language, word| s.words.get(language, word);
    nearmiss_core::WidgetSettings {
        scale: s.scale.into(),
        reasons: s.reasons.clone(),
        apology: own(language, "apology").unwrap_or(&s.apology).to_owned(),
        owner: own(language, "owner").unwrap_or(&s.owner).to_owned(),
        ack_within_minutes: s.ack_within.as_secs().div_ceil(60),
        review_url: s.review_url.clone(),
        origin_allowed,
        accent: s.accent.clone(),
        lang,
        time_zone: s.timezone.clone(),
        words: crate::words::for_site(s, language),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalized_like_browsers_send_them() {
        assert_eq!(
            normalize_origin("https://Shop.Example/"),
            Some("https://shop.example".into())
        );
        assert_eq!(
            normalize_origin("https://shop.example:443"),
            Some("https://shop.example".into())
        );
        assert_eq!(
            normalize_origin("http://127.0.0.1:8080/x?y"),
            Some("http://127.0.0.1:8080".into())
        );
        assert_eq!(normalize_origin("ftp://shop.example"), None);
        assert_eq!(normalize_origin("shop.example"), None);
        assert_eq!(normalize_origin("https://"), None);
        assert_eq!(normalize_origin("https://*.shop.example"), None);
        assert_eq!(normalize_origin("https://user@shop.example"), None);
        assert_eq!(
            normalize_origin("http://[::1]:8080"),
            Some("http://[::1]:8080".into())
        );
    }
}

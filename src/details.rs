//! The second screen, after a score was chosen (and is already on its way): the perfect
//! path thanks and asks what made it great; the near-miss path apologises in the site's
//! words, offers its reason chips, and asks whether and how the business may answer,
//! promising who will and how soon.

use crate::dom;
use crate::embed::OpenOptions;
use crate::js::Element;
use crate::site::Site;
use alloc::string::String;
use alloc::vec::Vec;
use nearmiss_core::{Contact, Details, LIMITS};

/// The screen's elements that the widget reads or changes later.
pub struct View {
    pub title: Element,
    comment: Element,
    /// Each chip with its reason.
    chips: Vec<(Element, String)>,
    consent: Option<Element>,
    contact_label: Option<Element>,
    contact: Option<Element>,
    promise: Option<Element>,
    error: Element,
    send: Element,
}

/// Draws the screen in `screen`; `options` may bring the customer's contact already.
pub fn build(screen: &Element, site: &Site, perfect: bool, options: &OpenOptions) -> View {
    let title = if perfect {
        site.add(screen, "h2", "title", "perfect_thanks")
    } else {
        dom::add_text(screen, "h2", "title apology", &site.apology)
    };
    dom::attrs(&title, &[("id", "nm-title"), ("tabindex", "-1")]);
    let prompt = if perfect {
        "perfect_prompt"
    } else {
        "miss_prompt"
    };
    let prompt = site.add(screen, "p", "prompt", prompt);
    dom::attrs(&prompt, &[("id", "nm-prompt")]);
    let mut chips = Vec::new();
    if !perfect && !site.reasons.is_empty() {
        let group = dom::add(screen, "div", "chips");
        dom::attrs(
            &group,
            &[("role", "group"), ("aria-labelledby", "nm-prompt")],
        );
        for reason in &site.reasons {
            let chip = dom::add_text(&group, "button", "chip", reason);
            dom::attrs(&chip, &[("type", "button"), ("aria-pressed", "false")]);
            chips.push((chip, reason.clone()));
        }
    }
    let comment = dom::add(screen, "textarea", "comment");
    dom::attrs(
        &comment,
        &[
            ("aria-labelledby", "nm-prompt"),
            ("maxlength", &dom::number(LIMITS.comment as u32)),
            ("rows", "3"),
        ],
    );
    let (mut consent, mut contact_label, mut contact, mut promise) = (None, None, None, None);
    if !perfect {
        let consent_label = dom::add(screen, "label", "consent");
        let agree = dom::add(&consent_label, "input", "agree");
        dom::attrs(&agree, &[("type", "checkbox")]);
        site.add(&consent_label, "span", "", "contact_consent");
        let label = dom::add(screen, "label", "contact");
        site.add(&label, "span", "", "contact_label");
        let field = dom::add(&label, "input", "");
        dom::attrs(
            &field,
            &[
                ("type", "text"),
                ("autocomplete", "email"),
                ("maxlength", &dom::number(LIMITS.contact as u32)),
            ],
        );
        let prefill = options.email.as_ref().or(options.phone.as_ref());
        if let Some(value) = prefill {
            dom::set_prop(&field, "value", &value.into());
        }
        dom::set_prop(&agree, "checked", &prefill.is_some().into());
        consent = Some(agree);
        contact_label = Some(label);
        contact = Some(field);
        promise = Some(dom::add(screen, "p", "promise"));
    }
    let error = dom::add(screen, "p", "error");
    dom::attrs(&error, &[("role", "alert")]);
    let send = dom::add(screen, "button", "send");
    dom::attrs(&send, &[("type", "button")]);
    let view = View {
        title,
        comment,
        chips,
        consent,
        contact_label,
        contact,
        promise,
        error,
        send,
    };
    view.consented(site);
    view.sending(site, false);
    view
}

impl View {
    /// Shows the contact field when the customer agreed to be contacted, and promises
    /// accordingly: who will answer them, or who will look into it, and how soon.
    pub fn consented(&self, site: &Site) {
        let (Some(label), Some(promise)) = (&self.contact_label, &self.promise) else {
            return;
        };
        let agreed = self.agreed();
        dom::show(label, agreed);
        let words = site.word(if agreed {
            "promise_contact"
        } else {
            "promise_look"
        });
        let duration = site.duration(site.ack_within_minutes);
        let words = dom::fill(&words, &[("owner", &site.owner), ("duration", &duration)]);
        promise.set_text_content(&words);
    }

    fn agreed(&self) -> bool {
        self.consent
            .as_ref()
            .is_some_and(|c| dom::prop(c, "checked").as_bool() == Some(true))
    }

    /// The form as the core's `Details` (not yet validated).
    pub fn read(&self, site_key: &str) -> Details {
        let value = |el: &Element| {
            let value = dom::prop(el, "value").as_string().unwrap_or_default();
            String::from(value.trim())
        };
        let comment = Some(value(&self.comment)).filter(|c| !c.is_empty());
        let reasons = self
            .chips
            .iter()
            .filter(|(chip, _)| chip.get_attribute("aria-pressed").as_deref() == Some("true"))
            .map(|(_, reason)| reason.clone())
            .collect();
        let contact = self.contact.as_ref().filter(|_| self.agreed()).map(|el| {
            let typed = value(el);
            // Letters are an email being typed ("not an email" must not be told it is
            // a bad phone number); digits and signs are a phone number.
            let is_email = typed.bytes().any(|b| b == b'@' || b.is_ascii_alphabetic());
            let typed = Some(typed).filter(|v| !v.is_empty());
            Contact {
                name: None,
                email: typed.clone().filter(|_| is_email),
                phone: typed.filter(|_| !is_email),
                consent: true,
            }
        });
        Details {
            site: String::from(site_key),
            edit: None,
            comment,
            reasons,
            contact,
        }
    }

    /// Shows what is wrong (empty clears it).
    pub fn error(&self, message: &str) {
        self.error.set_text_content(message);
    }

    /// Nothing can be sent from this screen any more, and nobody will look into it.
    pub fn closed(&self) {
        self.send.toggle_attribute("disabled", true);
        if let Some(promise) = &self.promise {
            dom::show(promise, false);
        }
    }

    /// The send button while the details are on their way, or not.
    pub fn sending(&self, site: &Site, sending: bool) {
        let word = if sending { "sending" } else { "send" };
        site.say(&self.send, word);
        self.send.toggle_attribute("disabled", sending);
    }
}

/// Presses or releases a reason chip.
pub fn toggle_chip(chip: &Element) {
    let on = chip.get_attribute("aria-pressed").as_deref() != Some("true");
    dom::attrs(chip, &[("aria-pressed", if on { "true" } else { "false" })]);
}

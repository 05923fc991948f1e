//! Validation of ratings and details, with errors that carry a stable `code` and the
//! `field`: the server's JSON error body and the widget's messages are built from them.

use crate::{Contact, Details, Rating, Scale, ScoreChange};
use alloc::string::String;
use core::fmt;

/// Size limits, in characters. Published so the widget can set `maxlength` to match.
pub struct Limits {
    /// A comment.
    pub comment: usize,
    /// `interaction`.
    pub interaction: usize,
    /// Reasons picked in one submission.
    pub reasons: usize,
    /// One reason's label.
    pub reason: usize,
    /// A signed interaction token.
    pub token: usize,
    /// The page URL.
    pub page: usize,
    /// A locale tag.
    pub locale: usize,
    /// A site key.
    pub site: usize,
    /// A contact name, email or phone number.
    pub contact: usize,
    /// A staff member's note on a case step, or a prevention action.
    pub note: usize,
    /// Who recorded a step.
    pub actor: usize,
}

/// The limits the server enforces.
pub const LIMITS: Limits = Limits {
    comment: 2000,
    interaction: 200,
    reasons: 10,
    reason: 100,
    token: 1000,
    page: 2000,
    locale: 35,
    site: 64,
    contact: 200,
    note: 2000,
    actor: 200,
};

/// What is wrong with a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A required value is empty.
    Required,
    /// `id` is not a UUID.
    InvalidId,
    /// The score is not on the site's scale.
    ScoreOutOfRange,
    /// The text is longer than its limit.
    TooLong,
    /// The text holds control characters.
    ControlCharacters,
    /// More reasons than allowed.
    TooManyReasons,
    /// A reason the site does not offer.
    UnknownReason,
    /// Not an email address.
    InvalidEmail,
    /// Not a phone number.
    InvalidPhone,
    /// Consent was given but neither email nor phone.
    ContactRequired,
    /// A rating's `edit` secret is not 22 to 64 letters, digits, `-` or `_`.
    InvalidEdit,
}

/// A validation failure: what is wrong, and in which field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValidationError {
    /// What is wrong.
    pub kind: ErrorKind,
    /// The field, as named in the JSON body (`contact.email` for nested ones).
    pub field: &'static str,
}

impl ValidationError {
    fn new(kind: ErrorKind, field: &'static str) -> Self {
        ValidationError { kind, field }
    }

    /// A stable machine-readable code, part of the public API.
    pub fn code(&self) -> &'static str {
        match self.kind {
            ErrorKind::Required => "required",
            ErrorKind::InvalidId => "invalid_id",
            ErrorKind::ScoreOutOfRange => "score_out_of_range",
            ErrorKind::TooLong => "too_long",
            ErrorKind::ControlCharacters => "control_characters",
            ErrorKind::TooManyReasons => "too_many_reasons",
            ErrorKind::UnknownReason => "unknown_reason",
            ErrorKind::InvalidEmail => "invalid_email",
            ErrorKind::InvalidPhone => "invalid_phone",
            ErrorKind::ContactRequired => "contact_required",
            ErrorKind::InvalidEdit => "invalid_edit",
        }
    }

    /// A short English message for people. Static text: no formatting in the widget.
    pub fn message(&self) -> &'static str {
        match self.kind {
            ErrorKind::Required => "This value is required.",
            ErrorKind::InvalidId => "The rating id must be a UUID.",
            ErrorKind::ScoreOutOfRange => "The score is not on this site's scale.",
            ErrorKind::TooLong => "This text is too long.",
            ErrorKind::ControlCharacters => "This text contains control characters.",
            ErrorKind::TooManyReasons => "Too many reasons were picked.",
            ErrorKind::UnknownReason => "This reason is not offered by the site.",
            ErrorKind::InvalidEmail => "Please enter a valid email address.",
            ErrorKind::InvalidPhone => "Please enter a valid phone number.",
            ErrorKind::ContactRequired => "Please give an email address or a phone number.",
            ErrorKind::InvalidEdit => "The edit secret must be 22 to 64 letters, digits, - or _.",
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.field)?;
        f.write_str(": ")?;
        f.write_str(self.message())
    }
}

impl core::error::Error for ValidationError {}

impl ScoreChange {
    /// Checks the new score against the site's scale.
    pub fn validate(&self, scale: Scale) -> Result<(), ValidationError> {
        line(&self.site, "site", LIMITS.site, true)?;
        if !scale.contains(self.score) {
            return Err(ValidationError::new(ErrorKind::ScoreOutOfRange, "score"));
        }
        Ok(())
    }
}

impl Rating {
    /// Checks the rating against the site's scale.
    pub fn validate(&self, scale: Scale) -> Result<(), ValidationError> {
        if !is_uuid(&self.id) {
            return Err(ValidationError::new(ErrorKind::InvalidId, "id"));
        }
        line(&self.site, "site", LIMITS.site, true)?;
        if !scale.contains(self.score) {
            return Err(ValidationError::new(ErrorKind::ScoreOutOfRange, "score"));
        }
        optional_line(&self.interaction, "interaction", LIMITS.interaction)?;
        optional_line(&self.token, "token", LIMITS.token)?;
        optional_line(&self.page, "page", LIMITS.page)?;
        optional_line(&self.locale, "locale", LIMITS.locale)?;
        optional_line(&self.rerate, "rerate", LIMITS.site)?;
        if self.edit.as_deref().is_some_and(|e| !is_secret(e)) {
            return Err(ValidationError::new(ErrorKind::InvalidEdit, "edit"));
        }
        Ok(())
    }
}

impl Details {
    /// Checks the details against the reasons the site offers.
    pub fn validate<S: AsRef<str>>(&self, offered_reasons: &[S]) -> Result<(), ValidationError> {
        line(&self.site, "site", LIMITS.site, true)?;
        if let Some(comment) = &self.comment {
            text(comment, "comment", LIMITS.comment)?;
        }
        if self.reasons.len() > LIMITS.reasons {
            return Err(ValidationError::new(ErrorKind::TooManyReasons, "reasons"));
        }
        for reason in &self.reasons {
            line(reason, "reasons", LIMITS.reason, true)?;
            if !offered_reasons
                .iter()
                .any(|offered| offered.as_ref() == reason)
            {
                return Err(ValidationError::new(ErrorKind::UnknownReason, "reasons"));
            }
        }
        if let Some(contact) = &self.contact {
            contact.validate()?;
        }
        Ok(())
    }
}

impl Contact {
    /// Checks the contact's fields; consent needs an email address or a phone number.
    pub fn validate(&self) -> Result<(), ValidationError> {
        optional_line(&self.name, "contact.name", LIMITS.contact)?;
        optional_line(&self.email, "contact.email", LIMITS.contact)?;
        optional_line(&self.phone, "contact.phone", LIMITS.contact)?;
        let email = self.email.as_deref().filter(|e| !e.is_empty());
        let phone = self.phone.as_deref().filter(|p| !p.is_empty());
        if let Some(email) = email {
            if !is_email(email) {
                return Err(ValidationError::new(
                    ErrorKind::InvalidEmail,
                    "contact.email",
                ));
            }
        }
        if let Some(phone) = phone {
            if !is_phone(phone) {
                return Err(ValidationError::new(
                    ErrorKind::InvalidPhone,
                    "contact.phone",
                ));
            }
        }
        if self.consent && email.is_none() && phone.is_none() {
            return Err(ValidationError::new(ErrorKind::ContactRequired, "contact"));
        }
        Ok(())
    }
}

/// Checks free text that staff typed (a note, an action): at most `limit` characters;
/// newlines and tabs allowed, other control characters not.
pub fn check_text(value: &str, field: &'static str, limit: usize) -> Result<(), ValidationError> {
    text(value, field, limit)
}

/// Checks one line of text (a name): at most `limit` characters, no control characters.
pub fn check_line(value: &str, field: &'static str, limit: usize) -> Result<(), ValidationError> {
    line(value, field, limit, false)
}

/// Multi-line text: newlines and tabs allowed, other control characters not.
fn text(value: &str, field: &'static str, limit: usize) -> Result<(), ValidationError> {
    if chars(value) > limit {
        return Err(ValidationError::new(ErrorKind::TooLong, field));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ValidationError::new(ErrorKind::ControlCharacters, field));
    }
    Ok(())
}

/// One line of text: no control characters at all.
fn line(
    value: &str,
    field: &'static str,
    limit: usize,
    required: bool,
) -> Result<(), ValidationError> {
    if required && value.trim().is_empty() {
        return Err(ValidationError::new(ErrorKind::Required, field));
    }
    if chars(value) > limit {
        return Err(ValidationError::new(ErrorKind::TooLong, field));
    }
    if value.chars().any(char::is_control) {
        return Err(ValidationError::new(ErrorKind::ControlCharacters, field));
    }
    Ok(())
}

/// The number of characters (`chars().count()` without core's unrolled counter, which
/// would be a kilobyte of the widget's download): every byte that does not continue a
/// UTF-8 sequence starts a character.
fn chars(value: &str) -> usize {
    value.bytes().filter(|b| b & 0xc0 != 0x80).count()
}

fn optional_line(
    value: &Option<String>,
    field: &'static str,
    limit: usize,
) -> Result<(), ValidationError> {
    match value {
        Some(value) => line(value, field, limit, false),
        None => Ok(()),
    }
}

/// 22 to 64 URL-safe characters: unguessable when random (the widget's, a UUID, has 122
/// random bits).
fn is_secret(value: &str) -> bool {
    (22..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `8-4-4-4-12` hexadecimal digits, either case.
fn is_uuid(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// A pragmatic check: one `@`, a non-empty local part, a dotted domain, no spaces.
/// Deliverability is proven by sending, not by a regex.
fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !value.chars().any(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.as_bytes().windows(2).any(|pair| pair == b"..")
}

/// Digits with the usual separators, an optional leading `+`, 6 to 20 digits.
fn is_phone(value: &str) -> bool {
    let rest = value.strip_prefix('+').unwrap_or(value);
    let digits = rest.chars().filter(char::is_ascii_digit).count();
    (6..=20).contains(&digits)
        && rest
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use proptest::prelude::*;

    const ID: &str = "0b8f5c1e-4a7d-4c2b-9e3f-1a2b3c4d5e6f";

    fn rating(score: i64) -> Rating {
        Rating {
            id: ID.into(),
            site: "site_abc".into(),
            score,
            interaction: None,
            token: None,
            page: None,
            locale: None,
            rerate: None,
            edit: None,
        }
    }

    fn code(result: Result<(), ValidationError>) -> (&'static str, &'static str) {
        let err = result.expect_err("expected a validation error");
        (err.code(), err.field)
    }

    #[test]
    fn a_plain_rating_is_valid() {
        assert_eq!(rating(4).validate(Scale::Stars5), Ok(()));
        assert_eq!(rating(0).validate(Scale::Ten), Ok(()));
    }

    #[test]
    fn score_must_be_on_the_scale() {
        assert_eq!(
            code(rating(0).validate(Scale::Stars5)),
            ("score_out_of_range", "score")
        );
        assert_eq!(
            code(rating(6).validate(Scale::Stars5)),
            ("score_out_of_range", "score")
        );
        assert_eq!(
            code(rating(11).validate(Scale::Ten)),
            ("score_out_of_range", "score")
        );
        assert_eq!(
            code(rating(-1).validate(Scale::Ten)),
            ("score_out_of_range", "score")
        );
    }

    #[test]
    fn id_must_be_a_uuid() {
        let mut r = rating(5);
        r.id = "not-a-uuid".into();
        assert_eq!(code(r.validate(Scale::Stars5)), ("invalid_id", "id"));
        r.id = "0b8f5c1e-4a7d-4c2b-9e3f-1a2b3c4d5e6g".into();
        assert_eq!(code(r.validate(Scale::Stars5)), ("invalid_id", "id"));
    }

    #[test]
    fn interaction_is_limited_and_single_line() {
        let mut r = rating(5);
        r.interaction = Some("x".repeat(200));
        assert_eq!(r.validate(Scale::Stars5), Ok(()));
        r.interaction = Some("x".repeat(201));
        assert_eq!(code(r.validate(Scale::Stars5)), ("too_long", "interaction"));
        r.interaction = Some("order\u{0}1".into());
        assert_eq!(
            code(r.validate(Scale::Stars5)),
            ("control_characters", "interaction")
        );
    }

    #[test]
    fn site_is_required() {
        let mut r = rating(5);
        r.site = " ".into();
        assert_eq!(code(r.validate(Scale::Stars5)), ("required", "site"));
    }

    fn details() -> Details {
        Details {
            site: "site_abc".into(),
            ..Details::default()
        }
    }

    const OFFERED: &[&str] = &["Waiting time", "Food quality"];

    #[test]
    fn a_ratings_own_edit_secret_must_be_long_and_url_safe() {
        let with = |edit: &str| Rating {
            edit: Some(edit.into()),
            ..rating(3)
        };
        assert!(with(ID).validate(Scale::Stars5).is_ok());
        assert!(with(&"a".repeat(64)).validate(Scale::Stars5).is_ok());
        for bad in [
            "short",
            &"a".repeat(65),
            "0b8f5c1e 4a7d 4c2b 9e3f 1a2b3c4d5e6f",
        ] {
            let err = with(bad).validate(Scale::Stars5).unwrap_err();
            assert_eq!((err.code(), err.field), ("invalid_edit", "edit"));
        }
    }

    #[test]
    fn comment_is_limited_to_2000_characters_and_may_span_lines() {
        let mut d = details();
        d.comment = Some("é".repeat(2000));
        assert_eq!(d.validate(OFFERED), Ok(()));
        d.comment = Some("line one\nline two\ttab".into());
        assert_eq!(d.validate(OFFERED), Ok(()));
        d.comment = Some("é".repeat(2001));
        assert_eq!(code(d.validate(OFFERED)), ("too_long", "comment"));
        d.comment = Some("bell\u{7}".into());
        assert_eq!(code(d.validate(OFFERED)), ("control_characters", "comment"));
    }

    #[test]
    fn reasons_must_be_offered_and_few() {
        let mut d = details();
        d.reasons = vec!["Waiting time".into()];
        assert_eq!(d.validate(OFFERED), Ok(()));
        d.reasons = vec!["Parking".into()];
        assert_eq!(code(d.validate(OFFERED)), ("unknown_reason", "reasons"));
        d.reasons = vec!["Waiting time".into(); 11];
        assert_eq!(code(d.validate(OFFERED)), ("too_many_reasons", "reasons"));
    }

    #[test]
    fn contact_is_checked() {
        let with = |email: Option<&str>, phone: Option<&str>, consent| {
            let mut d = details();
            d.contact = Some(Contact {
                name: None,
                email: email.map(Into::into),
                phone: phone.map(Into::into),
                consent,
            });
            d.validate(OFFERED)
        };
        assert_eq!(with(Some("ana@example.com"), None, true), Ok(()));
        assert_eq!(with(None, Some("+44 20 7946 0958"), true), Ok(()));
        assert_eq!(with(None, None, false), Ok(()));
        for bad in [
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "a b@example.com",
            "a@b@c.d",
            "a@.com",
        ] {
            assert_eq!(
                code(with(Some(bad), None, true)),
                ("invalid_email", "contact.email"),
                "{bad}"
            );
        }
        for bad in ["12345", "call me", "+44 (20) 7946 0958 ext"] {
            assert_eq!(
                code(with(None, Some(bad), true)),
                ("invalid_phone", "contact.phone"),
                "{bad}"
            );
        }
        assert_eq!(
            code(with(None, None, true)),
            ("contact_required", "contact")
        );
        assert_eq!(
            code(with(Some(""), Some(""), true)),
            ("contact_required", "contact")
        );
    }

    proptest! {
        #[test]
        fn characters_are_counted_as_rust_counts_them(text in any::<String>()) {
            prop_assert_eq!(chars(&text), text.chars().count());
        }

        #[test]
        fn rating_validation_never_panics(
            id in ".{0,40}", site in ".{0,70}", score in any::<i64>(),
            interaction in proptest::option::of(".{0,210}"), locale in proptest::option::of(".{0,40}"),
        ) {
            let r = Rating { id, site, score, interaction, token: None, page: None, locale, rerate: None, edit: None };
            let _ = r.validate(Scale::Stars5);
            let _ = r.validate(Scale::Ten);
        }

        #[test]
        fn details_validation_never_panics(
            comment in proptest::option::of(".{0,50}"), reasons in proptest::collection::vec(".{0,10}", 0..12),
            email in proptest::option::of(".{0,30}"), phone in proptest::option::of(".{0,30}"), consent in any::<bool>(),
        ) {
            let d = Details {
                site: "s".into(), edit: None, comment, reasons,
                contact: Some(Contact { name: None, email, phone, consent }),
            };
            let _ = d.validate(OFFERED);
        }

        #[test]
        fn every_score_on_the_scale_is_valid_and_none_off_it(score in -20i64..20) {
            for scale in [Scale::Stars5, Scale::Ten] {
                prop_assert_eq!(rating(score).validate(scale).is_ok(), scale.contains(score));
            }
        }
    }
}

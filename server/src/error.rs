//! What the product refuses, and why: the product's modules answer with these, and the
//! HTTP layer maps each to its status and JSON error body.

use crate::interactions::Refusal;
use crate::store::StoreError;
use nearmiss_core::ValidationError;

/// A refusal by the product, or a storage failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value failed the core's validation.
    #[error("{0}")]
    Validation(#[from] ValidationError),
    /// A value the product refuses, with a stable code and the field.
    #[error("invalid {field}: {message}")]
    Invalid {
        /// Machine-readable code.
        code: &'static str,
        /// The field.
        field: &'static str,
        /// What is wrong, for people.
        message: &'static str,
    },
    /// The page's origin is not one of the site's.
    #[error("origin refused")]
    OriginRefused,
    /// No active site has this key.
    #[error("unknown site")]
    UnknownSite,
    /// No rating of this site has this id.
    #[error("unknown rating")]
    UnknownRating,
    /// The signed interaction token is missing, invalid or expired.
    #[error("token refused: {}", .0.message())]
    TokenRefused(Refusal),
    /// This signed interaction was already rated.
    #[error("interaction already rated")]
    InteractionRated,
    /// No case has this reference.
    #[error("unknown case")]
    UnknownCase,
    /// The case is closed; a re-rating reopens it.
    #[error("case closed")]
    CaseClosed,
    /// The closing rule is not met; names what is missing.
    #[error("cannot close: {0}")]
    CannotClose(String),
    /// The same rating id came with other content.
    #[error("id conflict")]
    IdConflict,
    /// Details may be changed for 24 hours after the rating.
    #[error("details window closed")]
    DetailsClosed,
    /// A score may be changed for 10 minutes after the rating.
    #[error("score window closed")]
    ScoreClosed,
    /// `/details` or `/score` without the rating's `edit` secret.
    #[error("edit secret refused")]
    EditRefused,
    /// The customer changed the score as often as a rating may.
    #[error("too many score changes")]
    TooManyChanges,
    /// The customer sent details as often as a rating may.
    #[error("too many details posts")]
    TooManyDetails,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Error {
    /// An [`Error::Invalid`].
    pub fn invalid(code: &'static str, field: &'static str, message: &'static str) -> Error {
        Error::Invalid {
            code,
            field,
            message,
        }
    }
}

//! Signed interactions: the business's server signs the interaction it wants rated, so
//! only real interactions can be rated, at most once each.
//!
//! Token: `v1.{expires}.{signature}`, where `expires` is Unix seconds and `signature`
//! is the unpadded base64url HMAC-SHA256 of `"{interaction}.{expires}"` keyed with the
//! site's secret.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Why a token is refused; the message is safe to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The site requires a token and none came.
    Missing,
    /// A token needs the interaction it signs.
    NoInteraction,
    /// Not a token, or not signed with this site's secret for this interaction.
    Invalid,
    /// Past its expiry.
    Expired,
}

impl Refusal {
    /// For the error body.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Missing => "This site accepts only ratings with a signed interaction token.",
            Refusal::NoInteraction => "A signed token needs the interaction it was signed for.",
            Refusal::Invalid => "The interaction token is not valid for this interaction.",
            Refusal::Expired => "The interaction token has expired.",
        }
    }
}

fn mac(secret: &str, interaction: &str, expires: i64) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(interaction.as_bytes());
    mac.update(b".");
    mac.update(expires.to_string().as_bytes());
    mac
}

/// A token for `interaction`, valid until `expires` (Unix seconds).
pub fn sign(secret: &str, interaction: &str, expires: i64) -> String {
    let signature = mac(secret, interaction, expires).finalize().into_bytes();
    format!("v1.{expires}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// Checks a token at `now` (Unix seconds).
pub fn verify(secret: &str, interaction: &str, token: &str, now: i64) -> Result<(), Refusal> {
    let mut parts = token.split('.');
    let (Some("v1"), Some(expires), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refusal::Invalid);
    };
    let expires: i64 = expires.parse().map_err(|_| Refusal::Invalid)?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| Refusal::Invalid)?;
    // `verify_slice` compares in constant time.
    mac(secret, interaction, expires)
        .verify_slice(&signature)
        .map_err(|_| Refusal::Invalid)?;
    if expires <= now {
        return Err(Refusal::Expired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_valid_for_its_interaction_until_it_expires() {
        let token = sign("s3cret", "order-1042", 2_000);
        assert_eq!(verify("s3cret", "order-1042", &token, 1_999), Ok(()));
        assert_eq!(
            verify("s3cret", "order-1042", &token, 2_000),
            Err(Refusal::Expired)
        );
        assert_eq!(
            verify("s3cret", "order-1043", &token, 1_000),
            Err(Refusal::Invalid)
        );
        assert_eq!(
            verify("other", "order-1042", &token, 1_000),
            Err(Refusal::Invalid)
        );
        let forged = token.replace("v1.2000.", "v1.9999.");
        assert_eq!(
            verify("s3cret", "order-1042", &forged, 1_000),
            Err(Refusal::Invalid)
        );
        assert_eq!(
            verify("s3cret", "order-1042", "garbage", 1_000),
            Err(Refusal::Invalid)
        );
    }

    #[test]
    fn known_answer() {
        // HMAC-SHA256("s3cret", "order-1042.2000"), computed independently with Python's hmac.
        assert_eq!(sign("s3cret", "order-1042", 2_000), KNOWN);
    }

    const KNOWN: &str = "v1.2000.HtViQJWKz6RlFWZIxi7RgDSARf5zF8s4cjn51hcBSyA";
}

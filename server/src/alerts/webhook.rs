//! Standard Webhooks signing: `webhook-signature: v1,<base64 HMAC-SHA256 of
//! "{id}.{timestamp}.{body}">`, keyed with the base64 part of a `whsec_` secret.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A new signing secret: `whsec_` and 32 random bytes in base64.
pub fn new_secret() -> String {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).expect("the operating system's random source failed");
    format!("whsec_{}", STANDARD.encode(key))
}

/// The `webhook-signature` header value for one delivery.
pub fn signature(secret: &str, msg_id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// Checks a `webhook-signature` header (space-separated `v1,…` values), as a receiver
/// would; used by tests and documented for integrators.
pub fn verify(secret: &str, msg_id: &str, timestamp: i64, body: &str, header: &str) -> bool {
    let Some(expected) = signature(secret, msg_id, timestamp, body) else {
        return false;
    };
    header
        .split(' ')
        .any(|candidate| crate::tokens::same_secret(candidate, &expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example from the Standard Webhooks specification.
    #[test]
    fn the_specifications_known_answer() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let (id, timestamp, body) = (
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        let expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        assert_eq!(
            signature(secret, id, timestamp, body).as_deref(),
            Some(expected)
        );
        assert!(verify(
            secret,
            id,
            timestamp,
            body,
            &format!("v1,bogus {expected}")
        ));
        assert!(!verify(secret, id, timestamp + 1, body, expected));
    }

    #[test]
    fn new_secrets_decode_to_32_bytes() {
        let secret = new_secret();
        let key = STANDARD
            .decode(secret.strip_prefix("whsec_").unwrap())
            .unwrap();
        assert_eq!(key.len(), 32);
    }
}

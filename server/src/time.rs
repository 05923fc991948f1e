//! Time: the injected clock, and timestamps as the public contract writes them
//! (RFC 3339 in UTC, to the second).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

/// The current time in Unix milliseconds. Injected so tests can move time.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> i64 + Send + Sync>);

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock(Arc::new(|| {
            std::time::SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0)
        }))
    }

    /// A clock that reads `now` from the given function.
    pub fn from_fn(now: impl Fn() -> i64 + Send + Sync + 'static) -> Clock {
        Clock(Arc::new(now))
    }

    /// Now, in Unix milliseconds.
    pub fn now(&self) -> i64 {
        (self.0)()
    }
}

/// A moment in Unix milliseconds, written as RFC 3339 (`2026-11-24T13:15:00Z`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// RFC 3339, to the second; clamped to the years 1970 to 9999 that it can write.
    pub fn rfc3339(self) -> String {
        const LAST_MS: i64 = 253_402_300_799_000; // 9999-12-31T23:59:59Z
        let time = UNIX_EPOCH + Duration::from_millis(self.0.clamp(0, LAST_MS) as u64);
        humantime::format_rfc3339_seconds(time).to_string()
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let time = humantime::parse_rfc3339(&text).map_err(serde::de::Error::custom)?;
        let ms = time
            .duration_since(UNIX_EPOCH)
            .map_err(serde::de::Error::custom)?
            .as_millis();
        Ok(Timestamp(
            i64::try_from(ms).map_err(serde::de::Error::custom)?,
        ))
    }
}

/// A duration in milliseconds, saturating far in the future rather than overflowing.
pub fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_read_back_what_they_write() {
        let at = Timestamp(1_795_953_600_000);
        let text = serde_json::to_string(&at).unwrap();
        assert_eq!(text, "\"2026-11-29T12:00:00Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&text).unwrap(), at);
        // A deadline "in 8000 years" must not make every near miss fail.
        assert_eq!(Timestamp(i64::MAX / 2).rfc3339(), "9999-12-31T23:59:59Z");
    }
}

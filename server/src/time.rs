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

/// Whether `name` is a time zone this build knows (`Europe/London`, `UTC`).
pub fn is_zone(name: &str) -> bool {
    jiff::tz::TimeZone::get(name).is_ok()
}

/// A moment as a person in `zone` reads it: "14:15 GMT" on the same day as `now`, else
/// "Fri 27 Nov 14:15 GMT" (with the year when it is another year). An unknown zone
/// reads as UTC.
pub fn clock(at: i64, zone: &str, now: i64) -> String {
    // A deadline "in 8000 years" reads as the last moment jiff can show.
    let last = jiff::Timestamp::MAX.as_millisecond() - 86_400_000;
    let tz = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let moment = |ms: i64| jiff::Timestamp::from_millisecond(ms.clamp(0, last));
    let (Ok(at), Ok(now)) = (moment(at), moment(now)) else {
        return Timestamp(at).rfc3339();
    };
    let (at, now) = (at.to_zoned(tz.clone()), now.to_zoned(tz));
    let format = if at.date() == now.date() {
        "%H:%M %Z"
    } else if at.year() == now.year() {
        "%a %-d %b %H:%M %Z"
    } else {
        "%a %-d %b %Y %H:%M %Z"
    };
    at.strftime(format).to_string()
}

/// A span of time as people say it: "12 minutes", "3 hours", "2 days".
pub fn span(ms: i64) -> String {
    let minutes = (ms.saturating_abs() / 60_000).max(1);
    let (n, unit) = if minutes < 90 {
        (minutes, "minute")
    } else if minutes < 48 * 60 {
        ((minutes + 30) / 60, "hour")
    } else {
        ((minutes + 720) / 1440, "day")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
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

    #[test]
    fn clocks_read_in_the_zone() {
        let now = 1_795_953_600_000; // Sun 29 Nov 2026 12:00 UTC
        assert_eq!(clock(now + 15 * 60_000, "Europe/London", now), "12:15 GMT");
        assert_eq!(clock(now, "Europe/Berlin", now), "13:00 CET");
        assert_eq!(clock(now + 86_400_000, "UTC", now), "Mon 30 Nov 12:00 UTC");
        assert_eq!(clock(now, "Not/AZone", now), "12:00 UTC");
        assert!(clock(i64::MAX / 2, "UTC", now).contains(" 9999 "));
        assert!(is_zone("America/New_York") && !is_zone("Mars/Olympus"));
    }

    #[test]
    fn spans_read_as_people_say_them() {
        assert_eq!(span(1), "1 minute");
        assert_eq!(span(12 * 60_000), "12 minutes");
        assert_eq!(span(-12 * 60_000), "12 minutes");
        assert_eq!(span(3 * 3_600_000), "3 hours");
        assert_eq!(span(2 * 86_400_000), "2 days");
    }
}

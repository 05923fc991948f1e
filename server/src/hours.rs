//! Opening hours: when a site is open, read in its own time zone. A site with hours
//! counts its deadlines in open time only: "acknowledge within 15 minutes" of a rating
//! at 23:50 is 12:15 the next day when it opens at 12:00.

use std::fmt;
use std::time::Duration;

const DAYS: [&str; 7] = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];
const DAY_MINUTES: u16 = 24 * 60;
/// How far ahead open time is looked for; past it a deadline counts all hours.
const HORIZON_DAYS: usize = 3_660;

/// The hours a site is open each weekday, as a business writes them:
/// `Mo-Fr 09:00-17:30; Sa 10:00-14:00` (a later rule replaces an earlier one's days),
/// `Fr-Sa 18:00-02:00` (an end before its start runs past midnight), or `24/7`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpeningHours {
    /// Monday first: each day's open spans in minutes after its midnight, in order; an
    /// end past 24:00 runs into the next day.
    days: [Vec<(u16, u16)>; 7],
}

impl OpeningHours {
    /// Reads `text`; the error says what is wrong, for the person who wrote it.
    pub fn parse(text: &str) -> Result<OpeningHours, String> {
        let text = text.trim();
        let mut days: [Vec<(u16, u16)>; 7] = Default::default();
        if text == "24/7" {
            days.iter_mut().for_each(|d| d.push((0, DAY_MINUTES)));
            return Ok(OpeningHours { days });
        }
        for rule in text.split(';').map(str::trim).filter(|r| !r.is_empty()) {
            let (which, spans) = rule.split_once(char::is_whitespace).ok_or_else(|| {
                format!("{rule:?}: give days, then hours, like \"Mo-Fr 09:00-17:30\"")
            })?;
            let which = weekdays(which)?;
            let mut spans = spans
                .split(',')
                .map(|s| span(s.trim()))
                .collect::<Result<Vec<_>, _>>()?;
            spans.sort_unstable();
            for day in which {
                days[day] = spans.clone();
            }
        }
        if days.iter().all(Vec::is_empty) {
            return Err("no open hours given, like \"Mo-Fr 09:00-17:30\"".into());
        }
        Ok(OpeningHours { days })
    }

    /// The moment `within` of open time after `start` (Unix milliseconds) has passed,
    /// with the hours read in `zone` (an unknown zone reads as UTC).
    pub fn deadline(&self, start: i64, within: Duration, zone: &str) -> i64 {
        let plain = start.saturating_add(within.as_millis() as i64);
        self.open_deadline(start, within.as_millis() as i64, zone)
            .unwrap_or(plain)
    }

    fn open_deadline(&self, start: i64, within: i64, zone: &str) -> Option<i64> {
        let tz = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
        let started = jiff::Timestamp::from_millisecond(start).ok()?;
        // From the day before: its spans may run past midnight into this one.
        let mut date = started.to_zoned(tz.clone()).date().yesterday().ok()?;
        let (mut at, mut left) = (start, within);
        for _ in 0..HORIZON_DAYS {
            let day = date.weekday().to_monday_zero_offset() as usize;
            for &(from, to) in &self.days[day] {
                let local = |minutes: u16| -> Option<i64> {
                    let time = date
                        .at(0, 0, 0, 0)
                        .checked_add(jiff::Span::new().minutes(i64::from(minutes)))
                        .ok()?;
                    Some(time.to_zoned(tz.clone()).ok()?.timestamp().as_millisecond())
                };
                let (opens, closes) = (local(from)?, local(to)?);
                if closes <= at {
                    continue;
                }
                let from = opens.max(at);
                if from + left <= closes {
                    return Some(from + left);
                }
                left -= closes - from;
                at = closes;
            }
            date = date.tomorrow().ok()?;
        }
        None
    }
}

impl fmt::Display for OpeningHours {
    /// The hours as `parse` reads them, days with the same hours joined: `Mo-Fr 09:00-17:30; Sa 10:00-14:00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.days.iter().all(|d| d == &[(0, DAY_MINUTES)]) {
            return f.write_str("24/7");
        }
        let mut first = true;
        let mut day = 0;
        while day < 7 {
            let spans = &self.days[day];
            let mut last = day;
            while last + 1 < 7 && &self.days[last + 1] == spans {
                last += 1;
            }
            if !spans.is_empty() {
                if !first {
                    f.write_str("; ")?;
                }
                first = false;
                match last > day {
                    true => write!(f, "{}-{} ", DAYS[day], DAYS[last])?,
                    false => write!(f, "{} ", DAYS[day])?,
                }
                for (i, (from, to)) in spans.iter().enumerate() {
                    let sep = if i > 0 { "," } else { "" };
                    // Past midnight is written as the next day's clock time.
                    let to = match *to > DAY_MINUTES {
                        true => to - DAY_MINUTES,
                        false => *to,
                    };
                    write!(f, "{sep}{}-{}", clock(*from), clock(to))?;
                }
            }
            day = last + 1;
        }
        Ok(())
    }
}

fn clock(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// `Mo`, `Mo-Fr`, `Fr-Mo` (round the week end) or a list of them, `Mo,We,Fr-Su`.
fn weekdays(text: &str) -> Result<Vec<usize>, String> {
    let day = |name: &str| {
        DAYS.iter()
            .position(|d| d.eq_ignore_ascii_case(name))
            .ok_or_else(|| format!("{name:?} is not a day: use Mo, Tu, We, Th, Fr, Sa, Su"))
    };
    let mut days = Vec::new();
    for part in text.split(',') {
        match part.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (day(from)?, day(to)?);
                let mut d = from;
                loop {
                    days.push(d);
                    if d == to {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => days.push(day(part)?),
        }
    }
    Ok(days)
}

/// `09:00-17:30`, `00:00-24:00`, or `18:00-02:00` (past midnight).
fn span(text: &str) -> Result<(u16, u16), String> {
    let bad = || format!("{text:?}: give hours like 09:00-17:30");
    let (from, to) = text.split_once('-').ok_or_else(bad)?;
    let minutes = |t: &str| -> Option<u16> {
        let (h, m) = t.trim().split_once(':')?;
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
    };
    let (from, to) = (minutes(from).ok_or_else(bad)?, minutes(to).ok_or_else(bad)?);
    match (from, to) {
        (DAY_MINUTES, _) => Err(bad()),
        (from, to) if to == from => Err(format!("{text:?}: opens and closes at the same time")),
        (from, to) if to < from => Ok((from, to + DAY_MINUTES)),
        spans => Ok(spans),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, zone: &str) -> i64 {
        let tz = jiff::tz::TimeZone::get(zone).unwrap();
        let civil: jiff::civil::DateTime = text.parse().unwrap();
        civil.to_zoned(tz).unwrap().timestamp().as_millisecond()
    }

    const MIN15: Duration = Duration::from_secs(15 * 60);

    #[test]
    fn hours_read_back_as_written() {
        for (text, shown) in [
            ("Mo-Su 12:00-22:00", "Mo-Su 12:00-22:00"),
            (
                "mo-fr 09:00-17:30; sa 10:00-14:00",
                "Mo-Fr 09:00-17:30; Sa 10:00-14:00",
            ),
            (
                "Mo-Fr 09:00-12:00,13:00-17:00",
                "Mo-Fr 09:00-12:00,13:00-17:00",
            ),
            ("Fr-Sa 18:00-02:00", "Fr-Sa 18:00-02:00"),
            ("Sa-Mo 10:00-16:00", "Mo 10:00-16:00; Sa-Su 10:00-16:00"),
            ("Mo-Su 00:00-24:00", "24/7"),
            ("24/7", "24/7"),
            (
                "Mo-Su 09:00-17:00; Su 10:00-12:00",
                "Mo-Sa 09:00-17:00; Su 10:00-12:00",
            ),
        ] {
            let hours = OpeningHours::parse(text).unwrap();
            assert_eq!(hours.to_string(), shown, "{text}");
            assert_eq!(OpeningHours::parse(shown).unwrap(), hours, "{shown}");
        }
    }

    #[test]
    fn hours_that_make_no_sense_are_refused_with_a_reason() {
        for text in [
            "",
            "Mo-Fr",
            "Xx 09:00-17:00",
            "Mo 9-5",
            "Mo 09:00-09:00",
            "Mo 25:00-26:00",
            "Mo 09:60-10:00",
            "Mo 24:00-02:00",
        ] {
            let err = OpeningHours::parse(text).unwrap_err();
            assert!(!err.is_empty(), "{text}");
        }
    }

    #[test]
    fn deadlines_count_open_time_only() {
        const DAYS2: Duration = Duration::from_secs(2 * 24 * 3600);
        let (london, new_york) = ("Europe/London", "America/New_York");
        // (hours, zone, start, within, deadline, why), local times in the zone.
        let cases = [
            (
                "Mo-Su 12:00-22:00",
                london,
                "2026-11-24T13:00",
                MIN15,
                "2026-11-24T13:15",
                "while open: plain minutes",
            ),
            (
                "Mo-Su 12:00-22:00",
                london,
                "2026-11-24T08:00",
                MIN15,
                "2026-11-24T12:15",
                "before opening: from the opening",
            ),
            (
                "Mo-Su 12:00-22:00",
                london,
                "2026-11-24T21:50",
                MIN15,
                "2026-11-25T12:05",
                "what is left runs on at the next opening",
            ),
            (
                "Mo-Su 12:00-22:00",
                london,
                "2026-11-24T23:50",
                MIN15,
                "2026-11-25T12:15",
                "after closing: the next opening",
            ),
            (
                "Mo-Su 12:00-22:00",
                london,
                "2026-11-24T12:00",
                DAYS2,
                "2026-11-28T20:00",
                "two days are 48 open hours",
            ),
            (
                "Mo-Fr 09:00-17:00",
                new_york,
                "2026-11-27T16:55",
                MIN15,
                "2026-11-30T09:10",
                "a Friday's last minutes run on on Monday",
            ),
            (
                "Fr-Sa 18:00-02:00",
                new_york,
                "2026-11-28T01:00",
                MIN15,
                "2026-11-28T01:15",
                "Saturday 01:00 is Friday night's opening",
            ),
            (
                "Fr-Sa 18:00-02:00",
                new_york,
                "2026-11-29T03:00",
                MIN15,
                "2026-12-04T18:15",
                "Sunday 03:00 waits for Friday",
            ),
            (
                "Mo-Su 09:00-17:00",
                london,
                "2027-03-27T22:00",
                MIN15,
                "2027-03-28T09:15",
                "summer time starts overnight: the shop's clock",
            ),
        ];
        for (hours, zone, start, within, due, why) in cases {
            let hours = OpeningHours::parse(hours).unwrap();
            let deadline = hours.deadline(at(start, zone), within, zone);
            assert_eq!(deadline, at(due, zone), "{why}");
        }
    }
}

//! The numbers a business sees: the perfection rate (perfect ÷ all, never an average
//! score), each near miss counted, time to acknowledge, recovery, and root causes with
//! what was done about them, over a period of whole UTC days.
//!
//! Ratings count in the period they arrived; a re-rating is not a new rating but a
//! recovery (or not) of its case. Cases count in the period they opened; `open` and
//! `overdue` are where those cases stand now.

use crate::bodies::{AckSeconds, CauseCount, DayCount, Stats};
use crate::error::Error;
use crate::states::Status;
use crate::store::{Store, StoreError};
use jiff::civil::Date;
use jiff::ToSpan;
use std::collections::BTreeMap;

/// The longest period asked for at once.
const MAX_DAYS: i32 = 1000;
/// The period when none is given: the last 30 days, today included.
const DEFAULT_DAYS: i32 = 30;
const DAY_MS: i64 = 86_400_000;

/// Whole UTC days, `from` to `to`, both included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    /// The first day.
    pub from: Date,
    /// The last day.
    pub to: Date,
}

fn date_of(ms: i64) -> Date {
    jiff::Timestamp::from_millisecond(ms)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}

fn ms_of(date: Date) -> i64 {
    date.to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(0)
}

impl Period {
    /// The last `days` days up to the day of `now`, today included.
    pub fn last(days: i32, now: i64) -> Period {
        let to = date_of(now);
        let from = to
            .checked_sub((days.clamp(1, MAX_DAYS) - 1).days())
            .unwrap_or(to);
        Period { from, to }
    }

    /// `from` and `to` as `YYYY-MM-DD`; either may be left out (the last 30 days up to
    /// `to`, or up to today).
    pub fn parse(from: Option<&str>, to: Option<&str>, now: i64) -> Result<Period, Error> {
        let day = |text: &str, field| {
            text.trim()
                .parse::<Date>()
                .map_err(|_| Error::invalid("invalid_date", field, "Dates are written YYYY-MM-DD."))
        };
        let to = match to.filter(|t| !t.is_empty()) {
            Some(text) => day(text, "to")?,
            None => date_of(now),
        };
        let from = match from.filter(|f| !f.is_empty()) {
            Some(text) => day(text, "from")?,
            None => to.checked_sub((DEFAULT_DAYS - 1).days()).unwrap_or(to),
        };
        if from > to {
            return Err(Error::invalid(
                "invalid_period",
                "from",
                "The period's first day (from) comes after its last (to).",
            ));
        }
        let period = Period { from, to };
        if (period.end() - period.start()) / DAY_MS > i64::from(MAX_DAYS) {
            return Err(Error::invalid(
                "period_too_long",
                "from",
                "A period is at most 1,000 days.",
            ));
        }
        Ok(period)
    }

    /// Its first moment, Unix milliseconds.
    pub fn start(&self) -> i64 {
        ms_of(self.from)
    }

    /// The moment after its last day, Unix milliseconds.
    pub fn end(&self) -> i64 {
        ms_of(self.to) + DAY_MS
    }

    /// Every day in it, in order.
    pub fn days(&self) -> impl Iterator<Item = Date> + '_ {
        self.from.series(1.day()).take_while(move |d| *d <= self.to)
    }
}

/// `part ÷ whole`, or `None` without a whole.
fn rate(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The nearest-rank percentile `p` (0 to 100) of sorted values.
fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (u64::from(p) * sorted.len() as u64).div_ceil(100).max(1) as usize;
    sorted.get(rank - 1).copied()
}

/// The numbers for `sites` (every site when `None`) over `period`, as they stand at `now`.
pub async fn compute(
    store: &Store,
    sites: Option<Vec<i64>>,
    period: Period,
    now: i64,
) -> Result<Stats, StoreError> {
    let (from, to) = (period.start(), period.end());
    let (days, rerated, cases, causes) = store
        .read(move |tx| {
            let sites = sites.as_deref();
            Ok::<_, StoreError>((
                tx.rating_days(sites, from, to)?,
                tx.rerating_counts(sites, from, to)?,
                tx.case_timings(sites, from, to)?,
                tx.causes_found(sites, from, to)?,
            ))
        })
        .await?;
    let by_day: BTreeMap<i64, (i64, i64)> = days.into_iter().map(|(d, n, p)| (d, (n, p))).collect();
    let days: Vec<DayCount> = period
        .days()
        .map(|date| {
            let (ratings, perfect) = by_day
                .get(&(ms_of(date) / DAY_MS))
                .copied()
                .unwrap_or((0, 0));
            DayCount {
                date: date.to_string(),
                ratings,
                perfect,
            }
        })
        .collect();
    let ratings: i64 = days.iter().map(|d| d.ratings).sum();
    let perfect: i64 = days.iter().map(|d| d.perfect).sum();
    let open = cases.iter().filter(|c| c.status == Status::Open).count() as i64;
    let overdue = cases
        .iter()
        .filter(|c| c.status == Status::Open && c.overdue_from <= now)
        .count() as i64;
    let mut acks: Vec<i64> = cases
        .iter()
        .filter_map(|c| c.acknowledged_at.map(|at| (at - c.opened_at).max(0) / 1000))
        .collect();
    acks.sort_unstable();
    let (rerated, recovered) = rerated;
    Ok(Stats {
        from: period.from.to_string(),
        to: period.to.to_string(),
        ratings,
        perfect,
        perfection_rate: rate(perfect, ratings),
        near_misses: ratings - perfect,
        open,
        overdue,
        ack_seconds: AckSeconds {
            median: percentile(&acks, 50),
            p90: percentile(&acks, 90),
        },
        rerated,
        recovered,
        recovery_rate: rate(recovered, rerated),
        causes: count_causes(causes),
        days,
    })
}

/// Causes, most frequent first (by cases), each with the distinct actions taken.
fn count_causes(found: Vec<(String, i64, Option<String>)>) -> Vec<CauseCount> {
    let mut by_cause: BTreeMap<String, (Vec<i64>, Vec<String>)> = BTreeMap::new();
    for (cause, case, action) in found {
        let (cases, actions) = by_cause.entry(cause).or_default();
        if !cases.contains(&case) {
            cases.push(case);
        }
        if let Some(action) = action.filter(|a| !actions.contains(a)) {
            actions.push(action);
        }
    }
    let mut causes: Vec<CauseCount> = by_cause
        .into_iter()
        .map(|(cause, (cases, preventions))| CauseCount {
            cause,
            cases: cases.len() as i64,
            preventions,
        })
        .collect();
    causes.sort_by(|a, b| b.cases.cmp(&a.cases).then_with(|| a.cause.cmp(&b.cause)));
    causes
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_953_600_000; // 2026-11-29T12:00:00Z

    #[test]
    fn periods_are_whole_utc_days_both_ends_included() {
        let period = Period::parse(Some("2026-11-01"), Some("2026-11-30"), NOW).unwrap();
        assert_eq!(period.days().count(), 30);
        assert_eq!(period.end() - period.start(), 30 * DAY_MS);
        let default = Period::parse(None, None, NOW).unwrap();
        assert_eq!(default.to.to_string(), "2026-11-29");
        assert_eq!(default.from.to_string(), "2026-10-31");
        assert_eq!(Period::last(7, NOW).from.to_string(), "2026-11-23");
        for (from, to) in [
            ("2026-13-01", "2026-11-30"),
            ("yesterday", ""),
            ("2026-12-01", "2026-11-01"),
            ("2020-01-01", "2026-01-01"),
        ] {
            assert!(
                Period::parse(Some(from), Some(to), NOW).is_err(),
                "{from} {to}"
            );
        }
    }

    #[test]
    fn percentiles_take_the_nearest_rank() {
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[7], 90), Some(7));
        let ten: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&ten, 50), Some(5));
        assert_eq!(percentile(&ten, 90), Some(9));
    }

    #[test]
    fn rates_are_none_without_a_denominator() {
        assert_eq!(rate(0, 0), None);
        assert_eq!(rate(7, 10), Some(0.7));
    }
}

//! The export: every rating of a period as CSV (RFC 4180), one row each, read and sent
//! a page at a time so a year of ratings never sits in memory. A cell that a
//! spreadsheet would run as a formula (starting `=`, `+`, `-`, `@`, a tab or a carriage
//! return) gets a leading `'`. Contact columns only when asked for, and only for those
//! allowed to see them.

use crate::stats::Period;
use crate::store::{ExportRow, Store, StoreError};
use crate::time::Timestamp;

/// Ratings read per page.
const PAGE: i64 = 500;

/// The columns every export has.
const COLUMNS: &[&str] = &[
    "id",
    "created_at",
    "site",
    "score",
    "scale",
    "perfect",
    "interaction",
    "case",
    "status",
    "reasons",
    "comment",
];
/// The columns added with contact details.
const CONTACT_COLUMNS: &[&str] = &["contact_name", "contact_email", "contact_phone"];

/// Where the next page starts: after this rating (its time and id).
pub type Cursor = (i64, String);

/// One CSV cell: guarded against formulas, quoted when it must be.
pub fn cell(text: &str) -> String {
    let guarded = match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

fn line(cells: impl IntoIterator<Item = String>) -> String {
    let mut line = cells.into_iter().collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

/// The header row.
pub fn header(contact: bool) -> String {
    let extra = if contact { CONTACT_COLUMNS } else { &[] };
    line(COLUMNS.iter().chain(extra).map(|c| c.to_string()))
}

fn row(r: &ExportRow, contact: bool) -> String {
    let text = |v: &Option<String>| cell(v.as_deref().unwrap_or(""));
    let mut cells = vec![
        cell(&r.id),
        Timestamp(r.created_at).rfc3339(),
        cell(&r.site),
        r.score.to_string(),
        u8::from(r.scale).to_string(),
        r.perfect.to_string(),
        text(&r.interaction),
        text(&r.case),
        r.status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        cell(&r.reasons.join("; ")),
        text(&r.comment),
    ];
    if contact {
        cells.extend([
            text(&r.contact_name),
            text(&r.contact_email),
            text(&r.contact_phone),
        ]);
    }
    line(cells)
}

/// One page of rows after `after` (from the start when `None`); the cursor of the next
/// page, or `None` when this was the last.
pub async fn page(
    store: &Store,
    sites: Option<Vec<i64>>,
    period: Period,
    after: Option<Cursor>,
    contact: bool,
) -> Result<(String, Option<Cursor>), StoreError> {
    let received = (period.start(), period.end());
    let rows = store
        .read(move |tx| {
            let after = after.as_ref().map(|(at, id)| (*at, id.as_str()));
            tx.export_rows(sites.as_deref(), received, after, PAGE)
        })
        .await?;
    let next = (rows.len() as i64 == PAGE)
        .then(|| rows.last().map(|r| (r.created_at, r.id.clone())))
        .flatten();
    let text = rows.iter().map(|r| row(r, contact)).collect();
    Ok((text, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_guarded_and_quotes_doubled() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(header(false).trim_end(), COLUMNS.join(","));
    }
}

//! `/desk/numbers`: per site and period, the perfection rate over time as an SVG chart
//! drawn here (no chart library in the browser), every near miss listed one by one, and
//! the rest as plain figures; `/desk/numbers/export.csv` downloads the ratings.

use super::page::{layout, moment, problem, respond, site_select};
use super::Staff;
use crate::bodies::{CaseView, Stats};
use crate::cases::{self, Listing};
use crate::error::Error;
use crate::http::numbers::csv_download;
use crate::http::AppState;
use crate::stats::{self, Period};
use crate::store::Site;
use crate::time::span;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

/// The page's choices, as its form sends them.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Choice {
    site: String,
    /// `7`, `30`, `90` or `custom`.
    period: String,
    from: String,
    to: String,
    /// `1` for the export's contact columns (owners only).
    contact: String,
}

/// What the choice resolves to: the period, the sites, and those the person may pick.
struct Chosen {
    period: Period,
    sites: Option<Vec<i64>>,
    choices: Vec<Site>,
}

async fn resolve(state: &AppState, staff: &Staff, choice: &Choice) -> Result<Chosen, Response> {
    let now = state.clock.now();
    // The dates count only with "From and to": the form always sends them, filled
    // with the period shown.
    let period = match choice.period.as_str() {
        "7" => Ok(Period::last(7, now)),
        "90" => Ok(Period::last(90, now)),
        "custom" => Period::parse(Some(&choice.from), Some(&choice.to), now),
        _ => Ok(Period::last(30, now)),
    };
    let period = period.map_err(|err| match err {
        Error::Invalid { message, .. } => {
            problem(StatusCode::UNPROCESSABLE_ENTITY, "No such period", message)
        }
        other => problem(
            StatusCode::BAD_REQUEST,
            "No such period",
            &other.to_string(),
        ),
    })?;
    let user = &staff.0.user;
    let all = state.store.read(|tx| tx.sites()).await.map_err(|err| {
        tracing::error!(error = %err, "reading sites for the numbers failed");
        problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "Unavailable",
            "The desk could not read the numbers. Try again in a moment.",
        )
    })?;
    let choices: Vec<Site> = all.into_iter().filter(|s| user.works(s.id)).collect();
    let sites = match choice.site.as_str() {
        "" => user.scope(),
        key => match choices.iter().find(|s| s.key == key) {
            Some(site) => Some(vec![site.id]),
            None => {
                return Err(problem(
                    StatusCode::NOT_FOUND,
                    "No such site",
                    "None of your sites has this key.",
                ))
            }
        },
    };
    Ok(Chosen {
        period,
        sites,
        choices,
    })
}

/// The page.
pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Query(choice): Query<Choice>,
) -> Response {
    let chosen = match resolve(&state, &staff, &choice).await {
        Ok(chosen) => chosen,
        Err(refused) => return refused,
    };
    let now = state.clock.now();
    let numbers = stats::compute(&state.store, chosen.sites.clone(), chosen.period, now).await;
    let listing = Listing {
        status: Some("all".into()),
        scope: chosen.sites.clone(),
        opened: Some((chosen.period.start(), chosen.period.end())),
        ..Listing::default()
    };
    let near_misses = cases::list(&state.store, listing, now).await;
    let (numbers, near_misses) = match (numbers, near_misses) {
        (Ok(numbers), Ok(list)) => (numbers, list.cases),
        _ => {
            return problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "Unavailable",
                "The desk could not read the numbers. Try again in a moment.",
            )
        }
    };
    let export = format!(
        "/desk/numbers/export.csv?site={}&period=custom&from={}&to={}",
        choice.site, chosen.period.from, chosen.period.to
    );
    let main = html! {
        h1 { "Numbers" }
        (choice_form(&choice, &chosen))
        (figures(&numbers))
        (chart(&numbers))
        h2 { "Near misses (" (numbers.near_misses) ")" }
        @if (near_misses.len() as i64) < numbers.near_misses {
            p.hint { "The newest " (near_misses.len()) " are listed; the download has them all." }
        }
        (near_miss_list(&near_misses, now))
        h2 { "Root causes" }
        @if numbers.causes.is_empty() {
            p { "No root cause recorded for this period's cases yet." }
        } @else {
            ol {
                @for cause in &numbers.causes {
                    li {
                        bdi { (cause.cause) } ": " (cause.cases) @if cause.cases == 1 { " case" } @else { " cases" }
                        @if !cause.preventions.is_empty() {
                            ul { @for action in &cause.preventions { li { bdi { (action) } } } }
                        }
                    }
                }
            }
        }
        h2 { "Download" }
        p {
            a href=(export) download { "Every rating of the period (CSV)" }
            @if staff.0.user.is_owner() {
                " · " a href={ (export) "&contact=1" } download { "with contact details" }
            }
        }
    };
    respond(StatusCode::OK, layout("Numbers", Some(&staff.0), main))
}

/// The ratings of the chosen period and sites as CSV; contact columns for owners only.
pub async fn export(
    State(state): State<AppState>,
    staff: Staff,
    Query(choice): Query<Choice>,
) -> Response {
    match resolve(&state, &staff, &choice).await {
        Ok(chosen) => {
            let contact = choice.contact == "1" && staff.0.user.is_owner();
            let key = (!choice.site.is_empty()).then_some(choice.site.as_str());
            csv_download(&state, chosen.sites, chosen.period, contact, key)
        }
        Err(refused) => refused,
    }
}

fn choice_form(choice: &Choice, chosen: &Chosen) -> Markup {
    let periods = [
        ("7", "Last 7 days"),
        ("30", "Last 30 days"),
        ("90", "Last 90 days"),
        ("custom", "From and to"),
    ];
    let current = match choice.period.as_str() {
        "7" | "90" | "custom" => choice.period.as_str(),
        _ => "30",
    };
    html! {
        form.filters method="get" action="/desk/numbers" {
            (site_select("n-site", "All your sites", &chosen.choices, &choice.site))
            div {
                label for="n-period" { "Period" }
                select #n-period name="period" {
                    @for (value, name) in periods { option value=(value) selected[current == value] { (name) } }
                }
            }
            div {
                label for="n-from" { "From (with “From and to”)" }
                input #n-from type="date" name="from" value=(chosen.period.from);
            }
            div {
                label for="n-to" { "To" }
                input #n-to type="date" name="to" value=(chosen.period.to);
            }
            button type="submit" { "Show" }
        }
        p.hint { (chosen.period.from) " to " (chosen.period.to) ", whole days in UTC." }
    }
}

fn percent(rate: Option<f64>) -> String {
    match rate {
        Some(rate) => format!("{:.1}%", rate * 100.0),
        None => "no ratings".into(),
    }
}

fn figures(n: &Stats) -> Markup {
    let ack =
        |seconds: Option<i64>| seconds.map_or("none acknowledged".to_owned(), |s| span(s * 1000));
    html! {
        dl.figures {
            div { dt { "Perfection rate" } dd.big { (percent(n.perfection_rate)) } dd { (n.perfect) " perfect of " (n.ratings) " ratings" } }
            div { dt { "Near misses" } dd.big { (n.near_misses) } dd { (n.open) " still open, " (n.overdue) " overdue" } }
            div { dt { "Time to acknowledge" } dd.big { (ack(n.ack_seconds.median)) } dd { "median; 9 in 10 within " (ack(n.ack_seconds.p90)) } }
            div {
                dt { "Won back" }
                dd.big { @match n.recovery_rate { Some(_) => (percent(n.recovery_rate)), None => "no re-ratings" } }
                dd { (n.recovered) " of " (n.rerated) " re-ratings perfect" }
            }
        }
    }
}

/// The perfection rate per day as an SVG line; days without ratings leave a gap.
fn chart(n: &Stats) -> Markup {
    const W: f64 = 640.0;
    const H: f64 = 200.0;
    const LEFT: f64 = 44.0;
    const PAD: f64 = 12.0;
    let rates: Vec<Option<f64>> = n
        .days
        .iter()
        .map(|d| (d.ratings > 0).then(|| d.perfect as f64 / d.ratings as f64 * 100.0))
        .collect();
    let lowest = rates.iter().flatten().fold(100.0f64, |a, b| a.min(*b));
    // The scale starts at the tens below the lowest day, so small slips stay visible.
    let floor = ((lowest / 10.0).floor() * 10.0).clamp(0.0, 90.0);
    let x = |i: usize| {
        LEFT + (W - LEFT - PAD)
            * if rates.len() > 1 {
                i as f64 / (rates.len() - 1) as f64
            } else {
                0.5
            }
    };
    let y = |rate: f64| PAD + (H - 2.0 * PAD) * (100.0 - rate) / (100.0 - floor);
    let mut lines: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for (i, rate) in rates.iter().enumerate() {
        match rate {
            Some(rate) => {
                if let Some(line) = lines.last_mut() {
                    line.push((x(i), y(*rate)));
                }
            }
            None if lines.last().is_some_and(|l| !l.is_empty()) => lines.push(Vec::new()),
            None => {}
        }
    }
    let points = |line: &Vec<(f64, f64)>| {
        line.iter()
            .map(|(x, y)| format!("{x:.1},{y:.1}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let label = format!("Perfection rate per day, {} to {}", n.from, n.to);
    let mid = (floor + 100.0) / 2.0;
    html! {
        figure.chart {
            svg viewBox={ "0 0 " (W) " " (H + 20.0) } role="img" aria-label=(label) {
                @for grid in [floor, mid, 100.0] {
                    line.grid x1=(LEFT) x2=(W - PAD) y1=(format!("{:.1}", y(grid))) y2=(format!("{:.1}", y(grid))) {}
                    text.axis x=(LEFT - 6.0) y=(format!("{:.1}", y(grid) + 4.0)) text-anchor="end" { (format!("{grid:.0}%")) }
                }
                @for line in lines.iter().filter(|l| !l.is_empty()) {
                    polyline.rate points=(points(line)) {}
                    @for (cx, cy) in line { circle.rate cx=(format!("{cx:.1}")) cy=(format!("{cy:.1}")) r="3" {} }
                }
                text.axis x=(LEFT) y=(H + 16.0) { (n.from) }
                text.axis x=(W - PAD) y=(H + 16.0) text-anchor="end" { (n.to) }
            }
            figcaption { (label) ". Days without ratings leave a gap." }
        }
        details {
            summary { "Every day" }
            table {
                thead { tr { th { "Day" } th { "Ratings" } th { "Perfect" } th { "Rate" } } }
                tbody {
                    @for day in &n.days {
                        tr {
                            td { (day.date) } td { (day.ratings) } td { (day.perfect) }
                            td { @if day.ratings > 0 { (format!("{:.1}%", day.perfect as f64 / day.ratings as f64 * 100.0)) } @else { "–" } }
                        }
                    }
                }
            }
        }
    }
}

fn near_miss_list(cases: &[CaseView], now: i64) -> Markup {
    html! {
        @if cases.is_empty() {
            p { "None. Every customer of the period had a perfect experience, or nobody rated." }
        } @else {
            ul.plain {
                @for view in cases {
                    @let case = &view.case;
                    li {
                        a href={ "/desk/cases/" (case.reference) } { (case.reference) } " "
                        strong { (view.rating.score) "/" (view.rating.scale) } " · "
                        bdi { (case.site_name) } " · " (moment(case.opened_at, &case.timezone, now)) " · "
                        @if case.status == crate::states::Status::Closed { "closed" } @else if case.overdue { strong.overdue-text { "overdue" } } @else { "open" }
                        @if let Some(comment) = view.rating.details.as_ref().and_then(|d| d.comment.as_deref()) {
                            br; bdi.text { (comment.chars().take(160).collect::<String>()) }
                        }
                    }
                }
            }
        }
    }
}

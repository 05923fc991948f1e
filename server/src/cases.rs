//! Cases: every near miss opens one, in the same transaction as its rating, with a short
//! human reference and deadlines from the site. Staff then record the recovery steps
//! (acknowledged … closed), each with time, actor and note, through the private API.
//! Every change is written to the alert outbox in the same transaction.

use crate::alerts::{self, Event};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::sites::Site;
use crate::store::{self, StoreError};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Deserialize;
use serde_json::{json, Value};

/// Alphabet for references: upper case, without 0/O, 1/I/L that are misread on a phone.
const REF_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// The recovery steps, in the order they usually happen.
pub const STEPS: &[&str] = &[
    "acknowledged",
    "contacted",
    "fixed",
    "made_good",
    "cause_found",
    "customer_told",
    "closed",
];

/// Opens the case for a non-perfect rating and queues `case.opened`; returns its id.
pub(crate) fn open(
    tx: &Transaction<'_>,
    site: &Site,
    rating_id: &str,
    now: i64,
) -> Result<i64, StoreError> {
    let ack_due = now + millis(site.settings.ack_within);
    let close_due = now + millis(site.settings.close_within);
    let rerate_token = crate::sites::random_token(24);
    // Four characters give ~920,000 references; widen after collisions so a busy
    // deployment keeps working instead of looping.
    for attempt in 0..12 {
        let reference = new_reference(4 + attempt / 4);
        let inserted = tx.execute(
            "INSERT INTO cases (ref, site_id, rating_id, opened_at, ack_due_at, close_due_at, rerate_token)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (ref) DO NOTHING",
            params![reference, site.id, rating_id, now, ack_due, close_due, rerate_token],
        )?;
        if inserted == 1 {
            let case_id = tx.last_insert_rowid();
            alerts::enqueue(tx, case_id, Event::Opened, now)?;
            return Ok(case_id);
        }
    }
    Err(StoreError::Sqlite(rusqlite::Error::StatementChangedRows(0)))
}

/// A re-rating after the case was closed: recovered when perfect, reopened otherwise.
pub(crate) fn rerated(
    tx: &Transaction<'_>,
    case_id: i64,
    site: &Site,
    perfect: bool,
    now: i64,
) -> Result<(), StoreError> {
    if perfect {
        tx.execute("UPDATE cases SET recovered = 1 WHERE id = ?1", [case_id])?;
    } else {
        tx.execute(
            "UPDATE cases SET recovered = 0, status = 'open', closed_at = NULL,
                    acknowledged_at = NULL, ack_overdue_at = NULL, close_overdue_at = NULL,
                    ack_due_at = ?2, close_due_at = ?3
             WHERE id = ?1",
            params![
                case_id,
                now + millis(site.settings.ack_within),
                now + millis(site.settings.close_within)
            ],
        )?;
    }
    alerts::enqueue(tx, case_id, Event::Updated, now)?;
    Ok(())
}

/// The customer added details to a rating: its case (if any) is updated.
pub(crate) fn details_arrived(
    tx: &Transaction<'_>,
    rating_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    let case_id: Option<i64> = tx
        .query_row(
            "SELECT c.id FROM cases c JOIN ratings r ON c.rating_id = r.id OR c.id = r.rerates_case
             WHERE r.id = ?1",
            [rating_id],
            |row| row.get(0),
        )
        .optional()?;
    if let Some(case_id) = case_id {
        alerts::enqueue(tx, case_id, Event::Updated, now)?;
    }
    Ok(())
}

/// The case a re-rating link belongs to: its site's key and name, and its reference.
pub fn by_rerate_token(
    conn: &Connection,
    token: &str,
) -> Result<Option<(String, String, String)>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT s.key, s.name, c.ref FROM cases c JOIN sites s ON s.id = c.site_id
             WHERE c.rerate_token = ?1",
            [token],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?)
}

fn new_reference(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    let mut reference = String::from("NM-");
    reference.extend(
        bytes
            .iter()
            .map(|b| REF_ALPHABET[*b as usize % REF_ALPHABET.len()] as char),
    );
    reference
}

pub(crate) fn millis(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX / 2)
}

/// Unix milliseconds as RFC 3339 (`2026-11-24T13:15:00Z`).
pub fn rfc3339(unix_ms: i64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_millis(unix_ms.max(0) as u64);
    humantime::format_rfc3339_seconds(time).to_string()
}

/// A case as the API, webhooks and messages show it.
pub fn view(conn: &Connection, case_id: i64, now: i64) -> Result<Option<Value>, StoreError> {
    let row = conn
        .query_row(
            "SELECT c.ref, s.key, s.name, c.status, c.opened_at, c.ack_due_at, c.close_due_at,
                    c.acknowledged_at, c.closed_at, c.recovered, s.scale,
                    r.id, r.score, r.interaction, r.page, r.locale, r.created_at
             FROM cases c JOIN sites s ON s.id = c.site_id JOIN ratings r ON r.id = c.rating_id
             WHERE c.id = ?1",
            [case_id],
            |row| {
                let opened: i64 = row.get(4)?;
                let ack_due: i64 = row.get(5)?;
                let close_due: i64 = row.get(6)?;
                let acknowledged: Option<i64> = row.get(7)?;
                let closed: Option<i64> = row.get(8)?;
                let status: String = row.get(3)?;
                let overdue = status == "open"
                    && ((acknowledged.is_none() && ack_due <= now) || close_due <= now);
                let case = json!({
                    "ref": row.get::<_, String>(0)?,
                    "site": row.get::<_, String>(1)?,
                    "site_name": row.get::<_, String>(2)?,
                    "status": status,
                    "overdue": overdue,
                    "opened_at": rfc3339(opened),
                    "ack_due_at": rfc3339(ack_due),
                    "close_due_at": rfc3339(close_due),
                    "acknowledged_at": acknowledged.map(rfc3339),
                    "closed_at": closed.map(rfc3339),
                    "recovered": row.get::<_, Option<bool>>(9)?,
                });
                let rating = json!({
                    "id": row.get::<_, String>(11)?,
                    "score": row.get::<_, i64>(12)?,
                    "scale": row.get::<_, i64>(10)?,
                    "interaction": row.get::<_, Option<String>>(13)?,
                    "page": row.get::<_, Option<String>>(14)?,
                    "locale": row.get::<_, Option<String>>(15)?,
                    "created_at": rfc3339(row.get(16)?),
                });
                Ok((case, rating))
            },
        )
        .optional()?;
    let Some((mut case, mut rating)) = row else {
        return Ok(None);
    };
    let rating_id = rating["id"].as_str().unwrap_or_default().to_owned();
    rating["details"] = match store::details_for(conn, &rating_id)? {
        Some(d) => json!({
            "comment": d.comment,
            "reasons": d.reasons,
            "contact": d.consent.then(|| json!({
                "name": d.contact_name, "email": d.contact_email, "phone": d.contact_phone,
            })),
        }),
        None => Value::Null,
    };
    let mut stmt = conn.prepare(
        "SELECT st.step, st.actor, st.note, st.cause, st.at, p.id, p.cause, p.action
         FROM case_steps st LEFT JOIN preventions p ON p.id = st.prevention_id
         WHERE st.case_id = ?1 ORDER BY st.id",
    )?;
    let steps = stmt
        .query_map([case_id], |row| {
            let prevention: Option<i64> = row.get(5)?;
            Ok(json!({
                "step": row.get::<_, String>(0)?,
                "actor": row.get::<_, String>(1)?,
                "note": row.get::<_, Option<String>>(2)?,
                "cause": row.get::<_, Option<String>>(3)?,
                "at": rfc3339(row.get(4)?),
                "prevention": match prevention {
                    Some(id) => json!({
                        "id": id,
                        "cause": row.get::<_, String>(6)?,
                        "action": row.get::<_, String>(7)?,
                    }),
                    None => Value::Null,
                },
            }))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    case["steps"] = steps.into();
    case["rating"] = rating;
    Ok(Some(case))
}

fn case_id_by_ref(conn: &Connection, reference: &str) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .query_row("SELECT id FROM cases WHERE ref = ?1", [reference], |row| {
            row.get(0)
        })
        .optional()?)
}

/// `POST /v1/cases/{ref}/steps`.
#[derive(Deserialize)]
pub struct StepRequest {
    /// One of [`STEPS`].
    pub step: String,
    /// What was done; for `made_good`, what was given; for `closed` without
    /// `customer_told`, why the customer was not told.
    #[serde(default)]
    pub note: Option<String>,
    /// Who did it; defaults to the API token's name.
    #[serde(default)]
    pub actor: Option<String>,
    /// For `cause_found`: the root-cause category, from the site's list.
    #[serde(default)]
    pub cause: Option<String>,
    /// For `cause_found`: the action that prevents it happening again (a new prevention).
    #[serde(default)]
    pub action: Option<String>,
    /// For `cause_found`: an existing prevention to link instead of a new action.
    #[serde(default)]
    pub prevention: Option<i64>,
}

fn invalid(code: &'static str, field: &str, message: &str) -> ApiError {
    ApiError::InvalidValue {
        code,
        field: Some(field.to_owned()),
        message: message.to_owned(),
    }
}

/// Records a step, enforcing the closing rule; queues `case.updated` or `case.closed`.
pub fn record_step(
    tx: &Transaction<'_>,
    reference: &str,
    request: &StepRequest,
    actor: &str,
    now: i64,
) -> Result<Result<i64, ApiError>, StoreError> {
    let Some(case_id) = case_id_by_ref(tx, reference)? else {
        return Ok(Err(ApiError::UnknownCase));
    };
    if !STEPS.contains(&request.step.as_str()) {
        return Ok(Err(invalid(
            "unknown_step",
            "step",
            "The step must be one of acknowledged, contacted, fixed, made_good, cause_found, customer_told, closed.",
        )));
    }
    let note = request
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if let Some(err) =
        check_text(note, "note", 2000).or_else(|| check_text(Some(actor), "actor", 200))
    {
        return Ok(Err(err));
    }
    let (site_id, status): (i64, String) = tx.query_row(
        "SELECT site_id, status FROM cases WHERE id = ?1",
        [case_id],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    if status == "closed" {
        return Ok(Err(ApiError::CaseClosed));
    }
    let done = |step: &str| -> Result<bool, StoreError> {
        Ok(tx
            .query_row(
                "SELECT 1 FROM case_steps WHERE case_id = ?1 AND step = ?2 LIMIT 1",
                params![case_id, step],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    };
    let mut cause = None;
    let mut prevention = None;
    match request.step.as_str() {
        "made_good" if note.is_none() => {
            return Ok(Err(invalid(
                "required",
                "note",
                "Record what was given to make up for it.",
            )));
        }
        "cause_found" => {
            let site =
                store::site_by_id(tx, site_id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
            let Some(category) = request
                .cause
                .as_deref()
                .filter(|c| site.settings.causes.iter().any(|s| s == c))
            else {
                return Ok(Err(invalid(
                    "unknown_cause",
                    "cause",
                    "The cause must be one of the site's root-cause categories.",
                )));
            };
            cause = Some(category.to_owned());
            prevention = match (request.prevention, request.action.as_deref().map(str::trim)) {
                (Some(id), _) => {
                    let known: Option<i64> = tx
                        .query_row(
                            "SELECT id FROM preventions WHERE id = ?1 AND site_id = ?2",
                            params![id, site_id],
                            |row| row.get(0),
                        )
                        .optional()?;
                    match known {
                        Some(id) => Some(id),
                        None => return Ok(Err(invalid("unknown_prevention", "prevention", "This site has no prevention action with this id."))),
                    }
                }
                (None, Some(action)) if !action.is_empty() => {
                    if let Some(err) = check_text(Some(action), "action", 2000) {
                        return Ok(Err(err));
                    }
                    tx.execute(
                        "INSERT INTO preventions (site_id, cause, action, created_at) VALUES (?1, ?2, ?3, ?4)",
                        params![site_id, category, action, now],
                    )?;
                    Some(tx.last_insert_rowid())
                }
                _ => {
                    return Ok(Err(invalid(
                        "required",
                        "action",
                        "Record the action that prevents it happening again, or link an existing prevention.",
                    )))
                }
            };
        }
        "closed" => {
            let mut missing = Vec::new();
            for step in ["acknowledged", "cause_found"] {
                if !done(step)? {
                    missing.push(step);
                }
            }
            if !done("customer_told")? && note.is_none() {
                missing.push("customer_told (or a note saying why the customer was not told)");
            }
            if !missing.is_empty() {
                return Ok(Err(ApiError::CannotClose(missing.join(", "))));
            }
        }
        _ => {}
    }
    tx.execute(
        "INSERT INTO case_steps (case_id, step, actor, note, cause, prevention_id, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![case_id, request.step, actor, note, cause, prevention, now],
    )?;
    let event = match request.step.as_str() {
        "acknowledged" => {
            tx.execute(
                "UPDATE cases SET acknowledged_at = COALESCE(acknowledged_at, ?2) WHERE id = ?1",
                params![case_id, now],
            )?;
            Event::Updated
        }
        "closed" => {
            tx.execute(
                "UPDATE cases SET status = 'closed', closed_at = ?2 WHERE id = ?1",
                params![case_id, now],
            )?;
            Event::Closed
        }
        _ => Event::Updated,
    };
    alerts::enqueue(tx, case_id, event, now)?;
    Ok(Ok(case_id))
}

fn check_text(value: Option<&str>, field: &str, limit: usize) -> Option<ApiError> {
    let value = value?;
    if value.chars().count() > limit {
        return Some(invalid("too_long", field, "This text is too long."));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Some(invalid(
            "control_characters",
            field,
            "This text contains control characters.",
        ));
    }
    None
}

/// Filters for `GET /v1/cases`.
#[derive(Deserialize)]
pub struct ListQuery {
    /// `open`, `overdue` or `closed`.
    pub status: Option<String>,
    /// A site key.
    pub site: Option<String>,
}

/// Cases matching the filter, newest first (at most 500).
pub fn list(
    conn: &Connection,
    query: &ListQuery,
    now: i64,
) -> Result<Result<Vec<Value>, ApiError>, StoreError> {
    let condition = match query.status.as_deref() {
        None => "1 = 1",
        Some("open") => "c.status = 'open'",
        Some("closed") => "c.status = 'closed'",
        Some("overdue") => {
            "c.status = 'open' AND ((c.acknowledged_at IS NULL AND c.ack_due_at <= ?1) OR c.close_due_at <= ?1)"
        }
        Some(_) => return Ok(Err(invalid("invalid_status", "status", "The status must be open, overdue or closed."))),
    };
    let sql = format!(
        "SELECT c.id FROM cases c JOIN sites s ON s.id = c.site_id
         WHERE {condition} AND (?2 IS NULL OR s.key = ?2)
         ORDER BY c.opened_at DESC, c.id DESC LIMIT 500"
    );
    let mut stmt = conn.prepare(&sql)?;
    let ids = stmt
        .query_map(params![now, query.site], |row| row.get::<_, i64>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut cases = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(case) = view(conn, id, now)? {
            cases.push(case);
        }
    }
    Ok(Ok(cases))
}

/// The private case routes (behind an API token).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/cases", get(list_cases))
        .route("/v1/cases/{reference}", get(get_case))
        .route("/v1/cases/{reference}/steps", post(add_step))
}

async fn list_cases(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let now = state.clock.now();
    let cases = state
        .store
        .run(move |conn| list(conn, &query, now))
        .await??;
    Ok(Json(json!({ "cases": cases })))
}

async fn get_case(
    State(state): State<AppState>,
    Path(reference): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let now = state.clock.now();
    let case = state
        .store
        .run(move |conn| match case_id_by_ref(conn, &reference)? {
            Some(id) => view(conn, id, now),
            None => Ok(None),
        })
        .await?
        .ok_or(ApiError::UnknownCase)?;
    Ok(Json(case))
}

async fn add_step(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(reference): Path<String>,
    crate::ingest::JsonBody(request): crate::ingest::JsonBody<StepRequest>,
) -> Result<(axum::http::StatusCode, Json<Value>), ApiError> {
    let now = state.clock.now();
    let actor = request
        .actor
        .clone()
        .filter(|a| !a.trim().is_empty())
        .unwrap_or(caller.name);
    let case = state
        .store
        .run(move |conn| {
            let tx = conn.transaction()?;
            let case_id = match record_step(&tx, &reference, &request, &actor, now)? {
                Ok(id) => id,
                Err(err) => return Ok(Err(err)),
            };
            let case = view(&tx, case_id, now)?;
            tx.commit()?;
            Ok(Ok(case))
        })
        .await??;
    state.alerts.wake();
    Ok((
        axum::http::StatusCode::CREATED,
        Json(case.unwrap_or(Value::Null)),
    ))
}

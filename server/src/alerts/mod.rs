//! Alerts: every case event is written to an outbox in the same transaction as the change,
//! then delivered at least once by a worker (`deliver`), retried with backoff for days,
//! with each endpoint's delivery state kept for people to see.
//!
//! Endpoints are per site: Standard Webhooks, Slack-compatible incoming webhooks, and
//! email. Escalation endpoints receive only `case.overdue`. A closed case also emails the
//! customer, when they consented, what changed, with a one-click re-rating link.

pub mod deliver;
pub mod message;
pub mod target;
pub mod webhook;

use crate::store::StoreError;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::sync::Notify;

/// What happened to a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// A near miss opened a case.
    Opened,
    /// Details arrived, a step was recorded, or a re-rating came in.
    Updated,
    /// A deadline passed.
    Overdue,
    /// The case was closed.
    Closed,
}

impl Event {
    /// The event's `type` in webhook bodies.
    pub fn name(self) -> &'static str {
        match self {
            Event::Opened => "case.opened",
            Event::Updated => "case.updated",
            Event::Overdue => "case.overdue",
            Event::Closed => "case.closed",
        }
    }
}

/// Delivery settings and the worker's wake-up call.
pub struct Alerts {
    /// Where links in messages point (`https://feedback.example.com`).
    pub public_url: String,
    /// `smtp://host:port` (or `smtps://`), with optional `user:pass@`.
    pub smtp_url: Option<String>,
    /// The From: of emails.
    pub mail_from: String,
    /// Allow loopback and private addresses as targets (development and tests only).
    pub allow_private_targets: bool,
    notify: Notify,
}

impl Alerts {
    /// Settings for the delivery worker.
    pub fn new(
        public_url: &str,
        smtp_url: Option<String>,
        mail_from: &str,
        allow_private_targets: bool,
    ) -> Arc<Alerts> {
        Arc::new(Alerts {
            public_url: public_url.trim_end_matches('/').to_owned(),
            smtp_url,
            mail_from: mail_from.to_owned(),
            allow_private_targets,
            notify: Notify::new(),
        })
    }

    /// Tells the worker new messages are waiting (call after the commit).
    pub fn wake(&self) {
        self.notify.notify_one();
    }

    pub(crate) async fn woken(&self) {
        self.notify.notified().await;
    }
}

/// Writes one outbox message per endpoint that wants `event`, and the customer's email
/// for a closed case. Runs inside the transaction that changed the case.
pub fn enqueue(
    tx: &Transaction<'_>,
    case_id: i64,
    event: Event,
    now: i64,
) -> Result<(), StoreError> {
    let Some(case) = crate::cases::view(tx, case_id, now)? else {
        return Ok(());
    };
    let mut case = case;
    let rating = case
        .as_object_mut()
        .and_then(|c| c.remove("rating"))
        .unwrap_or(Value::Null);
    let body = json!({
        "type": event.name(),
        "timestamp": crate::cases::rfc3339(now),
        "data": { "case": case, "rating": rating },
    });
    let payload = body.to_string();
    let site_id: i64 = tx.query_row(
        "SELECT site_id FROM cases WHERE id = ?1",
        [case_id],
        |row| row.get(0),
    )?;
    let mut stmt = tx.prepare(
        "SELECT id, kind, target FROM endpoints
         WHERE site_id = ?1 AND disabled_at IS NULL AND (escalation = 0 OR ?2)",
    )?;
    let endpoints = stmt
        .query_map(params![site_id, event == Event::Overdue], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    for (endpoint_id, kind, target) in endpoints {
        insert(
            tx,
            Some(endpoint_id),
            &kind,
            &target,
            event,
            case_id,
            &payload,
            now,
        )?;
    }
    if event == Event::Closed {
        let email = &body["data"]["rating"]["details"]["contact"]["email"];
        if let Some(email) = email.as_str() {
            insert(
                tx,
                None,
                "customer_email",
                email,
                event,
                case_id,
                &payload,
                now,
            )?;
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn insert(
    tx: &Transaction<'_>,
    endpoint_id: Option<i64>,
    kind: &str,
    target: &str,
    event: Event,
    case_id: i64,
    payload: &str,
    now: i64,
) -> Result<(), StoreError> {
    let msg_id = format!("msg_{}", crate::sites::random_token(24));
    tx.execute(
        "INSERT INTO outbox (msg_id, endpoint_id, kind, target, event, case_id, payload, created_at, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        params![msg_id, endpoint_id, kind, target, event.name(), case_id, payload, now],
    )?;
    Ok(())
}

/// A new endpoint: what `nearmiss alert add` records.
pub struct NewEndpoint<'a> {
    /// `webhook`, `slack` or `email`.
    pub kind: &'a str,
    /// A URL, or an email address.
    pub target: &'a str,
    /// Receives only `case.overdue`.
    pub escalation: bool,
}

/// Adds an endpoint to a site; returns its id and, for webhooks, the signing secret.
pub fn add_endpoint(
    conn: &Connection,
    site_id: i64,
    endpoint: &NewEndpoint<'_>,
    now: i64,
) -> Result<(i64, Option<String>), StoreError> {
    let secret = (endpoint.kind == "webhook").then(webhook::new_secret);
    conn.execute(
        "INSERT INTO endpoints (site_id, kind, target, secret, escalation, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            site_id,
            endpoint.kind,
            endpoint.target,
            secret,
            endpoint.escalation,
            now
        ],
    )?;
    Ok((conn.last_insert_rowid(), secret))
}

/// Each endpoint of a site with its delivery state and message counts.
pub fn endpoint_states(conn: &Connection, site_id: i64) -> Result<Vec<Value>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT e.id, e.kind, e.target, e.escalation, e.disabled_at, e.disabled_reason,
                e.last_success_at, e.last_failure_at, e.last_error,
                (SELECT count(*) FROM outbox o WHERE o.endpoint_id = e.id AND o.delivered_at IS NOT NULL),
                (SELECT count(*) FROM outbox o WHERE o.endpoint_id = e.id AND o.delivered_at IS NULL AND o.failed_at IS NULL),
                (SELECT count(*) FROM outbox o WHERE o.endpoint_id = e.id AND o.failed_at IS NOT NULL)
         FROM endpoints e WHERE e.site_id = ?1 ORDER BY e.id",
    )?;
    let time = |v: Option<i64>| v.map(crate::cases::rfc3339);
    let rows = stmt
        .query_map([site_id], |row| {
            Ok(json!({
                "id": row.get::<_, i64>(0)?,
                "kind": row.get::<_, String>(1)?,
                "target": row.get::<_, String>(2)?,
                "escalation": row.get::<_, bool>(3)?,
                "state": if row.get::<_, Option<i64>>(4)?.is_some() { "disabled" } else { "active" },
                "disabled_reason": row.get::<_, Option<String>>(5)?,
                "last_success_at": time(row.get(6)?),
                "last_failure_at": time(row.get(7)?),
                "last_error": row.get::<_, Option<String>>(8)?,
                "delivered": row.get::<_, i64>(9)?,
                "pending": row.get::<_, i64>(10)?,
                "failed": row.get::<_, i64>(11)?,
            }))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The re-rating token of a case (for the customer's email).
pub(crate) fn rerate_token(conn: &Connection, case_id: i64) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT rerate_token FROM cases WHERE id = ?1",
            [case_id],
            |row| row.get(0),
        )
        .optional()?
        .flatten())
}

//! The delivery worker: claims due outbox messages, sends them, and records the outcome.
//! At least once: a message is marked delivered only after its endpoint answered 2xx;
//! a crash in between sends it again, with the same `webhook-id`.

use super::{message, target, webhook, Alerts};
use crate::store::StoreError;
use crate::AppState;
use rusqlite::{params, Connection};
use serde_json::Value;

use std::time::Duration;

/// A claimed message is not claimed again for this long (a send's worst case).
const LEASE_MS: i64 = 60_000;
/// Retries stop after this long; the message is then marked failed.
pub const GIVE_UP_MS: i64 = 3 * 24 * 60 * 60 * 1000;
const FIRST_RETRY_MS: i64 = 5_000;
const LONGEST_RETRY_MS: i64 = 60 * 60 * 1000;
const BATCH: i64 = 32;

struct Message {
    id: i64,
    msg_id: String,
    endpoint_id: Option<i64>,
    kind: String,
    target: String,
    secret: Option<String>,
    case_id: Option<i64>,
    payload: String,
    attempts: i64,
    created_at: i64,
}

/// What happened when a message was sent.
#[derive(Debug)]
enum Outcome {
    Delivered,
    /// Worth trying again later.
    Retry(String),
    /// The endpoint answered 410 Gone: disable it.
    Gone,
    /// This message can never be delivered.
    Refused(String),
}

/// Runs the worker until the process ends: delivers what is due, then waits for a wake-up
/// or a second, whichever comes first.
pub async fn run(state: AppState) {
    loop {
        match deliver_due(&state).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(err) => tracing::error!(error = %err, "alert delivery failed"),
        }
        tokio::select! {
            _ = state.alerts.woken() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// Sends every message that is due now; returns how many were attempted.
pub async fn deliver_due(state: &AppState) -> Result<usize, StoreError> {
    let now = state.clock.now();
    let messages = state.store.run(move |conn| claim(conn, now)).await?;
    let count = messages.len();
    let mut sends = tokio::task::JoinSet::new();
    for message in messages {
        let alerts = state.alerts.clone();
        let store = state.store.clone();
        let timestamp = now / 1000;
        sends.spawn_blocking(move || {
            let outcome = send(&alerts, &store, &message, timestamp);
            (message, outcome)
        });
    }
    while let Some(joined) = sends.join_next().await {
        let Ok((message, outcome)) = joined else {
            continue;
        };
        let now = state.clock.now();
        match &outcome {
            Outcome::Delivered => {
                tracing::info!(msg = %message.msg_id, kind = %message.kind, "alert delivered")
            }
            other => {
                tracing::warn!(msg = %message.msg_id, kind = %message.kind, outcome = ?other, "alert not delivered")
            }
        }
        state
            .store
            .run(move |conn| record(conn, &message, &outcome, now))
            .await?;
    }
    Ok(count)
}

fn claim(conn: &mut Connection, now: i64) -> Result<Vec<Message>, StoreError> {
    let tx = conn.transaction()?;
    let messages = {
        let mut stmt = tx.prepare(
            "SELECT o.id, o.msg_id, o.endpoint_id, o.kind, o.target, e.secret, o.case_id,
                    o.payload, o.attempts, o.created_at
             FROM outbox o LEFT JOIN endpoints e ON e.id = o.endpoint_id
             WHERE o.delivered_at IS NULL AND o.failed_at IS NULL AND o.next_attempt_at <= ?1
             ORDER BY o.next_attempt_at, o.id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![now, BATCH], |row| {
            Ok(Message {
                id: row.get(0)?,
                msg_id: row.get(1)?,
                endpoint_id: row.get(2)?,
                kind: row.get(3)?,
                target: row.get(4)?,
                secret: row.get(5)?,
                case_id: row.get(6)?,
                payload: row.get(7)?,
                attempts: row.get(8)?,
                created_at: row.get(9)?,
            })
        })?;
        rows.collect::<Result<Vec<_>, _>>()?
    };
    for message in &messages {
        tx.execute(
            "UPDATE outbox SET next_attempt_at = ?2 WHERE id = ?1",
            params![message.id, now + LEASE_MS],
        )?;
    }
    tx.commit()?;
    Ok(messages)
}

/// The wait before the next try: doubling from 5 s up to an hour, with ±25% jitter so
/// that retries to a recovering endpoint do not arrive all at once.
pub fn backoff_ms(attempts: i64) -> i64 {
    let exponent = attempts.clamp(1, 20) - 1;
    let base = FIRST_RETRY_MS
        .saturating_mul(1 << exponent)
        .min(LONGEST_RETRY_MS);
    let mut byte = [0u8; 1];
    let _ = getrandom::fill(&mut byte);
    let jitter = 0.75 + f64::from(byte[0]) / 255.0 * 0.5;
    (base as f64 * jitter) as i64
}

fn record(
    conn: &mut Connection,
    message: &Message,
    outcome: &Outcome,
    now: i64,
) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    let attempts = message.attempts + 1;
    match outcome {
        Outcome::Delivered => {
            tx.execute(
                "UPDATE outbox SET delivered_at = ?2, attempts = ?3, last_error = NULL WHERE id = ?1",
                params![message.id, now, attempts],
            )?;
            tx.execute(
                "UPDATE endpoints SET last_success_at = ?2 WHERE id = ?1",
                params![message.endpoint_id, now],
            )?;
        }
        Outcome::Retry(error) | Outcome::Refused(error) => {
            let give_up =
                matches!(outcome, Outcome::Refused(_)) || now - message.created_at >= GIVE_UP_MS;
            if give_up {
                tx.execute(
                    "UPDATE outbox SET failed_at = ?2, attempts = ?3, last_error = ?4 WHERE id = ?1",
                    params![message.id, now, attempts, error],
                )?;
            } else {
                tx.execute(
                    "UPDATE outbox SET next_attempt_at = ?2, attempts = ?3, last_error = ?4 WHERE id = ?1",
                    params![message.id, now + backoff_ms(attempts), attempts, error],
                )?;
            }
            tx.execute(
                "UPDATE endpoints SET last_failure_at = ?2, last_error = ?3 WHERE id = ?1",
                params![message.endpoint_id, now, error],
            )?;
        }
        Outcome::Gone => {
            let reason = "the endpoint answered 410 Gone";
            tx.execute(
                "UPDATE endpoints SET disabled_at = ?2, disabled_reason = ?3, last_failure_at = ?2,
                        last_error = ?3
                 WHERE id = ?1",
                params![message.endpoint_id, now, reason],
            )?;
            tx.execute(
                "UPDATE outbox SET failed_at = ?2, last_error = ?3,
                        attempts = attempts + (id = ?4)
                 WHERE endpoint_id = ?1 AND delivered_at IS NULL AND failed_at IS NULL",
                params![message.endpoint_id, now, reason, message.id],
            )?;
        }
    }
    tx.commit()?;
    Ok(())
}

fn send(alerts: &Alerts, store: &crate::Store, message: &Message, timestamp: i64) -> Outcome {
    match message.kind.as_str() {
        "webhook" => {
            let Some(secret) = &message.secret else {
                return Outcome::Refused("the webhook has no secret".into());
            };
            let Some(signature) =
                webhook::signature(secret, &message.msg_id, timestamp, &message.payload)
            else {
                return Outcome::Refused("the webhook secret is not a whsec_ secret".into());
            };
            let headers = [
                ("webhook-id", message.msg_id.clone()),
                ("webhook-timestamp", timestamp.to_string()),
                ("webhook-signature", signature),
            ];
            post(alerts, &message.target, &message.payload, &headers)
        }
        "slack" => {
            let Ok(body) = serde_json::from_str::<Value>(&message.payload) else {
                return Outcome::Refused("unreadable payload".into());
            };
            let text = message::slack(&body, &alerts.public_url).to_string();
            post(alerts, &message.target, &text, &[])
        }
        "email" | "customer_email" => {
            let Ok(body) = serde_json::from_str::<Value>(&message.payload) else {
                return Outcome::Refused("unreadable payload".into());
            };
            let (subject, text) = if message.kind == "email" {
                message::staff_email(&body, &alerts.public_url)
            } else {
                let token = message.case_id.and_then(|id| {
                    store
                        .run_now(|conn| super::rerate_token(conn, id))
                        .ok()
                        .flatten()
                });
                let Some(token) = token else {
                    return Outcome::Refused("the case has no re-rating link".into());
                };
                let url = format!("{}/rerate/{token}", alerts.public_url);
                message::customer_email(&body, &url)
            };
            mail(alerts, &message.target, &subject, &text)
        }
        other => Outcome::Refused(format!("unknown kind {other}")),
    }
}

fn post(alerts: &Alerts, url: &str, body: &str, headers: &[(&str, String)]) -> Outcome {
    if let Err(err) = target::check_url(url, alerts.allow_private_targets) {
        return Outcome::Refused(err.to_string());
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        // A redirect could point anywhere, including inside our network.
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let mut request = agent.post(url).header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, value.as_str());
    }
    match request.send(body) {
        Ok(response) => match response.status().as_u16() {
            200..=299 => Outcome::Delivered,
            410 => Outcome::Gone,
            status @ 300..=399 => {
                Outcome::Retry(format!("answered {status}: redirects are not followed"))
            }
            status => Outcome::Retry(format!("answered {status}")),
        },
        Err(err) => Outcome::Retry(format!("request failed: {err}")),
    }
}

fn mail(alerts: &Alerts, to: &str, subject: &str, text: &str) -> Outcome {
    use lettre::message::header::ContentType;
    use lettre::{Message, SmtpTransport, Transport};
    let Some(url) = &alerts.smtp_url else {
        return Outcome::Retry("no SMTP server is configured (nearmiss serve --smtp-url)".into());
    };
    let (Ok(from), Ok(to)) = (alerts.mail_from.parse(), to.parse()) else {
        return Outcome::Refused(format!("invalid address: {to} or {}", alerts.mail_from));
    };
    let email = match Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(text.to_owned())
    {
        Ok(email) => email,
        Err(err) => return Outcome::Refused(format!("cannot build the email: {err}")),
    };
    let transport = match SmtpTransport::from_url(url) {
        Ok(builder) => builder.timeout(Some(Duration::from_secs(20))).build(),
        Err(err) => return Outcome::Retry(format!("bad SMTP URL: {err}")),
    };
    match transport.send(&email) {
        Ok(_) => Outcome::Delivered,
        Err(err) if err.is_permanent() => Outcome::Refused(format!("SMTP refused: {err}")),
        Err(err) => Outcome::Retry(format!("SMTP failed: {err}")),
    }
}

#[cfg(test)]
mod tests {
    use super::backoff_ms;

    #[test]
    fn backoff_doubles_with_jitter_up_to_an_hour() {
        for (attempt, base) in [(1, 5_000), (2, 10_000), (5, 80_000), (30, 3_600_000)] {
            for _ in 0..20 {
                let wait = backoff_ms(attempt);
                assert!(
                    wait >= base * 3 / 4 && wait <= base * 5 / 4,
                    "{attempt}: {wait}"
                );
            }
        }
    }

    #[test]
    fn retries_last_at_least_three_days() {
        // Even with the shortest jitter, the sum of waits before giving up spans 3 days:
        // the give-up check is on the message's age, so it is retried until then.
        let attempts_in_three_days = (1..200)
            .scan(0i64, |elapsed, n| {
                *elapsed += backoff_ms(n);
                Some(*elapsed)
            })
            .take_while(|elapsed| *elapsed < super::GIVE_UP_MS)
            .count();
        assert!(attempts_in_three_days > 60, "{attempts_in_three_days}");
    }
}

//! The delivery worker: claims due outbox messages lane by lane (see `lanes`), sends
//! them, and records the outcome.
//! At least once: a message is marked delivered only after its endpoint answered 2xx;
//! a crash in between sends it again, with the same `webhook-id`.

use super::lanes::{self, Lanes};
use super::{message, target, webhook, Alerts};
use crate::bodies::{CustomerEmail, OriginNotice, WebhookBody};
use crate::states::MessageKind;
use crate::store::{Attempt, AttemptResult, Claim, Message, Store, StoreError};
use crate::time::Clock;
use std::sync::Arc;
use std::time::Duration;

/// A claimed message is not claimed again for this long (a send's worst case).
const LEASE_MS: i64 = 60_000;
/// Retries stop after this long; the message is then marked failed.
pub const GIVE_UP_MS: i64 = 3 * 24 * 60 * 60 * 1000;
const FIRST_RETRY_MS: i64 = 5_000;
const LONGEST_RETRY_MS: i64 = 60 * 60 * 1000;
/// The most messages one endpoint has in flight: its batch.
const PER_LANE: i64 = 32;
/// The most messages being sent at once, over every lane: each send holds a thread of
/// the blocking pool, which database reads share.
const IN_FLIGHT: i64 = 256;
/// Claims are made at most this often: under load every commit wakes the worker, and
/// looking for due lanes that often costs the database more than the alerts; what a
/// gap gathers is claimed together.
const CLAIM_GAP: Duration = Duration::from_millis(20);

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

/// Runs the worker until the process ends. Each endpoint is a lane that sends one batch
/// at a time, in parallel, and records each outcome as its send ends; a new claim is
/// made when messages are queued, when a lane's batch ends, and every second (retries).
pub async fn run(store: Store, clock: Clock, alerts: Arc<Alerts>) {
    let mut lanes = Lanes::default();
    let mut batches = tokio::task::JoinSet::new();
    // Each batch's lane and size, by its task: the lanes sending, and the sends in
    // flight (their sum).
    let mut lane_of_task = std::collections::HashMap::new();
    let mut swept = 0;
    let mut claimed = tokio::time::Instant::now();
    loop {
        tokio::time::sleep_until(claimed + CLAIM_GAP).await;
        claimed = tokio::time::Instant::now();
        let now = clock.now();
        // Alerts waiting behind a resting endpoint past the limit fail visibly too.
        if now - swept >= 60_000 {
            swept = now;
            match store
                .write(move |tx| tx.give_up_messages(now - GIVE_UP_MS, now))
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::warn!(alerts = n, "alerts not sent within 3 days: marked failed"),
                Err(err) => tracing::error!(error = %err, "giving up old alerts failed"),
            }
        }
        let in_flight: i64 = lane_of_task.values().map(|(_, size)| size).sum();
        let busy = lane_of_task.values().map(|(lane, _)| *lane).collect();
        match claim(&store, clock.now(), &lanes, busy, IN_FLIGHT - in_flight).await {
            Ok(messages) => {
                for (lane, batch) in by_lane(messages) {
                    let size = batch.len() as i64;
                    let (store, clock, alerts) = (store.clone(), clock.clone(), alerts.clone());
                    let task = batches
                        .spawn(async move { send_batch(&store, &clock, &alerts, batch).await });
                    lane_of_task.insert(task.id(), (lane, size));
                }
            }
            Err(err) => tracing::error!(error = %err, "claiming alerts failed"),
        }
        tokio::select! {
            Some(ended) = batches.join_next_with_id(), if !batches.is_empty() => {
                // Even a batch that panicked frees its lane (its leases expire and its
                // messages are claimed again).
                let (task, sent) = match ended {
                    Ok((task, sent)) => (task, sent),
                    Err(err) => (err.id(), Vec::new()),
                };
                if let Some((lane, _)) = lane_of_task.remove(&task) {
                    let now = clock.now();
                    for delivered in sent {
                        if let Some(rest) = lanes.sent(lane, delivered, now) {
                            tracing::warn!(
                                endpoint = lane,
                                rest_seconds = rest / 1000,
                                "alert endpoint failing: paused, then one message tries it again"
                            );
                        }
                    }
                }
            }
            _ = alerts.woken() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// Claims what is due for the lanes neither `busy` sending a batch nor resting: up to
/// `PER_LANE` of each, one of a lane probing whether its endpoint is back, `room` in all.
async fn claim(
    store: &Store,
    now: i64,
    lanes: &Lanes,
    busy: Vec<i64>,
    room: i64,
) -> Result<Vec<Message>, StoreError> {
    if room <= 0 {
        return Ok(Vec::new());
    }
    let mut skip = busy;
    skip.extend(lanes.resting(now));
    // Look first on a reader (index seeks, however large a slow endpoint's backlog): a
    // wake-up often finds nothing for a free lane, and an empty claim need not queue
    // behind the ratings for the writer.
    let due = store.read(move |tx| tx.due_lanes(now, &skip)).await?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let probing = lanes.probing(now);
    let mut left = room;
    let mut rooms = Vec::new();
    for lane in due {
        let room = match probing.contains(&lane) {
            true => 1,
            false => PER_LANE,
        }
        .min(left);
        if room == 0 {
            break;
        }
        left -= room;
        rooms.push((lane, room));
    }
    store
        .write(move |tx| {
            tx.claim_messages(&Claim {
                now,
                lease_until: now + LEASE_MS,
                lanes: &rooms,
            })
        })
        .await
}

fn by_lane(messages: Vec<Message>) -> std::collections::BTreeMap<i64, Vec<Message>> {
    let mut lanes = std::collections::BTreeMap::<i64, Vec<Message>>::new();
    for message in messages {
        lanes
            .entry(lanes::lane_of(message.endpoint_id))
            .or_default()
            .push(message);
    }
    lanes
}

/// Sends a lane's batch: each case's messages one after another, in the order they were
/// queued (a person reads "New near miss" before its update), different cases in
/// parallel. Records each outcome as its send ends; returns, per send, whether it was
/// delivered (`false`: failed in a way worth retrying; refusals say nothing of the
/// endpoint's health and are left out).
async fn send_batch(
    store: &Store,
    clock: &Clock,
    alerts: &Arc<Alerts>,
    batch: Vec<Message>,
) -> Vec<bool> {
    let mut by_case = std::collections::BTreeMap::<Option<i64>, Vec<Message>>::new();
    let mut alone = Vec::new();
    for message in batch {
        match message.case_id {
            Some(_) => by_case.entry(message.case_id).or_default().push(message),
            None => alone.push(vec![message]),
        }
    }
    let (done, mut ended) = tokio::sync::mpsc::unbounded_channel();
    for mut queue in by_case.into_values().chain(alone) {
        // Claimed by due time; a retried message may be due after a later one.
        queue.sort_by_key(|message| message.id);
        let (alerts, store, clock, done) =
            (alerts.clone(), store.clone(), clock.clone(), done.clone());
        tokio::task::spawn_blocking(move || {
            for message in queue {
                let outcome = send(&alerts, &store, &message, clock.now() / 1000);
                let _ = done.send((message, outcome));
            }
        });
    }
    drop(done);
    let mut health = Vec::new();
    while let Some((message, outcome)) = ended.recv().await {
        match &outcome {
            Outcome::Delivered => health.push(true),
            Outcome::Retry(_) => health.push(false),
            Outcome::Gone | Outcome::Refused(_) => {}
        }
        if let Err(err) = record(store, clock.now(), message, outcome).await {
            tracing::error!(error = %err, "recording an alert's outcome failed");
        }
    }
    health
}

async fn record(
    store: &Store,
    now: i64,
    message: Message,
    outcome: Outcome,
) -> Result<(), StoreError> {
    let kind = message.kind.map(|k| k.as_str()).unwrap_or("unknown");
    match &outcome {
        Outcome::Delivered => tracing::info!(msg = %message.msg_id, kind, "alert delivered"),
        other => {
            tracing::warn!(msg = %message.msg_id, kind, outcome = ?other, "alert not delivered")
        }
    }
    store
        .write(move |tx| {
            let result = match &outcome {
                Outcome::Delivered => AttemptResult::Delivered,
                Outcome::Gone => AttemptResult::EndpointGone("the endpoint answered 410 Gone"),
                Outcome::Refused(error) => AttemptResult::Failed(error),
                Outcome::Retry(error) if now - message.created_at >= GIVE_UP_MS => {
                    AttemptResult::Failed(error)
                }
                Outcome::Retry(error) => {
                    AttemptResult::RetryAt(now + backoff_ms(message.attempts + 1), error)
                }
            };
            tx.record_attempt(&Attempt {
                message: &message,
                now,
                result,
            })
        })
        .await
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

fn send(alerts: &Alerts, store: &Store, message: &Message, timestamp: i64) -> Outcome {
    let body = || {
        serde_json::from_str::<WebhookBody>(&message.payload)
            .map_err(|_| Outcome::Refused("unreadable payload".into()))
    };
    let Some(kind) = message.kind else {
        return Outcome::Refused("a message of a kind this version does not know".into());
    };
    match kind {
        MessageKind::Webhook => {
            let Some(secret) = &message.secret else {
                return Outcome::Refused("the webhook has no secret".into());
            };
            let Some(mut signature) =
                webhook::signature(secret, &message.msg_id, timestamp, &message.payload)
            else {
                return Outcome::Refused("the webhook secret is not a whsec_ secret".into());
            };
            // During a rotation both secrets sign (space-separated, per the spec), so a
            // receiver can switch when it likes.
            let old = message.old_secret.as_deref().and_then(|old| {
                webhook::signature(old, &message.msg_id, timestamp, &message.payload)
            });
            if let Some(old) = old {
                signature.push(' ');
                signature.push_str(&old);
            }
            let headers = [
                ("webhook-id", message.msg_id.clone()),
                ("webhook-timestamp", timestamp.to_string()),
                ("webhook-signature", signature),
            ];
            post(alerts, &message.target, &message.payload, &headers)
        }
        MessageKind::Slack => match body() {
            Ok(body) => {
                let slack = message::slack(&body, &alerts.public_url);
                let text = serde_json::to_string(&slack).unwrap_or_default();
                post(alerts, &message.target, &text, &[])
            }
            Err(refused) => refused,
        },
        MessageKind::Email => match body() {
            Ok(body) => {
                let (subject, text) = message::staff_email(&body, &alerts.public_url);
                mail(alerts, &message.target, &subject, &text)
            }
            Err(refused) => refused,
        },
        MessageKind::SlackNotice | MessageKind::EmailNotice => {
            let Ok(notice) = serde_json::from_str::<OriginNotice>(&message.payload) else {
                return Outcome::Refused("unreadable payload".into());
            };
            if kind == MessageKind::SlackNotice {
                let slack = message::origin_slack(&notice, &alerts.public_url);
                let text = serde_json::to_string(&slack).unwrap_or_default();
                post(alerts, &message.target, &text, &[])
            } else {
                let (subject, text) = message::origin_email(&notice, &alerts.public_url);
                mail(alerts, &message.target, &subject, &text)
            }
        }
        MessageKind::CustomerEmail => {
            let email = match serde_json::from_str::<CustomerEmail>(&message.payload) {
                Ok(email) => email,
                Err(_) => match body() {
                    Ok(body) => message::legacy_customer_email(&body),
                    Err(refused) => return refused,
                },
            };
            let Some(case_id) = message.case_id else {
                return Outcome::Refused("the email names no case".into());
            };
            // The link's token is made now and only its hash kept, so no working token
            // waits in the database; a retry mails a new link, and the old one stops.
            let now = timestamp.saturating_mul(1000);
            let token = match store
                .write_now(move |tx| crate::cases::issue_rerate_link(tx, case_id, now))
            {
                Ok(token) => token,
                Err(err) => return Outcome::Retry(format!("making the re-rating link: {err}")),
            };
            let url = format!("{}/rerate/{token}", alerts.public_url);
            let (subject, text) = message::customer_email(&email, &url);
            mail(alerts, &message.target, &subject, &text)
        }
    }
}

fn post(alerts: &Alerts, url: &str, body: &str, headers: &[(&str, String)]) -> Outcome {
    let host = match target::host_port(url) {
        Ok((host, _)) => host,
        Err(err) => return Outcome::Refused(err.to_string()),
    };
    // A kept-alive connection the endpoint has closed fails at once: try once more on a
    // new one. Receivers deduplicate by `webhook-id`, so a second send is safe.
    let sent = match send_once(alerts, url, body, headers) {
        Err(err @ ureq::Error::Io(_)) if target::refusal(&err).is_none() => {
            send_once(alerts, url, body, headers)
        }
        other => other,
    };
    match sent {
        Ok(status) => outcome_of(status),
        // The client's resolver refused a private address: for good.
        Err(err) if target::refusal(&err).is_some() => Outcome::Refused(
            target::refusal(&err)
                .map(|r| r.to_string())
                .unwrap_or_default(),
        ),
        // A name that does not resolve now may resolve later (DNS down, a typo fixed at
        // the registrar): retried with the rest.
        Err(ureq::Error::HostNotFound) => {
            Outcome::Retry(target::TargetError::Unresolved(host).to_string())
        }
        Err(err) => Outcome::Retry(format!("request failed: {err}")),
    }
}

fn send_once(
    alerts: &Alerts,
    url: &str,
    body: &str,
    headers: &[(&str, String)],
) -> Result<u16, ureq::Error> {
    let mut request = alerts
        .agent
        .post(url)
        .header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, value.as_str());
    }
    let mut response = request.send(body)?;
    // Read (a little of) the answer so the connection can be used again.
    let _ = response
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_vec();
    Ok(response.status().as_u16())
}

fn outcome_of(status: u16) -> Outcome {
    match status {
        200..=299 => Outcome::Delivered,
        410 => Outcome::Gone,
        status @ 300..=399 => {
            Outcome::Retry(format!("answered {status}: redirects are not followed"))
        }
        status => Outcome::Retry(format!("answered {status}")),
    }
}

/// `text` with every spelling of `address` (in any letter case) replaced.
fn scrub(text: &str, address: &str) -> String {
    let (lower, wanted) = (text.to_ascii_lowercase(), address.to_ascii_lowercase());
    if wanted.is_empty() || !lower.contains(&wanted) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    while let Some(at) = lower[rest..].find(&wanted) {
        out.push_str(&text[rest..rest + at]);
        out.push_str("(the recipient)");
        rest += at + wanted.len();
    }
    out.push_str(&text[rest..]);
    out
}

fn mail(alerts: &Alerts, to: &str, subject: &str, text: &str) -> Outcome {
    use lettre::message::header::ContentType;
    use lettre::{Message, SmtpTransport, Transport};
    let Some(url) = &alerts.smtp_url else {
        return Outcome::Retry("no SMTP server is configured (nearmiss serve --smtp-url)".into());
    };
    // An error text is stored and shown: it never carries the recipient's address.
    let scrub = |text: String| scrub(&text, to);
    let Ok(from) = alerts.mail_from.parse() else {
        return Outcome::Refused("invalid --mail-from address".into());
    };
    let Ok(to) = to.parse() else {
        return Outcome::Refused("the recipient is not an address the mailer can write to".into());
    };
    let email = match Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(text.to_owned())
    {
        Ok(email) => email,
        Err(err) => return Outcome::Refused(scrub(format!("cannot build the email: {err}"))),
    };
    let transport = match SmtpTransport::from_url(url) {
        Ok(builder) => builder.timeout(Some(Duration::from_secs(20))).build(),
        Err(err) => return Outcome::Retry(format!("bad SMTP URL: {err}")),
    };
    match transport.send(&email) {
        Ok(_) => Outcome::Delivered,
        Err(err) if err.is_permanent() => Outcome::Refused(scrub(format!("SMTP refused: {err}"))),
        Err(err) => Outcome::Retry(scrub(format!("SMTP failed: {err}"))),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_address_is_scrubbed_in_any_letter_case() {
        assert_eq!(
            super::scrub("550 <jane@x.com> unknown, JANE@X.COM", "Jane@X.com"),
            "550 <(the recipient)> unknown, (the recipient)"
        );
        assert_eq!(super::scrub("all good", "jane@x.com"), "all good");
    }

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

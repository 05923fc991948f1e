//! Alerts: every case event is written to an outbox in the same transaction as the change,
//! then delivered at least once by a worker (`deliver`), retried with backoff for days,
//! with each endpoint's delivery state kept for people to see.
//!
//! Endpoints are per site: Standard Webhooks, Slack-compatible incoming webhooks, and
//! email. Escalation endpoints receive only `case.overdue`. A `case.updated` waiting in
//! an endpoint's lane is replaced by the next one, not joined by it. The customer is
//! emailed only what a person wrote to them with a step (`enqueue_customer_email`),
//! with a one-click re-rating link.

pub mod deliver;
pub mod lanes;
pub mod message;
pub mod target;
pub mod webhook;

use crate::bodies::{
    Case, CaseView, CustomerEmail, DetailsView, OriginNotice, RatingView, WebhookBody,
};
use crate::states::{EndpointKind, Event, MessageKind, Status, Topic};
use crate::store::{Delivery, EndpointState, NewEndpoint, NewMessage, Site, Store, StoreError, Tx};
use crate::time::{millis, Timestamp};
use std::sync::Arc;
use tokio::sync::Notify;

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
    /// The HTTP client for webhooks and Slack: it keeps connections to each endpoint
    /// open between deliveries.
    pub(crate) agent: ureq::Agent,
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
        Alerts::resolving(
            public_url,
            smtp_url,
            mail_from,
            allow_private_targets,
            Arc::new(target::SystemNames),
        )
    }

    /// Settings for the delivery worker, looking up webhook hosts with `names`.
    pub fn resolving(
        public_url: &str,
        smtp_url: Option<String>,
        mail_from: &str,
        allow_private_targets: bool,
        names: Arc<dyn target::Names>,
    ) -> Arc<Alerts> {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // A redirect could point anywhere, including inside our network.
            .max_redirects(0)
            .timeout_global(Some(std::time::Duration::from_secs(10)))
            // Never through a proxy from the environment: the resolver checks the address
            // the client connects to, and through a proxy that is the proxy's.
            .proxy(None)
            .build();
        let resolver = target::CheckedNames {
            names,
            allow_private: allow_private_targets,
        };
        Arc::new(Alerts {
            public_url: public_url.trim_end_matches('/').to_owned(),
            smtp_url,
            mail_from: mail_from.to_owned(),
            allow_private_targets,
            agent: ureq::Agent::with_parts(
                config,
                ureq::unversioned::transport::DefaultConnector::default(),
                resolver,
            ),
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

/// The case an event happened to.
pub(crate) struct Changed<'a> {
    /// The case's row id.
    pub case_id: i64,
    /// Its site's row id.
    pub site_id: i64,
    /// The case as it now is.
    pub view: &'a CaseView,
    /// The email of the person who changed it, who is not emailed about it.
    pub by: Option<&'a str>,
}

/// Writes one outbox message per endpoint of the site that wants `event`; a
/// `case.updated` replaces the one still waiting for that case in an endpoint's lane.
/// Runs inside the transaction that changed the case.
pub(crate) fn enqueue(
    tx: &mut dyn Tx,
    changed: Changed<'_>,
    event: Event,
    now: i64,
) -> Result<(), StoreError> {
    let body = WebhookBody::new(event, changed.view.clone(), now);
    let payload = serde_json::to_string(&body).map_err(|err| StoreError::Task(err.to_string()))?;
    let mut endpoints = tx.active_endpoints(changed.site_id, event == Event::Overdue)?;
    // An email alert to someone on the desk carries only the events they chose, and
    // never news of what they did themselves.
    let mut unwanted = Vec::new();
    for endpoint in endpoints.iter().filter(|e| e.kind == EndpointKind::Email) {
        if let Some((person, _)) = tx.user_by_email(&endpoint.target)? {
            let theirs = changed
                .by
                .is_some_and(|by| by.eq_ignore_ascii_case(&person.email));
            if theirs || !person.alert_events.contains(&event) {
                unwanted.push(endpoint.id);
            }
        }
    }
    endpoints.retain(|e| !unwanted.contains(&e.id));
    for endpoint in &endpoints {
        // A customer re-sending details, or staff working fast, is one update for each
        // endpoint while it waits: the lane stays free for other cases' alerts.
        if event == Event::Updated
            && tx.replace_pending_update(endpoint.id, changed.case_id, &payload)?
        {
            continue;
        }
        tx.insert_message(&NewMessage {
            msg_id: &format!("msg_{}", crate::random::token(24)),
            endpoint_id: Some(endpoint.id),
            kind: MessageKind::from(endpoint.kind),
            target: &endpoint.target,
            event: Topic::Case(event),
            case_id: Some(changed.case_id),
            payload: &payload,
            now,
        })?;
    }
    Ok(())
}

/// Queues `email` to the customer at `to`, about case `case_id` (`event`: what its step
/// did to the case). Runs inside the transaction that recorded the step, so a step
/// sends at most one email, and only a step a person took sends one.
pub(crate) fn enqueue_customer_email(
    tx: &mut dyn Tx,
    case_id: i64,
    to: &str,
    email: &CustomerEmail,
    event: Event,
    now: i64,
) -> Result<(), StoreError> {
    let payload = serde_json::to_string(email).map_err(|err| StoreError::Task(err.to_string()))?;
    tx.insert_message(&NewMessage {
        msg_id: &format!("msg_{}", crate::random::token(24)),
        endpoint_id: None,
        kind: MessageKind::CustomerEmail,
        target: to,
        event: Topic::Case(event),
        case_id: Some(case_id),
        payload: &payload,
        now,
    })
}

/// Tells the people on a site's Slack and email endpoints that its ratings from
/// `origin` are being refused. Runs inside the transaction that first noted it.
pub(crate) fn enqueue_origin_notice(
    tx: &mut dyn Tx,
    notice: &OriginNotice,
    now: i64,
) -> Result<(), StoreError> {
    let payload = serde_json::to_string(notice).map_err(|err| StoreError::Task(err.to_string()))?;
    for endpoint in tx.active_endpoints(notice.site_id, false)? {
        let kind = match endpoint.kind {
            EndpointKind::Slack => MessageKind::SlackNotice,
            EndpointKind::Email => MessageKind::EmailNotice,
            EndpointKind::Webhook => continue,
        };
        tx.insert_message(&NewMessage {
            msg_id: &format!("msg_{}", crate::random::token(24)),
            endpoint_id: Some(endpoint.id),
            kind,
            target: &endpoint.target,
            event: Topic::OriginRefused,
            case_id: None,
            payload: &payload,
            now,
        })?;
    }
    Ok(())
}

/// Queues a test alert to one of `site`'s active endpoints: a made-up near miss
/// `NM-TEST`, marked `"test": true`, that says no customer is waiting. Whether the
/// endpoint was found.
pub async fn send_test(
    store: &Store,
    site: Site,
    endpoint_id: i64,
    now: i64,
) -> Result<bool, StoreError> {
    let settings = &site.settings;
    let case = Case {
        reference: "NM-TEST".into(),
        site: site.key.clone(),
        site_name: settings.name.clone(),
        timezone: settings.timezone.clone(),
        status: Status::Open,
        overdue: false,
        opened_at: Timestamp(now),
        ack_due_at: Timestamp(settings.ack_due(now)),
        close_due_at: Timestamp(settings.close_due(now)),
        acknowledged_at: None,
        closed_at: None,
        recovered: None,
        assignee: None,
        steps: Vec::new(),
    };
    let rating = RatingView {
        id: "00000000-0000-4000-8000-000000000000".into(),
        score: i64::from(u8::from(settings.scale)) - 1,
        scale: i64::from(u8::from(settings.scale)),
        interaction: None,
        page: None,
        locale: None,
        created_at: Timestamp(now),
        details: Some(DetailsView {
            comment: Some("A test alert from the nearmiss desk. No customer is waiting.".into()),
            reasons: Vec::new(),
            contact: None,
        }),
    };
    let mut body = WebhookBody::new(Event::Opened, CaseView { case, rating }, now);
    body.test = true;
    let payload = serde_json::to_string(&body).map_err(|err| StoreError::Task(err.to_string()))?;
    store
        .write(move |tx| {
            let endpoints = tx.active_endpoints(site.id, true)?;
            let Some(endpoint) = endpoints.iter().find(|e| e.id == endpoint_id) else {
                return Ok(false);
            };
            tx.insert_message(&NewMessage {
                msg_id: &format!("msg_{}", crate::random::token(24)),
                endpoint_id: Some(endpoint.id),
                kind: MessageKind::from(endpoint.kind),
                target: &endpoint.target,
                event: Topic::Case(Event::Opened),
                case_id: None,
                payload: &payload,
                now,
            })?;
            Ok(true)
        })
        .await
}

/// Gives a webhook endpoint of `site_id` a new signing secret, returned; the old one
/// keeps signing (beside it) for `overlap`. `None` when the site has no such active
/// webhook.
pub fn rotate_secret(
    store: &Store,
    site_id: i64,
    id: i64,
    overlap: std::time::Duration,
    now: i64,
) -> Result<Option<String>, StoreError> {
    let secret = webhook::new_secret();
    let until = now.saturating_add(millis(overlap));
    let stored = secret.clone();
    let rotated = store.write_now(move |tx| tx.rotate_secret(site_id, id, &stored, until))?;
    Ok(rotated.then_some(secret))
}

/// Removes an endpoint of `site_id` (it stays in the log as "removed") and gives up what
/// it had waiting; whether the site had it.
pub fn remove_endpoint(store: &Store, site_id: i64, id: i64, now: i64) -> Result<bool, StoreError> {
    store.write_now(move |tx| tx.remove_endpoint(site_id, id, now))
}

/// Sends an active endpoint's given-up messages again (after its owner fixed it); how
/// many. Each keeps its `webhook-id`, so a receiver that got one already can tell.
pub fn redeliver(store: &Store, site_id: i64, id: i64, now: i64) -> Result<usize, StoreError> {
    store.write_now(move |tx| tx.redeliver(site_id, id, now))
}

/// An endpoint's latest messages, newest first: its delivery log.
pub async fn delivery_log(store: &Store, endpoint_id: i64) -> Result<Vec<Delivery>, StoreError> {
    store
        .read(move |tx| tx.recent_messages(endpoint_id, 20))
        .await
}

/// Whether the mailer can send to `address`: the same parser as at delivery.
pub fn can_mail(address: &str) -> bool {
    address.parse::<lettre::Address>().is_ok()
}

/// Why `target` cannot receive `kind` alerts, in words; `Ok` when it can. Resolves a
/// URL's host name (blocking).
pub fn check_target(kind: EndpointKind, target: &str, allow_private: bool) -> Result<(), String> {
    if kind == EndpointKind::Email {
        return match can_mail(target) {
            true => Ok(()),
            false => Err("this is not an email address the mailer can write to".into()),
        };
    }
    match target::check_url(target, allow_private) {
        // DNS may be down while the endpoint is added: each delivery checks again.
        Ok(()) | Err(target::TargetError::Unresolved(_)) => Ok(()),
        Err(err) => Err(format!("{target}: {err}")),
    }
}

/// Adds an endpoint to a site; returns its id and, for webhooks, the signing secret.
pub fn add_endpoint(
    store: &Store,
    site_id: i64,
    kind: EndpointKind,
    target: &str,
    escalation: bool,
    now: i64,
) -> Result<(i64, Option<String>), StoreError> {
    let secret = (kind == EndpointKind::Webhook).then(webhook::new_secret);
    let target = target.to_owned();
    let answer = secret.clone();
    let id = store.write_now(move |tx| {
        tx.insert_endpoint(&NewEndpoint {
            site_id,
            kind,
            target: &target,
            secret: secret.as_deref(),
            escalation,
            now,
        })
    })?;
    Ok((id, answer))
}

/// Each endpoint of a site with its delivery state and message counts.
pub async fn endpoint_states(
    store: &Store,
    site_id: i64,
) -> Result<Vec<EndpointState>, StoreError> {
    store.read(move |tx| tx.endpoint_states(site_id)).await
}

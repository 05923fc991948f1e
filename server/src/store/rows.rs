//! Records read from result rows, the same for both engines: each engine's row answers
//! [`Columns`], and each record is read here once, from the column lists both dialects
//! share.

use super::*;
use crate::hours::OpeningHours;

/// A column value both engines read (`i64`, `bool`, `String`, `Option` of them).
pub(super) trait Value:
    rusqlite::types::FromSql + for<'a> ::postgres::types::FromSql<'a>
{
}
impl<T: rusqlite::types::FromSql + for<'a> ::postgres::types::FromSql<'a>> Value for T {}

/// A result row's columns, by position.
pub(super) trait Columns {
    fn get<T: Value>(&self, column: usize) -> Result<T, StoreError>;
}

impl Columns for rusqlite::Row<'_> {
    fn get<T: Value>(&self, column: usize) -> Result<T, StoreError> {
        Ok(rusqlite::Row::get(self, column)?)
    }
}

impl Columns for ::postgres::Row {
    fn get<T: Value>(&self, column: usize) -> Result<T, StoreError> {
        Ok(self.try_get(column)?)
    }
}

/// A stored name this build does not know.
pub(super) fn unknown(what: &str, text: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown {what} {text:?}"))
}

pub(super) fn status_of(text: &str) -> Result<Status, StoreError> {
    Status::parse(text).ok_or_else(|| unknown("status", text))
}

/// A stored scale (its top score); the default for one this build does not know.
pub(super) fn scale_of(top: i64) -> Scale {
    Scale::try_from(u8::try_from(top).unwrap_or_default()).unwrap_or_default()
}

/// Ids listed by `string_agg(CAST(id AS TEXT), ',')`.
fn ids_of(list: Option<String>) -> Vec<i64> {
    list.map(|s| s.split(',').filter_map(|id| id.parse().ok()).collect())
        .unwrap_or_default()
}

pub(super) const SITE_COLUMNS: &str =
    "id, key, name, scale, ack_within_secs, close_within_secs, reasons,
     apology, owner, review_url, causes, require_token, secret, timezone, hours, words, accent";

/// A site from [`SITE_COLUMNS`], without its origins (read separately).
pub(super) fn site(row: &impl Columns) -> Result<Site, StoreError> {
    Ok(Site {
        id: row.get(0)?,
        key: row.get(1)?,
        secret: row.get(12)?,
        settings: SiteSettings {
            name: row.get(2)?,
            origins: Vec::new(),
            scale: scale_of(row.get(3)?),
            ack_within: secs(row.get(4)?),
            close_within: secs(row.get(5)?),
            reasons: read_list(&row.get::<String>(6)?),
            apology: row.get(7)?,
            owner: row.get(8)?,
            review_url: row.get(9)?,
            causes: read_list(&row.get::<String>(10)?),
            require_token: row.get(11)?,
            timezone: row.get(13)?,
            hours: row
                .get::<Option<String>>(14)?
                .map(|text| OpeningHours::parse(&text).map_err(StoreError::Corrupt))
                .transpose()?,
            words: serde_json::from_str(&row.get::<String>(15)?)
                .map_err(|err| StoreError::Corrupt(format!("a site's own words: {err}")))?,
            accent: row.get(16)?,
        },
    })
}

pub(super) const CASE_COLUMNS: &str =
    "c.id, c.ref, c.site_id, s.key, s.name, s.scale, c.status, c.opened_at,
     c.ack_due_at, c.close_due_at, c.acknowledged_at, c.closed_at, c.recovered,
     c.ack_overdue_at, c.close_overdue_at,
     r.id, r.score, r.interaction, r.page, r.locale, r.created_at, c.assignee_id, u.name,
     s.timezone";
/// What [`CASE_COLUMNS`] reads beside the case `c`.
macro_rules! case_joins {
    () => {
        "JOIN sites s ON s.id = c.site_id JOIN ratings r ON r.id = c.rating_id
         LEFT JOIN users u ON u.id = c.assignee_id"
    };
}
pub(super) const CASE_JOINS: &str = case_joins!();
pub(super) const CASE_JOIN: &str = concat!("cases c ", case_joins!());

/// A case from [`CASE_COLUMNS`] of [`CASE_JOIN`].
pub(super) fn case(row: &impl Columns) -> Result<CaseRecord, StoreError> {
    Ok(CaseRecord {
        id: row.get(0)?,
        reference: row.get(1)?,
        site_id: row.get(2)?,
        site_key: row.get(3)?,
        site_name: row.get(4)?,
        scale: scale_of(row.get(5)?),
        status: status_of(&row.get::<String>(6)?)?,
        opened_at: row.get(7)?,
        ack_due_at: row.get(8)?,
        close_due_at: row.get(9)?,
        acknowledged_at: row.get(10)?,
        closed_at: row.get(11)?,
        recovered: row.get(12)?,
        ack_overdue_at: row.get(13)?,
        close_overdue_at: row.get(14)?,
        assignee: match row.get::<Option<i64>>(21)? {
            Some(id) => Some((id, row.get(22)?)),
            None => None,
        },
        site_timezone: row.get(23)?,
        rating: RatingRecord {
            id: row.get(15)?,
            score: row.get(16)?,
            interaction: row.get(17)?,
            page: row.get(18)?,
            locale: row.get(19)?,
            created_at: row.get(20)?,
        },
    })
}

/// A person's columns; the seventh, when a query adds one, is their password hash.
pub(super) const USER_COLUMNS: &str = "u.id, u.email, u.name, u.role,
     (SELECT string_agg(CAST(site_id AS TEXT), ',' ORDER BY site_id) FROM user_sites WHERE user_id = u.id),
     u.alert_events";

/// A person from [`USER_COLUMNS`].
pub(super) fn user(row: &impl Columns) -> Result<User, StoreError> {
    let role: String = row.get(3)?;
    Ok(User {
        id: row.get(0)?,
        email: row.get(1)?,
        name: row.get(2)?,
        role: Role::parse(&role).ok_or_else(|| unknown("role", &role))?,
        site_ids: ids_of(row.get(4)?),
        // A name this build does not know (from a newer one) is left out, not fatal.
        alert_events: read_list(&row.get::<String>(5)?)
            .iter()
            .filter_map(|e| Event::parse(e))
            .collect(),
    })
}

pub(super) const TOKEN_COLUMNS: &str = "t.id, t.name, t.created_at, t.expires_at,
     (SELECT string_agg(CAST(site_id AS TEXT), ',' ORDER BY site_id) FROM token_sites WHERE token_id = t.id)";

/// An API token from [`TOKEN_COLUMNS`].
pub(super) fn token(row: &impl Columns) -> Result<TokenRecord, StoreError> {
    Ok(TokenRecord {
        id: row.get(0)?,
        name: row.get(1)?,
        created_at: row.get(2)?,
        expires_at: row.get(3)?,
        site_ids: ids_of(row.get(4)?),
    })
}

/// An alert message's columns, up to the old secret (which each engine selects with its
/// own placeholder for the time).
pub(super) const MESSAGE_COLUMNS: &str = "o.id, o.msg_id, o.endpoint_id, o.kind, o.target,
     e.secret, o.case_id, o.payload, o.attempts, o.created_at";

/// An alert message from [`MESSAGE_COLUMNS`] and the old secret.
pub(super) fn message(row: &impl Columns) -> Result<Message, StoreError> {
    Ok(Message {
        id: row.get(0)?,
        msg_id: row.get(1)?,
        endpoint_id: row.get(2)?,
        // Unknown (written by a newer build): sending refuses it, alone.
        kind: MessageKind::parse(&row.get::<String>(3)?),
        target: row.get(4)?,
        secret: row.get(5)?,
        case_id: row.get(6)?,
        payload: row.get(7)?,
        attempts: row.get(8)?,
        created_at: row.get(9)?,
        old_secret: row.get(10)?,
    })
}

/// A prevention action from its id, cause and action.
pub(super) fn prevention(row: &impl Columns) -> Result<Prevention, StoreError> {
    Ok(Prevention {
        id: row.get(0)?,
        cause: row.get(1)?,
        action: row.get(2)?,
    })
}

/// A rating's columns, with its case's (opened by it, or re-rated by it): two joins, not
/// one on `a OR b`, so each is an index lookup. Each engine adds `WHERE r.id = …`.
pub(super) const RATING_SELECT: &str =
    "SELECT r.id, r.site_id, r.score, r.perfect, r.content, r.created_at,
            coalesce(opened.ref, rerated.ref),
            coalesce(opened.ack_due_at, rerated.ack_due_at), r.edit_hash, r.score_changes
     FROM ratings r
     LEFT JOIN cases opened ON opened.rating_id = r.id
     LEFT JOIN cases rerated ON rerated.id = r.rerates_case";

/// A stored rating from [`RATING_SELECT`].
pub(super) fn rating(row: &impl Columns) -> Result<StoredRating, StoreError> {
    let perfect: bool = row.get(3)?;
    Ok(StoredRating {
        id: row.get(0)?,
        site_id: row.get(1)?,
        score: row.get(2)?,
        flagged: !perfect,
        content: row.get(4)?,
        created_at: row.get(5)?,
        case: match row.get::<Option<String>>(6)? {
            Some(reference) => Some(CaseSummary {
                reference,
                ack_due_at: row.get(7)?,
            }),
            None => None,
        },
        edit_hash: row.get(8)?,
        score_changes: row.get(9)?,
    })
}

pub(super) const DETAILS_COLUMNS: &str =
    "comment, reasons, contact_name, contact_email, contact_phone, consent";

/// A rating's details from [`DETAILS_COLUMNS`].
pub(super) fn details(row: &impl Columns) -> Result<StoredDetails, StoreError> {
    Ok(StoredDetails {
        comment: row.get(0)?,
        reasons: read_list(&row.get::<String>(1)?),
        contact_name: row.get(2)?,
        contact_email: row.get(3)?,
        contact_phone: row.get(4)?,
        consent: row.get(5)?,
    })
}

/// A case's steps with their prevention actions; each engine adds `WHERE st.case_id = …`.
pub(super) const STEP_SELECT: &str =
    "SELECT st.step, st.actor, st.note, st.cause, st.at, p.id, p.cause, p.action, st.message
     FROM case_steps st LEFT JOIN preventions p ON p.id = st.prevention_id";

/// A step from [`STEP_SELECT`].
pub(super) fn step(row: &impl Columns) -> Result<StepRecord, StoreError> {
    let step: String = row.get(0)?;
    Ok(StepRecord {
        step: Step::parse(&step).ok_or_else(|| unknown("step", &step))?,
        actor: row.get(1)?,
        note: row.get(2)?,
        cause: row.get(3)?,
        at: row.get(4)?,
        prevention: match row.get::<Option<i64>>(5)? {
            Some(id) => Some(Prevention {
                id,
                cause: row.get(6)?,
                action: row.get(7)?,
            }),
            None => None,
        },
        message: row.get(8)?,
    })
}

/// Endpoints with their delivery counts; each engine adds `WHERE e.site_id = …`.
pub(super) const ENDPOINT_STATE_SELECT: &str =
    "SELECT e.id, e.kind, e.target, e.escalation, e.disabled_at, e.disabled_reason,
            e.last_success_at, e.last_failure_at, e.last_error,
            (SELECT count(*) FROM outbox o WHERE o.endpoint_id = e.id AND o.delivered_at IS NOT NULL),
            (SELECT count(*) FROM outbox o WHERE o.endpoint_id = e.id AND o.delivered_at IS NULL AND o.failed_at IS NULL),
            (SELECT count(*) FROM outbox o WHERE o.endpoint_id = e.id AND o.failed_at IS NOT NULL)
     FROM endpoints e";

/// An endpoint's state from [`ENDPOINT_STATE_SELECT`].
pub(super) fn endpoint_state(row: &impl Columns) -> Result<EndpointState, StoreError> {
    let kind: String = row.get(1)?;
    let time = |v: Option<i64>| v.map(Timestamp);
    Ok(EndpointState {
        id: row.get(0)?,
        kind: EndpointKind::parse(&kind).ok_or_else(|| unknown("endpoint kind", &kind))?,
        target: row.get(2)?,
        escalation: row.get(3)?,
        state: match row.get::<Option<i64>>(4)? {
            Some(_) => EndpointStatus::Disabled,
            None => EndpointStatus::Active,
        },
        disabled_reason: row.get(5)?,
        last_success_at: time(row.get(6)?),
        last_failure_at: time(row.get(7)?),
        last_error: row.get(8)?,
        delivered: row.get(9)?,
        pending: row.get(10)?,
        failed: row.get(11)?,
    })
}

/// A refused origin from `origin, refusals, first_at, last_at`.
pub(super) fn refused_origin(row: &impl Columns) -> Result<RefusedOrigin, StoreError> {
    Ok(RefusedOrigin {
        origin: row.get(0)?,
        refusals: row.get(1)?,
        first_at: row.get(2)?,
        last_at: row.get(3)?,
    })
}

/// An endpoint's deliveries, newest first; each engine adds its `WHERE` and `LIMIT`.
pub(super) const DELIVERY_SELECT: &str =
    "SELECT o.event, c.ref, o.created_at, o.attempts, o.delivered_at, o.failed_at,
            o.next_attempt_at, o.last_error
     FROM outbox o LEFT JOIN cases c ON c.id = o.case_id";

/// Customers' emails, found by their case (`outbox_by_case`); each engine adds
/// `WHERE o.case_id = …`.
pub(super) const CUSTOMER_MESSAGE_SELECT: &str =
    "SELECT o.event, c.ref, o.created_at, o.attempts, o.delivered_at, o.failed_at,
            o.next_attempt_at, o.last_error, o.target, o.payload
     FROM outbox o JOIN cases c ON c.id = o.case_id";

/// A customer's email from [`CUSTOMER_MESSAGE_SELECT`].
pub(super) fn customer_message(row: &impl Columns) -> Result<CustomerMessage, StoreError> {
    Ok(CustomerMessage {
        delivery: delivery(row)?,
        to: row.get(8)?,
        payload: row.get(9)?,
    })
}

/// A delivery from [`DELIVERY_SELECT`].
pub(super) fn delivery(row: &impl Columns) -> Result<Delivery, StoreError> {
    let event: String = row.get(0)?;
    Ok(Delivery {
        event: Topic::parse(&event).ok_or_else(|| unknown("event", &event))?,
        case_ref: row.get(1)?,
        created_at: row.get(2)?,
        attempts: row.get(3)?,
        delivered_at: row.get(4)?,
        failed_at: row.get(5)?,
        next_attempt_at: row.get(6)?,
        last_error: row.get(7)?,
    })
}

/// A case's timing from `status, overdue_from, opened_at, acknowledged_at`.
pub(super) fn case_timing(row: &impl Columns) -> Result<CaseTiming, StoreError> {
    Ok(CaseTiming {
        status: status_of(&row.get::<String>(0)?)?,
        overdue_from: row.get::<Option<i64>>(1)?.unwrap_or(i64::MAX),
        opened_at: row.get(2)?,
        acknowledged_at: row.get(3)?,
    })
}

/// Contact data from `rating_id, contact_name, contact_email, contact_phone`.
pub(super) fn contact(row: &impl Columns) -> Result<StoredContact, StoreError> {
    Ok(StoredContact {
        rating_id: row.get(0)?,
        name: row.get(1)?,
        email: row.get(2)?,
        phone: row.get(3)?,
    })
}

/// A message's text from `id, kind, target, payload, pending`.
pub(super) fn outbox_text(row: &impl Columns) -> Result<OutboxText, StoreError> {
    Ok(OutboxText {
        id: row.get(0)?,
        kind: row.get(1)?,
        target: row.get(2)?,
        payload: row.get(3)?,
        pending: row.get(4)?,
    })
}

/// The export's columns, each rating with its site, its case (opened by it or
/// re-rated by it) and its details; each engine adds its `WHERE`, order and limit.
pub(super) const EXPORT_SELECT: &str =
    "SELECT r.id, r.created_at, s.key, r.score, s.scale, r.perfect, r.interaction,
            c.ref, c.status, d.reasons, d.comment, d.contact_name, d.contact_email,
            d.contact_phone
     FROM ratings r JOIN sites s ON s.id = r.site_id
     LEFT JOIN cases c ON c.id = coalesce(
         (SELECT id FROM cases WHERE rating_id = r.id), r.rerates_case)
     LEFT JOIN details d ON d.rating_id = r.id";

/// An export row from [`EXPORT_SELECT`].
pub(super) fn export_row(row: &impl Columns) -> Result<ExportRow, StoreError> {
    Ok(ExportRow {
        id: row.get(0)?,
        created_at: row.get(1)?,
        site: row.get(2)?,
        score: row.get(3)?,
        scale: scale_of(row.get(4)?),
        perfect: row.get(5)?,
        interaction: row.get(6)?,
        case: row.get(7)?,
        status: row
            .get::<Option<String>>(8)?
            .as_deref()
            .map(status_of)
            .transpose()?,
        reasons: row
            .get::<Option<String>>(9)?
            .as_deref()
            .map(read_list)
            .unwrap_or_default(),
        comment: row.get(10)?,
        contact_name: row.get(11)?,
        contact_email: row.get(12)?,
        contact_phone: row.get(13)?,
    })
}

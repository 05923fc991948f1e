//! The PostgreSQL engine's answers to [`Tx`]: every read and write the product makes,
//! in PostgreSQL's dialect.
//!
//! Where SQLite's single writer serialised two processes' writes, these lock what they
//! read to change (`FOR UPDATE`), skip what another process is working on (`SKIP
//! LOCKED`), or use `ON CONFLICT`: in PostgreSQL an error aborts the whole transaction,
//! so a unique violation must not be the way a race is noticed.

use super::*;
use crate::store::rows::{
    self, CASE_COLUMNS, CASE_JOIN, CASE_JOINS, CUSTOMER_MESSAGE_SELECT, DELIVERY_SELECT,
    DETAILS_COLUMNS, ENDPOINT_STATE_SELECT, EXPORT_SELECT, MESSAGE_COLUMNS, RATING_SELECT,
    SITE_COLUMNS, STEP_SELECT, TOKEN_COLUMNS, USER_COLUMNS,
};
use ::postgres::Row;
use std::collections::HashMap;

/// Rows changed, as the product counts them.
fn changed(rows: u64) -> usize {
    usize::try_from(rows).unwrap_or(usize::MAX)
}

fn whole_secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

/// Each row read by `read`.
fn each<T>(
    rows: Vec<Row>,
    read: impl Fn(&Row) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    rows.iter().map(read).collect()
}

impl PostgresTx<'_> {
    /// The one row `sql` returns (an error if none: for `RETURNING` and aggregates).
    fn one(&mut self, sql: &str, params: &Params<'_>) -> Result<Row, StoreError> {
        let statement = self.statement(sql)?;
        Ok(self.client.query_one(&statement, params)?)
    }

    /// The id (first column) of the row `sql` returns, if any.
    fn id(&mut self, sql: &str, params: &Params<'_>) -> Result<Option<i64>, StoreError> {
        match self.row(sql, params)? {
            Some(row) => Ok(Some(row.try_get(0)?)),
            None => Ok(None),
        }
    }

    /// Whether `sql` returns a row.
    fn exists(&mut self, sql: &str, params: &Params<'_>) -> Result<bool, StoreError> {
        Ok(self.row(sql, params)?.is_some())
    }

    /// Waits until no other transaction holds the lock named `name`, then holds it until
    /// this one ends. Its next statement sees what the holder committed.
    fn lock_name(&mut self, name: &str) -> Result<(), StoreError> {
        self.exec(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            &[&name],
        )?;
        Ok(())
    }

    fn site_where(
        &mut self,
        condition: &str,
        params: &Params<'_>,
    ) -> Result<Option<Site>, StoreError> {
        let sql = format!("SELECT {SITE_COLUMNS} FROM sites WHERE {condition}");
        let Some(row) = self.row(&sql, params)? else {
            return Ok(None);
        };
        let mut site = rows::site(&row)?;
        site.settings.origins = each(
            self.rows(
                "SELECT origin FROM site_origins WHERE site_id = $1 ORDER BY origin",
                &[&site.id],
            )?,
            |row| Ok(row.try_get(0)?),
        )?;
        Ok(Some(site))
    }
}

impl Tx for PostgresTx<'_> {
    fn ping(&mut self) -> Result<(), StoreError> {
        self.one("SELECT 1", &[])?;
        Ok(())
    }

    fn insert_site(
        &mut self,
        settings: &SiteSettings,
        key: &str,
        secret: &str,
        now: i64,
    ) -> Result<i64, StoreError> {
        // The settings are written in one place, `update_site`.
        let site_id: i64 = self
            .one(
                "INSERT INTO sites (key, secret, created_at, name, scale, ack_within_secs,
                                    close_within_secs, reasons, apology, owner)
                 VALUES ($1, $2, $3, '', 5, 0, 0, '[]', '', '') RETURNING id",
                &[&key, &secret, &now],
            )?
            .try_get(0)?;
        self.update_site(site_id, settings)?;
        Ok(site_id)
    }

    fn site_has_ratings(&mut self, site_id: i64) -> Result<bool, StoreError> {
        self.exists(
            "SELECT 1 FROM ratings WHERE site_id = $1 LIMIT 1",
            &[&site_id],
        )
    }

    fn update_site(&mut self, site_id: i64, settings: &SiteSettings) -> Result<(), StoreError> {
        // Locks the site's row first: a concurrent update of the same site waits here,
        // then replaces the origins this one wrote.
        self.exec(
            "UPDATE sites SET name = $2, scale = $3, ack_within_secs = $4, close_within_secs = $5,
                    reasons = $6, apology = $7, owner = $8, review_url = $9, causes = $10,
                    require_token = $11, timezone = $12, hours = $13,
                    words = $14, accent = $15
             WHERE id = $1",
            &[
                &site_id,
                &settings.name,
                &i64::from(u8::from(settings.scale)),
                &whole_secs(settings.ack_within),
                &whole_secs(settings.close_within),
                &json_list(&settings.reasons),
                &settings.apology,
                &settings.owner,
                &settings.review_url,
                &json_list(&settings.causes),
                &settings.require_token,
                &settings.timezone,
                &settings.hours.as_ref().map(ToString::to_string),
                &serde_json::to_string(&settings.words).unwrap_or_else(|_| "{}".into()),
                &settings.accent,
            ],
        )?;
        self.exec("DELETE FROM site_origins WHERE site_id = $1", &[&site_id])?;
        self.exec(
            "INSERT INTO site_origins (site_id, origin) SELECT $1, unnest($2::TEXT[])
             ON CONFLICT DO NOTHING",
            &[&site_id, &settings.origins],
        )?;
        Ok(())
    }

    fn site_by_key(&mut self, key: &str, now: i64) -> Result<Option<Site>, StoreError> {
        self.site_where(
            "revoked_at IS NULL AND (key = $1 OR id = (SELECT site_id FROM site_keys
                 WHERE key = $1 AND valid_until > $2))",
            &[&key, &now],
        )
    }

    fn site_by_id(&mut self, id: i64) -> Result<Option<Site>, StoreError> {
        self.site_where("id = $1", &[&id])
    }

    fn site_id_by_any_key(&mut self, key: &str) -> Result<Option<i64>, StoreError> {
        self.id(
            "SELECT id FROM sites WHERE key = $1
             UNION SELECT site_id FROM site_keys WHERE key = $1 LIMIT 1",
            &[&key],
        )
    }

    fn rotate_key(
        &mut self,
        site_id: i64,
        new_key: &str,
        old_valid_until: i64,
    ) -> Result<(), StoreError> {
        // Two rotations of one site at once: the second waits, then keeps the key the
        // first made (rather than both keeping the same old key, a unique violation).
        self.exec("SELECT 1 FROM sites WHERE id = $1 FOR UPDATE", &[&site_id])?;
        self.exec(
            "INSERT INTO site_keys (key, site_id, valid_until)
             SELECT key, id, $2 FROM sites WHERE id = $1 AND revoked_at IS NULL",
            &[&site_id, &old_valid_until],
        )?;
        self.exec(
            "UPDATE sites SET key = $2, revoked_at = NULL WHERE id = $1",
            &[&site_id, &new_key],
        )?;
        self.exec(
            "UPDATE site_keys SET valid_until = LEAST(valid_until, $2)
             WHERE site_id = $1 AND key <> $3",
            &[&site_id, &old_valid_until, &new_key],
        )?;
        Ok(())
    }

    fn revoke_site(&mut self, site_id: i64, now: i64) -> Result<(), StoreError> {
        self.exec(
            "UPDATE sites SET revoked_at = $2 WHERE id = $1",
            &[&site_id, &now],
        )?;
        self.exec(
            "UPDATE site_keys SET valid_until = $2 WHERE site_id = $1",
            &[&site_id, &now],
        )?;
        Ok(())
    }

    fn origin_is_known(&mut self, origin: &str) -> Result<bool, StoreError> {
        self.exists(
            "SELECT 1 FROM site_origins WHERE origin = $1 LIMIT 1",
            &[&origin],
        )
    }

    fn rating_by_id(&mut self, id: &str) -> Result<Option<StoredRating>, StoreError> {
        if self.writing {
            // A second process storing the same rating id waits for this one's commit,
            // then reads its row here and answers a replay, not a unique violation.
            self.lock_name(id)?;
        }
        let sql = format!("{RATING_SELECT} WHERE r.id = $1");
        let row = self.row(&sql, &[&id])?;
        row.map(|row| rows::rating(&row)).transpose()
    }

    fn signed_interaction_rated(
        &mut self,
        site_id: i64,
        interaction: &str,
    ) -> Result<bool, StoreError> {
        if self.writing {
            // As for a rating id: a second rating of this signed interaction waits, then
            // is refused as rated instead of failing on `ratings_signed_interaction`.
            self.lock_name(&format!("signed {site_id} {interaction}"))?;
        }
        self.exists(
            "SELECT 1 FROM ratings WHERE site_id = $1 AND interaction = $2 AND signed LIMIT 1",
            &[&site_id, &interaction],
        )
    }

    fn change_score(&mut self, id: &str, score: i64, perfect: bool) -> Result<(), StoreError> {
        self.exec(
            "UPDATE ratings SET score = $2, perfect = $3, score_changes = score_changes + 1
             WHERE id = $1",
            &[&id, &score, &perfect],
        )?;
        Ok(())
    }

    fn insert_rating(&mut self, r: &NewRating<'_>) -> Result<bool, StoreError> {
        let inserted = self.exec(
            "INSERT INTO ratings (id, site_id, score, perfect, interaction, page, locale,
                                  content, created_at, rerates_case, signed, edit_hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (id) DO NOTHING",
            &[
                &r.id,
                &r.site_id,
                &r.score,
                &r.perfect,
                &r.interaction,
                &r.page,
                &r.locale,
                &r.content,
                &r.created_at,
                &r.rerates_case,
                &r.signed,
                &r.edit_hash,
            ],
        )?;
        Ok(inserted == 1)
    }

    fn save_details(&mut self, d: &NewDetails<'_>) -> Result<bool, StoreError> {
        let saved = self.exec(
            "INSERT INTO details (rating_id, comment, reasons, contact_name, contact_email,
                                  contact_phone, consent, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (rating_id) DO UPDATE SET
                comment = excluded.comment, reasons = excluded.reasons,
                contact_name = excluded.contact_name, contact_email = excluded.contact_email,
                contact_phone = excluded.contact_phone, consent = excluded.consent,
                updated_at = excluded.updated_at, posts = details.posts + 1
             WHERE details.posts < $9",
            &[
                &d.rating_id,
                &d.comment,
                &json_list(d.reasons),
                &d.contact_name,
                &d.contact_email,
                &d.contact_phone,
                &d.consent,
                &d.now,
                &d.max_posts,
            ],
        )?;
        Ok(saved == 1)
    }

    fn details_for(&mut self, rating_id: &str) -> Result<Option<StoredDetails>, StoreError> {
        let sql = format!("SELECT {DETAILS_COLUMNS} FROM details WHERE rating_id = $1");
        let row = self.row(&sql, &[&rating_id])?;
        row.map(|row| rows::details(&row)).transpose()
    }

    fn insert_case(&mut self, c: &NewCase<'_>) -> Result<Option<CaseRecord>, StoreError> {
        self.changed.cases = true;
        // One round trip: the new row, joined as `case_by_id` reads it. No row back when
        // the reference is taken: the caller picks another.
        let sql = format!(
            "WITH c AS (
                 INSERT INTO cases (ref, site_id, rating_id, opened_at, ack_due_at,
                                    close_due_at, overdue_from)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (ref) DO NOTHING RETURNING *
             )
             SELECT {CASE_COLUMNS} FROM c {CASE_JOINS}"
        );
        let row = self.row(
            &sql,
            &[
                &c.reference,
                &c.site_id,
                &c.rating_id,
                &c.opened_at,
                &c.ack_due_at,
                &c.close_due_at,
                &c.overdue_from,
            ],
        )?;
        row.map(|row| rows::case(&row)).transpose()
    }

    fn case_by_id(&mut self, id: i64) -> Result<Option<CaseRecord>, StoreError> {
        // A write reads a case to change it: two processes changing one case take turns,
        // the second reading what the first committed.
        let lock = if self.writing { "FOR UPDATE OF c" } else { "" };
        let sql = format!("SELECT {CASE_COLUMNS} FROM {CASE_JOIN} WHERE c.id = $1 {lock}");
        match self.row(&sql, &[&id])? {
            Some(row) => Ok(Some(rows::case(&row)?)),
            None => Ok(None),
        }
    }

    fn case_id_by_ref(&mut self, reference: &str) -> Result<Option<i64>, StoreError> {
        self.id("SELECT id FROM cases WHERE ref = $1", &[&reference])
    }

    fn case_id_for_rating(&mut self, rating_id: &str) -> Result<Option<i64>, StoreError> {
        match self.row(
            "SELECT coalesce((SELECT id FROM cases WHERE rating_id = r.id), r.rerates_case)
             FROM ratings r WHERE r.id = $1",
            &[&rating_id],
        )? {
            Some(row) => Ok(row.try_get(0)?),
            None => Ok(None),
        }
    }

    fn case_id_by_rerate_link(
        &mut self,
        site_id: i64,
        hash: &str,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        // A link works once: a second re-rating through it at the same moment waits for
        // the first, whose commit clears the link, and then finds nothing.
        let sql = if self.writing {
            "SELECT id FROM cases WHERE rerate_token = $1 AND site_id = $2 AND rerate_until > $3
             FOR UPDATE"
        } else {
            "SELECT id FROM cases WHERE rerate_token = $1 AND site_id = $2 AND rerate_until > $3"
        };
        self.id(sql, &[&hash, &site_id, &now])
    }

    fn rerate_page(
        &mut self,
        hash: &str,
        now: i64,
    ) -> Result<Option<(String, String, String)>, StoreError> {
        match self.row(
            "SELECT s.key, s.name, c.ref FROM cases c JOIN sites s ON s.id = c.site_id
             WHERE c.rerate_token = $1 AND c.rerate_until > $2",
            &[&hash, &now],
        )? {
            Some(row) => Ok(Some((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))),
            None => Ok(None),
        }
    }

    fn set_rerate_link(
        &mut self,
        case_id: i64,
        link: Option<(&str, i64)>,
    ) -> Result<(), StoreError> {
        let (hash, until) = link.unzip();
        self.exec(
            "UPDATE cases SET rerate_token = $2, rerate_until = $3 WHERE id = $1",
            &[&case_id, &hash, &until],
        )?;
        Ok(())
    }

    fn save_case(&mut self, c: &CaseRecord, overdue_from: i64) -> Result<(), StoreError> {
        self.changed.cases = true;
        self.exec(
            "UPDATE cases SET status = $2, ack_due_at = $3, close_due_at = $4,
                    acknowledged_at = $5, closed_at = $6, recovered = $7,
                    ack_overdue_at = $8, close_overdue_at = $9, overdue_from = $10
             WHERE id = $1",
            &[
                &c.id,
                &c.status.as_str(),
                &c.ack_due_at,
                &c.close_due_at,
                &c.acknowledged_at,
                &c.closed_at,
                &c.recovered,
                &c.ack_overdue_at,
                &c.close_overdue_at,
                &overdue_from,
            ],
        )?;
        Ok(())
    }

    fn case_ids(&mut self, f: &CaseFilter<'_>) -> Result<Vec<i64>, StoreError> {
        // NULLS LAST / FIRST: SQLite sorts NULL lowest; PostgreSQL highest.
        let rows = self.rows(
            "SELECT c.id FROM cases c JOIN sites s ON s.id = c.site_id
             WHERE ($1::TEXT IS NULL OR c.status = $1)
               AND ($2::BIGINT IS NULL OR (c.status = 'open' AND c.overdue_from <= $2))
               AND ($3::TEXT IS NULL OR s.key = $3)
               AND ($5::BIGINT[] IS NULL OR c.site_id = ANY($5))
               AND ($6::BIGINT IS NULL OR c.assignee_id = $6)
               AND ($7::TEXT IS NULL OR EXISTS (SELECT 1 FROM case_steps st
                                                WHERE st.case_id = c.id AND st.cause = $7))
               AND ($9::BIGINT IS NULL OR c.opened_at >= $9)
               AND ($10::BIGINT IS NULL OR c.opened_at < $10)
             ORDER BY CASE WHEN $8::BOOLEAN THEN c.status = 'open' END DESC NULLS LAST,
                      CASE WHEN $8 AND c.status = 'open' THEN c.overdue_from END NULLS FIRST,
                      c.opened_at DESC, c.id DESC
             LIMIT $4",
            &[
                &f.status.map(|s| s.as_str()),
                &f.overdue_at,
                &f.site_key,
                &f.limit,
                &f.site_ids,
                &f.assignee,
                &f.cause,
                &f.by_deadline,
                &f.opened.map(|o| o.0),
                &f.opened.map(|o| o.1),
            ],
        )?;
        each(rows, |row| Ok(row.try_get(0)?))
    }

    fn cases_to_raise(&mut self, now: i64) -> Result<Vec<CaseRecord>, StoreError> {
        // A case another process is raising at this moment is left to it: raised once.
        let lock = if self.writing {
            "FOR UPDATE OF c SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM {CASE_JOIN}
             WHERE c.status = 'open'
               AND ((c.ack_overdue_at IS NULL AND c.acknowledged_at IS NULL AND c.ack_due_at <= $1)
                    OR (c.close_overdue_at IS NULL AND c.close_due_at <= $1))
             ORDER BY c.id {lock}"
        );
        let rows = self.rows(&sql, &[&now])?;
        each(rows, rows::case)
    }

    fn cases_without_overdue_from(&mut self) -> Result<Vec<CaseRecord>, StoreError> {
        // Locked like `case_by_id`: each is saved whole after.
        let lock = if self.writing { "FOR UPDATE OF c" } else { "" };
        let sql =
            format!("SELECT {CASE_COLUMNS} FROM {CASE_JOIN} WHERE c.overdue_from IS NULL {lock}");
        let rows = self.rows(&sql, &[])?;
        each(rows, rows::case)
    }

    fn steps(&mut self, case_id: i64) -> Result<Vec<StepRecord>, StoreError> {
        let rows = self.rows(
            &format!("{STEP_SELECT} WHERE st.case_id = $1 ORDER BY st.id"),
            &[&case_id],
        )?;
        each(rows, rows::step)
    }

    fn insert_step(&mut self, s: &NewStep<'_>) -> Result<(), StoreError> {
        self.changed.cases = true;
        self.exec(
            "INSERT INTO case_steps (case_id, step, actor, note, cause, prevention_id, at,
                                         message)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &s.case_id,
                &s.step.as_str(),
                &s.actor,
                &s.note,
                &s.cause,
                &s.prevention_id,
                &s.at,
                &s.message,
            ],
        )?;
        Ok(())
    }

    fn prevention(&mut self, site_id: i64, id: i64) -> Result<Option<Prevention>, StoreError> {
        match self.row(
            "SELECT id, cause, action FROM preventions WHERE id = $1 AND site_id = $2",
            &[&id, &site_id],
        )? {
            Some(row) => Ok(Some(rows::prevention(&row)?)),
            None => Ok(None),
        }
    }

    fn insert_prevention(
        &mut self,
        site_id: i64,
        cause: &str,
        action: &str,
        now: i64,
    ) -> Result<i64, StoreError> {
        Ok(self
            .one(
                "INSERT INTO preventions (site_id, cause, action, created_at)
                 VALUES ($1, $2, $3, $4) RETURNING id",
                &[&site_id, &cause, &action, &now],
            )?
            .try_get(0)?)
    }

    fn insert_token(&mut self, t: &NewToken<'_>) -> Result<(), StoreError> {
        let id: i64 = self
            .one(
                "INSERT INTO api_tokens (name, hash, created_at, expires_at)
                 VALUES ($1, $2, $3, $4) RETURNING id",
                &[&t.name, &t.hash, &t.now, &t.expires_at],
            )?
            .try_get(0)?;
        self.exec(
            "INSERT INTO token_sites (token_id, site_id) SELECT $1, unnest($2::BIGINT[])
             ON CONFLICT DO NOTHING",
            &[&id, &t.site_ids],
        )?;
        Ok(())
    }

    fn token(&mut self, hash: &str, now: i64) -> Result<Option<TokenRecord>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens t WHERE t.hash = $1");
        let token = match self.row(&sql, &[&hash])? {
            Some(row) => rows::token(&row)?,
            None => return Ok(None),
        };
        Ok(Some(token).filter(|t| t.expires_at.is_none_or(|at| at > now)))
    }

    fn insert_endpoint(&mut self, e: &NewEndpoint<'_>) -> Result<i64, StoreError> {
        Ok(self
            .one(
                "INSERT INTO endpoints (site_id, kind, target, secret, escalation, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                &[
                    &e.site_id,
                    &e.kind.as_str(),
                    &e.target,
                    &e.secret,
                    &e.escalation,
                    &e.now,
                ],
            )?
            .try_get(0)?)
    }

    fn active_endpoints(
        &mut self,
        site_id: i64,
        escalation: bool,
    ) -> Result<Vec<Endpoint>, StoreError> {
        let rows = self.rows(
            "SELECT id, kind, target FROM endpoints
             WHERE site_id = $1 AND disabled_at IS NULL AND (NOT escalation OR $2)",
            &[&site_id, &escalation],
        )?;
        let mut endpoints = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: i64 = row.try_get(0)?;
            let kind: &str = row.try_get(1)?;
            // An endpoint of a kind this build does not know (written by a newer one) is
            // passed over, not allowed to fail the near miss that queues alerts.
            match EndpointKind::parse(kind) {
                Some(kind) => endpoints.push(Endpoint {
                    id,
                    kind,
                    target: row.try_get(2)?,
                }),
                None => {
                    tracing::warn!(endpoint = id, kind = %kind, "endpoint of an unknown kind skipped")
                }
            }
        }
        Ok(endpoints)
    }

    fn endpoint_states(&mut self, site_id: i64) -> Result<Vec<EndpointState>, StoreError> {
        let rows = self.rows(
            &format!("{ENDPOINT_STATE_SELECT} WHERE e.site_id = $1 ORDER BY e.id"),
            &[&site_id],
        )?;
        each(rows, rows::endpoint_state)
    }

    fn note_refused_origin(
        &mut self,
        site_id: i64,
        origin: &str,
        refusals: i64,
        now: i64,
        cap: i64,
    ) -> Result<bool, StoreError> {
        let count = "UPDATE refused_origins SET refusals = refusals + $3, last_at = $4
                     WHERE site_id = $1 AND origin = $2";
        if self.exec(count, &[&site_id, &origin, &refusals, &now])? == 1 {
            return Ok(false);
        }
        let added = self.exec(
            "INSERT INTO refused_origins (site_id, origin, refusals, first_at, last_at)
             SELECT $1, $2, $3, $4, $4
             WHERE (SELECT count(*) FROM refused_origins WHERE site_id = $1) < $5
             ON CONFLICT (site_id, origin) DO NOTHING",
            &[&site_id, &origin, &refusals, &now, &cap],
        )?;
        if added == 1 {
            return Ok(true);
        }
        // Another process added it meanwhile (or the site is at its cap): count there.
        self.exec(count, &[&site_id, &origin, &refusals, &now])?;
        Ok(false)
    }

    fn refused_origins(&mut self, site_id: i64) -> Result<Vec<RefusedOrigin>, StoreError> {
        let rows = self.rows(
            "SELECT origin, refusals, first_at, last_at FROM refused_origins
             WHERE site_id = $1 ORDER BY last_at DESC, origin",
            &[&site_id],
        )?;
        each(rows, rows::refused_origin)
    }

    fn insert_message(&mut self, m: &NewMessage<'_>) -> Result<(), StoreError> {
        self.changed.outbox = true;
        self.exec(
            "INSERT INTO outbox (msg_id, endpoint_id, kind, target, event, case_id, payload,
                                 created_at, next_attempt_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
            &[
                &m.msg_id,
                &m.endpoint_id,
                &m.kind.as_str(),
                &m.target,
                &m.event.as_str(),
                &m.case_id,
                &m.payload,
                &m.now,
            ],
        )?;
        Ok(())
    }

    fn due_lanes(&mut self, now: i64, skip: &[i64]) -> Result<Vec<i64>, StoreError> {
        // One probe of `outbox_lane_due` per lane. As `EXISTS` the planner made it a
        // semi-join reading every lane's due range, with the index entries of messages
        // delivered since the last vacuum: milliseconds a claim under load. The
        // customers' lane is ordered as that index so that it is probed there too.
        let rows = self.rows(
            "SELECT e.id FROM endpoints e
             CROSS JOIN LATERAL (SELECT 1 FROM outbox o
                                 WHERE o.endpoint_id = e.id
                                   AND o.delivered_at IS NULL AND o.failed_at IS NULL
                                   AND o.next_attempt_at <= $1
                                 LIMIT 1) due
             WHERE e.id <> ALL($2::BIGINT[])
             UNION ALL
             SELECT 0::BIGINT FROM (SELECT 1 FROM outbox o
                                    WHERE o.endpoint_id IS NULL
                                      AND o.delivered_at IS NULL AND o.failed_at IS NULL
                                      AND o.next_attempt_at <= $1
                                    ORDER BY o.endpoint_id, o.next_attempt_at
                                    LIMIT 1) due
             WHERE 0 <> ALL($2)",
            &[&now, &skip],
        )?;
        each(rows, |row| Ok(row.try_get(0)?))
    }

    fn claim_messages(&mut self, claim: &Claim<'_>) -> Result<Vec<Message>, StoreError> {
        // Two statements, not `endpoint_id IS NOT DISTINCT FROM nullif($2, 0)`: each is a
        // seek on `outbox_lane_due` (the customers' ordered as that index, so that the
        // planner does not walk `outbox_due` through every lane's delivered rows). Rows
        // another process is claiming are skipped; once it commits, their lease puts them
        // out of reach.
        let customers = format!(
            "SELECT {MESSAGE_COLUMNS}, CASE WHEN e.old_secret_until > $1 THEN e.old_secret END
             FROM outbox o LEFT JOIN endpoints e ON e.id = o.endpoint_id
             WHERE o.endpoint_id IS NULL
               AND o.delivered_at IS NULL AND o.failed_at IS NULL AND o.next_attempt_at <= $1
             ORDER BY o.endpoint_id, o.next_attempt_at, o.id LIMIT $2
             FOR UPDATE OF o SKIP LOCKED"
        );
        let endpoint = format!(
            "SELECT {MESSAGE_COLUMNS}, CASE WHEN e.old_secret_until > $1 THEN e.old_secret END
             FROM outbox o LEFT JOIN endpoints e ON e.id = o.endpoint_id
             WHERE o.endpoint_id = $3
               AND o.delivered_at IS NULL AND o.failed_at IS NULL AND o.next_attempt_at <= $1
             ORDER BY o.next_attempt_at, o.id LIMIT $2
             FOR UPDATE OF o SKIP LOCKED"
        );
        let mut messages = Vec::new();
        for (lane, room) in claim.lanes {
            let rows = match lane {
                0 => self.rows(&customers, &[&claim.now, room])?,
                _ => self.rows(&endpoint, &[&claim.now, room, lane])?,
            };
            for row in rows {
                messages.push(rows::message(&row)?);
            }
        }
        let ids: Vec<i64> = messages.iter().map(|m| m.id).collect();
        if !ids.is_empty() {
            self.exec(
                "UPDATE outbox SET next_attempt_at = $2 WHERE id = ANY($1)",
                &[&ids, &claim.lease_until],
            )?;
        }
        Ok(messages)
    }

    fn give_up_messages(&mut self, before: i64, now: i64) -> Result<usize, StoreError> {
        Ok(changed(self.exec(
            "UPDATE outbox SET failed_at = $2,
                    last_error = coalesce(last_error, 'not sent: its endpoint was failing')
             WHERE delivered_at IS NULL AND failed_at IS NULL
               AND created_at < $1 AND next_attempt_at <= $2",
            &[&before, &now],
        )?))
    }

    fn record_attempt(&mut self, a: &Attempt<'_>) -> Result<(), StoreError> {
        let m = a.message;
        let attempts = m.attempts + 1;
        match a.result {
            // One statement each (the message and its endpoint's health): a round trip
            // costs more than either update.
            AttemptResult::Delivered => {
                self.exec(
                    "WITH sent AS (
                         UPDATE outbox SET delivered_at = $2, attempts = $3, last_error = NULL
                         WHERE id = $1
                     )
                     UPDATE endpoints SET last_success_at = $2 WHERE id = $4",
                    &[&m.id, &a.now, &attempts, &m.endpoint_id],
                )?;
            }
            AttemptResult::RetryAt(_, error) | AttemptResult::Failed(error) => {
                let (next, failed_at) = match a.result {
                    AttemptResult::RetryAt(next, _) => (Some(next), None),
                    _ => (None, Some(a.now)),
                };
                self.exec(
                    "WITH tried AS (
                         UPDATE outbox SET next_attempt_at = coalesce($2, next_attempt_at),
                                failed_at = $3, attempts = $4, last_error = $5
                         WHERE id = $1
                     )
                     UPDATE endpoints SET last_failure_at = $6, last_error = $5 WHERE id = $7",
                    &[
                        &m.id,
                        &next,
                        &failed_at,
                        &attempts,
                        &error,
                        &a.now,
                        &m.endpoint_id,
                    ],
                )?;
            }
            AttemptResult::EndpointGone(reason) => {
                self.exec(
                    "UPDATE endpoints SET disabled_at = $2, disabled_reason = $3,
                            last_failure_at = $2, last_error = $3
                     WHERE id = $1",
                    &[&m.endpoint_id, &a.now, &reason],
                )?;
                self.exec(
                    "UPDATE outbox SET failed_at = $2, last_error = $3,
                            attempts = attempts + CASE WHEN id = $4 THEN 1 ELSE 0 END
                     WHERE endpoint_id = $1 AND delivered_at IS NULL AND failed_at IS NULL",
                    &[&m.endpoint_id, &a.now, &reason, &m.id],
                )?;
            }
        }
        Ok(())
    }

    fn insert_user(&mut self, u: &NewUser<'_>) -> Result<Option<i64>, StoreError> {
        // `users_by_email` is on lower(email): taken in any letter case.
        let Some(id) = self.id(
            "INSERT INTO users (email, name, role, password_hash, created_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT ((lower(email))) DO NOTHING RETURNING id",
            &[
                &u.email,
                &u.name,
                &u.role.as_str(),
                &u.password_hash,
                &u.now,
            ],
        )?
        else {
            return Ok(None);
        };
        self.exec(
            "INSERT INTO user_sites (user_id, site_id) SELECT $1, unnest($2::BIGINT[])
             ON CONFLICT DO NOTHING",
            &[&id, &u.site_ids],
        )?;
        Ok(Some(id))
    }

    fn user_by_email(&mut self, email: &str) -> Result<Option<(User, String)>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE lower(u.email) = lower($1)"
        );
        match self.row(&sql, &[&email])? {
            Some(row) => Ok(Some((rows::user(&row)?, row.try_get(6)?))),
            None => Ok(None),
        }
    }

    fn users(&mut self) -> Result<Vec<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.name, u.id");
        let rows = self.rows(&sql, &[])?;
        each(rows, rows::user)
    }

    fn remove_user(&mut self, email: &str) -> Result<bool, StoreError> {
        let Some(id) = self.id(
            "SELECT id FROM users WHERE lower(email) = lower($1)",
            &[&email],
        )?
        else {
            return Ok(false);
        };
        self.exec(
            "UPDATE cases SET assignee_id = NULL WHERE assignee_id = $1",
            &[&id],
        )?;
        self.exec("DELETE FROM users WHERE id = $1", &[&id])?;
        Ok(true)
    }

    fn insert_session(&mut self, s: &NewSession<'_>) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO sessions (hash, user_id, csrf, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
            &[&s.hash, &s.user_id, &s.csrf, &s.now, &s.expires_at],
        )?;
        // Expired sessions go when anyone logs in, so the table stays small.
        self.exec("DELETE FROM sessions WHERE expires_at <= $1", &[&s.now])?;
        Ok(())
    }

    fn session(&mut self, hash: &str, now: i64) -> Result<Option<(User, String)>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, se.csrf FROM sessions se JOIN users u ON u.id = se.user_id
             WHERE se.hash = $1 AND se.expires_at > $2"
        );
        match self.row(&sql, &[&hash, &now])? {
            Some(row) => Ok(Some((rows::user(&row)?, row.try_get(6)?))),
            None => Ok(None),
        }
    }

    fn delete_session(&mut self, hash: &str) -> Result<(), StoreError> {
        self.exec("DELETE FROM sessions WHERE hash = $1", &[&hash])?;
        Ok(())
    }

    fn tokens(&mut self) -> Result<Vec<TokenRecord>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens t ORDER BY t.id");
        let rows = self.rows(&sql, &[])?;
        each(rows, rows::token)
    }

    fn delete_token(&mut self, id: i64) -> Result<bool, StoreError> {
        Ok(self.exec("DELETE FROM api_tokens WHERE id = $1", &[&id])? == 1)
    }

    fn replace_pending_update(
        &mut self,
        endpoint_id: i64,
        case_id: i64,
        payload: &str,
    ) -> Result<bool, StoreError> {
        // Never claimed: no attempt, and no lease moved its next attempt. A claim in
        // progress holds the row; this waits for it and then finds it claimed.
        let replaced = self.exec(
            "UPDATE outbox SET payload = $3
             WHERE id = (SELECT max(id) FROM outbox WHERE case_id = $2 AND endpoint_id = $1)
               AND event = 'case.updated' AND attempts = 0
               AND delivered_at IS NULL AND failed_at IS NULL
               AND next_attempt_at = created_at",
            &[&endpoint_id, &case_id, &payload],
        )?;
        Ok(replaced == 1)
    }

    fn customer_messages(
        &mut self,
        case_id: i64,
        limit: i64,
    ) -> Result<Vec<CustomerMessage>, StoreError> {
        let rows = self.rows(
            &format!(
                "{CUSTOMER_MESSAGE_SELECT}
                 WHERE o.case_id = $1 AND o.kind = 'customer_email'
                 ORDER BY o.id DESC LIMIT $2"
            ),
            &[&case_id, &limit],
        )?;
        each(rows, rows::customer_message)
    }

    fn recent_messages(
        &mut self,
        endpoint_id: i64,
        limit: i64,
    ) -> Result<Vec<Delivery>, StoreError> {
        let rows = self.rows(
            &format!("{DELIVERY_SELECT} WHERE o.endpoint_id = $1 ORDER BY o.id DESC LIMIT $2"),
            &[&endpoint_id, &limit],
        )?;
        each(rows, rows::delivery)
    }

    fn rating_days(
        &mut self,
        sites: Option<&[i64]>,
        from: i64,
        to: i64,
    ) -> Result<Vec<(i64, i64, i64)>, StoreError> {
        // BIGINT division truncates, as SQLite's integer division does.
        let rows = self.rows(
            "SELECT created_at / 86400000 AS day, count(*), count(*) FILTER (WHERE perfect)
             FROM ratings
             WHERE created_at >= $1 AND created_at < $2 AND rerates_case IS NULL
               AND ($3::BIGINT[] IS NULL OR site_id = ANY($3))
             GROUP BY day ORDER BY day",
            &[&from, &to, &sites],
        )?;
        each(rows, |row| {
            Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
        })
    }

    fn rerating_counts(
        &mut self,
        sites: Option<&[i64]>,
        from: i64,
        to: i64,
    ) -> Result<(i64, i64), StoreError> {
        let row = self.one(
            "SELECT count(*), count(*) FILTER (WHERE perfect) FROM ratings
             WHERE created_at >= $1 AND created_at < $2 AND rerates_case IS NOT NULL
               AND ($3::BIGINT[] IS NULL OR site_id = ANY($3))",
            &[&from, &to, &sites],
        )?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }

    fn case_timings(
        &mut self,
        sites: Option<&[i64]>,
        from: i64,
        to: i64,
    ) -> Result<Vec<CaseTiming>, StoreError> {
        let rows = self.rows(
            "SELECT status, overdue_from, opened_at, acknowledged_at FROM cases
             WHERE opened_at >= $1 AND opened_at < $2
               AND ($3::BIGINT[] IS NULL OR site_id = ANY($3))",
            &[&from, &to, &sites],
        )?;
        each(rows, rows::case_timing)
    }

    fn count_cases(&mut self, status: Status, overdue_at: Option<i64>) -> Result<i64, StoreError> {
        Ok(self
            .one(
                "SELECT count(*) FROM cases
                 WHERE status = $1 AND ($2::BIGINT IS NULL OR overdue_from <= $2)",
                &[&status.as_str(), &overdue_at],
            )?
            .try_get(0)?)
    }

    fn count_messages(&mut self, failed: bool) -> Result<i64, StoreError> {
        let sql = if failed {
            "SELECT count(*) FROM outbox WHERE failed_at IS NOT NULL"
        } else {
            "SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL"
        };
        Ok(self.one(sql, &[])?.try_get(0)?)
    }

    fn contacts_matching(
        &mut self,
        email: Option<&str>,
        updated_before: Option<i64>,
    ) -> Result<Vec<StoredContact>, StoreError> {
        // lower(contact_email), as `details_by_email` is: any letter case.
        let rows = self.rows(
            "SELECT rating_id, contact_name, contact_email, contact_phone FROM details
             WHERE (contact_name IS NOT NULL OR contact_email IS NOT NULL
                    OR contact_phone IS NOT NULL)
               AND ($1::TEXT IS NULL OR lower(contact_email) = lower($1))
               AND ($2::BIGINT IS NULL OR updated_at < $2)",
            &[&email, &updated_before],
        )?;
        each(rows, rows::contact)
    }

    fn clear_contact(&mut self, rating_id: &str) -> Result<(), StoreError> {
        self.exec(
            "UPDATE details SET contact_name = NULL, contact_email = NULL,
                    contact_phone = NULL, consent = false
             WHERE rating_id = $1",
            &[&rating_id],
        )?;
        Ok(())
    }

    fn rotate_secret(
        &mut self,
        site_id: i64,
        id: i64,
        secret: &str,
        old_until: i64,
    ) -> Result<bool, StoreError> {
        let rotated = self.exec(
            "UPDATE endpoints SET old_secret = secret, old_secret_until = $4, secret = $3
             WHERE id = $1 AND site_id = $2 AND kind = 'webhook' AND disabled_at IS NULL",
            &[&id, &site_id, &secret, &old_until],
        )?;
        Ok(rotated == 1)
    }

    fn remove_endpoint(&mut self, site_id: i64, id: i64, now: i64) -> Result<bool, StoreError> {
        let removed = self.exec(
            "UPDATE endpoints SET disabled_at = coalesce(disabled_at, $3),
                    disabled_reason = 'removed'
             WHERE id = $1 AND site_id = $2",
            &[&id, &site_id, &now],
        )?;
        self.exec(
            "UPDATE outbox SET failed_at = $2, last_error = 'the endpoint was removed'
             WHERE endpoint_id = $1 AND delivered_at IS NULL AND failed_at IS NULL",
            &[&id, &now],
        )?;
        Ok(removed == 1)
    }

    fn redeliver(&mut self, site_id: i64, id: i64, now: i64) -> Result<usize, StoreError> {
        self.changed.outbox = true;
        Ok(changed(self.exec(
            "UPDATE outbox SET failed_at = NULL, attempts = 0, next_attempt_at = $3,
                    last_error = NULL
             WHERE endpoint_id = $1 AND failed_at IS NOT NULL AND delivered_at IS NULL
               AND endpoint_id IN (SELECT id FROM endpoints
                                   WHERE site_id = $2 AND disabled_at IS NULL)",
            &[&id, &site_id, &now],
        )?))
    }

    fn messages_mentioning(&mut self, needle: &str) -> Result<Vec<OutboxText>, StoreError> {
        let rows = self.rows(
            "SELECT id, kind, target, payload, delivered_at IS NULL AND failed_at IS NULL
             FROM outbox
             WHERE strpos(lower(payload), lower($1)) > 0 OR strpos(lower(target), lower($1)) > 0
                OR strpos(lower(coalesce(last_error, '')), lower($1)) > 0",
            &[&needle],
        )?;
        each(rows, rows::outbox_text)
    }

    fn rewrite_message(&mut self, m: &MessageRewrite<'_>) -> Result<(), StoreError> {
        self.exec(
            "UPDATE outbox SET payload = $2, target = $3,
                    last_error = CASE
                        WHEN $4::BIGINT IS NOT NULL THEN 'the customer''s contact data was erased'
                        WHEN strpos(lower(last_error), lower($5)) > 0 THEN '(erased)'
                        ELSE last_error END,
                    failed_at = coalesce(failed_at, $4)
             WHERE id = $1",
            &[&m.id, &m.payload, &m.target, &m.cancel, &m.forget],
        )?;
        Ok(())
    }

    fn record_erasure(
        &mut self,
        reason: &str,
        erased: i64,
        by: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO erasures (at, reason, erased, by_whom) VALUES ($1, $2, $3, $4)",
            &[&now, &reason, &erased, &by],
        )?;
        Ok(())
    }

    fn prune_messages(&mut self, before: i64) -> Result<usize, StoreError> {
        Ok(changed(self.exec(
            "DELETE FROM outbox WHERE delivered_at < $1 OR failed_at < $1",
            &[&before],
        )?))
    }

    fn export_rows(
        &mut self,
        sites: Option<&[i64]>,
        (from, to): (i64, i64),
        after: Option<(i64, &str)>,
        limit: i64,
    ) -> Result<Vec<ExportRow>, StoreError> {
        let (after_at, after_id) = after.unwrap_or((i64::MIN, ""));
        let rows = self.rows(
            &format!(
                "{EXPORT_SELECT}
             WHERE r.created_at >= $1 AND r.created_at < $2
               AND ($3::BIGINT[] IS NULL OR r.site_id = ANY($3))
               AND (r.created_at > $4 OR (r.created_at = $4 AND r.id > $5))
             ORDER BY r.created_at, r.id LIMIT $6"
            ),
            &[&from, &to, &sites, &after_at, &after_id, &limit],
        )?;
        each(rows, rows::export_row)
    }

    fn causes_found(
        &mut self,
        sites: Option<&[i64]>,
        from: i64,
        to: i64,
    ) -> Result<Vec<(String, i64, Option<String>)>, StoreError> {
        let rows = self.rows(
            "SELECT st.cause, st.case_id, p.action FROM case_steps st
             JOIN cases c ON c.id = st.case_id
             LEFT JOIN preventions p ON p.id = st.prevention_id
             WHERE st.step = 'cause_found' AND st.cause IS NOT NULL
               AND c.opened_at >= $1 AND c.opened_at < $2
               AND ($3::BIGINT[] IS NULL OR c.site_id = ANY($3))
             ORDER BY st.id",
            &[&from, &to, &sites],
        )?;
        each(rows, |row| {
            Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
        })
    }

    fn set_alert_events(&mut self, user_id: i64, events: &[Event]) -> Result<(), StoreError> {
        let names: Vec<String> = events.iter().map(|e| e.as_str().to_owned()).collect();
        self.exec(
            "UPDATE users SET alert_events = $2 WHERE id = $1",
            &[&user_id, &json_list(&names)],
        )?;
        Ok(())
    }

    fn assign_case(&mut self, case_id: i64, user_id: Option<i64>) -> Result<(), StoreError> {
        self.changed.cases = true;
        self.exec(
            "UPDATE cases SET assignee_id = $2 WHERE id = $1",
            &[&case_id, &user_id],
        )?;
        Ok(())
    }

    fn sites(&mut self) -> Result<Vec<Site>, StoreError> {
        // Two queries, not one per site: each costs a round trip.
        let sql = format!("SELECT {SITE_COLUMNS} FROM sites ORDER BY name, id");
        let rows = self.rows(&sql, &[])?;
        let mut sites = each(rows, rows::site)?;
        let mut origins: HashMap<i64, Vec<String>> = HashMap::new();
        for row in self.rows(
            "SELECT site_id, origin FROM site_origins ORDER BY site_id, origin",
            &[],
        )? {
            origins
                .entry(row.try_get(0)?)
                .or_default()
                .push(row.try_get(1)?);
        }
        for site in &mut sites {
            site.settings.origins = origins.remove(&site.id).unwrap_or_default();
        }
        Ok(sites)
    }

    fn preventions(&mut self, site_id: i64) -> Result<Vec<Prevention>, StoreError> {
        let rows = self.rows(
            "SELECT id, cause, action FROM preventions WHERE site_id = $1 ORDER BY id DESC",
            &[&site_id],
        )?;
        each(rows, rows::prevention)
    }
}

//! The PostgreSQL engine's answers to [`Tx`]: every read and write the product makes,
//! in PostgreSQL's dialect.

use super::*;

impl Tx for PostgresTx<'_> {
    #[allow(unused_variables)]
    fn ping(&mut self) -> Result<(), StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn insert_site(
        &mut self,
        settings: &SiteSettings,
        key: &str,
        secret: &str,
        now: i64,
    ) -> Result<i64, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn site_has_ratings(&mut self, site_id: i64) -> Result<bool, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn update_site(&mut self, site_id: i64, settings: &SiteSettings) -> Result<(), StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn site_by_key(&mut self, key: &str, now: i64) -> Result<Option<Site>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn site_by_id(&mut self, id: i64) -> Result<Option<Site>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn site_id_by_any_key(&mut self, key: &str) -> Result<Option<i64>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn rotate_key(
        &mut self,
        site_id: i64,
        new_key: &str,
        old_valid_until: i64,
    ) -> Result<(), StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn revoke_site(&mut self, site_id: i64, now: i64) -> Result<(), StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn origin_is_known(&mut self, origin: &str) -> Result<bool, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn rating_by_id(&mut self, id: &str) -> Result<Option<StoredRating>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn signed_interaction_rated(
        &mut self,
        site_id: i64,
        interaction: &str,
    ) -> Result<bool, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn insert_rating(&mut self, rating: &NewRating<'_>) -> Result<(), StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn save_details(&mut self, details: &NewDetails<'_>) -> Result<(), StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn details_for(&mut self, rating_id: &str) -> Result<Option<StoredDetails>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn insert_case(&mut self, case: &NewCase<'_>) -> Result<Option<i64>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn case_by_id(&mut self, id: i64) -> Result<Option<CaseRecord>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn case_id_by_ref(&mut self, reference: &str) -> Result<Option<i64>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn case_id_for_rating(&mut self, rating_id: &str) -> Result<Option<i64>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn case_id_by_rerate_link(
        &mut self,
        site_id: i64,
        hash: &str,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn rerate_page(
        &mut self,
        hash: &str,
        now: i64,
    ) -> Result<Option<(String, String, String)>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn set_rerate_link(
        &mut self,
        case_id: i64,
        link: Option<(&str, i64)>,
    ) -> Result<(), StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn save_case(&mut self, case: &CaseRecord, overdue_from: i64) -> Result<(), StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn case_ids(&mut self, filter: &CaseFilter<'_>) -> Result<Vec<i64>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn cases_to_raise(&mut self, now: i64) -> Result<Vec<CaseRecord>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn cases_without_overdue_from(&mut self) -> Result<Vec<CaseRecord>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn steps(&mut self, case_id: i64) -> Result<Vec<StepRecord>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn insert_step(&mut self, step: &NewStep<'_>) -> Result<(), StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn prevention(&mut self, site_id: i64, id: i64) -> Result<Option<Prevention>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn insert_prevention(
        &mut self,
        site_id: i64,
        cause: &str,
        action: &str,
        now: i64,
    ) -> Result<i64, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn insert_token(&mut self, token: &NewToken<'_>) -> Result<(), StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn token(&mut self, hash: &str, now: i64) -> Result<Option<TokenRecord>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn insert_endpoint(&mut self, endpoint: &NewEndpoint<'_>) -> Result<i64, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn active_endpoints(
        &mut self,
        site_id: i64,
        escalation: bool,
    ) -> Result<Vec<Endpoint>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn endpoint_states(&mut self, site_id: i64) -> Result<Vec<EndpointState>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn note_refused_origin(
        &mut self,
        site_id: i64,
        origin: &str,
        refusals: i64,
        now: i64,
        cap: i64,
    ) -> Result<bool, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn refused_origins(&mut self, site_id: i64) -> Result<Vec<RefusedOrigin>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn insert_message(&mut self, message: &NewMessage<'_>) -> Result<(), StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn due_lanes(&mut self, now: i64, skip: &[i64]) -> Result<Vec<i64>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn claim_messages(&mut self, claim: &Claim<'_>) -> Result<Vec<Message>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn give_up_messages(&mut self, before: i64, now: i64) -> Result<usize, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn record_attempt(&mut self, attempt: &Attempt<'_>) -> Result<(), StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn insert_user(&mut self, user: &NewUser<'_>) -> Result<Option<i64>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn user_by_email(&mut self, email: &str) -> Result<Option<(User, String)>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn users(&mut self) -> Result<Vec<User>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn remove_user(&mut self, email: &str) -> Result<bool, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn insert_session(&mut self, session: &NewSession<'_>) -> Result<(), StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn session(&mut self, hash: &str, now: i64) -> Result<Option<(User, String)>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn delete_session(&mut self, hash: &str) -> Result<(), StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn tokens(&mut self) -> Result<Vec<TokenRecord>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn delete_token(&mut self, id: i64) -> Result<bool, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn recent_messages(
        &mut self,
        endpoint_id: i64,
        limit: i64,
    ) -> Result<Vec<Delivery>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn rating_days(
        &mut self,
        sites: Option<&[i64]>,
        from: i64,
        to: i64,
    ) -> Result<Vec<(i64, i64, i64)>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn rerating_counts(
        &mut self,
        sites: Option<&[i64]>,
        from: i64,
        to: i64,
    ) -> Result<(i64, i64), StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn case_timings(
        &mut self,
        sites: Option<&[i64]>,
        from: i64,
        to: i64,
    ) -> Result<Vec<CaseTiming>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn count_cases(&mut self, status: Status, overdue_at: Option<i64>) -> Result<i64, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn count_messages(&mut self, failed: bool) -> Result<i64, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn contacts_matching(
        &mut self,
        email: Option<&str>,
        updated_before: Option<i64>,
    ) -> Result<Vec<StoredContact>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn clear_contact(&mut self, rating_id: &str) -> Result<(), StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn rotate_secret(
        &mut self,
        site_id: i64,
        id: i64,
        secret: &str,
        old_until: i64,
    ) -> Result<bool, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn remove_endpoint(&mut self, site_id: i64, id: i64, now: i64) -> Result<bool, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn redeliver(&mut self, site_id: i64, id: i64, now: i64) -> Result<usize, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn messages_mentioning(&mut self, needle: &str) -> Result<Vec<OutboxText>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn rewrite_message(&mut self, rewrite: &MessageRewrite<'_>) -> Result<(), StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn record_erasure(
        &mut self,
        reason: &str,
        erased: i64,
        by: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn prune_messages(&mut self, before: i64) -> Result<usize, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn export_rows(
        &mut self,
        sites: Option<&[i64]>,
        received: (i64, i64),
        after: Option<(i64, &str)>,
        limit: i64,
    ) -> Result<Vec<ExportRow>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn causes_found(
        &mut self,
        sites: Option<&[i64]>,
        from: i64,
        to: i64,
    ) -> Result<Vec<(String, i64, Option<String>)>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn set_alert_events(&mut self, user_id: i64, events: &[Event]) -> Result<(), StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn assign_case(&mut self, case_id: i64, user_id: Option<i64>) -> Result<(), StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn sites(&mut self) -> Result<Vec<Site>, StoreError> {
        todo!()
    }
    #[allow(unused_variables)]
    fn preventions(&mut self, site_id: i64) -> Result<Vec<Prevention>, StoreError> {
        todo!()
    }
}

-- API tokens limited to some sites, and tokens that expire; indexes for the numbers.
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
CREATE TABLE token_sites (
    token_id BIGINT NOT NULL REFERENCES api_tokens(id) ON DELETE CASCADE,
    site_id  BIGINT NOT NULL REFERENCES sites(id),
    PRIMARY KEY (token_id, site_id)
);
-- The export reads ratings by time, page after page; erasure finds a case's messages.
CREATE INDEX ratings_by_time ON ratings(created_at, id);
CREATE INDEX ratings_by_site_time ON ratings(site_id, created_at);
CREATE INDEX outbox_by_case ON outbox(case_id);

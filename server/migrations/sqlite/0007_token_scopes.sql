-- API tokens limited to some sites, and tokens that expire.
ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;
CREATE TABLE token_sites (
    token_id INTEGER NOT NULL REFERENCES api_tokens(id) ON DELETE CASCADE,
    site_id  INTEGER NOT NULL REFERENCES sites(id),
    PRIMARY KEY (token_id, site_id)
);

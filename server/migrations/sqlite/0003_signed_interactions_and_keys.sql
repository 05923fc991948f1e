-- Signed interactions (rated once each), site key rotation and revocation.
ALTER TABLE sites ADD COLUMN require_token INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sites ADD COLUMN revoked_at INTEGER;
ALTER TABLE ratings ADD COLUMN signed INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX ratings_signed_interaction ON ratings(site_id, interaction) WHERE signed = 1;
CREATE TABLE site_keys (
    key         TEXT PRIMARY KEY,
    site_id     INTEGER NOT NULL REFERENCES sites(id),
    valid_until INTEGER NOT NULL
);

-- Signed interactions (rated once each), site key rotation and revocation.
ALTER TABLE sites ADD COLUMN require_token BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE sites ADD COLUMN revoked_at BIGINT;
ALTER TABLE ratings ADD COLUMN signed BOOLEAN NOT NULL DEFAULT false;
CREATE UNIQUE INDEX ratings_signed_interaction ON ratings(site_id, interaction) WHERE signed;
CREATE TABLE site_keys (
    key         TEXT PRIMARY KEY,
    site_id     BIGINT NOT NULL REFERENCES sites(id),
    valid_until BIGINT NOT NULL
);

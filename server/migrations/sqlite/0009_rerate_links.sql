-- A re-rating link is single use and expires: `rerate_token` now holds the SHA-256 of
-- the link's token (hex), made when the customer's email is sent, and is cleared when a
-- re-rating uses it. Tokens stored as is by older builds are hashed by the server when
-- this migration runs (see `store/sqlite.rs`).
ALTER TABLE cases ADD COLUMN rerate_until INTEGER;

-- A re-rating link is single use and expires: `rerate_token` holds the SHA-256 of the
-- link's token (hex), made when the customer's email is sent, and is cleared when a
-- re-rating uses it. (A PostgreSQL database never held plain tokens: nothing to hash.)
ALTER TABLE cases ADD COLUMN rerate_until BIGINT;

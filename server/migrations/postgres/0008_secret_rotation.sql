-- A webhook's previous signing secret, which still signs until the overlap ends.
ALTER TABLE endpoints ADD COLUMN old_secret TEXT;
ALTER TABLE endpoints ADD COLUMN old_secret_until BIGINT;

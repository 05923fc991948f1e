-- The desk: people (owners and agents), the sites an agent works, the alerts each
-- wants, browser sessions, who owns each case, and each site's time zone.
CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    alert_events  TEXT NOT NULL DEFAULT '["case.opened","case.overdue","case.closed"]',
    created_at    BIGINT NOT NULL
);
-- An email is one login in any letter case (SQLite: UNIQUE COLLATE NOCASE); queries
-- compare lower(email).
CREATE UNIQUE INDEX users_by_email ON users(lower(email));
CREATE TABLE user_sites (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    site_id BIGINT NOT NULL REFERENCES sites(id),
    PRIMARY KEY (user_id, site_id)
);
CREATE TABLE sessions (
    hash       TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions(user_id);
ALTER TABLE cases ADD COLUMN assignee_id BIGINT REFERENCES users(id);
ALTER TABLE sites ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';

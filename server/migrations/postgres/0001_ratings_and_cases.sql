-- Sites, their origins, ratings, details and cases.
CREATE TABLE sites (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key               TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    scale             BIGINT NOT NULL,
    ack_within_secs   BIGINT NOT NULL,
    close_within_secs BIGINT NOT NULL,
    reasons           TEXT NOT NULL,
    apology           TEXT NOT NULL,
    owner             TEXT NOT NULL,
    review_url        TEXT,
    secret            TEXT NOT NULL,
    created_at        BIGINT NOT NULL
);
CREATE TABLE site_origins (
    site_id BIGINT NOT NULL REFERENCES sites(id),
    origin  TEXT NOT NULL,
    PRIMARY KEY (site_id, origin)
);
CREATE INDEX site_origins_by_origin ON site_origins(origin);
CREATE TABLE ratings (
    id          TEXT PRIMARY KEY,
    site_id     BIGINT NOT NULL REFERENCES sites(id),
    score       BIGINT NOT NULL,
    perfect     BOOLEAN NOT NULL,
    interaction TEXT,
    page        TEXT,
    locale      TEXT,
    content     TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE TABLE details (
    rating_id     TEXT PRIMARY KEY REFERENCES ratings(id),
    comment       TEXT,
    reasons       TEXT NOT NULL,
    contact_name  TEXT,
    contact_email TEXT,
    contact_phone TEXT,
    consent       BOOLEAN NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE TABLE cases (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ref          TEXT NOT NULL UNIQUE,
    site_id      BIGINT NOT NULL REFERENCES sites(id),
    rating_id    TEXT NOT NULL UNIQUE REFERENCES ratings(id),
    status       TEXT NOT NULL DEFAULT 'open',
    opened_at    BIGINT NOT NULL,
    ack_due_at   BIGINT NOT NULL,
    close_due_at BIGINT NOT NULL
);

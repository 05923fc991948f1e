-- Contact data erased on request or by retention: when, how, how many ratings, by
-- whom. Never the address itself.
CREATE TABLE erasures (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    reason  TEXT NOT NULL,
    erased  INTEGER NOT NULL,
    by_whom TEXT NOT NULL
);
CREATE INDEX details_by_email ON details(contact_email COLLATE NOCASE);

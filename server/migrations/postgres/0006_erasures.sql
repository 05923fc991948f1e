-- Contact data erased on request or by retention: when, how, how many ratings, by
-- whom. Never the address itself.
CREATE TABLE erasures (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      BIGINT NOT NULL,
    reason  TEXT NOT NULL,
    erased  BIGINT NOT NULL,
    by_whom TEXT NOT NULL
);
-- Found in any letter case: queries compare lower(contact_email).
CREATE INDEX details_by_email ON details(lower(contact_email));

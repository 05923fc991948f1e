-- Case steps, preventions, API tokens, alert endpoints and the alert outbox.
ALTER TABLE sites ADD COLUMN causes TEXT NOT NULL
    DEFAULT '["Staffing","Training","Process","Supplier","Equipment","Communication","Other"]';
ALTER TABLE cases ADD COLUMN acknowledged_at BIGINT;
ALTER TABLE cases ADD COLUMN closed_at BIGINT;
ALTER TABLE cases ADD COLUMN ack_overdue_at BIGINT;
ALTER TABLE cases ADD COLUMN close_overdue_at BIGINT;
ALTER TABLE cases ADD COLUMN rerate_token TEXT;
ALTER TABLE cases ADD COLUMN recovered BOOLEAN;
CREATE UNIQUE INDEX cases_by_rerate_token ON cases(rerate_token);
CREATE INDEX cases_by_ack_due ON cases(status, ack_due_at);
ALTER TABLE ratings ADD COLUMN rerates_case BIGINT REFERENCES cases(id);
CREATE TABLE preventions (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id    BIGINT NOT NULL REFERENCES sites(id),
    cause      TEXT NOT NULL,
    action     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE case_steps (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id       BIGINT NOT NULL REFERENCES cases(id),
    step          TEXT NOT NULL,
    actor         TEXT NOT NULL,
    note          TEXT,
    cause         TEXT,
    prevention_id BIGINT REFERENCES preventions(id),
    at            BIGINT NOT NULL
);
CREATE INDEX case_steps_by_case ON case_steps(case_id, id);
CREATE TABLE api_tokens (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE TABLE endpoints (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id         BIGINT NOT NULL REFERENCES sites(id),
    kind            TEXT NOT NULL,
    target          TEXT NOT NULL,
    secret          TEXT,
    escalation      BOOLEAN NOT NULL DEFAULT false,
    disabled_at     BIGINT,
    disabled_reason TEXT,
    last_success_at BIGINT,
    last_failure_at BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL
);
CREATE TABLE outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    msg_id          TEXT NOT NULL UNIQUE,
    endpoint_id     BIGINT REFERENCES endpoints(id),
    kind            TEXT NOT NULL,
    target          TEXT NOT NULL,
    event           TEXT NOT NULL,
    case_id         BIGINT REFERENCES cases(id),
    payload         TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    delivered_at    BIGINT,
    failed_at       BIGINT,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;

-- Pages on origins a site does not allow: how often their ratings or settings requests
-- were refused, so the owner can see a setup mistake (www. against the bare domain,
-- http against https) and add the origin.
CREATE TABLE refused_origins (
    site_id  BIGINT NOT NULL REFERENCES sites(id),
    origin   TEXT NOT NULL,
    refusals BIGINT NOT NULL,
    first_at BIGINT NOT NULL,
    last_at  BIGINT NOT NULL,
    PRIMARY KEY (site_id, origin)
);

-- Pages on origins a site does not allow: how often their ratings or settings requests
-- were refused, so the owner can see a setup mistake (www. against the bare domain,
-- http against https) and add the origin.
CREATE TABLE refused_origins (
    site_id  INTEGER NOT NULL REFERENCES sites(id),
    origin   TEXT NOT NULL,
    refusals INTEGER NOT NULL,
    first_at INTEGER NOT NULL,
    last_at  INTEGER NOT NULL,
    PRIMARY KEY (site_id, origin)
);

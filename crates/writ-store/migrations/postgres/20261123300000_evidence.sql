-- Evidence an auditor can verify offline.

-- Which events touch which thing (`request:<id>`, `grant:<id>`, …), written with each event,
-- so one request's events are found without reading the whole log.
CREATE TABLE audit_subjects (
    subject TEXT NOT NULL,
    seq     BIGINT NOT NULL REFERENCES audit_events (seq),
    PRIMARY KEY (subject, seq)
);

INSERT INTO audit_subjects (subject, seq)
    SELECT DISTINCT s.value, e.seq FROM audit_events e, jsonb_array_elements_text(e.subjects::jsonb) s;

-- The Merkle tree over the log (RFC 6962), kept as the tree hash of each complete run of 256
-- events: tile idx covers seq idx*256+1 ..= idx*256+256. Only a cache: every tile can be
-- recomputed from the events, and `audit verify` never trusts one.
CREATE TABLE audit_tree_tiles (
    idx  BIGINT PRIMARY KEY,
    hash BYTEA NOT NULL
);

-- Signed tree heads: the C2SP checkpoint note exactly as signed.
CREATE TABLE audit_checkpoints (
    size       BIGINT PRIMARY KEY,
    root       BYTEA NOT NULL,
    note       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

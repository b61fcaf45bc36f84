-- Foundation: the audit log and the job queue.
-- Instants are BIGINT microseconds since the Unix epoch (UTC), the same as on SQLite, so both
-- backends store, hash and compare them exactly alike.

-- The append-only, hash-chained audit log. seq is assigned by writ (previous + 1) under a
-- transaction-scoped advisory lock, so appends are linear and gapless across replicas.
-- data is TEXT, not JSONB: it must keep the exact bytes that were hashed.
CREATE TABLE audit_events (
    seq       BIGINT PRIMARY KEY,
    at        BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    subjects  TEXT NOT NULL,
    data      TEXT NOT NULL,
    prev_hash BYTEA NOT NULL,
    hash      BYTEA NOT NULL
);

CREATE FUNCTION writ_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
END
$$;

CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION writ_audit_append_only();

CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION writ_audit_append_only();

-- Background work. payload is the serde JSON of writ_domain::job::JobPayload, tagged by kind.
-- A job with a dedupe_key is queued at most once (replay safety).
CREATE TABLE jobs (
    id               UUID PRIMARY KEY,
    kind             TEXT NOT NULL,
    payload          TEXT NOT NULL,
    dedupe_key       TEXT UNIQUE,
    state            TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
    run_after        BIGINT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL CHECK (max_attempts > 0),
    lease_owner      TEXT,
    lease_token      UUID,
    lease_expires_at BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);

CREATE INDEX jobs_queued ON jobs (run_after) WHERE state = 'queued';
CREATE INDEX jobs_leased ON jobs (lease_expires_at) WHERE state = 'running';

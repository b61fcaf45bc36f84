-- Reconciliation: findings (gaps between governed and live state) and the record of each run.
-- A finding is keyed by its system, kind and subject (`account/entitlement`, `account`, or
-- `rule/holder`); at most one per key is not resolved, so a gap seen again updates its finding
-- and a gap that comes back after it was resolved opens a new one.

CREATE TABLE findings (
    id              UUID PRIMARY KEY,
    system_id       UUID NOT NULL REFERENCES systems (id),
    kind            TEXT NOT NULL CHECK (kind IN ('unapproved_access', 'orphaned_access', 'missing_access', 'unowned_account', 'sod_violation')),
    subject         TEXT NOT NULL,
    identity_id     UUID REFERENCES identities (id),
    account_key     TEXT,
    entitlement_id  UUID REFERENCES entitlements (id),
    entitlement_key TEXT,
    sod_rule_id     UUID REFERENCES sod_rules (id),
    first_seen      BIGINT NOT NULL,
    last_seen       BIGINT NOT NULL,
    seen_count      BIGINT NOT NULL CHECK (seen_count >= 1),
    status          TEXT NOT NULL CHECK (status IN ('open', 'resolved', 'accepted', 'remediating')),
    resolution      TEXT,
    accepted_by     UUID REFERENCES principals (id),
    accepted_until  BIGINT,
    request_id      UUID REFERENCES requests (id),
    evidence        TEXT NOT NULL,
    updated_at      BIGINT NOT NULL
);

CREATE UNIQUE INDEX findings_current ON findings (system_id, kind, subject) WHERE status <> 'resolved';
CREATE INDEX findings_status ON findings (status, id);
CREATE INDEX findings_system ON findings (system_id, status, last_seen);

-- One row per finished reconciliation of a system: what was read and what was found, and the
-- entitlement integrity (traced / live grants) it measured.
CREATE TABLE reconciliations (
    id            UUID PRIMARY KEY,
    system_id     UUID NOT NULL REFERENCES systems (id),
    started_at    BIGINT NOT NULL,
    finished_at   BIGINT NOT NULL,
    live_accounts BIGINT NOT NULL,
    live_grants   BIGINT NOT NULL,
    traced_grants BIGINT NOT NULL,
    findings      TEXT NOT NULL,
    opened        BIGINT NOT NULL,
    resolved      BIGINT NOT NULL
);

CREATE INDEX reconciliations_system ON reconciliations (system_id, finished_at);

-- Reconciliation reads a system's grants account by account.
CREATE INDEX grants_account ON grants (account_id);

-- Reconciliation merges governed and live state in byte order; PostgreSQL sorts text by the
-- database's collation unless told otherwise.
CREATE INDEX accounts_system_key_bytes ON accounts (system_id, account_key COLLATE "C");

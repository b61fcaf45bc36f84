-- Reconciliation: findings (gaps between governed and live state) and the record of each run.
-- A finding is keyed by its system, kind and subject (`account/entitlement`, `account`, or
-- `rule/holder`); at most one per key is not resolved, so a gap seen again updates its finding
-- and a gap that comes back after it was resolved opens a new one.

CREATE TABLE findings (
    id              BLOB PRIMARY KEY,
    system_id       BLOB NOT NULL REFERENCES systems (id),
    kind            TEXT NOT NULL CHECK (kind IN ('unapproved_access', 'orphaned_access', 'missing_access', 'unowned_account', 'sod_violation')),
    subject         TEXT NOT NULL,
    identity_id     BLOB REFERENCES identities (id),
    account_key     TEXT,
    entitlement_id  BLOB REFERENCES entitlements (id),
    entitlement_key TEXT,
    sod_rule_id     BLOB REFERENCES sod_rules (id),
    first_seen      INTEGER NOT NULL,
    last_seen       INTEGER NOT NULL,
    seen_count      INTEGER NOT NULL CHECK (seen_count >= 1),
    status          TEXT NOT NULL CHECK (status IN ('open', 'resolved', 'accepted', 'remediating')),
    resolution      TEXT,
    accepted_by     BLOB REFERENCES principals (id),
    accepted_until  INTEGER,
    request_id      BLOB REFERENCES requests (id),
    evidence        TEXT NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX findings_current ON findings (system_id, kind, subject) WHERE status <> 'resolved';
CREATE INDEX findings_status ON findings (status, id);
CREATE INDEX findings_system ON findings (system_id, status, last_seen);

-- One row per finished reconciliation of a system: what was read and what was found, and the
-- entitlement integrity (traced / live grants) it measured.
CREATE TABLE reconciliations (
    id            BLOB PRIMARY KEY,
    system_id     BLOB NOT NULL REFERENCES systems (id),
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER NOT NULL,
    live_accounts INTEGER NOT NULL,
    live_grants   INTEGER NOT NULL,
    traced_grants INTEGER NOT NULL,
    findings      TEXT NOT NULL,
    opened        INTEGER NOT NULL,
    resolved      INTEGER NOT NULL
) STRICT;

CREATE INDEX reconciliations_system ON reconciliations (system_id, finished_at);

-- Reconciliation reads a system's grants account by account.
CREATE INDEX grants_account ON grants (account_id);

-- Catalog, inventory and requests. JSON values are TEXT; booleans are INTEGER 0/1; TTLs are
-- whole seconds; instants are microseconds since the Unix epoch (UTC).

CREATE TABLE principals (
    id          BLOB PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    email       TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    manager_id  BLOB REFERENCES principals (id) DEFERRABLE INITIALLY DEFERRED,
    groups      TEXT NOT NULL,
    active      INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE systems (
    id          BLOB PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    connector   TEXT NOT NULL,
    config      TEXT NOT NULL,
    owner_id    BLOB NOT NULL REFERENCES principals (id),
    environment TEXT NOT NULL,
    criticality TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE entitlements (
    id                     BLOB PRIMARY KEY,
    system_id              BLOB NOT NULL REFERENCES systems (id),
    key                    TEXT NOT NULL,
    name                   TEXT NOT NULL,
    description            TEXT NOT NULL,
    risk                   TEXT NOT NULL,
    environment            TEXT,
    default_ttl_secs       INTEGER NOT NULL,
    max_ttl_secs           INTEGER NOT NULL,
    requestable            INTEGER NOT NULL,
    allowed_identity_kinds TEXT NOT NULL,
    approval_stages        TEXT NOT NULL,
    break_glass_ttl_secs   INTEGER,
    owner_id               BLOB NOT NULL REFERENCES principals (id),
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL,
    UNIQUE (system_id, key)
) STRICT;

CREATE TABLE sod_rules (
    id              BLOB PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    entitlement_ids TEXT NOT NULL,
    scope           TEXT NOT NULL,
    severity        TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

CREATE TABLE identities (
    id          BLOB PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    owner_id    BLOB NOT NULL REFERENCES principals (id),
    team        TEXT,
    purpose     TEXT NOT NULL,
    environment TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX identities_owner ON identities (owner_id);

CREATE TABLE accounts (
    id          BLOB PRIMARY KEY,
    identity_id BLOB NOT NULL REFERENCES identities (id),
    system_id   BLOB NOT NULL REFERENCES systems (id),
    account_key TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (system_id, account_key),
    UNIQUE (identity_id, system_id)
) STRICT;

-- number is the human-facing REQ-n; decision is the policy decision record (JSON).
CREATE TABLE requests (
    id                 BLOB PRIMARY KEY,
    number             INTEGER NOT NULL UNIQUE,
    kind               TEXT NOT NULL,
    requester_id       BLOB NOT NULL REFERENCES principals (id),
    identity_id        BLOB NOT NULL REFERENCES identities (id),
    entitlement_id     BLOB REFERENCES entitlements (id),
    justification      TEXT NOT NULL,
    requested_ttl_secs INTEGER,
    requested_end      INTEGER,
    new_owner_id       BLOB REFERENCES principals (id),
    category           TEXT NOT NULL,
    status             TEXT NOT NULL,
    plan_hash          BLOB,
    decision           TEXT NOT NULL,
    policy_set_hash    TEXT NOT NULL,
    external_ref       TEXT,
    sla_due            INTEGER,
    assignee_id        BLOB REFERENCES principals (id),
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
) STRICT;

CREATE INDEX requests_identity ON requests (identity_id, status);
CREATE INDEX requests_status ON requests (status, created_at);

-- One decision per stage of a plan: stage_index orders the stages, plan_hash binds the approval
-- to what the approver saw (a changed plan needs its stages decided again).
CREATE TABLE approvals (
    id          BLOB PRIMARY KEY,
    request_id  BLOB NOT NULL REFERENCES requests (id),
    stage_index INTEGER NOT NULL,
    stage       TEXT NOT NULL,
    approver_id BLOB NOT NULL REFERENCES principals (id),
    decision    TEXT NOT NULL,
    reason      TEXT,
    plan_hash   BLOB NOT NULL,
    policy_ids  TEXT NOT NULL,
    at          INTEGER NOT NULL,
    UNIQUE (request_id, stage_index, plan_hash)
) STRICT;

CREATE TABLE grants (
    id               BLOB PRIMARY KEY,
    identity_id      BLOB NOT NULL REFERENCES identities (id),
    account_id       BLOB NOT NULL REFERENCES accounts (id),
    entitlement_id   BLOB NOT NULL REFERENCES entitlements (id),
    request_id       BLOB NOT NULL REFERENCES requests (id),
    status           TEXT NOT NULL,
    granted_at       INTEGER,
    expires_at       INTEGER,
    last_verified_at INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
) STRICT;

CREATE INDEX grants_identity ON grants (identity_id, status);

-- What execution did and what the target showed afterwards: connector receipts and live-state
-- read-backs, kept with the request as evidence.
CREATE TABLE request_evidence (
    id         BLOB PRIMARY KEY,
    request_id BLOB NOT NULL REFERENCES requests (id),
    kind       TEXT NOT NULL CHECK (kind IN ('receipt', 'read_back', 'error')),
    data       TEXT NOT NULL,
    at         INTEGER NOT NULL
) STRICT;

CREATE INDEX request_evidence_request ON request_evidence (request_id, at);

CREATE UNIQUE INDEX grants_request ON grants (request_id);

-- Opened by a break-glass grant; while open, no new grant of the entitlement to the identity.
CREATE TABLE break_glass_reviews (
    id             BLOB PRIMARY KEY,
    request_id     BLOB NOT NULL REFERENCES requests (id),
    identity_id    BLOB NOT NULL REFERENCES identities (id),
    entitlement_id BLOB NOT NULL REFERENCES entitlements (id),
    status         TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    due_at         INTEGER NOT NULL,
    closed_at      INTEGER,
    created_at     INTEGER NOT NULL
) STRICT;

CREATE INDEX break_glass_reviews_open ON break_glass_reviews (identity_id, entitlement_id) WHERE status = 'open';

-- Allocated numbers (request numbers), incremented under the write lock.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT;

INSERT INTO counters (name, value) VALUES ('request_number', 0);

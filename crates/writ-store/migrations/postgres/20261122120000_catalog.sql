-- Catalog, inventory and requests. JSON values are TEXT; booleans are BIGINT 0/1; TTLs are
-- whole seconds; instants are microseconds since the Unix epoch (UTC).

CREATE TABLE principals (
    id          UUID PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    email       TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    manager_id  UUID REFERENCES principals (id) DEFERRABLE INITIALLY DEFERRED,
    groups      TEXT NOT NULL,
    active      BOOLEAN NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE systems (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    connector   TEXT NOT NULL,
    config      TEXT NOT NULL,
    owner_id    UUID NOT NULL REFERENCES principals (id),
    environment TEXT NOT NULL,
    criticality TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE entitlements (
    id                     UUID PRIMARY KEY,
    system_id              UUID NOT NULL REFERENCES systems (id),
    key                    TEXT NOT NULL,
    name                   TEXT NOT NULL,
    description            TEXT NOT NULL,
    risk                   TEXT NOT NULL,
    environment            TEXT,
    default_ttl_secs       BIGINT NOT NULL,
    max_ttl_secs           BIGINT NOT NULL,
    requestable            BOOLEAN NOT NULL,
    allowed_identity_kinds TEXT NOT NULL,
    approval_stages        TEXT NOT NULL,
    break_glass_ttl_secs   BIGINT,
    owner_id               UUID NOT NULL REFERENCES principals (id),
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL,
    UNIQUE (system_id, key)
);

CREATE TABLE sod_rules (
    id              UUID PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    entitlement_ids TEXT NOT NULL,
    scope           TEXT NOT NULL,
    severity        TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

CREATE TABLE identities (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    owner_id    UUID NOT NULL REFERENCES principals (id),
    team        TEXT,
    purpose     TEXT NOT NULL,
    environment TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE INDEX identities_owner ON identities (owner_id);

CREATE TABLE accounts (
    id          UUID PRIMARY KEY,
    identity_id UUID NOT NULL REFERENCES identities (id),
    system_id   UUID NOT NULL REFERENCES systems (id),
    account_key TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (system_id, account_key),
    UNIQUE (identity_id, system_id)
);

-- number is the human-facing REQ-n; decision is the policy decision record (JSON).
CREATE TABLE requests (
    id                 UUID PRIMARY KEY,
    number             BIGINT NOT NULL UNIQUE,
    kind               TEXT NOT NULL,
    requester_id       UUID NOT NULL REFERENCES principals (id),
    identity_id        UUID NOT NULL REFERENCES identities (id),
    entitlement_id     UUID REFERENCES entitlements (id),
    justification      TEXT NOT NULL,
    requested_ttl_secs BIGINT,
    requested_end      BIGINT,
    new_owner_id       UUID REFERENCES principals (id),
    category           TEXT NOT NULL,
    status             TEXT NOT NULL,
    plan_hash          BYTEA,
    decision           TEXT NOT NULL,
    policy_set_hash    TEXT NOT NULL,
    external_ref       TEXT,
    sla_due            BIGINT,
    assignee_id        UUID REFERENCES principals (id),
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);

CREATE INDEX requests_identity ON requests (identity_id, status);
CREATE INDEX requests_status ON requests (status, created_at);

-- One decision per stage of a plan: stage_index orders the stages, plan_hash binds the approval
-- to what the approver saw (a changed plan needs its stages decided again).
CREATE TABLE approvals (
    id          UUID PRIMARY KEY,
    request_id  UUID NOT NULL REFERENCES requests (id),
    stage_index INTEGER NOT NULL,
    stage       TEXT NOT NULL,
    approver_id UUID NOT NULL REFERENCES principals (id),
    decision    TEXT NOT NULL,
    reason      TEXT,
    plan_hash   BYTEA NOT NULL,
    policy_ids  TEXT NOT NULL,
    at          BIGINT NOT NULL,
    UNIQUE (request_id, stage_index, plan_hash)
);

CREATE TABLE grants (
    id               UUID PRIMARY KEY,
    identity_id      UUID NOT NULL REFERENCES identities (id),
    account_id       UUID NOT NULL REFERENCES accounts (id),
    entitlement_id   UUID NOT NULL REFERENCES entitlements (id),
    request_id       UUID NOT NULL REFERENCES requests (id),
    status           TEXT NOT NULL,
    granted_at       BIGINT,
    expires_at       BIGINT,
    last_verified_at BIGINT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);

CREATE INDEX grants_identity ON grants (identity_id, status);

-- What execution did and what the target showed afterwards: connector receipts and live-state
-- read-backs, kept with the request as evidence.
CREATE TABLE request_evidence (
    id         UUID PRIMARY KEY,
    request_id UUID NOT NULL REFERENCES requests (id),
    kind       TEXT NOT NULL CHECK (kind IN ('receipt', 'read_back', 'error')),
    data       TEXT NOT NULL,
    at         BIGINT NOT NULL
);

CREATE INDEX request_evidence_request ON request_evidence (request_id, at);

CREATE UNIQUE INDEX grants_request ON grants (request_id);

-- Opened by a break-glass grant; while open, no new grant of the entitlement to the identity.
CREATE TABLE break_glass_reviews (
    id             UUID PRIMARY KEY,
    request_id     UUID NOT NULL REFERENCES requests (id),
    identity_id    UUID NOT NULL REFERENCES identities (id),
    entitlement_id UUID NOT NULL REFERENCES entitlements (id),
    status         TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    due_at         BIGINT NOT NULL,
    closed_at      BIGINT,
    created_at     BIGINT NOT NULL
);

CREATE INDEX break_glass_reviews_open ON break_glass_reviews (identity_id, entitlement_id) WHERE status = 'open';

-- Request numbers: a sequence, so concurrent submitters on several replicas never collide.
CREATE SEQUENCE request_numbers;

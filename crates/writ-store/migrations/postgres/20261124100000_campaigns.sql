-- Recertification campaigns. scope is the campaign's filters (JSON); recurs_at is when a
-- recurring campaign's successor launches, cleared once it has.
CREATE TABLE campaigns (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    scope       TEXT NOT NULL,
    reviewers   TEXT NOT NULL CHECK (reviewers IN ('identity_owner', 'system_owner')),
    undecided   TEXT NOT NULL CHECK (undecided IN ('revoke', 'suspend', 'escalate')),
    deadline    BIGINT NOT NULL,
    every_days  BIGINT,
    status      TEXT NOT NULL CHECK (status IN ('draft', 'open', 'closed')),
    created_by  UUID NOT NULL REFERENCES principals (id),
    created_at  BIGINT NOT NULL,
    launched_at BIGINT,
    closed_at   BIGINT,
    recurs_at   BIGINT
);

CREATE INDEX campaigns_recurring ON campaigns (recurs_at) WHERE recurs_at IS NOT NULL;

-- One grant under review. context is the snapshot the reviewer decides on (JSON); the grant
-- it names may be revoked since, the item stays as evidence of the review.
CREATE TABLE campaign_items (
    id              UUID PRIMARY KEY,
    campaign_id     UUID NOT NULL REFERENCES campaigns (id),
    grant_id        UUID NOT NULL REFERENCES grants (id),
    context         TEXT NOT NULL,
    reviewer_id     UUID NOT NULL REFERENCES principals (id),
    delegated_from  UUID REFERENCES principals (id),
    due_at          BIGINT NOT NULL,
    escalation      BIGINT NOT NULL DEFAULT 0,
    reminded_at     BIGINT,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'kept', 'revoked', 'suspended')),
    decision        TEXT CHECK (decision IN ('keep', 'revoke')),
    reason          TEXT,
    decided_by      UUID REFERENCES principals (id),
    decided_at      BIGINT,
    revoke_request  UUID REFERENCES requests (id),
    UNIQUE (campaign_id, grant_id)
);

CREATE INDEX campaign_items_reviewer ON campaign_items (reviewer_id, status);
CREATE INDEX campaign_items_due ON campaign_items (due_at) WHERE status = 'pending';

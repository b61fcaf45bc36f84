-- Recertification campaigns. scope is the campaign's filters (JSON); recurs_at is when a
-- recurring campaign's successor launches, cleared once it has.
CREATE TABLE campaigns (
    id          BLOB PRIMARY KEY,
    name        TEXT NOT NULL,
    scope       TEXT NOT NULL,
    reviewers   TEXT NOT NULL CHECK (reviewers IN ('identity_owner', 'system_owner')),
    undecided   TEXT NOT NULL CHECK (undecided IN ('revoke', 'suspend', 'escalate')),
    deadline    INTEGER NOT NULL,
    every_days  INTEGER,
    status      TEXT NOT NULL CHECK (status IN ('draft', 'open', 'closed')),
    created_by  BLOB NOT NULL REFERENCES principals (id),
    created_at  INTEGER NOT NULL,
    launched_at INTEGER,
    closed_at   INTEGER,
    recurs_at   INTEGER
) STRICT;

CREATE INDEX campaigns_recurring ON campaigns (recurs_at) WHERE recurs_at IS NOT NULL;

-- One grant under review. context is the snapshot the reviewer decides on (JSON); the grant
-- it names may be revoked since, the item stays as evidence of the review.
CREATE TABLE campaign_items (
    id              BLOB PRIMARY KEY,
    campaign_id     BLOB NOT NULL REFERENCES campaigns (id),
    grant_id        BLOB NOT NULL REFERENCES grants (id),
    context         TEXT NOT NULL,
    reviewer_id     BLOB NOT NULL REFERENCES principals (id),
    delegated_from  BLOB REFERENCES principals (id),
    due_at          INTEGER NOT NULL,
    escalation      INTEGER NOT NULL DEFAULT 0,
    reminded_at     INTEGER,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'kept', 'revoked', 'suspended')),
    decision        TEXT CHECK (decision IN ('keep', 'revoke')),
    reason          TEXT,
    decided_by      BLOB REFERENCES principals (id),
    decided_at      INTEGER,
    revoke_request  BLOB REFERENCES requests (id),
    UNIQUE (campaign_id, grant_id)
) STRICT;

CREATE INDEX campaign_items_reviewer ON campaign_items (reviewer_id, status);
CREATE INDEX campaign_items_due ON campaign_items (due_at) WHERE status = 'pending';

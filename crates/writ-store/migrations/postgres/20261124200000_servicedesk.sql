-- The outbox: deliveries owed to a service-desk ticket or an outbound webhook, written in the
-- same transaction as the change they report and delivered afterwards by a worker. A pending
-- entry's next_attempt_at doubles as its lease: a worker that claims it pushes it forward, so
-- an entry whose worker died is claimed again once that passes.
CREATE TABLE outbox (
    id              UUID PRIMARY KEY,
    destination     TEXT NOT NULL,
    ticket          TEXT,
    request_id      UUID REFERENCES requests (id),
    request_status  TEXT,
    audit_seq       BIGINT NOT NULL,
    state           TEXT NOT NULL,
    attempts        BIGINT NOT NULL,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    delivered_at    BIGINT
);

-- Due work, oldest first; and what waits ahead of an entry on the same request.
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX outbox_request ON outbox (destination, request_id, id) WHERE state = 'pending';
CREATE INDEX outbox_state ON outbox (state, id);

-- Inbound deliveries seen, by source and the sender's delivery id: a replay is recognised
-- and ignored.
CREATE TABLE inbound_deliveries (
    source      TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (source, delivery_id)
);

-- How far each outbound webhook endpoint has read the audit log.
CREATE TABLE webhook_cursors (
    endpoint TEXT PRIMARY KEY,
    seq      BIGINT NOT NULL
);

-- Every service-desk ticket writ received, refused ones included: one row per desk and
-- ticket key, so a ticket makes at most one request however often (and however
-- concurrently) it is delivered. `fields` holds what the desk's field mapping read, as JSON,
-- with the approvers already taken as evidence. `id` orders the listing.
CREATE TABLE tickets (
    id          UUID NOT NULL UNIQUE,
    source      TEXT NOT NULL,
    ticket_key  TEXT NOT NULL,
    url         TEXT,
    reporter    TEXT NOT NULL,
    fields      TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('submitted', 'rejected')),
    request_id  UUID REFERENCES requests (id),
    reason      TEXT,
    received_at BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (source, ticket_key),
    CHECK ((outcome = 'submitted') = (request_id IS NOT NULL))
);

-- Listing in the order received (ids grow with time), optionally by outcome.
CREATE INDEX tickets_outcome ON tickets (outcome, id);

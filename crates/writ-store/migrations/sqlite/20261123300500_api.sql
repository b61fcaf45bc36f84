-- The HTTP API: bearer tokens, and the indexes its keyset-paginated lists walk, so a page
-- costs the same however many rows are stored.

-- A token acts as one principal within a scope until it expires or is revoked. Only the
-- SHA-256 of the token is kept; the token itself is shown once, at creation.
CREATE TABLE api_tokens (
    id           BLOB PRIMARY KEY,
    principal_id BLOB NOT NULL REFERENCES principals (id),
    scope        TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
    hash         BLOB NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER
) STRICT;

CREATE INDEX api_tokens_principal ON api_tokens (principal_id, id);

-- Requests newest first (by number), whole or filtered.
CREATE INDEX requests_by_status ON requests (status, number);
CREATE INDEX requests_by_identity ON requests (identity_id, number);
CREATE INDEX requests_by_requester ON requests (requester_id, number);
CREATE INDEX requests_by_entitlement ON requests (entitlement_id, number);

-- Grants newest first (by id, a UUIDv7), whole or filtered.
CREATE INDEX grants_by_status ON grants (status, id);
CREATE INDEX grants_by_identity ON grants (identity_id, id);
CREATE INDEX grants_by_entitlement ON grants (entitlement_id, id);

-- Entitlements of one system, by id.
CREATE INDEX entitlements_by_system ON entitlements (system_id, id);

-- Grants soonest ending first (`expiring_before`).
CREATE INDEX grants_by_expiry ON grants (expires_at, id);

-- Credential rotation. writ keeps what identifies a credential (its fingerprint), never the
-- secret; a secret passes through writ only sealed (AEAD, key outside the database) and only
-- as long as it must: the current credential a requester hands over until the rotation has
-- used it, the new one until the requester has revealed it once.

-- A credential writ issued or rotated; at most one active per account.
CREATE TABLE credentials (
    id          BLOB PRIMARY KEY,
    account_id  BLOB NOT NULL REFERENCES accounts (id),
    request_id  BLOB NOT NULL REFERENCES requests (id),
    fingerprint TEXT NOT NULL,
    version     INTEGER NOT NULL CHECK (version >= 1),
    issued_at   INTEGER NOT NULL,
    expires_at  INTEGER,
    status      TEXT NOT NULL CHECK (status IN ('active', 'superseded', 'revoked')),
    updated_at  INTEGER NOT NULL,
    UNIQUE (account_id, version)
) STRICT;

CREATE UNIQUE INDEX credentials_one_active ON credentials (account_id) WHERE status = 'active';

-- What a rotate request rotates, and when it may run.
CREATE TABLE rotations (
    request_id    BLOB PRIMARY KEY REFERENCES requests (id),
    system_id     BLOB NOT NULL REFERENCES systems (id),
    account_key   TEXT NOT NULL,
    not_before    INTEGER NOT NULL,
    credential_id BLOB REFERENCES credentials (id),
    revealed_at   INTEGER
) STRICT;

-- Sealed secrets: `current` (handed over with the request, wiped when the rotation ends),
-- `pending` (the new secret, sealed before the target is touched so a retry can finish the
-- job), `issued` (the new secret once proven, wiped when revealed). The ciphertext is bound
-- to its row id and request by the AEAD's associated data.
CREATE TABLE sealed_secrets (
    id         BLOB PRIMARY KEY,
    request_id BLOB NOT NULL REFERENCES requests (id),
    purpose    TEXT NOT NULL CHECK (purpose IN ('current', 'pending', 'issued')),
    nonce      BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (request_id, purpose)
) STRICT;

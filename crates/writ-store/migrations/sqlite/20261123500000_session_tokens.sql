-- Portal sign-ins get their own token scope, `session`, which only the portal's cookie
-- accepts: a stolen session cookie no longer works as an API bearer token. SQLite cannot
-- change a CHECK constraint in place, so the table is rebuilt with the same rows; nothing
-- references it.
CREATE TABLE api_tokens_with_sessions (
    id           BLOB PRIMARY KEY,
    principal_id BLOB NOT NULL REFERENCES principals (id),
    scope        TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin', 'session')),
    hash         BLOB NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER
) STRICT;

INSERT INTO api_tokens_with_sessions
    SELECT id, principal_id, scope, hash, created_at, expires_at, revoked_at FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_with_sessions RENAME TO api_tokens;
CREATE INDEX api_tokens_principal ON api_tokens (principal_id, id);

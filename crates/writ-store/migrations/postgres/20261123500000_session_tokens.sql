-- Portal sign-ins get their own token scope, `session`, which only the portal's cookie
-- accepts: a stolen session cookie no longer works as an API bearer token.
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_scope_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_scope_check
    CHECK (scope IN ('read', 'write', 'admin', 'session'));

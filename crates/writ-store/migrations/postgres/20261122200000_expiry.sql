-- The expiry sweep reads active grants by their end.
CREATE INDEX grants_expiry ON grants (status, expires_at);

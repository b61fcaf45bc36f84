-- Notifications to principals, written in the same transaction as the change they report (a
-- break-glass grant tells the identity's owner and the security group). A principal's inbox
-- is read newest first, by recipient then id (ids are UUIDv7, so they grow with time).
CREATE TABLE notifications (
    id           BLOB PRIMARY KEY,
    recipient_id BLOB NOT NULL REFERENCES principals (id),
    topic        TEXT NOT NULL,
    request_id   BLOB NOT NULL REFERENCES requests (id),
    summary      TEXT NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX notifications_inbox ON notifications (recipient_id, id);

-- Requests by kind and age: exceptions are listed apart, and the exception rate counts the
-- access requests of a trailing window.
CREATE INDEX requests_kind ON requests (kind, created_at);

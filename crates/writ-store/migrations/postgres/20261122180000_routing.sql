-- Routing of pending requests: how far the current stage has escalated, and where the
-- round-robin of each approver pool stands.

ALTER TABLE requests ADD COLUMN escalation INTEGER NOT NULL DEFAULT 0;

-- The sweep for overdue requests reads pending requests by due time.
CREATE INDEX requests_sla_due ON requests (status, sla_due);

-- How many requests each approver pool (a group) has been given: the next goes to the member
-- after the last, so work is shared round-robin.
CREATE TABLE routing_cursors (
    pool  TEXT PRIMARY KEY,
    turns BIGINT NOT NULL
);

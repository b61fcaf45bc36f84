-- Claims walk the queue in (run_after, id) order and expired leases in (lease_expires_at, id)
-- order; indexes in exactly that order let a claim read only the jobs it leases, however long
-- the queue.
DROP INDEX jobs_queued;
CREATE INDEX jobs_queued ON jobs (run_after, id) WHERE state = 'queued';
DROP INDEX jobs_leased;
CREATE INDEX jobs_leased ON jobs (lease_expires_at, id) WHERE state = 'running';

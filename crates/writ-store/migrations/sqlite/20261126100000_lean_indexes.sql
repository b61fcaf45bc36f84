-- Indexes that a later index with the same leading column serves as well: requests and
-- grants are listed through `requests_by_identity` (identity_id, number), `requests_by_status`
-- (status, number) and `grants_by_identity` (identity_id, id), and the lookups these served
-- (an identity's open requests and holdings, requests by status) find their few rows through
-- those. Every index is written on each insert and on each status change, on the path of
-- every request's lifecycle.
DROP INDEX requests_status;
DROP INDEX requests_identity;
DROP INDEX grants_identity;

-- Requests of one kind newest first (by number): exceptions are listed apart
-- (`writ request list --exceptions`), a page at a time however many requests are stored.
CREATE INDEX requests_by_kind ON requests (kind, number);

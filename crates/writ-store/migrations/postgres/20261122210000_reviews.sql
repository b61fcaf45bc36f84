-- Break-glass post-use reviews: who is asked to review, how far it escalated, and who closed
-- it with what finding.

ALTER TABLE break_glass_reviews ADD COLUMN assignee_id UUID REFERENCES principals (id);
ALTER TABLE break_glass_reviews ADD COLUMN escalation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE break_glass_reviews ADD COLUMN closed_by UUID REFERENCES principals (id);
ALTER TABLE break_glass_reviews ADD COLUMN notes TEXT;

-- The sweep reads open reviews by due time.
CREATE INDEX break_glass_reviews_due ON break_glass_reviews (status, due_at);

-- The moment a case becomes overdue, kept by the case engine whenever its deadlines or
-- its acknowledgement change, so that "overdue" is one indexed comparison.
ALTER TABLE cases ADD COLUMN overdue_from BIGINT;
UPDATE cases SET overdue_from = CASE
    WHEN acknowledged_at IS NULL THEN LEAST(ack_due_at, close_due_at)
    ELSE close_due_at END;
CREATE INDEX cases_overdue ON cases(status, overdue_from);

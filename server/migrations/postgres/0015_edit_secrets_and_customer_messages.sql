-- Who may rewrite what a customer said: the hash of the rating's `edit` secret, which
-- `/details` and `/score` must carry. NULL for ratings stored before it existed (they
-- keep working without it until their 24 hours are over).
ALTER TABLE ratings ADD COLUMN edit_hash TEXT;
-- How often the customer changed the score (at most 3) and posted details (at most 10):
-- each is a message to the business, and none may be repeated without end.
ALTER TABLE ratings ADD COLUMN score_changes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE details ADD COLUMN posts BIGINT NOT NULL DEFAULT 1;
-- What a person wrote to the customer with this step (customer_told, closed), as sent;
-- the step's note stays internal.
ALTER TABLE case_steps ADD COLUMN message TEXT;

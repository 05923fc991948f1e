-- Alert delivery works lane by lane (an endpoint, or no endpoint for customers'
-- emails): which lanes have due messages, and the oldest of one lane, are index seeks
-- however large the backlog of a slow endpoint is.
CREATE INDEX outbox_lane_due ON outbox(endpoint_id, next_attempt_at, id)
    WHERE delivered_at IS NULL AND failed_at IS NULL;

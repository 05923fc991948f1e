-- Changes other server processes act on are announced with NOTIFY, delivered at commit;
-- PostgreSQL folds identical notifications of one transaction into one. The payload is
-- empty: a listener looks in the tables for what changed.
CREATE FUNCTION nearmiss_announce() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_ARGV[0], '');
    RETURN NULL;
END
$$;

-- A new alert message: once per statement, however many rows it queued.
CREATE TRIGGER outbox_queued AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION nearmiss_announce('nearmiss_outbox');
-- A message waiting again (redelivered: its old next_attempt_at is usually long past,
-- so "sooner" alone would miss it) or due sooner than before (a retry before its lease
-- ends). Per row, because a statement trigger cannot see old and new values without
-- transition tables; the WHEN test runs without calling the function, so leases,
-- deliveries and failures announce nothing.
CREATE TRIGGER outbox_due_sooner AFTER UPDATE OF next_attempt_at, failed_at ON outbox
    FOR EACH ROW WHEN (NEW.next_attempt_at < OLD.next_attempt_at
                       OR (OLD.failed_at IS NOT NULL AND NEW.failed_at IS NULL))
    EXECUTE FUNCTION nearmiss_announce('nearmiss_outbox');

CREATE TRIGGER cases_changed AFTER INSERT OR UPDATE ON cases
    FOR EACH STATEMENT EXECUTE FUNCTION nearmiss_announce('nearmiss_cases');
CREATE TRIGGER case_steps_added AFTER INSERT ON case_steps
    FOR EACH STATEMENT EXECUTE FUNCTION nearmiss_announce('nearmiss_cases');

-- The audit trail: every state change (uploads, reverts, acknowledgements, silences, targets,
-- tokens, analyst logins) with who did it, from where, when, and a one-line summary.
-- Append-only: the application may insert and read, never change or remove a row (a trigger
-- refuses UPDATE, DELETE and TRUNCATE for every role that does not first disable it, and the
-- envmon_app role holds no such privilege). Analysts have no access (schema envmon).
CREATE TABLE envmon.audit_event (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor   text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
    origin  text NOT NULL CHECK (length(origin) BETWEEN 1 AND 200),
    action  text NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
    subject text CHECK (length(subject) <= 200),
    summary text NOT NULL DEFAULT '' CHECK (length(summary) <= 2000)
);
CREATE INDEX audit_event_at ON envmon.audit_event (at);
CREATE INDEX audit_event_actor ON envmon.audit_event (actor, at);

CREATE FUNCTION envmon.audit_event_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'envmon.audit_event is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_event_no_update_or_delete
BEFORE UPDATE OR DELETE ON envmon.audit_event
FOR EACH ROW EXECUTE FUNCTION envmon.audit_event_append_only();

CREATE TRIGGER audit_event_no_truncate
BEFORE TRUNCATE ON envmon.audit_event
FOR EACH STATEMENT EXECUTE FUNCTION envmon.audit_event_append_only();

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'envmon_app') THEN
        REVOKE UPDATE, DELETE, TRUNCATE ON envmon.audit_event FROM envmon_app;
        GRANT SELECT, INSERT ON envmon.audit_event TO envmon_app;
    END IF;
END;
$$;

-- A finished upload is announced on the channel envmon_upload_finished (payload: the upload id),
-- so that the evaluator of every `envmon serve` re-evaluates the alerts at once (LISTEN) instead
-- of polling. The notification is sent at commit, when the new status is visible.
CREATE FUNCTION envmon.notify_upload_finished() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('envmon_upload_finished', NEW.id::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER upload_finished
AFTER UPDATE OF status ON envmon.upload
FOR EACH ROW
WHEN (NEW.status IN ('loaded', 'failed', 'reverted') AND OLD.status IS DISTINCT FROM NEW.status)
EXECUTE FUNCTION envmon.notify_upload_finished();

-- The alert model's words are closed sets (EnvMonDomain: AlertRuleKind, AlertSeverity,
-- AlertEventKind); the database keeps them so.
ALTER TABLE envmon.alert
    ADD CONSTRAINT alert_kind CHECK (kind IN ('target', 'forecast', 'exceedance', 'water_class', 'missing_data',
                                              'data_quality')),
    ADD CONSTRAINT alert_severity CHECK (severity IN ('critical', 'warning', 'info'));
ALTER TABLE envmon.alert_event
    ADD CONSTRAINT alert_event_event CHECK (event IN ('pending', 'firing', 'resolved', 'cancelled', 'acknowledged',
                                                      'notified', 'escalated'));

-- The analytics views read the feed time zone through envmon.feed_time_zone(); analysts have no
-- access to schema envmon, so the function reads the setting with its owner's rights (and a
-- fixed search_path, as a SECURITY DEFINER function must).
ALTER FUNCTION envmon.feed_time_zone() SECURITY DEFINER SET search_path = pg_catalog, pg_temp;

-- Month partitions of envmon.emission_reading are made by ATTACH instead of PARTITION OF.
--
-- CREATE TABLE … PARTITION OF locks the whole parent table exclusively, so it waits for every
-- load that is writing readings. A load that streams its rows straight into the table (see
-- docs/architecture.md, "Loading emissions") may meet a month it has no partition for while
-- its own transaction holds the parent: it then asks another connection for the partition,
-- which must not wait for that transaction. ATTACH PARTITION takes only SHARE UPDATE EXCLUSIVE
-- on the parent, which does not conflict with writers.
CREATE OR REPLACE FUNCTION envmon.ensure_emission_partition(month_start date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    name text := format('emission_reading_%s', to_char(month_start, 'YYYYMM'));
BEGIN
    IF to_regclass('envmon.' || name) IS NULL THEN
        -- Two loads may reach a new month together: the second waits, then finds it made.
        PERFORM pg_advisory_xact_lock(hashtext('envmon.' || name));
        IF to_regclass('envmon.' || name) IS NULL THEN
            EXECUTE format('CREATE TABLE envmon.%I (LIKE envmon.emission_reading INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
            EXECUTE format(
                'ALTER TABLE envmon.emission_reading ATTACH PARTITION envmon.%I FOR VALUES FROM (%L) TO (%L)',
                name, month_start::timestamp AT TIME ZONE 'UTC',
                (month_start + interval '1 month')::timestamp AT TIME ZONE 'UTC');
        END IF;
    END IF;
END;
$$;

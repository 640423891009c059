-- Stale marks of envmon.enterprise_month name the month as well as the enterprise.
--
-- Migration 0013 marked a whole enterprise stale when any of its days changed, so loading one
-- more month recomputed every month of every enterprise it named: at ten years of a district
-- (scripts/bench/scale.sh, 96M readings) the refresh after a month's load took 7 s and made the
-- load 1.6 times slower than into an empty database. A mark (enterprise, month) now covers that
-- month alone; month_start NULL still means every month of the enterprise (permits), and an
-- enterprise NULL every enterprise (settings, pollutant roles, TRUNCATE).
ALTER TABLE envmon.enterprise_month_stale ADD COLUMN month_start date;
DROP INDEX envmon.enterprise_month_stale_id;
CREATE INDEX enterprise_month_stale_id ON envmon.enterprise_month_stale (enterprise_id, month_start);

-- Daily aggregates: the enterprise and local month of every changed series-day.
CREATE OR REPLACE FUNCTION envmon.mark_enterprises_from_daily() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO envmon.enterprise_month_stale (enterprise_id, month_start)
    SELECT DISTINCT s.enterprise_id, date_trunc('month', c.day::timestamp)::date
    FROM changed c JOIN envmon.emission_series s ON s.series_id = c.series_id
    WHERE NOT EXISTS (SELECT 1 FROM envmon.enterprise_month_stale m
                      WHERE m.enterprise_id = s.enterprise_id
                        AND (m.month_start IS NULL OR m.month_start = date_trunc('month', c.day::timestamp)::date));
    RETURN NULL;
END $$;

-- Permits (limits, reference O2, monitoring mode, validity ranges): every month of their
-- enterprises.
CREATE OR REPLACE FUNCTION envmon.mark_enterprises_from_permits() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO envmon.enterprise_month_stale (enterprise_id, month_start)
    SELECT DISTINCT c.enterprise_id, NULL::date FROM changed c
    WHERE NOT EXISTS (SELECT 1 FROM envmon.enterprise_month_stale m
                      WHERE m.enterprise_id = c.enterprise_id AND m.month_start IS NULL);
    RETURN NULL;
END $$;

-- As in 0013, with the marks taken as (enterprise, month) pairs: a pair's month, or every month
-- of an enterprise marked with none, is deleted and recomputed.
CREATE OR REPLACE FUNCTION envmon.refresh_rollups(OUT enterprises integer, OUT enterprise_months integer,
                                                  OUT sections integer, OUT section_periods integer)
LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    every_id boolean;
    ids text[];
    months date[];
BEGIN
    PERFORM pg_advisory_xact_lock(111525107662867);  -- 0x656E766D0013: "envm" + 0013

    WITH taken AS (DELETE FROM envmon.enterprise_month_stale RETURNING enterprise_id, month_start),
    pairs AS (SELECT DISTINCT enterprise_id, month_start FROM taken WHERE enterprise_id IS NOT NULL)
    SELECT (SELECT coalesce(bool_or(enterprise_id IS NULL), false) FROM taken),
           coalesce((SELECT array_agg(enterprise_id ORDER BY enterprise_id, month_start) FROM pairs), '{}'),
           coalesce((SELECT array_agg(month_start ORDER BY enterprise_id, month_start) FROM pairs), '{}')
    INTO every_id, ids, months;
    enterprises := CASE WHEN every_id THEN NULL ELSE (SELECT count(DISTINCT i)::integer FROM unnest(ids) i) END;
    enterprise_months := 0;
    IF every_id OR cardinality(ids) > 0 THEN
        DELETE FROM envmon.enterprise_month r
        WHERE every_id
           OR r.enterprise_id IN (SELECT k.id FROM unnest(ids, months) k (id, month_start) WHERE k.month_start IS NULL)
           OR (r.enterprise_id, r.month_start)
              IN (SELECT k.id, k.month_start FROM unnest(ids, months) k (id, month_start) WHERE k.month_start IS NOT NULL);
        INSERT INTO envmon.enterprise_month SELECT * FROM analytics.enterprise_month_live(every_id, ids, months);
        GET DIAGNOSTICS enterprise_months = ROW_COUNT;
    END IF;

    WITH taken AS (DELETE FROM envmon.section_period_stale RETURNING section_id AS id)
    SELECT coalesce(bool_or(id IS NULL), false), coalesce(array_agg(DISTINCT id) FILTER (WHERE id IS NOT NULL), '{}')
    INTO every_id, ids FROM taken;
    sections := CASE WHEN every_id THEN NULL ELSE cardinality(ids) END;
    section_periods := 0;
    IF every_id OR cardinality(ids) > 0 THEN
        DELETE FROM envmon.section_period WHERE every_id OR section_id = ANY (ids);
        INSERT INTO envmon.section_period SELECT * FROM analytics.section_period_live(every_id, ids);
        GET DIAGNOSTICS section_periods = ROW_COUNT;
    END IF;
END $$;

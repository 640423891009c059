-- Rollups of the two costly steps of the plan's metrics, so that the console and
-- analytics.plan_progress do not judge every daily mean and classify every section-period on
-- each read:
--   envmon.enterprise_month  one row per enterprise and month with reporting days (what
--                            analytics.enterprise_period adds up into months and years);
--   envmon.section_period    one row per section and month or year with its period means and
--                            GB 3838 class (what analytics.water_section_class shows).
-- A rollup is never trusted blindly: every change to what it was computed from marks the
-- enterprise or section stale (statement triggers below; a NULL id marks all of them), and the
-- views read stale ones live from the facts, exactly as before. `envmon` refreshes stale rows
-- after each load and in the background (EnvMonStore/Rollups.swift); a refresh only changes
-- how fast a view answers, never what it answers.

CREATE TABLE envmon.enterprise_month (
    enterprise_id     text NOT NULL,
    month_start       date NOT NULL,
    reporting_days    integer NOT NULL,
    compliant_days    integer NOT NULL,
    insufficient_days integer NOT NULL,
    first_failing_day date,
    PRIMARY KEY (enterprise_id, month_start)
);

CREATE TABLE envmon.section_period (
    section_id       text NOT NULL,
    granularity      text NOT NULL,
    period           text NOT NULL,
    period_start     date NOT NULL,
    period_end       date NOT NULL,
    sample_count     integer NOT NULL,
    first_sampled_at timestamptz NOT NULL,
    last_sampled_at  timestamptz NOT NULL,
    river_level      smallint,
    water_body       text,
    district         text,
    reported_class   smallint,
    class            smallint,
    deciding_items   text[],
    tn_class         smallint,
    means            jsonb,
    PRIMARY KEY (section_id, granularity, period)
);

-- Stale marks; NULL means every id. A mark already committed is not repeated (a stream of
-- HJ 212 commits would otherwise pile up one per commit); concurrent writers may still both
-- add one, which a refresh takes together.
CREATE TABLE envmon.enterprise_month_stale (enterprise_id text);
CREATE INDEX enterprise_month_stale_id ON envmon.enterprise_month_stale (enterprise_id);
CREATE TABLE envmon.section_period_stale (section_id text);
CREATE INDEX section_period_stale_id ON envmon.section_period_stale (section_id);

-- Daily aggregates: the enterprises of the series whose days changed.
CREATE FUNCTION envmon.mark_enterprises_from_daily() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO envmon.enterprise_month_stale (enterprise_id)
    SELECT DISTINCT s.enterprise_id
    FROM changed c JOIN envmon.emission_series s ON s.series_id = c.series_id
    WHERE NOT EXISTS (SELECT 1 FROM envmon.enterprise_month_stale m WHERE m.enterprise_id = s.enterprise_id);
    RETURN NULL;
END $$;

CREATE TRIGGER emission_daily_insert_stale AFTER INSERT ON envmon.emission_daily
REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION envmon.mark_enterprises_from_daily();
CREATE TRIGGER emission_daily_update_stale AFTER UPDATE ON envmon.emission_daily
REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION envmon.mark_enterprises_from_daily();
CREATE TRIGGER emission_daily_delete_stale AFTER DELETE ON envmon.emission_daily
REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION envmon.mark_enterprises_from_daily();

-- Permits decide limits, reference O2 and the monitoring mode: their enterprises.
CREATE FUNCTION envmon.mark_enterprises_from_permits() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO envmon.enterprise_month_stale (enterprise_id)
    SELECT DISTINCT c.enterprise_id FROM changed c
    WHERE NOT EXISTS (SELECT 1 FROM envmon.enterprise_month_stale m WHERE m.enterprise_id = c.enterprise_id);
    RETURN NULL;
END $$;

CREATE TRIGGER emission_permit_insert_stale AFTER INSERT ON envmon.emission_permit
REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION envmon.mark_enterprises_from_permits();
CREATE TRIGGER emission_permit_update_stale AFTER UPDATE ON envmon.emission_permit
REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION envmon.mark_enterprises_from_permits();
CREATE TRIGGER emission_permit_update_old_stale AFTER UPDATE ON envmon.emission_permit
REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION envmon.mark_enterprises_from_permits();
CREATE TRIGGER emission_permit_delete_stale AFTER DELETE ON envmon.emission_permit
REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION envmon.mark_enterprises_from_permits();

-- Water samples: their sections (old and new ids of an update).
CREATE FUNCTION envmon.mark_sections_from_samples() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO envmon.section_period_stale (section_id)
    SELECT DISTINCT c.section_id FROM changed c
    WHERE NOT EXISTS (SELECT 1 FROM envmon.section_period_stale m WHERE m.section_id = c.section_id);
    RETURN NULL;
END $$;

CREATE TRIGGER water_sample_insert_stale AFTER INSERT ON envmon.water_sample
REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION envmon.mark_sections_from_samples();
CREATE TRIGGER water_sample_update_stale AFTER UPDATE ON envmon.water_sample
REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION envmon.mark_sections_from_samples();
CREATE TRIGGER water_sample_update_old_stale AFTER UPDATE ON envmon.water_sample
REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION envmon.mark_sections_from_samples();
CREATE TRIGGER water_sample_delete_stale AFTER DELETE ON envmon.water_sample
REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION envmon.mark_sections_from_samples();

-- A section's registered river level, water body and district fill what its samples leave out.
CREATE FUNCTION envmon.mark_sections_from_sites() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO envmon.section_period_stale (section_id)
    SELECT DISTINCT c.site_id FROM changed c
    WHERE c.kind = 'section'
      AND NOT EXISTS (SELECT 1 FROM envmon.section_period_stale m WHERE m.section_id = c.site_id);
    RETURN NULL;
END $$;

CREATE TRIGGER site_insert_stale AFTER INSERT ON envmon.site
REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION envmon.mark_sections_from_sites();
CREATE TRIGGER site_update_stale AFTER UPDATE ON envmon.site
REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION envmon.mark_sections_from_sites();
CREATE TRIGGER site_update_old_stale AFTER UPDATE ON envmon.site
REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION envmon.mark_sections_from_sites();
CREATE TRIGGER site_delete_stale AFTER DELETE ON envmon.site
REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION envmon.mark_sections_from_sites();

-- Settings (the feed time zone decides local days; daily_min_valid_hours decides sufficiency),
-- the pollutants' compliance roles, and a TRUNCATE of any source: everything.
CREATE FUNCTION envmon.mark_all_stale() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO envmon.enterprise_month_stale (enterprise_id)
    SELECT NULL WHERE NOT EXISTS (SELECT 1 FROM envmon.enterprise_month_stale WHERE enterprise_id IS NULL);
    INSERT INTO envmon.section_period_stale (section_id)
    SELECT NULL WHERE NOT EXISTS (SELECT 1 FROM envmon.section_period_stale WHERE section_id IS NULL);
    RETURN NULL;
END $$;

CREATE TRIGGER setting_stale AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON envmon.setting
FOR EACH STATEMENT EXECUTE FUNCTION envmon.mark_all_stale();
CREATE TRIGGER emission_pollutant_stale AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON envmon.emission_pollutant
FOR EACH STATEMENT EXECUTE FUNCTION envmon.mark_all_stale();
CREATE TRIGGER emission_series_stale AFTER UPDATE OR DELETE OR TRUNCATE ON envmon.emission_series
FOR EACH STATEMENT EXECUTE FUNCTION envmon.mark_all_stale();
CREATE TRIGGER emission_daily_truncate_stale AFTER TRUNCATE ON envmon.emission_daily
FOR EACH STATEMENT EXECUTE FUNCTION envmon.mark_all_stale();
CREATE TRIGGER emission_permit_truncate_stale AFTER TRUNCATE ON envmon.emission_permit
FOR EACH STATEMENT EXECUTE FUNCTION envmon.mark_all_stale();
CREATE TRIGGER water_sample_truncate_stale AFTER TRUNCATE ON envmon.water_sample
FOR EACH STATEMENT EXECUTE FUNCTION envmon.mark_all_stale();
CREATE TRIGGER site_truncate_stale AFTER TRUNCATE ON envmon.site
FOR EACH STATEMENT EXECUTE FUNCTION envmon.mark_all_stale();

-- Recomputes the rollups of every stale enterprise and section (one transaction: the caller's).
-- It takes the marks committed when it starts, then recomputes those ids in later statements,
-- each of which sees every commit before it (READ COMMITTED), so whatever a taken mark announced
-- is in the result; a mark committed later stays, and keeps its id live until the next refresh.
-- Refreshes are serialised by a transaction advisory lock, so an older computation never
-- overwrites a newer one. enterprises/sections: ids recomputed, NULL when every id was stale.
-- The *_live functions are the analytics views' (sql/views), resolved when this runs.
CREATE FUNCTION envmon.refresh_rollups(OUT enterprises integer, OUT enterprise_months integer,
                                       OUT sections integer, OUT section_periods integer)
LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    every_id boolean;
    ids text[];
BEGIN
    PERFORM pg_advisory_xact_lock(111525107662867);  -- 0x656E766D0013: "envm" + 0013

    WITH taken AS (DELETE FROM envmon.enterprise_month_stale RETURNING enterprise_id AS id)
    SELECT coalesce(bool_or(id IS NULL), false), coalesce(array_agg(DISTINCT id) FILTER (WHERE id IS NOT NULL), '{}')
    INTO every_id, ids FROM taken;
    enterprises := CASE WHEN every_id THEN NULL ELSE cardinality(ids) END;
    enterprise_months := 0;
    IF every_id OR cardinality(ids) > 0 THEN
        DELETE FROM envmon.enterprise_month WHERE every_id OR enterprise_id = ANY (ids);
        INSERT INTO envmon.enterprise_month SELECT * FROM analytics.enterprise_month_live(every_id, ids);
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

-- Nothing is rolled up yet: the first refresh computes everything.
INSERT INTO envmon.enterprise_month_stale (enterprise_id) VALUES (NULL);
INSERT INTO envmon.section_period_stale (section_id) VALUES (NULL);

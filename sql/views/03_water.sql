-- Surface water: samples with their section's attributes resolved, each sample's class, the
-- period class of each section (from the period means of each item), and disagreements with the
-- reported class. The classification itself is envmon.gb3838_assessments (migration 0002).

-- Every sample with what the row leaves out taken from its section: district and river level
-- from the row, else the section's; water body from the row, else the section's, else river.
-- local_day is the sample's date in the feed time zone (it decides the sample's month and year).
CREATE VIEW analytics.water_sample AS
SELECT w.section_id,
       s.name AS section_name,
       s.river,
       coalesce(w.district, s.district) AS district,
       coalesce(w.river_level, s.river_level) AS river_level,
       CASE WHEN coalesce(w.water_body, s.water_body) = 'lake' THEN 'lake' ELSE 'river' END AS water_body,
       w.sampled_at,
       (w.sampled_at AT TIME ZONE tz.name)::date AS local_day,
       w.items,
       w.below_detection,
       w.reported_class,
       w.station_status,
       w.upload_id
FROM envmon.water_sample w
LEFT JOIN envmon.site s ON s.kind = 'section' AND s.parent_id = '' AND s.site_id = w.section_id
CROSS JOIN (
    SELECT envmon.feed_time_zone() AS name
) tz;

-- Each sample's class by the single-factor method, beside the class its row reported. All
-- samples are classified in one call (envmon.gb3838_assessments), hence the numbered CTE.
CREATE VIEW analytics.water_sample_class AS
WITH sample AS MATERIALIZED (
    SELECT row_number() OVER () AS obs_id, w.* FROM analytics.water_sample w
), assessed AS (
    SELECT * FROM envmon.gb3838_assessments((
        SELECT jsonb_agg(jsonb_build_object('id', obs_id, 'water_body', water_body, 'items', items))
        FROM sample))
)
SELECT w.section_id, w.section_name, w.river, w.district, w.river_level, w.water_body,
       w.sampled_at, w.local_day,
       a.class,
       c.label AS class_label,
       a.deciding_items,
       a.tn_class,
       w.reported_class,
       rc.label AS reported_label,
       w.station_status,
       w.items,
       w.below_detection,
       w.upload_id
FROM sample w
LEFT JOIN assessed a ON a.id = w.obs_id
LEFT JOIN envmon.gb3838_class c ON c.class = a.class
LEFT JOIN envmon.gb3838_class rc ON rc.class = w.reported_class;

-- Samples whose computed class differs from the reported one (the reported value is kept, not
-- overwritten). difference > 0: the data say worse than reported.
CREATE VIEW analytics.water_class_discrepancies AS
SELECT section_id, section_name, river, district, water_body, sampled_at,
       reported_class, reported_label,
       class AS computed_class, class_label AS computed_label,
       class - reported_class AS difference,
       deciding_items, items, upload_id
FROM analytics.water_sample_class
WHERE reported_class IS NOT NULL AND class IS NOT NULL AND class <> reported_class;

-- One row per section and calendar period (month, year) with samples: the arithmetic mean of
-- each item over the period's samples that carry it (means), classified like a sample.
-- river_level, water_body and district are the latest given in the period; reported_class is
-- the worst class reported in the period. Computed from the samples for every section or for
-- those listed: what the rollup envmon.section_period keeps (migration 0013);
-- water_section_class reads the rollup and calls this for the sections marked stale.
CREATE FUNCTION analytics.section_period_live(every_section boolean, section_ids text[])
RETURNS SETOF envmon.section_period
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp SET plan_cache_mode = force_custom_plan AS $$
BEGIN
    IF NOT every_section AND coalesce(cardinality(section_ids), 0) = 0 THEN
        RETURN;
    END IF;
    RETURN QUERY
    WITH period_sample AS MATERIALIZED (
        SELECT w.*, p.granularity, p.period, p.period_start, p.period_end
        FROM analytics.water_sample w
        CROSS JOIN LATERAL envmon.containing_periods(w.local_day, w.local_day) p
        WHERE every_section OR w.section_id = ANY (section_ids)
    ), section_period AS (
        SELECT ps.section_id, ps.granularity, ps.period, ps.period_start, ps.period_end,
               count(*)::integer AS sample_count,
               min(ps.sampled_at) AS first_sampled_at,
               max(ps.sampled_at) AS last_sampled_at,
               (array_agg(ps.river_level ORDER BY ps.sampled_at DESC) FILTER (WHERE ps.river_level IS NOT NULL))[1] AS river_level,
               (array_agg(ps.water_body ORDER BY ps.sampled_at DESC))[1] AS water_body,
               (array_agg(ps.district ORDER BY ps.sampled_at DESC) FILTER (WHERE ps.district IS NOT NULL))[1] AS district,
               max(ps.reported_class) AS reported_class
        FROM period_sample ps
        GROUP BY ps.section_id, ps.granularity, ps.period, ps.period_start, ps.period_end
    ), item_mean AS (
        SELECT ps.section_id, ps.period, e.key AS item_id, trim_scale(avg((e.value)::numeric)) AS mean
        FROM period_sample ps
        CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(ps.items) = 'object' THEN ps.items ELSE '{}'::jsonb END) e
        WHERE jsonb_typeof(e.value) = 'number'
        GROUP BY ps.section_id, ps.period, e.key
    ), period_means AS (
        SELECT im.section_id, im.period, jsonb_object_agg(im.item_id, im.mean) AS means
        FROM item_mean im
        GROUP BY im.section_id, im.period
    ), section_period_means AS MATERIALIZED (
        SELECT row_number() OVER () AS obs_id, sp.*, pm.means
        FROM section_period sp
        LEFT JOIN period_means pm ON pm.section_id = sp.section_id AND pm.period = sp.period
    ), assessed AS (
        SELECT * FROM envmon.gb3838_assessments((
            SELECT jsonb_agg(jsonb_build_object('id', m.obs_id, 'water_body', m.water_body, 'items', m.means))
            FROM section_period_means m))
    )
    SELECT sp.section_id, sp.granularity, sp.period, sp.period_start, sp.period_end,
           sp.sample_count, sp.first_sampled_at, sp.last_sampled_at,
           sp.river_level, sp.water_body, sp.district, sp.reported_class,
           a.class, a.deciding_items, a.tn_class, sp.means
    FROM section_period_means sp
    LEFT JOIN assessed a ON a.id = sp.obs_id;
END $$;

-- One row per section and period (see section_period_live): envmon.section_period where it is
-- current, live for the sections marked stale; with the section's name, river and class labels.
CREATE VIEW analytics.water_section_class AS
WITH stale AS MATERIALIZED (
    SELECT coalesce(bool_or(section_id IS NULL), false) AS every_section,
           coalesce(array_agg(DISTINCT section_id) FILTER (WHERE section_id IS NOT NULL), '{}') AS ids
    FROM envmon.section_period_stale
), sp AS (
    SELECT r.*
    FROM envmon.section_period r, stale
    WHERE NOT stale.every_section AND r.section_id <> ALL (stale.ids)
    UNION ALL
    SELECT l.*
    FROM stale, analytics.section_period_live(stale.every_section, stale.ids) l
)
SELECT sp.section_id, s.name AS section_name, s.river, sp.district, sp.river_level, sp.water_body,
       sp.granularity, sp.period, sp.period_start, sp.period_end,
       sp.sample_count::bigint AS sample_count, sp.first_sampled_at, sp.last_sampled_at,
       sp.class,
       c.label AS class_label,
       sp.deciding_items,
       sp.tn_class,
       sp.reported_class,
       rc.label AS reported_label,
       sp.means
FROM sp
LEFT JOIN envmon.site s ON s.kind = 'section' AND s.parent_id = '' AND s.site_id = sp.section_id
LEFT JOIN envmon.gb3838_class c ON c.class = sp.class
LEFT JOIN envmon.gb3838_class rc ON rc.class = sp.reported_class;

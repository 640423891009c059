-- The upload archive and data freshness, for analysts and for the alert evaluator
-- (high rejection shares, feeds or sites that stopped reporting).

-- Every upload with its outcome. rejected_share = rejected rows ÷ data rows (rows_total without
-- skipped total rows); NULL before the upload is parsed.
CREATE VIEW analytics.uploads AS
SELECT u.id AS upload_id, u.kind, u.file_name, u.uploader, u.source, u.received_at, u.finished_at,
       u.status, u.duplicate_of, u.sha256, u.size_bytes, u.format, u.encoding,
       u.rows_total, u.rows_loaded, u.rows_unchanged, u.rows_rejected, u.rows_skipped, u.rows_superseded,
       trim_scale(u.rows_rejected::numeric / nullif(u.rows_total - coalesce(u.rows_skipped, 0), 0)) AS rejected_share,
       u.error, u.reverted_at
FROM envmon.upload u;

-- Every rejected row: where it was in its file, the column, the raw value and why.
CREATE VIEW analytics.rejections AS
SELECT r.upload_id, u.kind, u.file_name, u.uploader, u.received_at, u.status AS upload_status,
       r.line, r.column_name, r.raw_value, r.reason
FROM envmon.upload_rejection r
JOIN envmon.upload u ON u.id = r.upload_id;

-- The latest data of every reporting place, per feed kind: enterprises and their outlets
-- (emissions), plants (sewage), sections (water), districts (green, waste). Registered places
-- that never reported appear with NULLs; retired places are left out.
--   last_data_at: the latest reading (emissions, any flag), sample (water), or the moment the
--                 latest reported period ended (period feeds: the day after period_end, local
--                 midnight in the feed time zone);
--   last_day:     the local date of that data (period feeds: the latest period_end).
-- Emissions read the daily aggregate for the day, then probe the readings' primary key for the
-- newest reading of that day (never a scan of the readings).
CREATE VIEW analytics.site_freshness AS
WITH tz AS (
    SELECT envmon.feed_time_zone() AS name
), series_latest AS (
    -- The newest reading is searched only from the day before the series' last day on, so that
    -- run-time partition pruning leaves one or two monthly partitions to probe.
    SELECT s.enterprise_id, s.outlet_id, d.last_day,
           (SELECT r.measured_at FROM envmon.emission_reading r
            WHERE r.series_id = s.series_id
              AND r.measured_at >= (d.last_day - 1)::timestamp AT TIME ZONE tz.name
            ORDER BY r.measured_at DESC LIMIT 1) AS last_data_at
    FROM envmon.emission_series s
    CROSS JOIN tz
    CROSS JOIN LATERAL (
        SELECT max(x.day) AS last_day FROM envmon.emission_daily x WHERE x.series_id = s.series_id
    ) d
), outlet_latest AS (
    SELECT enterprise_id, outlet_id, max(last_day) AS last_day, max(last_data_at) AS last_data_at
    FROM series_latest GROUP BY enterprise_id, outlet_id
), emission_sites AS (
    SELECT 'enterprise'::text AS site_kind, '' AS parent_id, enterprise_id AS site_id,
           max(last_day) AS last_day, max(last_data_at) AS last_data_at
    FROM outlet_latest GROUP BY enterprise_id
    UNION ALL
    SELECT 'outlet', enterprise_id, outlet_id, last_day, last_data_at FROM outlet_latest
), period_sites AS (
    SELECT 'sewage'::text AS feed_kind, 'plant'::text AS site_kind, plant_id AS site_id, max(period_end) AS last_day
    FROM envmon.sewage_report GROUP BY plant_id
    UNION ALL
    SELECT 'green', 'district', district, max(period_end) FROM envmon.green_survey GROUP BY district
    UNION ALL
    SELECT 'waste', 'district', district, max(period_end) FROM envmon.waste_report GROUP BY district
), latest AS (
    SELECT 'emissions'::text AS feed_kind, e.site_kind, e.parent_id, e.site_id, e.last_day, e.last_data_at
    FROM emission_sites e
    UNION ALL
    SELECT 'water', 'section', '', w.section_id, (max(w.sampled_at) AT TIME ZONE tz.name)::date, max(w.sampled_at)
    FROM envmon.water_sample w CROSS JOIN tz
    GROUP BY w.section_id, tz.name
    UNION ALL
    SELECT p.feed_kind, p.site_kind, '', p.site_id, p.last_day,
           (p.last_day + 1)::timestamp AT TIME ZONE tz.name
    FROM period_sites p CROSS JOIN tz
), registered AS (
    -- Places the registry expects data from; districts only through the feeds that named them.
    SELECT CASE s.kind WHEN 'enterprise' THEN 'emissions' WHEN 'outlet' THEN 'emissions'
                       WHEN 'plant' THEN 'sewage' WHEN 'section' THEN 'water' END AS feed_kind,
           s.kind AS site_kind, s.parent_id, s.site_id
    FROM envmon.site s
    WHERE s.kind IN ('enterprise', 'outlet', 'plant', 'section') AND s.retired_at IS NULL
)
SELECT coalesce(l.feed_kind, r.feed_kind) AS feed_kind,
       coalesce(l.site_kind, r.site_kind) AS site_kind,
       coalesce(l.parent_id, r.parent_id) AS parent_id,
       coalesce(l.site_id, r.site_id) AS site_id,
       s.name AS site_name,
       s.district,
       l.last_data_at,
       l.last_day
FROM latest l
FULL JOIN registered r
  ON r.feed_kind = l.feed_kind AND r.site_kind = l.site_kind AND r.parent_id = l.parent_id AND r.site_id = l.site_id
LEFT JOIN envmon.site s
  ON s.kind = coalesce(l.site_kind, r.site_kind) AND s.parent_id = coalesce(l.parent_id, r.parent_id)
 AND s.site_id = coalesce(l.site_id, r.site_id)
WHERE s.retired_at IS NULL;

-- Per feed kind: the latest upload received, the latest that loaded, and the latest data.
CREATE VIEW analytics.feed_freshness AS
WITH kinds AS (
    SELECT k.feed_kind, k.n
    FROM unnest(ARRAY['emissions', 'sewage', 'water', 'green', 'waste']) WITH ORDINALITY AS k (feed_kind, n)
), uploads AS (
    SELECT kind AS feed_kind, max(received_at) AS last_received_at,
           max(finished_at) FILTER (WHERE status = 'loaded') AS last_loaded_at
    FROM envmon.upload GROUP BY kind
), data AS (
    SELECT feed_kind, max(last_data_at) AS last_data_at, max(last_day) AS last_day,
           count(*) FILTER (WHERE site_kind <> 'outlet') AS sites,
           count(*) FILTER (WHERE site_kind <> 'outlet' AND last_day IS NOT NULL) AS sites_with_data
    FROM analytics.site_freshness GROUP BY feed_kind
)
SELECT k.feed_kind, u.last_received_at, u.last_loaded_at, d.last_data_at, d.last_day,
       coalesce(d.sites, 0) AS sites, coalesce(d.sites_with_data, 0) AS sites_with_data
FROM kinds k
LEFT JOIN uploads u USING (feed_kind)
LEFT JOIN data d USING (feed_kind)
ORDER BY k.n;

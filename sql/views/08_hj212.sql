-- Online monitoring (HJ 212-2017, docs/hj212.md): the packet archive, the state of each data
-- logger, daily values that disagree with their hours, and the runs of equal or non-positive
-- hourly values the data-quality alarms watch.

-- One row per packet received: what it was and what became of it (outcome: stored, duplicate,
-- bad_crc, unknown_device, bad_password, malformed, unsupported; detail says why).
CREATE VIEW analytics.hj212_packets AS
SELECT p.id, p.received_at, p.peer, p.mn, d.enterprise_id, d.outlet_id, p.cn, p.qn, p.data_time,
       p.outcome, p.detail, p.readings, length(p.raw) AS bytes,
       encode(p.raw, 'escape') AS raw_text
FROM envmon.hj212_packet p
LEFT JOIN envmon.hj212_device d ON d.mn = p.mn;

-- One row per registered data logger. last_packet_at: the last packet it sent that passed the
-- device check (stored, duplicate or unsupported); online: active and such a packet within 2 h.
-- Today (local day of the feed time zone): packets by outcome, valid hourly values received,
-- hours due (complete hours since midnight × pollutants the device reported in the last 7 days),
-- and the transmission-effective rate (数据传输有效率) = valid hourly values ÷ hours due.
CREATE VIEW analytics.device_status AS
WITH bounds AS (
    SELECT (now() AT TIME ZONE z.name)::date::timestamp AT TIME ZONE z.name AS day_start
    FROM (SELECT envmon.feed_time_zone() AS name) z
)
SELECT d.mn, d.name, d.enterprise_id, d.outlet_id,
       d.retired_at IS NULL AS active, d.created_at, d.retired_at,
       l.last_packet_at,
       d.retired_at IS NULL AND coalesce(l.last_packet_at > now() - interval '2 hours', false) AS online,
       coalesce(c.stored, 0) AS stored_today,
       coalesce(c.duplicate, 0) AS duplicate_today,
       coalesce(c.bad_crc, 0) AS bad_crc_today,
       coalesce(c.bad_password, 0) AS bad_password_today,
       coalesce(c.malformed, 0) AS malformed_today,
       coalesce(c.unsupported, 0) AS unsupported_today,
       v.valid_hours AS valid_hours_today,
       h.hours_due AS hours_due_today,
       CASE WHEN h.hours_due > 0 THEN round(v.valid_hours::numeric / h.hours_due, 4) END AS transmission_effective_rate
FROM envmon.hj212_device d
CROSS JOIN bounds b
LEFT JOIN LATERAL (
    SELECT max(p.received_at) AS last_packet_at FROM envmon.hj212_packet p
    WHERE p.mn = d.mn AND p.outcome IN ('stored', 'duplicate', 'unsupported')
) l ON true
LEFT JOIN LATERAL (
    SELECT count(*) FILTER (WHERE p.outcome = 'stored')::integer AS stored,
           count(*) FILTER (WHERE p.outcome = 'duplicate')::integer AS duplicate,
           count(*) FILTER (WHERE p.outcome = 'bad_crc')::integer AS bad_crc,
           count(*) FILTER (WHERE p.outcome = 'bad_password')::integer AS bad_password,
           count(*) FILTER (WHERE p.outcome = 'malformed')::integer AS malformed,
           count(*) FILTER (WHERE p.outcome = 'unsupported')::integer AS unsupported
    FROM envmon.hj212_packet p
    WHERE p.mn = d.mn AND p.received_at >= b.day_start
) c ON true
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE r.measured_at >= b.day_start AND coalesce(r.flag, 'N') = 'N'
                                  AND r.value IS NOT NULL)::integer AS valid_hours,
           count(DISTINCT s.pollutant)::integer AS pollutants
    FROM envmon.emission_series s
    JOIN envmon.emission_reading r ON r.series_id = s.series_id
    WHERE s.enterprise_id = d.enterprise_id AND s.outlet_id = d.outlet_id
      AND r.measured_at >= least(b.day_start, now() - interval '7 days')
      AND r.upload_id < 0 AND r.extra ->> 'mn' = d.mn
) v
CROSS JOIN LATERAL (
    SELECT (floor(extract(epoch FROM now() - b.day_start) / 3600))::integer * v.pollutants AS hours_due
) h;

-- Daily values a device stated (CN 2031) that disagree with the daily mean of its valid hourly
-- values by more than 1 % (or that have no valid hourly value to compare with).
CREATE VIEW analytics.hj212_daily_disagreements AS
SELECT h.enterprise_id, h.outlet_id, h.pollutant, h.day, h.mn,
       h.avg AS device_mean,
       e.measured_mean AS hourly_mean,
       coalesce(e.valid_count, 0) AS valid_hours,
       h.avg - e.measured_mean AS difference,
       CASE WHEN e.measured_mean IS NULL THEN 'no valid hourly value that day'
            ELSE 'the device''s daily mean differs from the mean of its hours by more than 1%' END AS reason,
       h.packet_id
FROM envmon.hj212_daily h
LEFT JOIN analytics.emission_daily e
  ON e.enterprise_id = h.enterprise_id AND e.outlet_id = h.outlet_id AND e.pollutant = h.pollutant AND e.day = h.day
WHERE coalesce(h.flag, 'N') = 'N' AND h.avg IS NOT NULL
  AND (e.measured_mean IS NULL OR abs(h.avg - e.measured_mean) > greatest(0.01 * abs(e.measured_mean), 1e-9));

-- Per emissions series with valid readings in the last 8 days (files and loggers alike): the
-- latest valid value and how many valid readings in a row, back from it, are equal to it
-- (constant_count, 恒值) or are zero or negative (nonpositive_count, 零值/负值). Flagged
-- readings are not valid data and neither extend nor break a run.
CREATE VIEW analytics.hourly_value_runs AS
WITH recent AS (
    SELECT r.series_id, r.measured_at, r.value,
           first_value(r.value) OVER (PARTITION BY r.series_id ORDER BY r.measured_at DESC) AS last_value
    FROM envmon.emission_reading r
    WHERE r.measured_at > now() - interval '8 days' AND coalesce(r.flag, 'N') = 'N' AND r.value IS NOT NULL
), marked AS (
    SELECT series_id, measured_at, value, last_value,
           bool_or(value <> last_value) OVER w AS constant_broken,
           bool_or(value > 0) OVER w AS nonpositive_broken
    FROM recent
    WINDOW w AS (PARTITION BY series_id ORDER BY measured_at DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
), runs AS (
    SELECT series_id, max(measured_at) AS last_at, min(last_value) AS last_value,
           count(*) FILTER (WHERE NOT constant_broken)::integer AS constant_count,
           min(measured_at) FILTER (WHERE NOT constant_broken) AS constant_since,
           count(*) FILTER (WHERE NOT nonpositive_broken)::integer AS nonpositive_count,
           min(measured_at) FILTER (WHERE NOT nonpositive_broken) AS nonpositive_since
    FROM marked
    GROUP BY series_id
)
SELECT s.enterprise_id, e.name AS enterprise_name, e.district, s.outlet_id, s.pollutant, r.series_id,
       r.last_at, r.last_value, r.constant_count, r.constant_since, r.nonpositive_count, r.nonpositive_since
FROM runs r
JOIN envmon.emission_series s ON s.series_id = r.series_id
LEFT JOIN envmon.site e ON e.kind = 'enterprise' AND e.parent_id = '' AND e.site_id = s.enterprise_id;

-- The daily aggregates' stale marks, (enterprise, month) pairs made distinct before they are
-- checked against the marks already there.
--
-- 0014's statement trigger checked every changed series-day against
-- envmon.enterprise_month_stale, one index probe each: an HJ 212 group commit of 8,000 hourly
-- readings (one series-day each) spent 40 ms in it even when every pair was marked already —
-- as long as the daily upsert itself (auto_explain, scripts/bench/hj212.sh). Made distinct first,
-- the probes are one per enterprise and month. Each is an index probe: the transition table
-- has no statistics (the planner takes it for one row) and the marks table's are usually out
-- of date (it fills and empties between refreshes), so left to itself the planner scanned the
-- whole marks table once per pair (100 ms at 1,100 marks); with sequential scans off it probes
-- the series and the marks by their indexes.
CREATE OR REPLACE FUNCTION envmon.mark_enterprises_from_daily() RETURNS trigger
LANGUAGE plpgsql SET enable_seqscan = off AS $$
BEGIN
    INSERT INTO envmon.enterprise_month_stale (enterprise_id, month_start)
    SELECT p.enterprise_id, p.month_start
    FROM (SELECT DISTINCT s.enterprise_id, date_trunc('month', c.day::timestamp)::date AS month_start
          FROM changed c JOIN envmon.emission_series s ON s.series_id = c.series_id) p
    WHERE NOT EXISTS (SELECT 1 FROM envmon.enterprise_month_stale m
                      WHERE m.enterprise_id = p.enterprise_id AND m.month_start = p.month_start)
      AND NOT EXISTS (SELECT 1 FROM envmon.enterprise_month_stale m
                      WHERE m.enterprise_id = p.enterprise_id AND m.month_start IS NULL);
    RETURN NULL;
END $$;

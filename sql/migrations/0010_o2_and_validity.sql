-- Compliance as the law judges it (HJ 75-2017): flue gas concentrations corrected to the
-- permit's reference O2, and automatic monitoring's daily means counted only on valid days.
--
-- A reading keeps the O2-corrected concentration its feed states (折算) and the O2 (%) measured
-- with it. The daily aggregate keeps what a corrected daily mean needs whatever the reference
-- O2 turns out to be: the sum of the stated corrected values, and for readings with an O2 but
-- no corrected value the sum of value / (21 - O2), so that the mean corrected to a reference
-- O2r is ((corrected_sum) + (21 - O2r) * dilution_sum) / (corrected_count + dilution_count).
ALTER TABLE envmon.emission_reading
    ADD COLUMN corrected double precision,
    ADD COLUMN o2 double precision CHECK (o2 >= 0 AND o2 < 21);
ALTER TABLE envmon.emission_reading_history
    ADD COLUMN corrected double precision,
    ADD COLUMN o2 double precision;
ALTER TABLE envmon.emission_daily
    ADD COLUMN corrected_sum double precision,
    ADD COLUMN corrected_count integer NOT NULL DEFAULT 0,
    ADD COLUMN dilution_sum double precision,
    ADD COLUMN dilution_count integer NOT NULL DEFAULT 0;

-- Automatic monitoring: a daily mean counts only with at least this many valid hourly values
-- (HJ 75-2017: 20).
INSERT INTO envmon.setting (key, value) VALUES ('daily_min_valid_hours', '20') ON CONFLICT (key) DO NOTHING;

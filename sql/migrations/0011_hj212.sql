-- Online monitoring over HJ 212-2017 (docs/hj212.md): the registered data loggers, the archive
-- of every packet received (day-partitioned, with a retention), daily values as devices state
-- them, and minute/real-time values kept for a short time. Hourly values go to the emissions
-- fact table like a file's readings, with upload_id = −(packet id) (no upload row: a packet is
-- their source) and extra.source = 'hj212'.

-- A data logger (数采仪): its MN, the SHA-256 of its access password (loggers send it in clear,
-- so a slow hash adds nothing), the outlet it reports for.
CREATE TABLE envmon.hj212_device (
    mn              text PRIMARY KEY CHECK (length(mn) BETWEEN 1 AND 64 AND mn ~ '^[[:alnum:]_.-]+$'),
    password_sha256 bytea NOT NULL CHECK (length(password_sha256) = 32),
    enterprise_id   text NOT NULL CHECK (length(enterprise_id) BETWEEN 1 AND 100),
    outlet_id       text NOT NULL CHECK (length(outlet_id) BETWEEN 1 AND 100),
    name            text CHECK (length(name) <= 200),
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    retired_at      timestamptz,
    retired_by      text
);
CREATE INDEX hj212_device_outlet ON envmon.hj212_device (enterprise_id, outlet_id);

CREATE SEQUENCE envmon.hj212_packet_id_seq AS bigint;

-- Every packet, as received: raw bytes, peer, time, the header fields it could be read for,
-- and what became of it. Partitioned by UTC day of receipt; partitions older than the
-- retention (setting hj212_packet_retention_days) are dropped by envmon.hj212_drop_expired().
CREATE TABLE envmon.hj212_packet (
    id          bigint NOT NULL DEFAULT nextval('envmon.hj212_packet_id_seq'),
    received_at timestamptz NOT NULL,
    peer        text NOT NULL,
    mn          text,
    cn          text,
    qn          text,
    data_time   text,
    outcome     text NOT NULL CHECK (outcome IN ('stored', 'duplicate', 'bad_crc', 'unknown_device', 'bad_password',
                                                 'malformed', 'unsupported')),
    detail      text,
    readings    integer NOT NULL DEFAULT 0,
    raw         bytea NOT NULL,
    PRIMARY KEY (received_at, id)
) PARTITION BY RANGE (received_at);
CREATE TABLE envmon.hj212_packet_default PARTITION OF envmon.hj212_packet DEFAULT;
CREATE INDEX hj212_packet_mn ON envmon.hj212_packet (mn, received_at);
ALTER SEQUENCE envmon.hj212_packet_id_seq OWNED BY envmon.hj212_packet.id;

-- Daily values (CN 2031) as the device states them, compared with the daily means of its hours
-- by analytics.hj212_daily_disagreements.
CREATE TABLE envmon.hj212_daily (
    enterprise_id text NOT NULL,
    outlet_id     text NOT NULL,
    pollutant     text NOT NULL,
    day           date NOT NULL,
    mn            text NOT NULL,
    avg           double precision,
    corrected     double precision,
    min           double precision,
    max           double precision,
    cou           double precision,
    flag          text,
    packet_id     bigint NOT NULL,
    received_at   timestamptz NOT NULL,
    PRIMARY KEY (enterprise_id, outlet_id, pollutant, day)
);

-- Minute (CN 2051) and real-time (CN 2011) values: kept for hj212_minute_retention_days
-- (partitions by UTC day of receipt, dropped like the packets'). An hour that has no hourly
-- value gets one derived from ≥ 45 valid minutes (HJ 75-2017, envmon.hj212_derive_hours).
CREATE TABLE envmon.hj212_minute (
    mn          text NOT NULL,
    cn          text NOT NULL CHECK (cn IN ('2051', '2011')),
    pollutant   text NOT NULL,
    measured_at timestamptz NOT NULL,
    value       double precision,
    corrected   double precision,
    flag        text,
    packet_id   bigint NOT NULL,
    received_at timestamptz NOT NULL
) PARTITION BY RANGE (received_at);
CREATE TABLE envmon.hj212_minute_default PARTITION OF envmon.hj212_minute DEFAULT;
CREATE INDEX hj212_minute_key ON envmon.hj212_minute (mn, pollutant, measured_at);

INSERT INTO envmon.setting (key, value) VALUES
    ('hj212_packet_retention_days', '90'),
    ('hj212_minute_retention_days', '35')
ON CONFLICT (key) DO NOTHING;

-- Day partitions (UTC) of the packet and minute tables from first_day on, made by CREATE and
-- ATTACH (which does not wait for writers, see 0003).
CREATE FUNCTION envmon.hj212_ensure_partitions(first_day date, days integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    parent text;
    day date;
    name text;
BEGIN
    FOREACH parent IN ARRAY ARRAY['hj212_packet', 'hj212_minute'] LOOP
        FOR i IN 0 .. days - 1 LOOP
            day := first_day + i;
            name := format('%s_%s', parent, to_char(day, 'YYYYMMDD'));
            IF to_regclass('envmon.' || name) IS NULL THEN
                PERFORM pg_advisory_xact_lock(hashtext('envmon.' || name));
                IF to_regclass('envmon.' || name) IS NULL THEN
                    EXECUTE format('CREATE TABLE envmon.%I (LIKE envmon.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                                   name, parent);
                    EXECUTE format('ALTER TABLE envmon.%I ATTACH PARTITION envmon.%I FOR VALUES FROM (%L) TO (%L)',
                                   parent, name, day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
                END IF;
            END IF;
        END LOOP;
    END LOOP;
END;
$$;

-- Drops the day partitions past their retention and deletes expired rows of the default
-- partitions; returns the partitions dropped.
CREATE FUNCTION envmon.hj212_drop_expired() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    parent text;
    keep integer;
    part record;
    dropped integer := 0;
BEGIN
    FOREACH parent IN ARRAY ARRAY['hj212_packet', 'hj212_minute'] LOOP
        keep := coalesce((SELECT value::integer FROM envmon.setting
                          WHERE key = CASE parent WHEN 'hj212_packet' THEN 'hj212_packet_retention_days'
                                                  ELSE 'hj212_minute_retention_days' END),
                         CASE parent WHEN 'hj212_packet' THEN 90 ELSE 35 END);
        FOR part IN
            SELECT c.relname FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid
            JOIN pg_class p ON p.oid = i.inhparent
            JOIN pg_namespace n ON n.oid = p.relnamespace
            WHERE n.nspname = 'envmon' AND p.relname = parent AND c.relname ~ ('^' || parent || '_[0-9]{8}$')
        LOOP
            IF to_date(right(part.relname, 8), 'YYYYMMDD') < (now() AT TIME ZONE 'UTC')::date - keep THEN
                EXECUTE format('DROP TABLE envmon.%I', part.relname);
                dropped := dropped + 1;
            END IF;
        END LOOP;
        EXECUTE format('DELETE FROM envmon.%I WHERE received_at < now() - make_interval(days => %s)',
                       parent || '_default', keep);
    END LOOP;
    RETURN dropped;
END;
$$;

-- The alert kinds of online monitoring (EnvMonDomain AlertRuleKind).
ALTER TABLE envmon.alert DROP CONSTRAINT alert_kind;
ALTER TABLE envmon.alert
    ADD CONSTRAINT alert_kind CHECK (kind IN ('target', 'forecast', 'exceedance', 'water_class', 'missing_data',
                                              'data_quality', 'device_offline', 'constant_value',
                                              'zero_or_negative'));

-- envmon core schema: the upload archive, the site registry, one fact table per feed kind with
-- its history, plan targets, alerts and their outbox, API tokens, the ingest job queue, roles.
--
-- Numbers: sensor readings (emissions, water) are double precision: they are measurements with
-- a few significant digits, summed and averaged in bulk. Period reports (sewage, green, waste)
-- are numeric: they are accounting quantities whose ratios are compared exactly against plan
-- targets such as "harmless = 100% of collected" (docs/architecture.md).

CREATE SCHEMA IF NOT EXISTS envmon;
CREATE SCHEMA IF NOT EXISTS analytics;

-- Settings that SQL views need (the feed time zone decides local days).
CREATE TABLE envmon.setting (
    key   text PRIMARY KEY,
    value text NOT NULL
);
INSERT INTO envmon.setting (key, value) VALUES ('feed_time_zone', 'Asia/Shanghai');

-- The time zone of local days and local times in feeds and views.
CREATE FUNCTION envmon.feed_time_zone() RETURNS text
LANGUAGE sql STABLE AS $$ SELECT coalesce((SELECT value FROM envmon.setting WHERE key = 'feed_time_zone'), 'Asia/Shanghai') $$;

-- The archive: every upload, stored before it is parsed.
CREATE TABLE envmon.upload (
    id              bigserial PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('emissions', 'sewage', 'water', 'green', 'waste')),
    file_name       text,
    uploader        text NOT NULL,
    source          text NOT NULL DEFAULT 'cli' CHECK (source IN ('cli', 'http', 'inbox')),
    received_at     timestamptz NOT NULL DEFAULT now(),
    sha256          text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes      bigint NOT NULL CHECK (size_bytes >= 0),
    format          text CHECK (format IN ('auto', 'csv', 'json', 'ndjson')),
    encoding        text,
    options         jsonb NOT NULL DEFAULT '{}',
    status          text NOT NULL DEFAULT 'received'
                    CHECK (status IN ('received', 'queued', 'processing', 'loaded', 'failed',
                                      'duplicate', 'reverted')),
    duplicate_of    bigint REFERENCES envmon.upload (id),
    rows_total      integer,
    rows_loaded     integer,
    rows_unchanged  integer,
    rows_rejected   integer,
    rows_skipped    integer,
    rows_superseded integer,
    error           text,
    finished_at     timestamptz,
    reverted_at     timestamptz,
    CHECK ((status = 'duplicate') = (duplicate_of IS NOT NULL))
);
-- The same bytes of the same kind are one original; duplicates point at it and hold no bytes.
-- Failed and reverted uploads may be sent again.
CREATE UNIQUE INDEX upload_original_sha256 ON envmon.upload (kind, sha256)
    WHERE duplicate_of IS NULL AND status NOT IN ('failed', 'reverted');
CREATE INDEX upload_received_at ON envmon.upload (received_at);

-- Raw bytes in chunks of at most 1 MiB, so that neither side holds a whole file in memory.
CREATE TABLE envmon.upload_chunk (
    upload_id bigint NOT NULL REFERENCES envmon.upload (id) ON DELETE CASCADE,
    seq       integer NOT NULL,
    data      bytea NOT NULL,
    PRIMARY KEY (upload_id, seq)
);

CREATE TABLE envmon.upload_rejection (
    id          bigserial PRIMARY KEY,
    upload_id   bigint NOT NULL REFERENCES envmon.upload (id) ON DELETE CASCADE,
    line        integer NOT NULL,
    column_name text,
    raw_value   text,
    reason      text NOT NULL
);
CREATE INDEX upload_rejection_upload ON envmon.upload_rejection (upload_id, line);

-- Places named by the feeds. Outlets belong to an enterprise (parent_id); every other kind has
-- parent_id ''.
CREATE TABLE envmon.site (
    kind            text NOT NULL CHECK (kind IN ('enterprise', 'outlet', 'plant', 'section', 'district')),
    parent_id       text NOT NULL DEFAULT '',
    site_id         text NOT NULL,
    name            text,
    district        text,
    river           text,
    river_level     smallint CHECK (river_level IN (1, 2)),
    water_body      text CHECK (water_body IN ('river', 'lake')),
    first_upload_id bigint REFERENCES envmon.upload (id) ON DELETE SET NULL,
    registered_at   timestamptz NOT NULL DEFAULT now(),
    retired_at      timestamptz,
    retired_reason  text,
    PRIMARY KEY (kind, parent_id, site_id)
);

-- Emissions: one compact integer per enterprise/outlet/pollutant, readings keyed by it and time.
CREATE TABLE envmon.emission_series (
    series_id     serial PRIMARY KEY,
    enterprise_id text NOT NULL,
    outlet_id     text NOT NULL,
    pollutant     text NOT NULL,
    UNIQUE (enterprise_id, outlet_id, pollutant)
);

CREATE TABLE envmon.emission_reading (
    series_id       integer NOT NULL,
    measured_at     timestamptz NOT NULL,
    value           double precision,
    below_detection boolean NOT NULL DEFAULT false,
    unit            text,
    limit_min       double precision,
    limit_max       double precision,
    flag            text CHECK (flag IN ('N', 'F', 'M', 'S', 'D', 'C', 'T', 'B')),
    upload_id       bigint NOT NULL,
    line            integer,
    extra           jsonb,
    PRIMARY KEY (series_id, measured_at)
) PARTITION BY RANGE (measured_at);
-- Monthly partitions (UTC months) are created by the loader for the months a feed touches
-- (envmon.ensure_emission_partition); the default partition only catches the unexpected.
CREATE TABLE envmon.emission_reading_default PARTITION OF envmon.emission_reading DEFAULT;

CREATE FUNCTION envmon.ensure_emission_partition(month_start date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    name text := format('emission_reading_%s', to_char(month_start, 'YYYYMM'));
BEGIN
    IF to_regclass('envmon.' || name) IS NULL THEN
        -- Two loads may reach a new month together: the second waits, then finds it made.
        PERFORM pg_advisory_xact_lock(hashtext('envmon.' || name));
        IF to_regclass('envmon.' || name) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE envmon.%I PARTITION OF envmon.emission_reading FOR VALUES FROM (%L) TO (%L)',
                name, month_start::timestamp AT TIME ZONE 'UTC',
                (month_start + interval '1 month')::timestamp AT TIME ZONE 'UTC');
        END IF;
    END IF;
END;
$$;

CREATE TABLE envmon.emission_reading_history (
    series_id       integer NOT NULL,
    measured_at     timestamptz NOT NULL,
    value           double precision,
    below_detection boolean NOT NULL,
    unit            text,
    limit_min       double precision,
    limit_max       double precision,
    flag            text,
    upload_id       bigint NOT NULL,
    line            integer,
    extra           jsonb,
    superseded_by   bigint NOT NULL,
    superseded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX emission_reading_history_key ON envmon.emission_reading_history (series_id, measured_at);
CREATE INDEX emission_reading_history_by ON envmon.emission_reading_history (superseded_by);
CREATE INDEX emission_reading_history_upload ON envmon.emission_reading_history (upload_id);

-- Daily aggregates by local day (feed time zone), kept current inside each load's transaction,
-- so that the compliance views never scan the raw readings.
CREATE TABLE envmon.emission_daily (
    series_id     integer NOT NULL,
    day           date NOT NULL,
    valid_count   integer NOT NULL,
    flagged_count integer NOT NULL,
    value_sum     double precision,
    limit_min     double precision,
    limit_max     double precision,
    PRIMARY KEY (series_id, day)
);
CREATE INDEX emission_daily_day ON envmon.emission_daily (day);

-- Sewage treatment per plant and period.
CREATE TABLE envmon.sewage_report (
    plant_id             text NOT NULL,
    period_start         date NOT NULL,
    period_end           date NOT NULL,
    period_label         text NOT NULL,
    district             text,
    sewage_discharged_m3 numeric NOT NULL,
    sewage_treated_m3    numeric NOT NULL,
    upload_id            bigint NOT NULL REFERENCES envmon.upload (id),
    line                 integer,
    extra                jsonb,
    PRIMARY KEY (plant_id, period_start, period_end),
    CHECK (period_end >= period_start)
);

-- Surface water samples; items is {"ph": 7.1, "do": 5.2, ...} in mg/L (pH without unit).
CREATE TABLE envmon.water_sample (
    section_id      text NOT NULL,
    sampled_at      timestamptz NOT NULL,
    items           jsonb NOT NULL,
    below_detection jsonb,
    reported_class  smallint CHECK (reported_class BETWEEN 1 AND 6),
    station_status  text,
    river_level     smallint,
    water_body      text,
    district        text,
    upload_id       bigint NOT NULL REFERENCES envmon.upload (id),
    line            integer,
    extra           jsonb,
    PRIMARY KEY (section_id, sampled_at)
);

-- Green coverage surveys per district and period.
CREATE TABLE envmon.green_survey (
    district              text NOT NULL,
    period_start          date NOT NULL,
    period_end            date NOT NULL,
    period_label          text NOT NULL,
    built_up_area_ha      numeric NOT NULL,
    green_covered_area_ha numeric NOT NULL,
    park_green_area_ha    numeric,
    population            numeric,
    upload_id             bigint NOT NULL REFERENCES envmon.upload (id),
    line                  integer,
    extra                 jsonb,
    PRIMARY KEY (district, period_start, period_end),
    CHECK (period_end >= period_start)
);

-- Domestic waste transfer and white pollution per district and period.
CREATE TABLE envmon.waste_report (
    district                   text NOT NULL,
    period_start               date NOT NULL,
    period_end                 date NOT NULL,
    period_label               text NOT NULL,
    collected_t                numeric NOT NULL,
    harmless_t                 numeric NOT NULL,
    white_pollution_sites      integer,
    white_pollution_remediated integer,
    upload_id                  bigint NOT NULL REFERENCES envmon.upload (id),
    line                       integer,
    extra                      jsonb,
    PRIMARY KEY (district, period_start, period_end),
    CHECK (period_end >= period_start)
);

-- History of superseded values for the period and sample tables: the whole previous row.
CREATE TABLE envmon.fact_history (
    id            bigserial PRIMARY KEY,
    kind          text NOT NULL,
    natural_key   jsonb NOT NULL,
    row_data      jsonb NOT NULL,
    upload_id     bigint NOT NULL,
    superseded_by bigint NOT NULL,
    superseded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fact_history_key ON envmon.fact_history (kind, natural_key);
CREATE INDEX fact_history_by ON envmon.fact_history (superseded_by);
CREATE INDEX fact_history_upload ON envmon.fact_history (upload_id);

-- Plan targets (alerts/targets.yaml is the shipped default).
CREATE TABLE envmon.plan_target (
    id          serial PRIMARY KEY,
    metric      text NOT NULL,
    scope       text NOT NULL DEFAULT 'all',
    comparator  text NOT NULL CHECK (comparator IN ('>=', '>', '<=', '<', '=')),
    value       numeric NOT NULL,
    granularity text NOT NULL CHECK (granularity IN ('month', 'year')),
    due         date NOT NULL,
    description text,
    loaded_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (metric, scope)
);

-- Alerts: one row per alert lifetime (pending → firing → resolved); a re-fire is a new row.
CREATE TABLE envmon.alert (
    id               bigserial PRIMARY KEY,
    fingerprint      text NOT NULL,
    rule             text NOT NULL,
    kind             text NOT NULL,
    severity         text NOT NULL,
    -- cancelled: pending, but the condition cleared before `for` passed (never notified).
    state            text NOT NULL CHECK (state IN ('pending', 'firing', 'resolved', 'cancelled')),
    labels           jsonb NOT NULL,
    annotations      jsonb NOT NULL DEFAULT '{}',
    value            double precision,
    target           double precision,
    active_since     timestamptz NOT NULL,
    fired_at         timestamptz,
    resolved_at      timestamptz,
    last_seen_active timestamptz NOT NULL,
    acked_by         text,
    acked_at         timestamptz,
    ack_note         text,
    last_notified    jsonb NOT NULL DEFAULT '{}',
    escalated_to     text[] NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX alert_open_fingerprint ON envmon.alert (fingerprint) WHERE state IN ('pending', 'firing');
CREATE INDEX alert_state ON envmon.alert (state);

-- Every transition and action on an alert: the full history.
CREATE TABLE envmon.alert_event (
    id         bigserial PRIMARY KEY,
    alert_id   bigint NOT NULL REFERENCES envmon.alert (id) ON DELETE CASCADE,
    at         timestamptz NOT NULL,
    from_state text,
    to_state   text,
    event      text NOT NULL,
    actor      text,
    details    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX alert_event_alert ON envmon.alert_event (alert_id, at);

CREATE TABLE envmon.silence (
    id         bigserial PRIMARY KEY,
    matchers   jsonb NOT NULL,
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL,
    author     text NOT NULL,
    reason     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expired_at timestamptz,
    CHECK (ends_at > starts_at)
);

-- Notifications are written here in the transaction that changed the alert, then delivered.
CREATE TABLE envmon.notification_outbox (
    id              bigserial PRIMARY KEY,
    receiver        text NOT NULL,
    channel         jsonb NOT NULL,
    payload         jsonb NOT NULL,
    alert_ids       bigint[] NOT NULL DEFAULT '{}',
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    not_before      timestamptz NOT NULL DEFAULT now(),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz
);
CREATE INDEX notification_outbox_due ON envmon.notification_outbox (next_attempt_at)
    WHERE status = 'pending';

-- API tokens: only the SHA-256 of the secret is kept.
CREATE TABLE envmon.api_token (
    id           serial PRIMARY KEY,
    name         text NOT NULL,
    scope        text NOT NULL CHECK (scope IN ('read', 'upload', 'admin')),
    token_hash   bytea NOT NULL UNIQUE,
    prefix       text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);

-- The durable ingest queue: workers claim with FOR UPDATE SKIP LOCKED and hold a lease.
CREATE TABLE envmon.ingest_job (
    id           bigserial PRIMARY KEY,
    upload_id    bigint NOT NULL UNIQUE REFERENCES envmon.upload (id) ON DELETE CASCADE,
    status       text NOT NULL DEFAULT 'queued'
                 CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts     integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL DEFAULT 3,
    lease_until  timestamptz,
    worker       text,
    last_error   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ingest_job_claim ON envmon.ingest_job (created_at) WHERE status IN ('queued', 'running');

-- Roles. Creating roles needs CREATEROLE; on a managed server without it, an administrator
-- creates them once and the grants below still apply.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'envmon_app') THEN
        BEGIN
            CREATE ROLE envmon_app NOLOGIN;
        EXCEPTION
            -- Roles belong to the whole cluster: a migration of another database may create it
            -- at the same moment (advisory locks are per database).
            WHEN duplicate_object OR unique_violation THEN NULL;
            WHEN insufficient_privilege THEN
                RAISE NOTICE 'cannot create role envmon_app (needs CREATEROLE); skipped';
        END;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'envmon_analyst') THEN
        BEGIN
            CREATE ROLE envmon_analyst NOLOGIN;
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN NULL;
            WHEN insufficient_privilege THEN
                RAISE NOTICE 'cannot create role envmon_analyst (needs CREATEROLE); skipped';
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'envmon_app') THEN
        GRANT USAGE ON SCHEMA envmon, analytics TO envmon_app;
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA envmon TO envmon_app;
        GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA envmon TO envmon_app;
        GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO envmon_app;
        ALTER DEFAULT PRIVILEGES IN SCHEMA envmon
            GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO envmon_app;
        ALTER DEFAULT PRIVILEGES IN SCHEMA envmon GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO envmon_app;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'envmon_analyst') THEN
        REVOKE ALL ON SCHEMA envmon FROM envmon_analyst;
        GRANT USAGE ON SCHEMA analytics TO envmon_analyst;
        GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO envmon_analyst;
        ALTER DEFAULT PRIVILEGES IN SCHEMA analytics GRANT SELECT ON TABLES TO envmon_analyst;
    END IF;
END;
$$;
REVOKE ALL ON SCHEMA envmon FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

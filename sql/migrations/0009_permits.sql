-- Discharge permits (排污许可证): the legal limit of a pollutant at an outlet from a date on,
-- with the reference O2 of flue gas and the monitoring mode. A feed kind like the others
-- (archive, rejections, supersede with history in envmon.fact_history, revert).
ALTER TABLE envmon.upload DROP CONSTRAINT upload_kind_check;
ALTER TABLE envmon.upload ADD CONSTRAINT upload_kind_check
    CHECK (kind IN ('emissions', 'sewage', 'water', 'green', 'waste', 'permits'));

CREATE TABLE envmon.emission_permit (
    enterprise_id text NOT NULL,
    outlet_id     text NOT NULL,
    pollutant     text NOT NULL,
    -- '-infinity' when the permit names no start.
    valid_from    date NOT NULL,
    -- The last day in force; NULL when open-ended.
    valid_to      date,
    limit_min     double precision,
    limit_max     double precision,
    unit          text,
    o2_reference  double precision CHECK (o2_reference >= 0 AND o2_reference < 21),
    monitoring    text CHECK (monitoring IN ('automatic', 'manual')),
    upload_id     bigint NOT NULL REFERENCES envmon.upload (id),
    line          integer,
    extra         jsonb,
    PRIMARY KEY (enterprise_id, outlet_id, pollutant, valid_from),
    CHECK (valid_to IS NULL OR valid_to >= valid_from),
    CHECK (limit_min IS NOT NULL OR limit_max IS NOT NULL)
);
CREATE INDEX emission_permit_upload ON envmon.emission_permit (upload_id);

-- Retention (`envmon db archive --before YYYY-MM`): old months of readings and the raw bytes of
-- old uploads leave the database for a dump file; `envmon db restore-archive FILE` brings them
-- back. One row per archive; the daily aggregates stay, so the plan's history does not change.
CREATE TABLE envmon.data_archive (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    before       date NOT NULL,                  -- first day kept (UTC month start)
    months       text[] NOT NULL,                -- partitions moved out, e.g. {emission_reading_202501}
    upload_ids   bigint[] NOT NULL,              -- uploads whose raw bytes moved out
    readings     bigint NOT NULL,
    history_rows bigint NOT NULL,
    chunk_bytes  bigint NOT NULL,
    file         text NOT NULL,
    sha256       text NOT NULL,
    archived_at  timestamptz NOT NULL DEFAULT now(),
    archived_by  text NOT NULL,
    restored_at  timestamptz
);
CREATE INDEX data_archive_open ON envmon.data_archive (sha256) WHERE restored_at IS NULL;

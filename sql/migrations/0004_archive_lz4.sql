-- The archive keeps every upload's bytes in envmon.upload_chunk (1 MiB rows). PostgreSQL
-- compresses them with pglz by default, which costs about a second of server CPU per 76 MB
-- CSV — as much as a third of loading it. lz4 compresses the same bytes in a sixth of the
-- time to a similar size (13 MB instead of 11 MB for the benchmark's file; docs/performance.md).
-- Only new chunks are affected. A server built without lz4 keeps pglz.
DO $$
BEGIN
    EXECUTE 'ALTER TABLE envmon.upload_chunk ALTER COLUMN data SET COMPRESSION lz4';
EXCEPTION WHEN feature_not_supported OR syntax_error THEN
    RAISE NOTICE 'lz4 is not available here; the archive stays compressed with pglz';
END;
$$;

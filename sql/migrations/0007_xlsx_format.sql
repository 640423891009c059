-- Excel workbooks (.xlsx) are read natively: an upload's format may be 'xlsx'.
ALTER TABLE envmon.upload DROP CONSTRAINT upload_format_check;
ALTER TABLE envmon.upload ADD CONSTRAINT upload_format_check
    CHECK (format IN ('auto', 'csv', 'json', 'ndjson', 'xlsx'));

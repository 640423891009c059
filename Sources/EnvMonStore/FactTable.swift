import EnvMonDomain

/// How one feed kind is staged and stored: the SQL shapes the loader and revert use.
///
/// Every name here is a constant of the program, never input, so building SQL text from them is
/// safe; values always travel as binds or through COPY.
struct FactTable: Sendable {
    let kind: FeedKind
    /// The fact table, schema-qualified.
    let table: String
    /// Staging column definitions, in `kind.stagingColumns` order.
    let stagingTypes: [String]
    /// Key columns of the fact table (equal to the staging columns of the same name).
    let keyColumns: [String]
    /// Columns copied from staging to the fact table whose change supersedes a row.
    let valueColumns: [String]

    static func forKind(_ kind: FeedKind) -> FactTable {
        switch kind {
        case .emissions:
            return FactTable(
                kind: kind, table: "envmon.emission_reading",
                stagingTypes: ["integer", "text", "text", "text", "text", "text", "timestamptz", "double precision",
                               "boolean", "text", "double precision", "double precision", "text", "jsonb"],
                keyColumns: ["series_id", "measured_at"],
                valueColumns: ["value", "below_detection", "unit", "limit_min", "limit_max", "flag"])
        case .sewage:
            return FactTable(
                kind: kind, table: "envmon.sewage_report",
                stagingTypes: ["integer", "text", "text", "text", "date", "date", "text", "numeric", "numeric", "jsonb"],
                keyColumns: ["plant_id", "period_start", "period_end"],
                valueColumns: ["period_label", "district", "sewage_discharged_m3", "sewage_treated_m3"])
        case .water:
            return FactTable(
                kind: kind, table: "envmon.water_sample",
                stagingTypes: ["integer", "text", "text", "text", "smallint", "text", "text", "timestamptz", "jsonb",
                               "jsonb", "smallint", "text", "jsonb"],
                keyColumns: ["section_id", "sampled_at"],
                valueColumns: ["items", "below_detection", "reported_class", "station_status", "river_level",
                               "water_body", "district"])
        case .green:
            return FactTable(
                kind: kind, table: "envmon.green_survey",
                stagingTypes: ["integer", "text", "date", "date", "text", "numeric", "numeric", "numeric", "numeric", "jsonb"],
                keyColumns: ["district", "period_start", "period_end"],
                valueColumns: ["period_label", "built_up_area_ha", "green_covered_area_ha", "park_green_area_ha",
                               "population"])
        case .waste:
            return FactTable(
                kind: kind, table: "envmon.waste_report",
                stagingTypes: ["integer", "text", "date", "date", "text", "numeric", "numeric", "integer", "integer", "jsonb"],
                keyColumns: ["district", "period_start", "period_end"],
                valueColumns: ["period_label", "collected_t", "harmless_t", "white_pollution_sites",
                               "white_pollution_remediated"])
        }
    }

    /// `CREATE TEMP TABLE stage (...)` for this kind, dropped at commit.
    var createStage: String {
        let columns = zip(kind.stagingColumns, stagingTypes).map { "\($0) \($1)" }.joined(separator: ", ")
        return "CREATE TEMP TABLE stage (\(columns)) ON COMMIT DROP"
    }

    /// Marks and removes the rows of the upload that repeat an earlier row's natural key,
    /// recording a rejection that names the earlier line. Returns the count via one row.
    var rejectRepeatedKeys: String {
        let keys = kind.naturalKey
        let keyList = keys.joined(separator: ", ")
        let rawValue = keys.map { "coalesce(\($0)::text, '')" }.joined(separator: " || ' / ' || ")
        return """
            WITH ranked AS (
                SELECT line, \(rawValue) AS raw, min(line) OVER (PARTITION BY \(keyList)) AS first_line FROM stage
            ), repeated AS (
                SELECT line, raw, first_line FROM ranked WHERE line <> first_line
            ), rejected AS (
                INSERT INTO envmon.upload_rejection (upload_id, line, column_name, raw_value, reason)
                SELECT $1, line, '\(keys.joined(separator: ", "))', raw,
                       'a second row with the same \(keyList) as line ' || first_line || ' in this upload'
                FROM repeated
            ), removed AS (
                DELETE FROM stage s USING repeated r WHERE s.line = r.line
            )
            SELECT count(*)::integer FROM repeated
            """
    }

    /// Where a period/sample kind's history row comes from: the natural key as JSON.
    var naturalKeyJSON: String {
        "jsonb_build_object(" + keyColumns.map { "'\($0)', t.\($0)" }.joined(separator: ", ") + ")"
    }
}

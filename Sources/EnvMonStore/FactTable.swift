import EnvMonDomain

/// How one feed kind is staged and stored: the SQL shapes the loader and revert use.
///
/// Every name here is a constant of the program, never input, so building SQL text from them is
/// safe; values always travel as binds or through COPY.
struct FactTable: Sendable {
    let kind: FeedKind
    /// The fact table, schema-qualified.
    let table: String
    /// Key columns of the fact table (equal to the staging columns of the same name, but for
    /// emissions, which are keyed by series and time).
    let keyColumns: [String]
    /// Columns copied from staging to the fact table whose change supersedes a row.
    let valueColumns: [String]

    /// The stored values of a reading, in layout order.
    static let emissionsValues = EmissionsColumn.allCases.filter { $0.column.role == .value }

    static func forKind(_ kind: FeedKind) -> FactTable {
        let columns = kind.columns
        let keys = columns.filter { $0.role == .key }.map(\.name)
        let values = columns.filter { $0.role == .value }.map(\.name)
        switch kind {
        case .emissions:
            return FactTable(kind: kind, table: "envmon.emission_reading", keyColumns: ["series_id", "measured_at"],
                             valueColumns: values)
        case .sewage: return FactTable(kind: kind, table: "envmon.sewage_report", keyColumns: keys, valueColumns: values)
        case .water: return FactTable(kind: kind, table: "envmon.water_sample", keyColumns: keys, valueColumns: values)
        case .green: return FactTable(kind: kind, table: "envmon.green_survey", keyColumns: keys, valueColumns: values)
        case .waste: return FactTable(kind: kind, table: "envmon.waste_report", keyColumns: keys, valueColumns: values)
        case .permits: return FactTable(kind: kind, table: "envmon.emission_permit", keyColumns: keys, valueColumns: values)
        }
    }

    /// `CREATE TEMP TABLE stage (...)` for this kind, dropped at commit.
    var createStage: String {
        let columns = kind.columns.map { "\($0.name) \($0.type.rawValue)" }.joined(separator: ", ")
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

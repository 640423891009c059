import EnvMonDomain
@testable import EnvMonIngest
@testable import EnvMonStore
import EnvMonTestSupport
import Foundation
import PostgresNIO
import Testing

/// Each rule written once: where Swift holds a copy of something the database also defines (view
/// columns, fact-table layouts, the metric catalogue, the compliance pollutants, the feed time
/// zone, partition names), these tests compare the two on a migrated database, so a change on one
/// side without the other fails here instead of at run time.
@Suite("Swift and SQL agree", .timeLimit(.minutes(10)), .temporaryDatabases)
struct CatalogueTests {
    /// `name → format_type` of a relation's columns.
    static func columns(of relation: String, in db: TestDatabase) async throws -> [String: String] {
        let rows = try await db.rows("""
            SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
            FROM pg_attribute a
            WHERE a.attrelid = '\(relation)'::regclass AND a.attnum > 0 AND NOT a.attisdropped
            """)
        var result: [String: String] = [:]
        for row in rows {
            if let name = row["name"] ?? nil, let type = row["type"] ?? nil { result[name] = type }
        }
        return result
    }

    static let viewRows: [any ViewRow.Type] = [
        PlanProgressRow.self, ExceedanceDay.self, SectionClassRow.self, SiteFreshnessRow.self, EnterpriseComplianceRow.self,
        FeedFreshnessRow.self, UploadOutcomeRow.self,
    ]

    @Test("every typed view row names columns the view has, with the types it has")
    func viewRowsMatchTheViews() async throws {
        let db = try await TestDatabase.make()
        for row in Self.viewRows {
            let actual = try await Self.columns(of: row.view, in: db)
            #expect(!actual.isEmpty, "\(row.view) has no columns")
            for column in row.columns {
                #expect(actual[column.name] == column.type,
                        "\(row.view).\(column.name): the row reads \(column.type), the view has \(actual[column.name] ?? "no such column")")
            }
        }
    }

    @Test("a renamed view column is caught by the typed decoding, not read as nil")
    func renamedColumnFailsToDecode() async throws {
        let db = try await TestDatabase.make()
        _ = try await db.ingest(.sewage, csv: "plant_id,period,sewage_discharged_m3,sewage_treated_m3\nP1,2026-03,100,99\n")
        let read = { @Sendable in
            try await TestCluster.withConnection(db.address) { connection in
                try await AlertTransaction(connection: connection, logger: TestDatabase.logger).feedFreshness()
            }
        }
        #expect(try await read().map(\.feedKind) == [.sewage])
        // Someone renames a column of the view: reading it is an error naming the column.
        try await db.execute("ALTER VIEW analytics.feed_freshness RENAME COLUMN feed_kind TO kind")
        let error = await #expect(throws: (any Error).self) { try await read() }
        #expect(String(reflecting: error).contains("feed_kind"))
    }

    @Test("each fact table stores the feed layout's key and value columns with the layout's types")
    func factTablesMatchTheLayouts() async throws {
        let db = try await TestDatabase.make()
        for kind in FeedKind.allCases {
            let table = FactTable.forKind(kind)
            let actual = try await Self.columns(of: table.table, in: db)
            // Emissions are keyed by series: the key columns other than time live in emission_series.
            let series = kind == .emissions ? try await Self.columns(of: "envmon.emission_series", in: db) : [:]
            for column in kind.columns {
                switch column.role {
                case .key, .value:
                    let type = actual[column.name] ?? series[column.name]
                    #expect(type == column.type.rawValue,
                            "\(table.table).\(column.name): the layout says \(column.type.rawValue), the table has \(type ?? "no such column")")
                case .line, .extra:
                    #expect(actual[column.name] == column.type.rawValue, "\(table.table).\(column.name)")
                case .site:
                    #expect(actual[column.name] == nil, "\(table.table).\(column.name) belongs to the site registry")
                }
            }
            for key in table.keyColumns {
                #expect(actual[key] != nil, "\(table.table) has no key column \(key)")
            }
        }
    }

    @Test("the metric catalogue in Swift is envmon.metric")
    func metricCatalogue() async throws {
        let db = try await TestDatabase.make()
        let rows = try await db.rows("SELECT metric, name_zh, name_en, unit FROM envmon.metric ORDER BY sort_order")
        let sql = rows.map { row in
            "\(row["metric"].flatMap { $0 } ?? "")|\(row["name_zh"].flatMap { $0 } ?? "")|\(row["name_en"].flatMap { $0 } ?? "")|\(row["unit"].flatMap { $0 } ?? "")"
        }
        let swift = AlertMetricName.all.map { name in
            "\(name.id)|\(name.chinese)|\(name.english)|\(name.unit == .ratio ? "ratio" : "m2/person")"
        }
        #expect(swift == sql)
    }

    @Test("the compliance pollutants in Swift are envmon.emission_pollutant's")
    func compliancePollutants() async throws {
        let db = try await TestDatabase.make()
        let rows = try await db.rows("SELECT pollutant, name_zh FROM envmon.emission_pollutant WHERE compliance ORDER BY pollutant")
        let sql = Dictionary(uniqueKeysWithValues: rows.map { ($0["pollutant"].flatMap { $0 } ?? "", $0["name_zh"].flatMap { $0 } ?? "") })
        #expect(Set(PollutantCodes.compliance.map(\.name)) == Set(sql.keys))
        for pollutant in PollutantCodes.compliance {
            guard let chinese = sql[pollutant.name] else { continue }
            // The table's Chinese name is one the normaliser recognises for the same pollutant.
            #expect(PollutantCodes.canonical(chinese) == pollutant.name, "\(chinese) → \(pollutant.name)")
        }
    }

    @Test("the default feed time zone is one value in Swift, the settings and the SQL fallback")
    func feedTimeZoneDefault() async throws {
        let db = try await TestDatabase.make()
        #expect(try await db.value("envmon.feed_time_zone()") == FeedTimeZone.defaultIdentifier)
        #expect(try await db.value("SELECT value FROM envmon.setting WHERE key = 'feed_time_zone'") == FeedTimeZone.defaultIdentifier)
        try await db.execute("DELETE FROM envmon.setting WHERE key = 'feed_time_zone'")
        #expect(try await db.value("envmon.feed_time_zone()") == FeedTimeZone.defaultIdentifier)
        // Views read the zone through the function, never a literal of their own.
        let literal = try await db.value("""
            SELECT count(*) FROM pg_views WHERE schemaname = 'analytics' AND definition LIKE '%Asia/Shanghai%'
            """)
        #expect(literal == "0")
    }

    @Test("the direct loader's partition names are the ones the SQL function makes")
    func partitionNames() async throws {
        let db = try await TestDatabase.make()
        for (year, month) in [(2026, 1), (2026, 12), (1999, 7)] {
            try await db.execute("SELECT envmon.ensure_emission_partition('\(String(format: "%04d-%02d-01", year, month))'::date)")
            let name = DirectEmissions.partition(month: year * 12 + month - 1)
            #expect(try await db.value("to_regclass('\(name)') IS NOT NULL") == "true", "\(name)")
        }
    }
}

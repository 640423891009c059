import EnvMonDomain
import EnvMonServer
import EnvMonStore
import EnvMonTestSupport
import Foundation
import Testing

/// The district `envmon demo` generates, loaded through the real ingest path into a real
/// database: the story a section chief should find in the console is really in the views.
@Suite("the demo district", .timeLimit(.minutes(10)), .temporaryDatabases)
struct DemoDistrictTests {
    @Test("most targets met, sewage at risk, one enterprise over its limit, one section 劣Ⅴ, one silent outlet, two bad rows")
    func theStoryIsInTheViews() async throws {
        let db = try await TestDatabase.make()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-district-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let now = Date()
        let today = DemoDistrict.localDate(now, zone: TimeZone(identifier: "Asia/Shanghai") ?? .current)
        try DemoDistrict(today: today).write(to: folder)
        // The same day writes the same bytes, so a second demo run loads nothing twice.
        let again = folder.appendingPathComponent("again")
        try DemoDistrict(today: today).write(to: again)
        for name in ["emissions-district.csv", "water-district.csv"] {
            #expect(try Data(contentsOf: folder.appendingPathComponent(name)) == Data(contentsOf: again.appendingPathComponent(name)))
        }
        try FileManager.default.removeItem(at: again)

        let result = try await db.withDatabase { database in
            try await TestDatabase.seedDefaultTargets(database)
            return try await Demo(database: database, configuration: try AlertConfiguration.load(directory: nil, environment: [:]))
                .run(feeds: folder, uploader: "demo", year: nil, at: now)
        }
        #expect(result.uploads.count == 5)
        #expect(result.uploads.allSatisfy { $0.status == .loaded }, "\(result.uploads.map { "\($0.kind) \($0.status)" })")
        let emissions = try #require(result.uploads.first { $0.kind == .emissions })
        #expect(emissions.rowsRejected == 2)
        #expect(emissions.rowsLoaded > 40_000)

        let status = Dictionary(uniqueKeysWithValues: result.plan.map { ($0.metric, $0.status) })
        #expect(status["sewage_treatment_rate"] == .atRisk, "\(result.plan)")
        for metric in ["emissions_compliance_rate", "water_class_v_or_better_share", "green_coverage_rate",
                       "park_green_per_capita_m2", "white_pollution_remediation_rate", "waste_harmless_transfer_rate"] {
            #expect(status[metric] == .met, "\(metric): \(result.plan)")
        }

        // 津东化工 is the one enterprise over its limit last month; all others comply.
        let lastMonth = String(format: "%04d-%02d", today.month == 1 ? today.year - 1 : today.year, today.month == 1 ? 12 : today.month - 1)
        let failing = try await db.rows("""
            SELECT enterprise_name FROM analytics.enterprise_compliance WHERE period = '\(lastMonth)' AND NOT compliant
            """)
        #expect(failing.map { $0["enterprise_name"] ?? nil } == ["天津津东化工有限公司"])
        // One section is 劣Ⅴ, by its parameters.
        let worst = try await db.rows("""
            SELECT DISTINCT section_id FROM analytics.water_section_class WHERE granularity = 'month' AND class_label = '劣Ⅴ'
            """)
        #expect(worst.map { $0["section_id"] ?? nil } == ["DL-03"])
        // The firing alerts tell the same story.
        let rules = Set(result.alerts.map(\.rule))
        #expect(rules.contains("EmissionLimitExceeded") && rules.contains("RiverSectionWorseThanV") && rules.contains("FeedMissing"),
                "\(rules)")
        #expect(!rules.contains("PlanTargetMissed"), "\(result.alerts.map { $0.annotations["summary"] ?? "" })")
    }
}

import EnvMonDomain
import EnvMonTestSupport
import Foundation
import Testing

/// Cells PostgreSQL cannot store (out-of-range numbers, NUL bytes, counts beyond an integer) are
/// rejected rows with their reason; the rest of the upload loads. Before, one such cell failed
/// the whole upload with PostgreSQL's text.
@Suite("Unstorable cells are rejected rows", .timeLimit(.minutes(10)), .temporaryDatabases)
struct HostileCellTests {
    static func rejections(_ db: TestDatabase, _ upload: UploadSummary) async throws -> [String: String] {
        var byLine: [String: String] = [:]
        for row in try await db.rows("SELECT line::text AS line, reason FROM envmon.upload_rejection WHERE upload_id = \(upload.id)") {
            if let line = row["line"] ?? nil { byLine[line] = row["reason"] ?? nil }
        }
        return byLine
    }

    @Test("emissions: 1e309, 1e-400, 400 digits, a limit of 1e309, NUL in an id and in an unknown column")
    func emissions() async throws {
        let db = try await TestDatabase.make()
        var csv = "enterprise_id,outlet_id,pollutant,measured_at,value,unit,limit,flag,备注\n"
        for hour in 0..<12 {
            csv += "E1,DA001,SO2,2026-03-02 \(hour < 10 ? "0" : "")\(hour):00,\(10 + hour),mg/m3,35,N,\n"
        }
        csv += "E1,DA001,SO2,2026-03-02 12:00,1e309,mg/m3,35,N,\n"                            // line 14
        csv += "E1,DA001,SO2,2026-03-02 13:00,1e-400,mg/m3,35,N,\n"                           // line 15
        csv += "E1,DA001,SO2,2026-03-02 14:00,\(String(repeating: "9", count: 400)),mg/m3,35,N,\n"  // 16
        csv += "E1,DA001,SO2,2026-03-02 15:00,12,mg/m3,1e309,N,\n"                            // line 17
        csv += "E\u{0}2,DA001,SO2,2026-03-02 16:00,12,mg/m3,35,N,\n"                          // line 18
        csv += "E1,DA001,SO2,2026-03-02 17:00,12,mg/m3,35,N,a\u{0}b\n"                        // line 19
        let result = try await db.ingest(.emissions, bytes: Array(csv.utf8), fileName: "hostile.csv")
        #expect(result.status == "loaded", "\(result)")
        #expect(result.rowsLoaded == 12 && result.rowsRejected == 6, "\(result)")
        #expect(result.error == nil)
        let reasons = try await Self.rejections(db, result)
        #expect(reasons["14"]?.contains("out of range") == true, "\(reasons)")
        #expect(reasons["15"]?.contains("out of range") == true, "\(reasons)")
        #expect(reasons["16"]?.contains("too many digits") == true, "\(reasons)")
        #expect(reasons["17"]?.contains("out of range") == true, "\(reasons)")
        #expect(reasons["18"]?.contains("NUL") == true, "\(reasons)")
        #expect(reasons["19"]?.contains("NUL") == true, "\(reasons)")
        #expect(try await db.value("SELECT count(*) FROM envmon.emission_reading") == "12")
    }

    @Test("sewage, green and waste: 1e309 and a count beyond an integer")
    func periodFeeds() async throws {
        let db = try await TestDatabase.make()
        let sewage = try await db.ingest(.sewage, csv: """
            plant_id,period,sewage_discharged_m3,sewage_treated_m3
            P1,2026-03,1000,990
            P2,2026-03,1e309,990
            P3,2026-03,1000,990
            """)
        #expect(sewage.status == "loaded" && sewage.rowsLoaded == 2 && sewage.rowsRejected == 1, "\(sewage)")
        #expect(try await Self.rejections(db, sewage)["3"]?.contains("out of range") == true)

        let green = try await db.ingest(.green, csv: """
            district,period,built_up_area_ha,green_covered_area_ha,park_green_area_ha,population
            甲街道,2025,1200,500,90,100000
            乙街道,2025,1200,500,90,1e309
            丙街道,2025,1200,500,90,100000
            """)
        #expect(green.status == "loaded" && green.rowsLoaded == 2 && green.rowsRejected == 1, "\(green)")

        let waste = try await db.ingest(.waste, csv: """
            district,period,collected_t,harmless_t,white_pollution_sites,white_pollution_remediated
            甲街道,2026-03,3000,3000,20,19
            乙街道,2026-03,3000,3000,99999999999,19
            丙街道,2026-03,3000,3000,20,19
            """)
        #expect(waste.status == "loaded" && waste.rowsLoaded == 2 && waste.rowsRejected == 1, "\(waste)")
        #expect(try await Self.rejections(db, waste)["3"]?.contains("too large for a count") == true)
        // Exactly what was sent, not a value rounded through a double.
        let exact = try await db.ingest(.sewage, csv: """
            plant_id,period,sewage_discharged_m3,sewage_treated_m3
            P9,2026-03,123456789012345.123456789012345,1
            """)
        #expect(exact.rowsLoaded == 1, "\(exact)")
        #expect(try await db.value("SELECT sewage_discharged_m3 FROM envmon.sewage_report WHERE plant_id = 'P9'")
                == "123456789012345.123456789012345")
    }

    @Test("a date with a sign in front is not a date")
    func signedDate() async throws {
        let db = try await TestDatabase.make()
        let result = try await db.ingest(.emissions, csv: """
            enterprise_id,outlet_id,pollutant,measured_at,value,unit,limit
            E1,DA001,SO2,-2026-03-19 10:00,12,mg/m3,35
            E1,DA001,SO2,2026-03-19 10:00,12,mg/m3,35
            """)
        #expect(result.rowsLoaded == 1 && result.rowsRejected == 1, "\(result)")
        let waste = try await db.ingest(.waste, csv: """
            district,period,collected_t,harmless_t
            甲街道,-2026-03,3000,3000
            乙街道,2026-03,3000,3000
            """)
        #expect(waste.rowsLoaded == 1 && waste.rowsRejected == 1, "\(waste)")
    }
}

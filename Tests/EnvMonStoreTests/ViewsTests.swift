// Over 400 lines on purpose: five small suites over one set of view fixtures (the loaders and
// expected classes at the top are shared by all of them).
import EnvMonDomain
@testable import EnvMonStore
import EnvMonTestSupport
import Foundation
import Testing

/// Small datasets for the analytics views, computed by hand in the comments beside each test.
private enum ViewFeeds {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/views")

    /// One row's text value (NULL and a missing row → nil).
    static func text(_ rows: [[String: String?]], _ column: String) -> String? {
        rows.first?[column] ?? nil
    }

    static func number(_ rows: [[String: String?]], _ column: String) -> Double? {
        text(rows, column).flatMap(Double.init)
    }

    /// numerator, denominator and value of one metric value row (empty when there is none).
    static func metric(_ db: TestDatabase, _ metric: String, scope: String = "all",
                       period: String) async throws -> [[String: String?]] {
        try await db.rows("""
            SELECT numerator, denominator, value, value_pct, unit FROM analytics.metric_values
            WHERE metric = '\(metric)' AND scope = '\(scope)' AND period = '\(period)'
            """)
    }

    /// Replaces the plan targets with one target for `metric`.
    static func target(_ db: TestDatabase, _ metric: String, _ comparator: String, _ value: String,
                       granularity: String = "month") async throws {
        try await db.execute("""
            DELETE FROM envmon.plan_target;
            INSERT INTO envmon.plan_target (metric, scope, comparator, value, granularity, due)
            VALUES ('\(metric)', 'all', '\(comparator)', \(value), '\(granularity)', '2028-12-31')
            """)
    }

    static func load(_ db: TestDatabase, _ kind: FeedKind, _ csv: String, year: Int? = nil) async throws {
        let summary = try await db.ingest(kind, csv: csv, year: year)
        #expect(summary.status == "loaded", "\(summary.error ?? "")")
        #expect(summary.rowsRejected == 0)
    }
}

/// One single-item case of GB 3838-2002 Table 1 (Fixtures/views/gb3838_boundaries.csv).
struct GB3838ItemCase: Sendable, CustomTestStringConvertible {
    let item: String
    let value: String
    let waterBody: String
    let expectedClass: String?

    var testDescription: String { "\(item) \(value) in a \(waterBody) → \(expectedClass ?? "no class")" }

    static let table: [GB3838ItemCase] = {
        let url = ViewFeeds.fixtures.appendingPathComponent("gb3838_boundaries.csv")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").dropFirst().compactMap { line in
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard cells.count == 4 else { return nil }
            return GB3838ItemCase(item: cells[0], value: cells[1], waterBody: cells[2],
                                  expectedClass: cells[3].isEmpty ? nil : cells[3])
        }
    }()
}

/// One database for the read-only classification cases, made on first use.
private let classificationDatabase = Task { try await TestDatabase.make() }

@Suite("GB 3838-2002 single-factor classification", .timeLimit(.minutes(10)), .temporaryDatabases)
struct GB3838ClassificationTests {
    @Test func everyItemOfTable1HasBoundaryCases() {
        #expect(GB3838ItemCase.table.count == 167)
        let items = Set(GB3838ItemCase.table.map(\.item))
        #expect(items.count == 22)   // the 21 assessed items and TN
    }

    @Test("value on a limit → the better class; beyond class Ⅴ → 6 (劣Ⅴ)", arguments: GB3838ItemCase.table)
    func itemClass(_ c: GB3838ItemCase) async throws {
        let db = try await classificationDatabase.value
        let rows = try await db.rows(
            "SELECT envmon.gb3838_item_class('\(c.item)', \(c.value), '\(c.waterBody)') AS class")
        #expect(ViewFeeds.text(rows, "class") == c.expectedClass)
    }

    @Test("the worst assessed item decides; TN never does, but lakes get a TN class")
    func sampleClass() async throws {
        let db = try await classificationDatabase.value
        // TP 0.02: Ⅰ in a river, Ⅱ in a lake (0.01 < 0.02 ≤ 0.025). TN 2.5 is beyond Ⅴ (2.0).
        let sample = #"'{"ph": 7.2, "do": 8.0, "codmn": 1.5, "nh3n": 0.1, "tp": 0.02, "tn": 2.5}'::jsonb"#
        let river = try await db.rows("""
            SELECT a.class, array_to_string(a.deciding_items, ',') AS deciding, a.tn_class
            FROM envmon.gb3838_assess(\(sample), 'river') a
            """)
        #expect(ViewFeeds.text(river, "class") == "1")
        #expect(ViewFeeds.text(river, "deciding") == "ph,do,codmn,nh3n,tp")
        #expect(ViewFeeds.text(river, "tn_class") == nil)
        let lake = try await db.rows("""
            SELECT a.class, array_to_string(a.deciding_items, ',') AS deciding, a.tn_class
            FROM envmon.gb3838_assess(\(sample), 'lake') a
            """)
        #expect(ViewFeeds.text(lake, "class") == "2")
        #expect(ViewFeeds.text(lake, "deciding") == "tp")
        #expect(ViewFeeds.text(lake, "tn_class") == "6")
        // DO below 2 and pH 9.1 are each 劣Ⅴ on their own.
        let worst = try await db.rows("""
            SELECT (envmon.gb3838_assess('{"do": 1.9, "ph": 7}', 'river')).class AS low_do,
                   (envmon.gb3838_assess('{"do": 8, "ph": 9.1}', 'river')).class AS high_ph
            """)
        #expect(ViewFeeds.text(worst, "low_do") == "6")
        #expect(ViewFeeds.text(worst, "high_ph") == "6")
    }
}

@Suite("Water: sample, period and share", .timeLimit(.minutes(10)), .temporaryDatabases)
struct WaterViewsTests {
    // S1 sample 1: DO 7.0 Ⅱ, CODMn 3 Ⅱ, NH3-N 0.4 Ⅱ, TP 0.15 Ⅲ → Ⅲ (reported Ⅱ: a discrepancy).
    // S1 sample 2: DO 3.5 Ⅳ, CODMn 5 Ⅲ, NH3-N 1.6 Ⅴ, TP 0.05 Ⅱ → Ⅴ (as reported).
    // S1 March means: DO 5.25 Ⅲ, CODMn 4.0 Ⅱ (on the limit), NH3-N 1.0 Ⅲ (on the limit), TP 0.1
    // Ⅱ (on the limit) → Ⅲ, decided by DO and NH3-N: not Ⅴ, the worse sample.
    // S2 (level 2): NH3-N 2.5 → 劣Ⅴ. S3 is first-level (not in the share). L1 is a lake: TP 0.05
    // → Ⅲ by lake limits, TN 1.2 → TN class Ⅳ.
    static let samples = """
        section_id,section_name,river,river_level,water_body,district,sampled_at,ph,do,codmn,nh3n,tp,tn,reported_class
        S1,North bridge,Qing river,2,river,Xinhua,2026-03-05 10:00,7.2,7.0,3.0,0.4,0.15,,Ⅱ
        S1,North bridge,Qing river,2,river,Xinhua,2026-03-20 10:00,7.6,3.5,5.0,1.6,0.05,,Ⅴ
        S2,Mill weir,Mill brook,2,river,Dongcheng,2026-03-10 09:00,7.0,6.5,4.0,2.5,0.1,,
        S3,East gate,Grand canal,1,river,Dongcheng,2026-03-11 09:00,7.0,8.0,1.0,0.1,0.01,,
        L1,Lake centre,West lake,,lake,Xinhua,2026-03-12 09:00,8.0,8.0,2.0,0.1,0.05,1.2,
        """

    @Test func periodClassComesFromThePeriodMeans() async throws {
        let db = try await TestDatabase.make()
        try await ViewFeeds.load(db, .water, Self.samples)
        let s1 = try await db.rows("""
            SELECT class, class_label, array_to_string(deciding_items, ',') AS deciding, sample_count,
                   river_level, reported_class
            FROM analytics.water_section_class WHERE section_id = 'S1' AND period = '2026-03'
            """)
        #expect(ViewFeeds.text(s1, "class") == "3")
        #expect(ViewFeeds.text(s1, "class_label") == "Ⅲ")
        #expect(ViewFeeds.text(s1, "deciding") == "do,nh3n")
        #expect(ViewFeeds.text(s1, "sample_count") == "2")
        #expect(ViewFeeds.text(s1, "reported_class") == "5")   // the worst reported in the period
        let year = try await db.rows(
            "SELECT class FROM analytics.water_section_class WHERE section_id = 'S1' AND period = '2026'")
        #expect(ViewFeeds.text(year, "class") == "3")
        let lake = try await db.rows("""
            SELECT class, tn_class, water_body FROM analytics.water_section_class
            WHERE section_id = 'L1' AND period = '2026-03'
            """)
        #expect(ViewFeeds.text(lake, "class") == "3")
        #expect(ViewFeeds.text(lake, "tn_class") == "4")
        #expect(ViewFeeds.text(lake, "water_body") == "lake")
    }

    @Test func samplesKeepTheirReportedClassAndDisagreementsAreListed() async throws {
        let db = try await TestDatabase.make()
        try await ViewFeeds.load(db, .water, Self.samples)
        let classes = try await db.rows(
            "SELECT class, reported_class FROM analytics.water_sample_class WHERE section_id = 'S1' ORDER BY sampled_at")
        #expect(classes.map { $0["class"] ?? nil } == ["3", "5"])
        #expect(classes.map { $0["reported_class"] ?? nil } == ["2", "5"])
        let listed = try await db.rows(
            "SELECT section_id, computed_class, reported_class, difference FROM analytics.water_class_discrepancies")
        #expect(listed.count == 1)
        #expect(ViewFeeds.text(listed, "section_id") == "S1")
        #expect(ViewFeeds.text(listed, "difference") == "1")

        // A section's console page classifies only that section's samples, and says what the view says.
        for section in ["S1", "S2", "S3", "L1"] {
            let view = try await db.rows("""
                SELECT class_label, reported_label FROM analytics.water_sample_class
                WHERE section_id = '\(section)' ORDER BY sampled_at
                """)
            let page = try await db.withDatabase { try await ConsoleQueries(database: $0).sectionSamples(section) }
            #expect(!page.isEmpty)
            #expect(page.map(\.classLabel) == view.map { $0["class_label"] ?? nil })
            #expect(page.map(\.reportedLabel) == view.map { $0["reported_label"] ?? nil })
        }
    }

    @Test func shareCountsSecondLevelSectionsAtClassVOrBetter() async throws {
        let db = try await TestDatabase.make()
        try await ViewFeeds.load(db, .water, Self.samples)
        // Level 2: S1 (Ⅲ) and S2 (劣Ⅴ) → 1/2. Xinhua: S1 → 1/1. Dongcheng: S2 → 0/1 (S3 is level 1).
        let all = try await ViewFeeds.metric(db, "water_class_v_or_better_share", period: "2026-03")
        #expect(ViewFeeds.number(all, "numerator") == 1)
        #expect(ViewFeeds.number(all, "denominator") == 2)
        #expect(ViewFeeds.number(all, "value") == 0.5)
        #expect(ViewFeeds.number(all, "value_pct") == 50)
        #expect(ViewFeeds.number(try await ViewFeeds.metric(
            db, "water_class_v_or_better_share", scope: "Xinhua", period: "2026-03"), "value") == 1)
        #expect(ViewFeeds.number(try await ViewFeeds.metric(
            db, "water_class_v_or_better_share", scope: "Dongcheng", period: "2026"), "value") == 0)
    }

    @Test("the national automatic stations' publication loads and classifies as published")
    func automaticStationsPublication() async throws {
        let db = try await TestDatabase.make()
        let csv = try String(contentsOf: ViewFeeds.fixtures.appendingPathComponent("cnemc_auto_stations_2021-04.csv"),
                             encoding: .utf8)
        let summary = try await db.ingest(.water, csv: csv, year: 2021)
        #expect(summary.status == "loaded", "\(summary.error ?? "")")
        #expect(summary.rowsLoaded == 43)
        // Displayed values exactly on a limit: the publication computed from unrounded values.
        let onALimit = ["汾湖大桥(界标)": "Ⅱ", "罗家营": "Ⅳ", "阳宗海中": "Ⅱ"]
        let rows = try await db.rows(
            "SELECT section_id, class_label, reported_label FROM analytics.water_sample_class")
        #expect(rows.count == 43)
        for row in rows {
            let section = row["section_id"] ?? nil
            let expected = section.flatMap { onALimit[$0] } ?? (row["reported_label"] ?? nil)
            #expect((row["class_label"] ?? nil) == expected, "\(section ?? "?")")
        }
        let listed = try await db.rows("SELECT section_id FROM analytics.water_class_discrepancies")
        #expect(Set(listed.compactMap { $0["section_id"] ?? nil }) == Set(onALimit.keys))
    }
}

@Suite("Emissions compliance", .timeLimit(.minutes(10)), .temporaryDatabases)
struct EmissionsViewsTests {
    // E1 (Xinhua) SO2 ≤ 35: 03-01 mean (30+40)/2 = 35, on the limit → complies; 03-02 mean 36 →
    // fails; 03-03 the flagged 900 is left out → mean 30 complies. E2 (Dongcheng): COD and pH
    // within limits on both days. E3 only reports flue-gas flow: no compliance role, not counted.
    // E4 (Xinhua) NOx 60 > 50 in April.
    static let readings = """
        enterprise_id,enterprise_name,district,outlet_id,pollutant,measured_at,value,limit,flag
        E1,Works One,Xinhua,G1,SO2,2026-03-01 08:00,30,35,N
        E1,Works One,Xinhua,G1,SO2,2026-03-01 09:00,40,35,N
        E1,Works One,Xinhua,G1,SO2,2026-03-02 08:00,36,35,N
        E1,Works One,Xinhua,G1,SO2,2026-03-03 08:00,30,35,N
        E1,Works One,Xinhua,G1,SO2,2026-03-03 09:00,900,35,F
        E2,Works Two,Dongcheng,W1,COD,2026-03-01 10:00,45,50,N
        E2,Works Two,Dongcheng,W1,pH,2026-03-01 10:00,7.5,6-9,N
        E2,Works Two,Dongcheng,W1,COD,2026-03-02 10:00,48,50,
        E3,Works Three,Dongcheng,G1,a00000,2026-03-01 10:00,1000,,N
        E4,Works Four,Xinhua,G1,NOx,2026-04-01 10:00,60,50,N
        """

    @Test func dailyMeansLeaveFlaggedReadingsOut() async throws {
        let db = try await TestDatabase.make()
        try await ViewFeeds.load(db, .emissions, Self.readings)
        let day = try await db.rows("""
            SELECT mean, limit_max, compliant, valid_count, flagged_count FROM analytics.emission_daily
            WHERE enterprise_id = 'E1' AND day = '2026-03-03'
            """)
        #expect(ViewFeeds.number(day, "mean") == 30)
        #expect(ViewFeeds.text(day, "compliant") == "true")
        #expect(ViewFeeds.text(day, "valid_count") == "1")
        #expect(ViewFeeds.text(day, "flagged_count") == "1")
        let onTheLimit = try await db.rows(
            "SELECT mean, compliant FROM analytics.emission_daily WHERE enterprise_id = 'E1' AND day = '2026-03-01'")
        #expect(ViewFeeds.number(onTheLimit, "mean") == 35)
        #expect(ViewFeeds.text(onTheLimit, "compliant") == "true")
        let exceedances = try await db.rows(
            "SELECT enterprise_id, day::text AS day FROM analytics.emission_exceedances ORDER BY day")
        #expect(exceedances.map { $0["enterprise_id"] ?? nil } == ["E1", "E4"])
    }

    @Test func enterpriseComplianceNamesTheFirstBreach() async throws {
        let db = try await TestDatabase.make()
        try await ViewFeeds.load(db, .emissions, Self.readings)
        let e1 = try await db.rows("""
            SELECT compliant, reporting_days, compliant_days, first_failing_day::text AS day,
                   first_failing_outlet, first_failing_pollutant
            FROM analytics.enterprise_compliance WHERE enterprise_id = 'E1' AND period = '2026-03'
            """)
        #expect(ViewFeeds.text(e1, "compliant") == "false")
        #expect(ViewFeeds.text(e1, "reporting_days") == "3")
        #expect(ViewFeeds.text(e1, "compliant_days") == "2")
        #expect(ViewFeeds.text(e1, "day") == "2026-03-02")
        #expect(ViewFeeds.text(e1, "first_failing_outlet") == "G1")
        #expect(ViewFeeds.text(e1, "first_failing_pollutant") == "SO2")
        let e3 = try await db.rows("SELECT * FROM analytics.enterprise_compliance WHERE enterprise_id = 'E3'")
        #expect(e3.isEmpty)
    }

    @Test func ratesByScopeAndPeriod() async throws {
        let db = try await TestDatabase.make()
        try await ViewFeeds.load(db, .emissions, Self.readings)
        // March: E2 stable of E1, E2 → 1/2; Xinhua 0/1; Dongcheng 1/1 (E3 not counted).
        let march = try await ViewFeeds.metric(db, "emissions_compliance_rate", period: "2026-03")
        #expect(ViewFeeds.number(march, "numerator") == 1)
        #expect(ViewFeeds.number(march, "denominator") == 2)
        #expect(ViewFeeds.number(march, "value") == 0.5)
        #expect(ViewFeeds.text(march, "unit") == "ratio")
        #expect(ViewFeeds.number(try await ViewFeeds.metric(
            db, "emissions_compliance_rate", scope: "Xinhua", period: "2026-03"), "value") == 0)
        let dongcheng = try await ViewFeeds.metric(db, "emissions_compliance_rate", scope: "Dongcheng", period: "2026-03")
        #expect(ViewFeeds.number(dongcheng, "denominator") == 1)
        // The year: E1 and E4 fail, E2 is stable → 1/3.
        let year = try await ViewFeeds.metric(db, "emissions_compliance_rate", period: "2026")
        #expect(ViewFeeds.number(year, "numerator") == 1)
        #expect(ViewFeeds.number(year, "denominator") == 3)
        // Event rate, March: E1 2 of 3 days, E2 2 of 2 → (2/3 + 1) / 2 = 5/6.
        let events = try await ViewFeeds.metric(db, "emissions_event_compliance_rate", period: "2026-03")
        #expect(abs((ViewFeeds.number(events, "value") ?? 0) - 5.0 / 6.0) < 1e-12)
    }
}

@Suite("Sewage, waste and green", .timeLimit(.minutes(10)), .temporaryDatabases)
struct PeriodReportViewsTests {
    @Test func sewageRateSumsVolumesAndAQuarterCountsOnlyInItsYear() async throws {
        let db = try await TestDatabase.make()
        try await ViewFeeds.load(db, .sewage, """
            plant_id,plant_name,district,period,sewage_discharged_m3,sewage_treated_m3
            P1,North plant,Xinhua,2026-03,1000,950
            P2,South plant,Dongcheng,2026-03,500,490
            P3,East plant,Dongcheng,2026-Q1,3000,2900
            """)
        // March: (950 + 490) / 1500 = 0.96; Xinhua 0.95; Dongcheng 0.98 (the quarter is not in March).
        let march = try await ViewFeeds.metric(db, "sewage_treatment_rate", period: "2026-03")
        #expect(ViewFeeds.number(march, "numerator") == 1440)
        #expect(ViewFeeds.number(march, "denominator") == 1500)
        #expect(ViewFeeds.number(march, "value") == 0.96)
        #expect(ViewFeeds.number(try await ViewFeeds.metric(
            db, "sewage_treatment_rate", scope: "Dongcheng", period: "2026-03"), "value") == 0.98)
        // 2026: (950 + 490 + 2900) / 4500.
        let year = try await ViewFeeds.metric(db, "sewage_treatment_rate", period: "2026")
        #expect(ViewFeeds.number(year, "numerator") == 4340)
        #expect(ViewFeeds.number(year, "denominator") == 4500)
        let periods = try await db.rows("SELECT DISTINCT period FROM analytics.metric_values ORDER BY period")
        #expect(periods.map { $0["period"] ?? nil } == ["2026", "2026-03"])
    }

    @Test func harmlessTransferMustBeExactlyAllForTheEqualityTarget() async throws {
        let db = try await TestDatabase.make()
        try await ViewFeeds.load(db, .waste, """
            district,period,collected_t,harmless_t,white_pollution_sites,white_pollution_remediated
            Xinhua,2026-03,1200,1200,10,9
            Dongcheng,2026-03,800,800,5,5
            Xinhua,2026-04,10000,9999,10,10
            """)
        try await ViewFeeds.target(db, "waste_harmless_transfer_rate", "=", "1")
        // March 2000/2000 = 100% → met; April 9999/10000 = 99.99% → missed, and April is the latest.
        let byPeriod = try await db.rows(
            "SELECT period, status FROM analytics.plan_progress_by_period ORDER BY period_end")
        #expect(byPeriod.map { $0["status"] ?? nil } == ["met", "missed"])
        let latest = try await db.rows("SELECT period, status, value_pct FROM analytics.plan_progress")
        #expect(ViewFeeds.text(latest, "period") == "2026-04")
        #expect(ViewFeeds.text(latest, "status") == "missed")
        #expect(ViewFeeds.number(latest, "value_pct") == 99.99)
        // White pollution, March: (9 + 5) / (10 + 5).
        let white = try await ViewFeeds.metric(db, "white_pollution_remediation_rate", period: "2026-03")
        #expect(ViewFeeds.number(white, "numerator") == 14)
        #expect(ViewFeeds.number(white, "denominator") == 15)
    }

    @Test func greenMetricsUseTheSurveyedPeriod() async throws {
        let db = try await TestDatabase.make()
        try await ViewFeeds.load(db, .green, """
            district,period,built_up_area_ha,green_covered_area_ha,park_green_area_ha,population
            Xinhua,2025,1200,480,90,100000
            Dongcheng,2025,800,340,60,80000
            """)
        // Coverage 820 / 2000 = 0.41; park green (90 + 60) ha × 10,000 / 180,000 people = 8.33 m².
        let coverage = try await ViewFeeds.metric(db, "green_coverage_rate", period: "2025")
        #expect(ViewFeeds.number(coverage, "value") == 0.41)
        let park = try await ViewFeeds.metric(db, "park_green_per_capita_m2", period: "2025")
        #expect(ViewFeeds.text(park, "unit") == "m2/person")
        #expect(ViewFeeds.text(park, "value_pct") == nil)
        #expect(abs((ViewFeeds.number(park, "value") ?? 0) - 1_500_000.0 / 180_000.0) < 1e-9)
        #expect(ViewFeeds.number(try await ViewFeeds.metric(
            db, "park_green_per_capita_m2", scope: "Xinhua", period: "2025"), "value") == 9)
        // Coverage exactly at a ≥ 41% target is met.
        try await ViewFeeds.target(db, "green_coverage_rate", ">=", "0.41", granularity: "year")
        let progress = try await db.rows("SELECT status, gap FROM analytics.plan_progress")
        #expect(ViewFeeds.text(progress, "status") == "met")
        #expect(ViewFeeds.number(progress, "gap") == 0)
    }
}

@Suite("Plan progress and analyst access", .timeLimit(.minutes(10)), .temporaryDatabases)
struct PlanProgressViewsTests {
    @Test func metNowButFallingIsAtRisk() async throws {
        let db = try await TestDatabase.make()
        try await ViewFeeds.load(db, .sewage, """
            plant_id,plant_name,district,period,sewage_discharged_m3,sewage_treated_m3
            P1,North plant,Xinhua,2026-01,1000,1000
            P1,North plant,Xinhua,2026-02,1000,980
            P1,North plant,Xinhua,2026-03,1000,960
            """)
        try await ViewFeeds.target(db, "sewage_treatment_rate", ">=", "0.95")
        // 96% meets 95%, but falling about two points a month the line ends near 28% by the end of 2028.
        let progress = try await db.rows("SELECT period, value, status, projected FROM analytics.plan_progress")
        #expect(ViewFeeds.text(progress, "period") == "2026-03")
        #expect(ViewFeeds.number(progress, "value") == 0.96)
        #expect(ViewFeeds.text(progress, "status") == "at_risk")
        let projected = try #require(ViewFeeds.number(progress, "projected"))
        #expect(projected < 0.95)
        #expect(abs(projected - 0.28) < 0.05)
    }

    @Test func aTargetWithoutDataHasNoData() async throws {
        let db = try await TestDatabase.make()
        try await ViewFeeds.target(db, "water_class_v_or_better_share", ">=", "0.5")
        let progress = try await db.rows("SELECT status, value FROM analytics.plan_progress")
        #expect(ViewFeeds.text(progress, "status") == "no_data")
        #expect(ViewFeeds.text(progress, "value") == nil)
    }

    @Test func analystsReadTheViewsAndNothingElse() async throws {
        let db = try await TestDatabase.make()
        try await ViewFeeds.load(db, .emissions, EmissionsViewsTests.readings)
        let values = try await db.rowsAsAnalyst("SELECT metric FROM analytics.metric_values")
        #expect(!values.isEmpty)
        let limits = try await db.rowsAsAnalyst(
            "SELECT analytics.gb3838_item_class('tp', 0.05, 'lake') AS lake, count(*) AS n FROM analytics.gb3838_limits")
        #expect(ViewFeeds.text(limits, "lake") == "3")
        await #expect(throws: (any Error).self) {
            _ = try await db.rowsAsAnalyst("SELECT * FROM envmon.api_token")
        }
        await #expect(throws: (any Error).self) {
            _ = try await db.rowsAsAnalyst("SELECT * FROM envmon.emission_reading")
        }
        // Writing: the same statements succeed for the owner, so a failure is the permission's.
        let insert = """
            INSERT INTO envmon.plan_target (metric, comparator, value, granularity, due)
            VALUES ('sewage_treatment_rate', '>=', 0.95, 'month', '2028-12-31')
            """
        let createView = "CREATE VIEW analytics.analyst_own AS SELECT 1 AS one"
        try await db.execute("SET ROLE analyst_test; SELECT 1")
        await #expect(throws: (any Error).self) { try await db.execute("SET ROLE analyst_test; " + insert) }
        await #expect(throws: (any Error).self) { try await db.execute("SET ROLE analyst_test; " + createView) }
        try await db.execute(insert)
        try await db.execute(createView)
    }
}

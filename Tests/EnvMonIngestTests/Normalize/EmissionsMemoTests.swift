import EnvMonDomain
import Testing
@testable import EnvMonIngest

/// Repeated emissions cells are normalised once per upload (`EmissionsMemo`); a row that hits
/// the memo must come out exactly as a row normalised from scratch.
@Suite struct EmissionsMemoTests {
    static let header = ["enterprise_id", "enterprise_name", "district", "outlet_id", "pollutant", "measured_at",
                         "value", "unit", "limit", "flag"]

    static func row(_ pollutant: String, _ value: String?, unit: String = "mg/m3", limit: String = "35",
                    time: String = "2026-03-01 10:00") -> [String?] {
        ["91310115MA1H000001", "东方热电", "城关街道", "DA001", pollutant, time, value, unit, limit, "N"]
    }

    /// The outcome of `cells` as the second row after `first` (a memo hit when the static
    /// cells match), and from scratch.
    static func both(_ cells: [String?], after first: [String?]) throws -> (remembered: RowOutcome, fresh: RowOutcome) {
        let normalizer = try #require(try RowNormalizer.resolve(header: header, options: Fixture.options(.emissions)))
        var memo = normalizer.makeMemo()
        _ = normalizer.normalize(line: 2, cells: first, memo: &memo)
        let remembered = normalizer.normalize(line: 3, cells: cells, memo: &memo)
        let fresh = normalizer.normalize(line: 3, cells: cells)
        return (remembered, fresh)
    }

    @Test(arguments: ["12", "12.50", "007", "0", "0.0", "35.000001", "123456789012345", "-3", "1e3", " 5",
                      "<0.5", "未检出", "—", "abc", "5.", "1.2.3", "1234567890123456"])
    func aRememberedRowEqualsAFreshOne(value: String) throws {
        for pollutant in ["SO2", "pH", "流量"] {
            let unit = pollutant == "pH" ? "" : pollutant == "流量" ? "m3/h" : "mg/m3"
            let limit = pollutant == "pH" ? "6-9" : pollutant == "流量" ? "" : "35"
            let first = Self.row(pollutant, "1", unit: unit, limit: limit, time: "2026-03-01 09:00")
            let cells = Self.row(pollutant, value, unit: unit, limit: limit)
            let (remembered, fresh) = try Self.both(cells, after: first)
            switch (remembered, fresh) {
            case (.record(let a), .record(let b)):
                // The value may be written differently ("12.50" or "12.5"), never as another number.
                let valueIndex = FeedKind.emissions.stagingColumns.firstIndex(of: "value") ?? 0
                #expect(a.fields[valueIndex].flatMap(Double.init) == b.fields[valueIndex].flatMap(Double.init),
                        "\(pollutant) \(value)")
                var left = a.fields, right = b.fields
                left[valueIndex] = nil
                right[valueIndex] = nil
                #expect(left == right, "\(pollutant) \(value)")
            case (.rejected(let a), .rejected(let b)):
                #expect(a == b, "\(pollutant) \(value)")
            default:
                Issue.record("\(pollutant) \(value): remembered \(remembered), fresh \(fresh)")
            }
        }
    }

    @Test func aRowWithABadStaticCellIsNeverRemembered() throws {
        let bad = Self.row("XYZ", "1")
        let (remembered, fresh) = try Self.both(bad, after: bad)
        #expect(remembered == fresh)
        guard case .rejected(let rejections) = remembered else {
            Issue.record("expected the unknown pollutant to be rejected again")
            return
        }
        #expect(rejections.map(\.reason) == ["unknown pollutant code"])
    }

    @Test func keysCompareBytesNotJustText() {
        // "é" precomposed and decomposed are equal Strings but different bytes: two memo entries,
        // each normalised on its own (never one row's outcome for the other's cells).
        let composed = EmissionsMemo.Key(cells: ["caf\u{E9}", nil])
        let decomposed = EmissionsMemo.Key(cells: ["cafe\u{301}", nil])
        #expect(composed != decomposed)
        #expect(composed == EmissionsMemo.Key(cells: ["caf\u{E9}", nil]))
        #expect(EmissionsMemo.Key(cells: ["a", nil]) != EmissionsMemo.Key(cells: [nil, "a"]))
        #expect(EmissionsMemo.Key(cells: ["ab", "c"]) != EmissionsMemo.Key(cells: ["a", "bc"]))
    }
}

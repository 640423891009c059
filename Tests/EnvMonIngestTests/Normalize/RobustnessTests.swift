import EnvMonDomain
import Testing
@testable import EnvMonIngest

/// No cell content may crash the normaliser; every row ends as a record, rejections, a total
/// row or a blank row, and a record always has the kind's staging columns.
@Suite struct RobustnessTests {
    /// A small deterministic generator (SplitMix64), so that a failure can be replayed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let pieces = ["", "-", "--", "*", "<", "0", "9", ".", ",", "E", "e+", "+", "年", "月", "日", "时", "Q", "第",
                         "季度", "劣", "Ⅴ", "类", "L", "未检出", "合", "2026", "12", ":", "/", " ", "T", "Z", "+08:00",
                         "\u{0}", "\"", "\\", "１", "（", "）", "μ", "\u{FFFD}", "🙂", "99999999999", "E+17"]

    @Test(arguments: FeedKind.allCases)
    func randomCellsNeverCrash(kind: FeedKind) throws {
        let header = ColumnAliases.columns(for: kind).map(\.canonical) + ["备注"]
        let normalizer = try #require(try RowNormalizer.resolve(header: header, options: Fixture.options(kind, year: 2026)))
        var random = SplitMix(state: UInt64(kind.rawValue.count))
        var records = 0, rejected = 0
        for line in 2..<1_500 {
            let width = Int.random(in: 0...(header.count + 2), using: &random)
            let cells: [String?] = (0..<width).map { _ in
                if Int.random(in: 0..<8, using: &random) == 0 { return nil }
                let count = Int.random(in: 0...4, using: &random)
                return (0..<count).map { _ in Self.pieces.randomElement(using: &random) ?? "" }.joined()
            }
            switch normalizer.normalize(line: line, cells: cells) {
            case .record(let record):
                records += 1
                #expect(record.fields.count == kind.stagingColumns.count)
                #expect(record.fields.first == String(line))
            case .rejected(let rejections):
                rejected += 1
                #expect(!rejections.isEmpty)
                #expect(rejections.allSatisfy { $0.line == line })
            case .readings(let records, _, let rejections):
                Issue.record("a long header gave wide readings: \(records) \(rejections)")
            case .skippedTotal, .blank:
                break
            }
        }
        #expect(rejected > 0)
    }
}

import EnvMonDomain
import Foundation
import Testing
@testable import EnvMonIngest

/// Shared fixtures: a fixed "now" (2026-11-30 12:00 UTC) and one-row normalisation.
enum Fixture {
    static let now = Date(timeIntervalSince1970: 1_796_040_000)

    static func options(_ kind: FeedKind, year: Int? = nil) -> IngestOptions {
        IngestOptions(kind: kind, year: year, now: now)
    }

    /// Normalises one data row (line 2) under `header`.
    static func outcome(_ kind: FeedKind, _ header: [String], _ cells: [String?], year: Int? = nil,
                        line: Int = 2) throws -> RowOutcome {
        let normalizer = try #require(try RowNormalizer.resolve(header: header, options: options(kind, year: year)))
        return normalizer.normalize(line: line, cells: cells)
    }

    /// The staging record of a good row, as column name → field.
    static func record(_ kind: FeedKind, _ header: [String], _ cells: [String?],
                       year: Int? = nil) throws -> StagingFields {
        let result = try outcome(kind, header, cells, year: year)
        guard case .record(let record) = result else {
            Issue.record("expected a record, got \(result)")
            return StagingFields(kind: kind, fields: [])
        }
        #expect(record.fields.count == kind.stagingColumns.count)
        return StagingFields(kind: kind, fields: record.fields)
    }

    /// The rejections of a bad row.
    static func rejections(_ kind: FeedKind, _ header: [String], _ cells: [String?],
                           year: Int? = nil, line: Int = 2) throws -> [Rejection] {
        let result = try outcome(kind, header, cells, year: year, line: line)
        guard case .rejected(let rejections) = result else {
            Issue.record("expected rejections, got \(result)")
            return []
        }
        return rejections
    }

    /// Finds `relative` in the nearest ancestor of this source file that has it (the project root,
    /// or the folder beside it that holds shared/).
    static func locate(_ relative: String, from file: String = #filePath) -> URL? {
        var directory = URL(fileURLWithPath: file).deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent(relative)
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            directory.deleteLastPathComponent()
        }
        return nil
    }

    static let emissionsHeader = ["enterprise_id", "outlet_id", "pollutant", "measured_at", "value", "unit", "limit", "flag"]

    /// An emissions row with one column changed.
    static func emissionsRow(_ changes: [String: String?] = [:]) -> [String?] {
        var row: [String: String?] = [
            "enterprise_id": "91310115MA1H7AB12C", "outlet_id": "DA001", "pollutant": "SO2",
            "measured_at": "2026-03-05 08:00", "value": "21.5", "unit": "mg/m3", "limit": "35", "flag": "N",
        ]
        for (key, value) in changes { row[key] = value }
        return emissionsHeader.map { row[$0] ?? nil }
    }
}

/// A staging record's fields by column name (`nil` is NULL, also for an unknown name).
struct StagingFields {
    var kind: FeedKind
    var fields: [String?]

    subscript(_ column: String) -> String? {
        guard let index = kind.stagingColumns.firstIndex(of: column), index < fields.count else { return nil }
        return fields[index]
    }
}

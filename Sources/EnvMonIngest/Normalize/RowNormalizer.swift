public import EnvMonDomain
import Foundation

/// What became of one row of an upload.
public enum RowOutcome: Sendable, Equatable {
    /// A good row, ready for the kind's staging table.
    case record(StagingRecord)
    /// A bad row: one rejection per bad cell (or one for the row as a whole).
    case rejected([Rejection])
    /// A total row (合计, 总计, 小计): skipped and counted, never loaded as a place.
    case skippedTotal
    /// An empty row: ignored.
    case blank
    /// A row of a wide export: one reading per pollutant with a value; `rejected` readings
    /// had `rejections` (a cell shared by several readings is named once).
    case readings([StagingRecord], rejected: Int, rejections: [Rejection])
}

/// Maps one upload's header to its kind's columns and turns each row into a staging record
/// or rejections.
///
/// ```swift
/// guard let normalizer = try RowNormalizer.resolve(header: header, options: options) else { … }
/// switch normalizer.normalize(line: 2, cells: cells) { case .record(let record): … }
/// ```
public struct RowNormalizer: Sendable {
    let options: IngestOptions
    let layout: HeaderLayout
    /// Set for a wide emissions export (`WideLayout`).
    var wide: WideLayout?

    /// The normalizer for `header`, nil when it lacks a required column (the caller tries the
    /// next row: title rows sit above the header in Excel sheets).
    /// - Throws: `FeedError` when the header can never work: a unit it cannot convert, or
    ///   the same column twice.
    public static func resolve(header: [String], options: IngestOptions) throws(FeedError) -> RowNormalizer? {
        let layout = HeaderLayout(header: header, kind: options.kind)
        let missing = layout.missing(kind: options.kind)
        if options.kind == .emissions, !missing.isEmpty, missing.allSatisfy({ $0 == "pollutant" || $0 == "value" }),
           let wide = WideLayout.detect(header: header, base: layout) {
            if let problem = layout.problems.first {
                throw FeedError(layout.problems.count == 1 ? problem : layout.problems.joined(separator: "; "))
            }
            return RowNormalizer(options: options, layout: layout, wide: wide)
        }
        guard missing.isEmpty else { return nil }
        if let problem = layout.problems.first {
            throw FeedError(layout.problems.count == 1 ? problem : layout.problems.joined(separator: "; "))
        }
        return RowNormalizer(options: options, layout: layout)
    }

    /// Canonical names of the required columns `header` lacks (`period` stands for
    /// `period` or `period_start` + `period_end`).
    public static func missingRequired(header: [String], kind: FeedKind) -> [String] {
        let layout = HeaderLayout(header: header, kind: kind)
        let missing = layout.missing(kind: kind)
        if kind == .emissions, missing.contains("value") || missing.contains("pollutant"),
           WideLayout.detect(header: header, base: layout) != nil {
            return missing.filter { $0 != "pollutant" && $0 != "value" }
        }
        return missing
    }

    /// Normalises one row; `cells` are positional to the header (missing trailing cells are
    /// empty; cells beyond the header are kept in `extra`).
    public func normalize(line: Int, cells: [String?]) -> RowOutcome {
        var memo = makeMemo()
        return normalize(line: line, cells: cells, memo: &memo)
    }

    /// What `normalize(line:cells:memo:)` remembers between rows of this header.
    func makeMemo() -> EmissionsMemo {
        var memo = EmissionsMemo(layout: layout)
        memo.groups = wide?.layouts.map(EmissionsMemo.init(layout:)) ?? []
        return memo
    }

    /// Normalises one row, remembering repeated cells' outcomes in `memo` (from `makeMemo`).
    func normalize(line: Int, cells: [String?], memo: inout EmissionsMemo) -> RowOutcome {
        if cells.allSatisfy({ $0 == nil || $0?.trimmingSpaces.isEmpty == true }) { return .blank }
        var row = RowCells(line: line, cells: cells, layout: layout, options: options)
        if row.isTotal(kind: options.kind) { return .skippedTotal }
        // PostgreSQL text cannot hold byte 0: a NUL anywhere is this row's rejection, not the
        // upload's failure at COPY.
        if let index = cells.firstIndex(where: { $0?.utf8.contains(0) == true }) {
            return .rejected([Rejection(line: line, column: layout.header(at: index),
                                        value: cells[index].map { $0.replacingOccurrences(of: "\u{0}", with: "\\0") },
                                        reason: "contains a NUL character (byte 0), which cannot be stored")])
        }
        if let wide { return readings(wide, line: line, cells: cells, memo: &memo) }
        var fields: [String?]
        let (linePosition, extraPosition): (Int, Int)
        switch options.kind {
        case .emissions:
            fields = EmissionsRow.fields(&row, memo: &memo)
            (linePosition, extraPosition) = (EmissionsColumn.line.position, EmissionsColumn.extra.position)
        case .sewage:
            fields = PeriodRows.sewage(&row)
            (linePosition, extraPosition) = (SewageColumn.line.position, SewageColumn.extra.position)
        case .water:
            fields = WaterRow.fields(&row)
            (linePosition, extraPosition) = (WaterColumn.line.position, WaterColumn.extra.position)
        case .green:
            fields = PeriodRows.green(&row)
            (linePosition, extraPosition) = (GreenColumn.line.position, GreenColumn.extra.position)
        case .waste:
            fields = PeriodRows.waste(&row)
            (linePosition, extraPosition) = (WasteColumn.line.position, WasteColumn.extra.position)
        case .permits:
            fields = PermitRow.fields(&row)
            (linePosition, extraPosition) = (PermitColumn.line.position, PermitColumn.extra.position)
        }
        guard row.rejections.isEmpty else { return .rejected(row.rejections) }
        fields[linePosition] = String(line)
        fields[extraPosition] = row.extraJSON()
        return .record(StagingRecord(line: line, fields: fields))
    }

    /// One reading per group of a wide row that has a measured or corrected value.
    private func readings(_ wide: WideLayout, line: Int, cells: [String?], memo: inout EmissionsMemo) -> RowOutcome {
        let extended = cells + wide.groups.map { Optional($0.pollutant) }
        var records: [StagingRecord] = []
        var rejections: [Rejection] = []
        var rejected = 0
        for (number, group) in wide.groups.enumerated() {
            let present = [group.measured, group.corrected].contains { column in
                guard let column, column.index < cells.count else { return false }
                return !CellValue.isNull(cells[column.index])
            }
            guard present else { continue }
            var row = RowCells(line: line, cells: extended, layout: wide.layouts[number], options: options)
            var fields = EmissionsRow.fields(&row, memo: &memo.groups[number])
            guard row.rejections.isEmpty else {
                rejected += 1
                for rejection in row.rejections where !rejections.contains(rejection) { rejections.append(rejection) }
                continue
            }
            fields[EmissionsColumn.line.position] = String(line)
            fields[EmissionsColumn.extra.position] = row.extraJSON()
            records.append(StagingRecord(line: line, fields: fields))
        }
        if records.isEmpty && rejected == 0 { return .blank }
        return .readings(records, rejected: rejected, rejections: rejections)
    }
}

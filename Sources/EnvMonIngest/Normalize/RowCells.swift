import EnvMonDomain
import Foundation

/// One row being normalised: reads cells by canonical column and collects rejections.
struct RowCells {
    let line: Int
    let cells: [String?]
    let layout: HeaderLayout
    let options: IngestOptions
    var rejections: [Rejection] = []

    init(line: Int, cells: [String?], layout: HeaderLayout, options: IngestOptions) {
        self.line = line
        self.cells = cells
        self.layout = layout
        self.options = options
    }

    /// The raw cell of a canonical column, nil when the column or cell is absent.
    func raw(_ column: String) -> String? {
        guard let resolved = layout.columns[column], resolved.index < cells.count else { return nil }
        return cells[resolved.index]
    }

    func has(_ column: String) -> Bool { layout.columns[column] != nil }

    /// Records a rejection of `column`'s cell (or of the whole row when `column` is nil).
    /// A column the upload does not have is named canonically (a JSON record without `limit`).
    mutating func reject(_ column: String?, _ reason: String) {
        let header = column.map { layout.columns[$0]?.header ?? $0 }
        rejections.append(Rejection(line: line, column: header, value: column.flatMap { raw($0) }, reason: reason))
    }

    /// The summary rows monitoring exports end with, in the time or id column.
    static let summaryWords: Set<String> = ["平均值", "最大值", "最小值", "平均", "均值", "样本数", "有效数据个数", "合计", "总计"]

    /// Whether this is a total row: 合计/总计/小计 in the id, district or name column, or a
    /// summary row (平均值, 最大值, 最小值…) as a whole cell of those or the time column.
    func isTotal(kind: FeedKind) -> Bool {
        layout.totalColumnIndices.contains { index in
            guard index < cells.count, let text = cells[index] else { return false }
            if let first = text.utf8.first, first >= 0xE0, text.utf8.count <= 24,
               Self.summaryWords.contains(text.trimmingSpaces) {
                return true
            }
            // "计" is E8 AE A1 in UTF-8; most cells do not hold it, so look for it bytewise first.
            var utf8 = text.utf8.makeIterator()
            var previous: (UInt8, UInt8) = (0, 0)
            var hasJi = false
            while let byte = utf8.next() {
                if previous == (0xE8, 0xAE) && byte == 0xA1 { hasJi = true; break }
                previous = (previous.1, byte)
            }
            guard hasJi else { return false }
            let scalars = Array(text.unicodeScalars)
            // 合计, 总计, 小计: a "计" preceded by 合, 总 or 小.
            return zip(scalars, scalars.dropFirst()).contains { pair in
                pair.1 == "计" && (pair.0 == "合" || pair.0 == "总" || pair.0 == "小")
            }
        }
    }

    /// Trimmed text, nil for an empty cell or a null token; rejects a missing required value.
    mutating func text(_ column: String, required: Bool = false) -> String? {
        let cell = raw(column)
        if CellValue.isNull(cell) {
            if required { reject(column, "a value is required here") }
            return nil
        }
        return cell?.trimmingSpaces
    }

    /// An id: width-folded and trimmed; rejects ids that Excel turned into scientific notation.
    mutating func id(_ column: String, required: Bool = true) -> String? {
        guard let value = text(column, required: required) else { return nil }
        let folded = TextFolding.trimmed(value)
        if RowCells.looksLikeExcelScientific(folded) {
            reject(column, "Excel turned this id into scientific notation, so its digits are lost; "
                + "format the id column as Text in Excel and export again")
            return nil
        }
        return folded
    }

    /// `1.2E+17`, `9.13101E+17`: what Excel shows for a long numeric id.
    static func looksLikeExcelScientific(_ text: String) -> Bool {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "E") || $0 == UInt8(ascii: "e") }) else { return false }
        let upper = text.uppercased()
        guard let e = upper.firstIndex(of: "E") else { return false }
        let mantissa = upper[..<e], exponent = upper[upper.index(after: e)...]
        guard exponent.hasPrefix("+"), exponent.count > 1, exponent.dropFirst().allSatisfy(\.isNumber),
              let first = mantissa.first, first.isNumber else { return false }
        return mantissa.allSatisfy { $0.isNumber || $0 == "." }
    }

    /// A number converted to the column's canonical unit (or by `unitExponent` when the row's
    /// unit cell decides); nil when empty or bad (bad is rejected).
    /// `belowDetection` is set for `<0.01` (the number is kept) and `未检出` (no number).
    mutating func number(_ column: String, required: Bool = false, minimum: Double? = 0,
                         maximum: Double? = nil, rangeReason: String? = nil, unitExponent: Int? = nil,
                         belowDetection: inout Bool) -> DecimalText? {
        let cell = raw(column)
        switch CellValue(cell) {
        case .null:
            if required { reject(column, "a value is required here") }
            return nil
        case .notDetected:
            belowDetection = true
            return nil
        case .invalid:
            reject(column, "not a number")
            return nil
        case .number(let value, let below):
            belowDetection = below
            let exponent = unitExponent ?? layout.columns[column]?.conversion?.exponent ?? 0
            let converted = value.scaled(by: exponent)
            if let problem = converted.outOfRange {
                reject(column, problem)
                return nil
            }
            let double = converted.double
            if let minimum, double < minimum {
                reject(column, rangeReason ?? "must not be negative")
                return nil
            }
            if let maximum, double > maximum {
                reject(column, rangeReason ?? "must not exceed \(maximum)")
                return nil
            }
            return converted
        }
    }

    /// A number when "below detection" has no meaning for the column (volumes, areas, counts).
    mutating func amount(_ column: String, required: Bool = false, wholeNumber: Bool = false) -> DecimalText? {
        var below = false
        let value = number(column, required: required, belowDetection: &below)
        if below {
            reject(column, "not a number")
            return nil
        }
        if let value, wholeNumber, !value.isWhole {
            reject(column, "must be a whole number")
            return nil
        }
        if let value, wholeNumber, value.double > Double(Int32.max) {
            reject(column, "too large for a count (at most \(Int32.max))")
            return nil
        }
        return value
    }

    /// A timestamp as ISO 8601 with offset; rejects unreadable, year-less and future times.
    mutating func timestamp(_ column: String) -> String? {
        guard var value = text(column, required: true) else { return nil }
        if let dateColumn = Self.dateColumns[column], has(dateColumn) {
            // Date and time in two columns (监测日期 + 监测时间): the time cell holds the time of day.
            guard let date = text(dateColumn, required: true) else { return nil }
            value = date + " " + value
        }
        value = Self.hourStart(value)
        let zone = options.timeZone
        do {
            let stamp = try TimestampParser.parse(value, year: options.year) { epoch in
                zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(epoch)))
            }
            if Double(stamp.epochSeconds) > options.now.timeIntervalSince1970 + 86_400 {
                reject(column, "in the future by more than a day")
                return nil
            }
            return stamp.iso
        } catch .noYear {
            reject(column, "time has no year; give the year with --year")
        } catch {
            reject(column, "not a date and time (write e.g. 2024-01-05 08:00)")
        }
        return nil
    }

    /// The date column that goes with a time column, when an upload splits them.
    static let dateColumns = ["measured_at": "measured_date", "sampled_at": "sampled_date"]

    /// An hour given as a range (`13:00-14:00`, `13:00~14:00`, `13:00至14:00`) means the hour
    /// that starts at its first time: `2026-03-01 13:00-14:00` → `2026-03-01 13:00`. Only a
    /// range of one hour on the hour counts, and never after an ISO `T`: `19:00:00-05:00` is a
    /// time with its UTC offset.
    static func hourStart(_ text: String) -> String {
        // `13-14时`: the hour from 13:00.
        if text.hasSuffix("时"), let match = text.firstMatch(of: /(\d{1,2})\s*[-~～—至]\s*(\d{1,2})\s*时$/),
           let start = Int(match.output.1), let end = Int(match.output.2), end == start + 1 || (start == 23 && end == 0) {
            return String(text[..<match.range.lowerBound]) + match.output.1 + ":00"
        }
        guard text.contains(where: { "-~～—至".contains($0) }), !text.contains("T"),
              let match = text.firstMatch(of: /(\d{1,2})[:：]00(?:[:：]00)?\s*[-~～—至]\s*(\d{1,2})[:：]00(?:[:：]00)?\s*$/),
              let start = Int(match.output.1), let end = Int(match.output.2), end == start + 1 || (start == 23 && end == 0)
        else { return text }
        return String(text[..<match.range.lowerBound]) + match.output.1 + ":00"
    }

    /// The row's period from `period`, or from `period_start` + `period_end`.
    mutating func period() -> FeedPeriod? {
        let period: FeedPeriod
        var source = "period"
        if let text = text("period", required: !(has("period_start") && has("period_end"))) {
            guard let parsed = PeriodParser.parse(text) else {
                reject("period", "not a period (write 2024, 2024-01, 2024-Q1, 2024年1月 or 2024年第一季度)")
                return nil
            }
            period = parsed
        } else if has("period_start") && has("period_end") {
            let start = day("period_start"), end = day("period_end")
            guard let start, let end else { return nil }
            guard start <= end else {
                reject("period_end", "the period ends before it starts")
                return nil
            }
            period = .span(start, end)
            source = "period_start"
        } else {
            return nil
        }
        let offset = options.timeZone.secondsFromGMT(for: options.now)
        let startEpoch = period.start.daysSinceEpoch * 86_400 - offset
        if Double(startEpoch) > options.now.timeIntervalSince1970 + 86_400 {
            reject(source, "the period has not begun yet")
            return nil
        }
        return period
    }

    mutating func day(_ column: String, required: Bool = true) -> CivilDate? {
        guard let value = text(column, required: required) else { return nil }
        guard let date = PeriodParser.day(value) else {
            reject(column, "not a date (write e.g. 2024-01-05)")
            return nil
        }
        return date
    }

    /// `extra`: the unknown columns (header text → raw cell) as a JSON object, nil when none has a value.
    func extraJSON() -> String? {
        if layout.unknown.isEmpty && cells.count <= layout.width { return nil }
        var pairs: [(String, String)] = []
        for (index, header) in layout.unknown where index < cells.count {
            if let cell = cells[index], !cell.trimmingSpaces.isEmpty { pairs.append((header, cell)) }
        }
        let width = layout.width
        if cells.count > width {
            for index in width..<cells.count {
                if let cell = cells[index], !cell.trimmingSpaces.isEmpty { pairs.append(("column \(index + 1)", cell)) }
            }
        }
        guard !pairs.isEmpty else { return nil }
        return JSONText.object(pairs.map { ($0.0, JSONText.string($0.1)) })
    }
}

/// Minimal JSON text writing for `extra`, `items` and `below_detection`.
enum JSONText {
    static func string(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// `{"key":value,…}` with values already JSON text.
    static func object(_ pairs: [(String, String)]) -> String {
        "{" + pairs.map { string($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
    }

    static func array(_ values: [String]) -> String {
        "[" + values.joined(separator: ",") + "]"
    }
}

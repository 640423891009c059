import EnvMonDomain
import Foundation

/// The `emissions` kind: one reading of one pollutant at one outlet.
enum EmissionsRow {
    static let flags: Set<String> = ["N", "F", "M", "S", "D", "C", "T", "B"]

    /// The columns whose cells decide everything about a reading except its time and value.
    static let staticColumns = ["enterprise_id", "enterprise_name", "district", "outlet_id", "pollutant", "unit",
                                "limit", "flag"]

    /// The row's fields by `EmissionsColumn` (line and extra are the caller's).
    ///
    /// A feed repeats the same enterprise, outlet, pollutant, unit, limit and flag on every
    /// reading, and the same time on every outlet: `memo` remembers what those cells gave (only
    /// when they gave no rejection), so that a repeated row costs the value and a lookup.
    static func fields(_ row: inout RowCells, memo: inout EmissionsMemo) -> [String?] {
        let key = memo.key(of: row)
        if let known = memo.statics[key] {
            let measuredAt = memo.timestamp(&row)
            // A plain decimal in range needs no DecimalText: PostgreSQL reads it to the same double.
            var fields: [String?]
            if known.exponent == 0, let (text, number) = memo.plainValue(row),
               !((known.isPH || known.isCompliance) && number < 0), !(known.isPH && number > 14) {
                fields = known.fields(measuredAt: measuredAt, value: text, below: false)
            } else {
                let (value, below) = Self.value(&row, isPH: known.isPH, isCompliance: known.isCompliance,
                                                exponent: known.exponent)
                fields = known.fields(measuredAt: measuredAt, value: value, below: below)
            }
            if memo.hasOxygen { oxygen(&row, exponent: known.exponent, into: &fields) }
            return fields
        }
        var staticRejections = 0
        var before = row.rejections.count
        let enterprise = row.id("enterprise_id")
        let name = row.text("enterprise_name")
        let district = row.text("district")
        let outlet = row.id("outlet_id")
        let pollutant = Self.pollutant(&row)
        staticRejections += row.rejections.count - before
        let measuredAt = memo.timestamp(&row)
        let isCompliance = pollutant.map { PollutantCodes.complianceUnit[$0] != nil } ?? false
        let isPH = pollutant == "pH"
        before = row.rejections.count
        let (unit, exponent) = unitOfRow(&row, pollutant: pollutant, isCompliance: isCompliance)
        staticRejections += row.rejections.count - before

        let (value, below) = Self.value(&row, isPH: isPH, isCompliance: isCompliance, exponent: exponent)
        before = row.rejections.count
        let limits = limit(&row, pollutant: pollutant, isCompliance: isCompliance, exponent: exponent)

        var flag: String?
        if let written = row.text("flag") {
            let folded = TextFolding.trimmed(written).uppercased()
            if flags.contains(folded) {
                flag = folded
            } else {
                row.reject("flag", "unknown data flag (HJ 212 flags are N, F, M, S, D, C, T, B)")
            }
        }
        staticRejections += row.rejections.count - before
        let known = EmissionsMemo.Static(
            enterprise: enterprise, name: name, district: district, outlet: outlet, pollutant: pollutant, unit: unit,
            limitMin: limits.min?.plain, limitMax: limits.max?.plain, flag: flag, exponent: exponent, isPH: isPH,
            isCompliance: isCompliance)
        if staticRejections == 0 { memo.remember(key, known) }
        var fields = known.fields(measuredAt: measuredAt, value: value, below: below)
        if memo.hasOxygen { oxygen(&row, exponent: exponent, into: &fields) }
        return fields
    }

    /// The stored pollutant of the row's `pollutant` cell (a code or a name); nil (rejected) when unknown.
    static func pollutant(_ row: inout RowCells) -> String? {
        guard let written = row.text("pollutant", required: true) else { return nil }
        let pollutant = PollutantCodes.canonical(written)
        if pollutant == nil { row.reject("pollutant", "unknown pollutant code") }
        return pollutant
    }

    /// `corrected` (the O2-corrected concentration the feed states, 折算, in the value's unit
    /// unless its header names one) and `o2` (the flue gas's O2 in %, below 21) into `fields`.
    static func oxygen(_ row: inout RowCells, exponent: Int, into fields: inout [String?]) {
        var below = false
        if row.has("corrected") {
            let scale = row.layout.columns["corrected"]?.conversion?.exponent ?? exponent
            fields[EmissionsColumn.corrected.position] = row.number("corrected", unitExponent: scale,
                                                                    belowDetection: &below)?.plain
        }
        if row.has("o2"), let o2 = row.number("o2", belowDetection: &below) {
            if o2.double >= 21 {
                row.reject("o2", "an O2 of 21 % or more is air, not flue gas: the reading cannot be corrected")
            } else {
                fields[EmissionsColumn.o2.position] = o2.plain
            }
        }
    }

    /// The value in the stored unit (nil when missing or rejected), and whether it was below
    /// detection.
    private static func value(_ row: inout RowCells, isPH: Bool, isCompliance: Bool,
                              exponent: Int) -> (text: String?, below: Bool) {
        var below = false
        let value = row.number(
            "value", required: true, minimum: isPH || isCompliance ? 0 : nil, maximum: isPH ? 14 : nil,
            rangeReason: isPH ? "pH must be between 0 and 14" : nil, unitExponent: exponent, belowDetection: &below)
        return (value?.plain, below)
    }

    /// The stored unit and the power of ten that converts the row's value to it.
    private static func unitOfRow(_ row: inout RowCells, pollutant: String?,
                                  isCompliance: Bool) -> (unit: String?, exponent: Int) {
        // The unit cell decides; a unit in the value column's header stands in when it is empty.
        let written = row.text("unit") ?? row.layout.columns["value"]?.unit
        if pollutant == "pH" { return (nil, 0) }
        let expected = pollutant.flatMap { PollutantCodes.complianceUnit[$0] } ?? nil
        guard let written else { return (expected, 0) }
        let column = row.text("unit") == nil ? "value" : "unit"
        if let conversion = Units.concentration[TextFolding.key(written)] {
            if isCompliance, let expected, conversion.canonical != expected, let pollutant {
                row.reject(column, "unit \(written) does not fit \(pollutant) (measured in \(expected))")
            }
            return (conversion.canonical, conversion.exponent)
        }
        if isCompliance {
            row.reject(column, "unknown unit (write mg/m3, µg/m3, g/m3, mg/L or µg/L)")
            return (nil, 0)
        }
        // Flow, temperature, O2 and other factors keep their unit as written: no compliance.
        return (written, 0)
    }

    /// `limit_min` and `limit_max`: `35` → (nil, 35); pH `6-9` → (6, 9).
    static func limit(_ row: inout RowCells, pollutant: String?, isCompliance: Bool,
                              exponent: Int) -> (min: DecimalText?, max: DecimalText?) {
        // No limit in the feed: the permit in force gives it (a day with neither is not judged).
        guard let written = row.text("limit") else { return (nil, nil) }
        let scale = row.layout.columns["limit"]?.conversion?.exponent ?? exponent
        var text = TextFolding.trimmed(written)
        for prefix in ["≤", "<="] where text.hasPrefix(prefix) { text = String(text.dropFirst(prefix.count)) }
        if let single = DecimalText(parsing: text.trimmingSpaces) {
            if let problem = single.scaled(by: scale).outOfRange {
                row.reject("limit", problem)
                return (nil, nil)
            }
            guard !single.negative else {
                row.reject("limit", "must not be negative")
                return (nil, nil)
            }
            return (nil, single.scaled(by: scale))
        }
        // A range: 6-9, 6~9, 6～9, 6—9, 6至9.
        let separators: Set<Character> = ["-", "~", "至"]
        if let split = text.dropFirst().firstIndex(where: { separators.contains($0) }),
           let low = DecimalText(parsing: String(text[..<split]).trimmingSpaces),
           let high = DecimalText(parsing: String(text[text.index(after: split)...]).trimmingSpaces),
           low.double <= high.double {
            if let problem = low.scaled(by: scale).outOfRange ?? high.scaled(by: scale).outOfRange {
                row.reject("limit", problem)
                return (nil, nil)
            }
            return (low.scaled(by: scale), high.scaled(by: scale))
        }
        row.reject("limit", "not a limit (write a number such as 35, or a range such as 6-9)")
        return (nil, nil)
    }
}

/// What an emissions upload's repeated cells gave, remembered for the rest of the upload (see
/// `EmissionsRow.fields`). Bounded: it forgets everything when it holds `capacity` entries.
struct EmissionsMemo: Sendable {
    static let capacity = 20_000

    struct Static: Sendable {
        var enterprise, name, district, outlet, pollutant, unit, limitMin, limitMax, flag: String?
        var exponent: Int
        var isPH: Bool
        var isCompliance: Bool

        /// The row's fields by `EmissionsColumn` with its own time and value (line and extra unset).
        func fields(measuredAt: String?, value: String?, below: Bool) -> [String?] {
            var fields = EmissionsColumn.emptyFields()
            fields[EmissionsColumn.enterpriseID.position] = enterprise
            fields[EmissionsColumn.enterpriseName.position] = name
            fields[EmissionsColumn.district.position] = district
            fields[EmissionsColumn.outletID.position] = outlet
            fields[EmissionsColumn.pollutant.position] = pollutant
            fields[EmissionsColumn.measuredAt.position] = measuredAt
            fields[EmissionsColumn.value.position] = value
            fields[EmissionsColumn.belowDetection.position] = below ? "t" : "f"
            fields[EmissionsColumn.unit.position] = unit
            fields[EmissionsColumn.limitMin.position] = limitMin
            fields[EmissionsColumn.limitMax.position] = limitMax
            fields[EmissionsColumn.flag.position] = flag
            return fields
        }
    }

    /// A time cell's outcome: the ISO text, or the reason it was rejected.
    enum Time: Sendable {
        case iso(String)
        case rejected(String)
    }

    /// The raw cells of `EmissionsRow.staticColumns`, compared and hashed as UTF-8 bytes
    /// (String's own hashing normalises Unicode first, which costs more than the lookup saves).
    struct Key: Hashable {
        var cells: [String?]

        static func == (lhs: Key, rhs: Key) -> Bool {
            guard lhs.cells.count == rhs.cells.count else { return false }
            for (left, right) in zip(lhs.cells, rhs.cells) {
                switch (left, right) {
                case (nil, nil): continue
                case (var left?, var right?):
                    let same = left.withUTF8 { l in
                        right.withUTF8 { r in
                            guard l.count == r.count else { return false }
                            guard let a = l.baseAddress, let b = r.baseAddress else { return true }  // both empty
                            return memcmp(a, b, l.count) == 0
                        }
                    }
                    if !same { return false }
                default: return false
                }
            }
            return true
        }

        func hash(into hasher: inout Hasher) {
            for cell in cells {
                if var cell {
                    cell.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
                    hasher.combine(UInt8(0xFF))  // not UTF-8: ends the cell
                } else {
                    hasher.combine(UInt8(0xFE))
                }
            }
        }
    }

    /// Cell positions of `EmissionsRow.staticColumns` (nil: the upload has no such column).
    private let indices: [Int?]
    private let timeIndex: Int?
    /// The date column, when date and time are in two columns.
    private let dateIndex: Int?
    private let valueIndex: Int?
    /// One memo per pollutant group of a wide export.
    var groups: [EmissionsMemo] = []
    /// Whether the upload has a `corrected` or an `o2` column.
    let hasOxygen: Bool
    private(set) var statics: [Key: Static] = [:]
    private var times: [String: Time] = [:]

    init(layout: HeaderLayout) {
        indices = EmissionsRow.staticColumns.map { layout.columns[$0]?.index }
        timeIndex = layout.columns["measured_at"]?.index
        dateIndex = layout.columns["measured_date"]?.index
        valueIndex = layout.columns["value"]?.index
        hasOxygen = layout.columns["corrected"] != nil || layout.columns["o2"] != nil
    }

    func key(of row: RowCells) -> Key {
        Key(cells: indices.map { index in
            guard let index, index < row.cells.count else { return nil }
            return row.cells[index]
        })
    }

    /// The value cell when it is a plain decimal (`12`, `0.35`; at most 15 digits), with its
    /// number; nil for anything else (signs, exponents, `<DL`, spaces…), which takes the full path.
    func plainValue(_ row: RowCells) -> (String, Double)? {
        guard let valueIndex, valueIndex < row.cells.count, let text = row.cells[valueIndex] else { return nil }
        let utf8 = text.utf8
        guard let first = utf8.first, let last = utf8.last, utf8.count <= 16,
              (48...57).contains(first), (48...57).contains(last) else { return nil }
        var digits = 0
        var points = 0
        for byte in utf8 {
            if (48...57).contains(byte) {
                digits += 1
            } else if byte == UInt8(ascii: ".") {
                points += 1
            } else {
                return nil
            }
        }
        guard points <= 1, digits <= 15, let number = Double(text) else { return nil }
        return (text, number)
    }

    mutating func remember(_ key: Key, _ known: Static) {
        if statics.count >= Self.capacity { statics.removeAll(keepingCapacity: true) }
        statics[key] = known
    }

    /// `RowCells.timestamp("measured_at")`, remembered by the cell's text.
    mutating func timestamp(_ row: inout RowCells) -> String? {
        guard let timeIndex, timeIndex < row.cells.count, var raw = row.cells[timeIndex] else {
            return row.timestamp("measured_at")
        }
        if let dateIndex {
            guard dateIndex < row.cells.count, let date = row.cells[dateIndex] else { return row.timestamp("measured_at") }
            raw = date + "\u{1F}" + raw
        }
        switch times[raw] {
        case .iso(let iso):
            return iso
        case .rejected(let reason):
            row.reject("measured_at", reason)
            return nil
        case nil:
            let before = row.rejections.count
            let iso = row.timestamp("measured_at")
            if times.count >= Self.capacity { times.removeAll(keepingCapacity: true) }
            if let iso {
                times[raw] = .iso(iso)
            } else if row.rejections.count == before + 1, let reason = row.rejections.last?.reason {
                times[raw] = .rejected(reason)
            }
            return iso
        }
    }
}

/// The `emissions` kind: one reading of one pollutant at one outlet.
enum EmissionsRow {
    static let flags: Set<String> = ["N", "F", "M", "S", "D", "C", "T", "B"]

    /// Fields after `line` and before `extra`, in `FeedKind.emissions.stagingColumns` order.
    static func fields(_ row: inout RowCells) -> [String?] {
        let enterprise = row.id("enterprise_id")
        let name = row.text("enterprise_name")
        let district = row.text("district")
        let outlet = row.id("outlet_id")
        var pollutant: String?
        if let written = row.text("pollutant", required: true) {
            pollutant = PollutantCodes.canonical(written)
            if pollutant == nil { row.reject("pollutant", "unknown pollutant code") }
        }
        let measuredAt = row.timestamp("measured_at")
        let isCompliance = pollutant.map { PollutantCodes.complianceUnit[$0] != nil } ?? false
        let isPH = pollutant == "pH"
        let (unit, exponent) = unitOfRow(&row, pollutant: pollutant, isCompliance: isCompliance)

        var below = false
        let value = row.number(
            "value", required: true, minimum: isPH || isCompliance ? 0 : nil, maximum: isPH ? 14 : nil,
            rangeReason: isPH ? "pH must be between 0 and 14" : nil, unitExponent: exponent, belowDetection: &below)
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
        return [enterprise, name, district, outlet, pollutant, measuredAt, value?.plain, below ? "t" : "f",
                unit, limits.min?.plain, limits.max?.plain, flag]
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
    private static func limit(_ row: inout RowCells, pollutant: String?, isCompliance: Bool,
                              exponent: Int) -> (min: DecimalText?, max: DecimalText?) {
        guard let written = row.text("limit") else {
            if isCompliance, let pollutant { row.reject("limit", "a limit is required for \(pollutant)") }
            return (nil, nil)
        }
        let scale = row.layout.columns["limit"]?.conversion?.exponent ?? exponent
        var text = TextFolding.trimmed(written)
        for prefix in ["≤", "<="] where text.hasPrefix(prefix) { text = String(text.dropFirst(prefix.count)) }
        if let single = DecimalText(parsing: text.trimmingSpaces) {
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
            return (low.scaled(by: scale), high.scaled(by: scale))
        }
        row.reject("limit", "not a limit (write a number such as 35, or a range such as 6-9)")
        return (nil, nil)
    }
}

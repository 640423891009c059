import EnvMonDomain

/// A known column found in an upload's header.
struct ResolvedColumn: Sendable {
    /// Position in the header.
    var index: Int
    /// The header text as in the file (for rejections).
    var header: String
    /// The unit the header names (`COD(mg/L)`, `built_up_area_km2`), if any.
    var unit: String?
    /// The conversion of that unit to the canonical one (nil when no unit is named).
    var conversion: UnitConversion?
}

/// The mapping from an upload's header to the kind's columns.
struct HeaderLayout: Sendable {
    var columns: [String: ResolvedColumn] = [:]
    /// Unknown columns kept for `extra`: position and header text.
    var unknown: [(index: Int, header: String)] = []
    /// Problems that make the header unusable (unknown unit, same column twice).
    var problems: [String] = []
    /// Positions of the id, name and district columns, where total rows say 合计.
    var totalColumnIndices: [Int] = []
    /// Cells past this position belong to no header column (they go to `extra` by position).
    var width = 0

    init(header: [String], kind: FeedKind) {
        let specs = ColumnAliases.columns(for: kind)
        var names: [String: (spec: FeedColumn, unit: String?)] = [:]
        for spec in specs {
            for name in [spec.canonical] + spec.aliases { names[TextFolding.key(name)] = (spec, nil) }
            for (name, unit) in spec.unitNames { names[TextFolding.key(name)] = (spec, unit) }
        }
        var seenUnknown: Set<String> = []
        for (index, text) in header.enumerated() {
            var match = names[TextFolding.key(text)]
            if match == nil, let split = TextFolding.splitTrailingUnit(text),
               let named = names[TextFolding.key(split.name)] {
                // `化学需氧量(COD)`: a synonym in brackets is not a unit.
                let synonym = names[TextFolding.key(split.unit)]?.spec.canonical == named.spec.canonical
                match = (named.spec, synonym ? nil : split.unit)
            }
            guard let (spec, unit) = match else {
                let trimmed = text.trimmingSpaces
                guard !trimmed.isEmpty else { continue }
                // Two unknown columns of the same name both survive in `extra`.
                var key = trimmed
                var copy = 2
                while seenUnknown.contains(key) { key = "\(trimmed) #\(copy)"; copy += 1 }
                seenUnknown.insert(key)
                unknown.append((index, key))
                continue
            }
            if let earlier = columns[spec.canonical] {
                problems.append("columns '\(earlier.header)' and '\(text)' both give \(spec.canonical); keep one")
                continue
            }
            var resolved = ResolvedColumn(index: index, header: text, unit: nil, conversion: nil)
            if let unit, let quantity = spec.quantity {
                if let conversion = Units.conversion(unit, for: quantity) {
                    resolved.unit = unit
                    resolved.conversion = conversion
                } else {
                    // Kept as found so that the header still counts as the header; `problems` refuses it.
                    problems.append("column '\(text)': unknown unit '\(unit)' (\(spec.canonical) takes "
                        + "\(Units.expected(quantity)))")
                }
            }
            columns[spec.canonical] = resolved
        }
        // The national stations' publication has only 断面名称: the name is the section's id.
        if kind == .water, columns["section_id"] == nil, let name = columns["section_name"] {
            columns["section_id"] = name
        }
        let totalColumns = ["enterprise_id", "enterprise_name", "plant_id", "plant_name", "section_id",
                            "section_name", "district", "measured_at", "sampled_at"]
        totalColumnIndices = Array(Set(totalColumns.compactMap { columns[$0]?.index })).sorted()
        width = (columns.values.map(\.index) + unknown.map(\.index)).max().map { $0 + 1 } ?? 0
    }

    /// Canonical names of the required columns the header lacks.
    func missing(kind: FeedKind) -> [String] {
        var missing: [String] = []
        for spec in ColumnAliases.columns(for: kind) where spec.required && columns[spec.canonical] == nil {
            missing.append(spec.canonical)
        }
        let hasPeriodSpan = columns["period_start"] != nil && columns["period_end"] != nil
        if [.sewage, .green, .waste].contains(kind), columns["period"] == nil, !hasPeriodSpan {
            missing.append("period")
        }
        return missing
    }
}

extension Units {
    /// The canonical unit of a quantity, for messages.
    static func expected(_ quantity: Quantity) -> String {
        switch quantity {
        case .waterConcentration: return "mg/L or µg/L"
        case .emissionConcentration: return "mg/m3, µg/m3, g/m3, mg/L or µg/L"
        case .dimensionless: return "no unit"
        case .hectares: return "公顷 (ha) or 平方公里 (km²)"
        case .persons: return "人 or 万人"
        case .tonnes: return "吨 (t), 万吨 or kg"
        case .cubicMetres: return "m3 (立方米, 吨) or 万m3"
        case .count: return "a count"
        case .percent: return "%"
        }
    }
}

extension HeaderLayout {
    /// The header text of the cell at `index` (`column N` beyond the header).
    func header(at index: Int) -> String {
        if let known = columns.values.first(where: { $0.index == index }) { return known.header }
        if let unknown = unknown.first(where: { $0.index == index }) { return unknown.header }
        return "column \(index + 1)"
    }
}

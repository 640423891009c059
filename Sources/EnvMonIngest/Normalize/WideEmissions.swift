import EnvMonDomain

/// A wide online-monitoring export (FEEDS.md "Wide exports"): one row per outlet and time, a
/// group of columns per pollutant — measured (实测), O2-corrected (折算), its flag — plus shared
/// measures (O2, flow, temperature, humidity, pressure). Recognised from the header alone; each
/// pollutant cell becomes one reading of the long contract, so the long normaliser (limits,
/// units, flags, rejections) judges it exactly as it judges a long file's row.
///
/// Each group is read through a long `HeaderLayout` of its own that points `value`, `corrected`
/// and `flag` at the group's columns and `pollutant` at a virtual cell appended to the row.
struct WideLayout: Sendable {
    /// What a pollutant column holds.
    enum Measure: Sendable, Equatable {
        case measured, corrected, flag
        /// Amounts, rates, minima and maxima: kept in `extra`, not a reading.
        case other
    }

    /// One pollutant (or shared measure) and its columns.
    struct Group: Sendable {
        /// The stored pollutant (SO2, a19001…), written into the virtual pollutant cell.
        var pollutant: String
        var measured: ResolvedColumn?
        var corrected: ResolvedColumn?
        var flag: ResolvedColumn?
        /// O2, flow, temperature…: a reading of its own, without O2 or corrected value.
        var isShared: Bool
        /// Every cell position of the group (kept out of other readings' `extra`).
        var positions: [Int] = []
    }

    let groups: [Group]
    /// One long layout per group, in `groups` order.
    let layouts: [HeaderLayout]

    /// Names of shared measures that the HJ 212 code table does not spell (folded keys).
    static let sharedNames: [String: String] = [
        "氧含量": "a19001", "含氧量": "a19001", "o2": "a19001", "氧气含量": "a19001",
        "标干流量": "flow", "烟气流量": "flow", "废气流量": "flow", "流量": "flow", "瞬时流量": "flow",
        "烟气温度": "a01012", "温度": "a01012", "湿度": "a01014", "烟气湿度": "a01014",
        "烟气压力": "a01013", "压力": "a01013", "烟气流速": "a01011", "流速": "a01011",
    ]

    /// Measure words after a pollutant's name or code (folded keys); "" is the measured value.
    static let measureWords: [String: Measure] = [
        "": .measured, "实测浓度": .measured, "实测值": .measured, "实测": .measured, "浓度": .measured,
        "监测值": .measured, "均值": .measured, "平均值": .measured, "avg": .measured, "小时均值": .measured,
        "折算浓度": .corrected, "折算值": .corrected, "折算": .corrected, "zsavg": .corrected,
        "折算均值": .corrected,
        "标记": .flag, "数据标记": .flag, "标识": .flag, "标志": .flag, "flag": .flag,
        "排放量": .other, "排放速率": .other, "cou": .other, "min": .other, "max": .other,
        "zsmin": .other, "zsmax": .other, "最大值": .other, "最小值": .other,
    ]

    /// Pollutant names and codes to match at the start of a header, longest first; 2005's
    /// numeric codes are left out (`02…` would match too much).
    static let prefixes: [(key: String, stored: String)] = PollutantCodes.lookup
        .filter { !$0.key.allSatisfy(\.isNumber) && $0.key.count >= 2 }
        .map { (key: $0.key, stored: $0.value) }
        .sorted { $0.key.count > $1.key.count }

    /// Long columns that describe the row, not a pollutant.
    static let rowColumns: Set<String> = ["enterprise_id", "enterprise_name", "district", "outlet_id", "measured_at",
                                          "measured_date", "flag", "unit", "limit"]

    /// A header cell as (stored pollutant, measure, unit) when it names a pollutant's column.
    static func parse(_ text: String) -> (pollutant: String, measure: Measure, unit: String?)? {
        var name = text
        var unit: String?
        if let split = TextFolding.splitTrailingUnit(text) {
            (name, unit) = (split.name, split.unit)
        }
        let key = TextFolding.key(name)
        if let shared = sharedNames[key] { return (shared, .measured, unit) }
        for (prefix, stored) in prefixes where key.hasPrefix(prefix) {
            let rest = String(key.dropFirst(prefix.count))
            if let measure = measureWords[rest] { return (stored, measure, unit) }
        }
        return nil
    }

    /// The wide layout of `header` (its long layout `base` lacks pollutant and value), nil when
    /// no column names a pollutant's value.
    static func detect(header: [String], base: HeaderLayout) -> WideLayout? {
        let claimed = Set(base.columns.filter { rowColumns.contains($0.key) }.map(\.value.index))
        var groups: [Group] = []
        var order: [String: Int] = [:]
        var seen: Set<String> = []
        for (index, text) in header.enumerated() where !claimed.contains(index) {
            guard let (pollutant, measure, unit) = parse(text) else { continue }
            // The upper row of a two-row header is not a header by itself: its pollutant names
            // stand over empty cells (CSV) or repeat over each measure (a merged cell, filled).
            let bare = TextFolding.key(TextFolding.splitTrailingUnit(text)?.name ?? text)
            if prefixes.contains(where: { $0.key == bare }), index + 1 < header.count,
               header[index + 1].trimmingSpaces.isEmpty || header[index + 1] == text {
                return nil
            }
            guard seen.insert("\(pollutant)/\(measure)").inserted || measure == .other else { return nil }
            let isShared = sharedNames[TextFolding.key(TextFolding.splitTrailingUnit(text)?.name ?? text)] != nil
                || PollutantCodes.complianceUnit[pollutant] == nil
            let position = order[pollutant] ?? {
                groups.append(Group(pollutant: pollutant, isShared: isShared))
                order[pollutant] = groups.count - 1
                return groups.count - 1
            }()
            groups[position].positions.append(index)
            var column = ResolvedColumn(index: index, header: text, unit: unit, conversion: nil)
            if let unit, !isShared { column.conversion = Units.conversion(unit, for: .emissionConcentration) }
            switch measure {
            case .measured where groups[position].measured == nil: groups[position].measured = column
            case .corrected where groups[position].corrected == nil: groups[position].corrected = column
            case .flag where groups[position].flag == nil: groups[position].flag = column
            default: break
            }
        }
        groups.removeAll { $0.measured == nil && $0.corrected == nil }
        guard groups.contains(where: { !$0.isShared }) else { return nil }
        // Flow is wastewater's (w00000) at a water outlet, flue gas's (a00000) otherwise.
        let water = groups.contains { PollutantCodes.complianceUnit[$0.pollutant] == .some("mg/L") || $0.pollutant == "pH" }
        for index in groups.indices where groups[index].pollutant == "flow" {
            groups[index].pollutant = water ? "w00000" : "a00000"
        }
        let inGroups = Set(groups.filter { !$0.isShared }.flatMap(\.positions))
        let sharedPositions = Set(groups.filter(\.isShared).flatMap(\.positions))
        let layouts = groups.enumerated().map { number, group in
            var layout = base
            layout.columns["pollutant"] = ResolvedColumn(index: header.count + number, header: group.pollutant)
            layout.columns["value"] = group.measured
            layout.columns["corrected"] = group.corrected
            if let flag = group.flag { layout.columns["flag"] = flag }
            if group.isShared {
                layout.columns["corrected"] = nil
                layout.columns["o2"] = nil
            }
            // `extra`: the unknown columns; for a pollutant also the shared measures (flow…).
            // The group's own other columns (排放量…) stay with its reading; other groups' do not.
            let used = Set([group.measured, group.corrected, group.flag].compactMap { $0?.index })
            layout.unknown = base.unknown.filter { column in
                if used.contains(column.index) { return false }
                if group.positions.contains(column.index) { return true }
                return !inGroups.contains(column.index) && (!group.isShared || !sharedPositions.contains(column.index))
            }
            if !group.isShared, let o2 = base.columns["o2"] {
                layout.unknown.removeAll { $0.index == o2.index }
            }
            layout.width = header.count + groups.count
            return layout
        }
        return WideLayout(groups: groups, layouts: layouts)
    }
}

extension ResolvedColumn {
    init(index: Int, header: String) {
        self.init(index: index, header: header, unit: nil, conversion: nil)
    }
}

/// Two header rows read as one (a pollutant merged over its measures): each column's upper
/// text, carried right over the empty cells of a merged range, then its lower text.
enum TwoRowHeader {
    static func combine(upper: [String], lower: [String]) -> [String] {
        var carried = ""
        return (0..<max(upper.count, lower.count)).map { index in
            let top = index < upper.count ? upper[index].trimmingSpaces : ""
            let bottom = index < lower.count ? lower[index].trimmingSpaces : ""
            if !top.isEmpty { carried = top }
            // Carried only from a pollutant over measure words (实测浓度, 折算…): an empty cell
            // above a column's own name (氧含量(%)) belongs to no pollutant.
            let bottomName = TextFolding.key(TextFolding.splitTrailingUnit(bottom)?.name ?? bottom)
            let carries = top.isEmpty && !bottomName.isEmpty && WideLayout.measureWords[bottomName] != nil
                && WideLayout.parse(carried) != nil
            let above = carries ? carried : top
            if above.isEmpty { return bottom }
            if bottom.isEmpty || bottom == above { return above }
            return above + bottom
        }
    }
}

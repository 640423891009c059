import EnvMonDomain

/// The `water` kind: one sample of one surface water section.
enum WaterRow {
    /// The row's fields by `WaterColumn` (line and extra are the caller's).
    static func fields(_ row: inout RowCells) -> [String?] {
        let sectionID = row.id("section_id")
        let sectionName = row.text("section_name")
        let river = row.text("river")
        let level = riverLevel(&row)
        let body = waterBody(&row)
        let district = row.text("district")
        let sampledAt = row.timestamp("sampled_at")

        var items: [(String, String)] = []
        var belowDetection: [String] = []
        for item in ColumnAliases.waterItems where row.has(item.canonical) {
            var below = false
            let id = item.canonical
            let value: DecimalText?
            switch id {
            case "ph":
                value = row.number(id, maximum: 14, rangeReason: "pH must be between 0 and 14", belowDetection: &below)
            case "do":
                value = row.number(id, maximum: 30, rangeReason: "dissolved oxygen must be between 0 and 30 mg/L",
                                   belowDetection: &below)
            default:
                value = row.number(id, belowDetection: &below)
            }
            if let value { items.append((id, value.plain)) }
            if below { belowDetection.append(JSONText.string(id)) }
        }
        let itemsFailed = row.rejections.contains { rejection in
            ColumnAliases.waterItems.contains { row.layout.columns[$0.canonical]?.header == rejection.column }
        }
        if items.isEmpty, belowDetection.isEmpty, !itemsFailed {
            row.reject(nil, "no water quality item has a value (at least one is needed)")
        }
        let reportedClass = reported(&row)
        let status = row.text("station_status")
        var fields = WaterColumn.emptyFields()
        fields[WaterColumn.sectionID.position] = sectionID
        fields[WaterColumn.sectionName.position] = sectionName
        fields[WaterColumn.river.position] = river
        fields[WaterColumn.riverLevel.position] = level
        fields[WaterColumn.waterBody.position] = body
        fields[WaterColumn.district.position] = district
        fields[WaterColumn.sampledAt.position] = sampledAt
        fields[WaterColumn.items.position] = items.isEmpty ? nil : JSONText.object(items)
        fields[WaterColumn.belowDetection.position] = belowDetection.isEmpty ? nil : JSONText.array(belowDetection)
        fields[WaterColumn.reportedClass.position] = reportedClass
        fields[WaterColumn.stationStatus.position] = status
        return fields
    }

    private static func riverLevel(_ row: inout RowCells) -> String? {
        guard let written = row.text("river_level") else { return nil }
        var key = TextFolding.key(written)
        for suffix in ["河道", "河流", "级"] where key.hasSuffix(suffix) { key.removeLast(suffix.count) }
        switch key {
        case "1", "一": return "1"
        case "2", "二": return "2"
        default:
            row.reject("river_level", "not a river level (write 1, 2, 一级 or 二级)")
            return nil
        }
    }

    private static func waterBody(_ row: inout RowCells) -> String? {
        guard let written = row.text("water_body") else { return nil }
        switch TextFolding.key(written) {
        case "河流", "河", "river": return "river"
        case "湖库", "湖泊", "水库", "湖", "lake", "reservoir": return "lake"
        default:
            row.reject("water_body", "not a water body type (write 河流 or 湖库)")
            return nil
        }
    }

    /// Reported class as 1–6 (6 = 劣Ⅴ, worse than class Ⅴ).
    private static func reported(_ row: inout RowCells) -> String? {
        guard let written = row.text("reported_class") else { return nil }
        var key = TextFolding.key(written)
        if key.hasSuffix("类") { key.removeLast() }
        var worse = false
        if key.hasPrefix("劣") { worse = true; key.removeFirst() }
        let classes = ["i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "6": 6]
        guard let number = classes[key], !(worse && number != 5) else {
            row.reject("reported_class", "not a water quality class (write Ⅰ–Ⅴ or 劣Ⅴ)")
            return nil
        }
        return String(worse ? 6 : number)
    }
}

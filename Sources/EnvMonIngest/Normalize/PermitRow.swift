import EnvMonDomain

/// The `permits` kind: the limit of one pollutant at one outlet from a date on (排污许可证).
enum PermitRow {
    /// 自动 / 自动监测 / 在线 → automatic; 手工 / 手工监测 → manual (FEEDS.md), keyed by
    /// `TextFolding.key`.
    static let monitoringModes: [String: String] = [
        "自动": "automatic", "自动监测": "automatic", "在线": "automatic", "在线监测": "automatic",
        "automatic": "automatic", "auto": "automatic", "online": "automatic",
        "手工": "manual", "手工监测": "manual", "人工": "manual", "manual": "manual",
    ]

    /// The row's fields by `PermitColumn` (line and extra are the caller's).
    static func fields(_ row: inout RowCells) -> [String?] {
        let enterprise = row.id("enterprise_id")
        let name = row.text("enterprise_name")
        let outlet = row.id("outlet_id")
        let pollutant = EmissionsRow.pollutant(&row)
        let isCompliance = pollutant.map { PollutantCodes.complianceUnit[$0] != nil } ?? false
        let (unit, exponent) = unitOfRow(&row, pollutant: pollutant, isCompliance: isCompliance)
        var limits: (min: DecimalText?, max: DecimalText?) = (nil, nil)
        if row.text("limit") == nil {
            row.reject("limit", "a permit needs its limit")
        } else {
            limits = EmissionsRow.limit(&row, pollutant: pollutant, isCompliance: isCompliance, exponent: exponent)
        }
        var below = false
        let o2 = row.number("o2_reference", minimum: 0, maximum: 20.9,
                            rangeReason: "a reference O2 is a share of air below 21 %", belowDetection: &below)
        var monitoring: String?
        if let written = row.text("monitoring") {
            monitoring = monitoringModes[TextFolding.key(written)]
            if monitoring == nil { row.reject("monitoring", "not a monitoring mode (write 自动 or 手工)") }
        }
        let from = row.day("valid_from", required: false)
        let to = row.day("valid_to", required: false)
        if let from, let to, to < from { row.reject("valid_to", "the permit ends before it begins") }

        var fields = PermitColumn.emptyFields()
        fields[PermitColumn.enterpriseID.position] = enterprise
        fields[PermitColumn.enterpriseName.position] = name
        fields[PermitColumn.outletID.position] = outlet
        fields[PermitColumn.pollutant.position] = pollutant
        fields[PermitColumn.validFrom.position] = from?.iso ?? "-infinity"
        fields[PermitColumn.validTo.position] = to?.iso
        fields[PermitColumn.limitMin.position] = limits.min?.plain
        fields[PermitColumn.limitMax.position] = limits.max?.plain
        fields[PermitColumn.unit.position] = unit
        fields[PermitColumn.o2Reference.position] = o2?.plain
        fields[PermitColumn.monitoring.position] = monitoring
        return fields
    }

    /// The stored unit and the power of ten that converts the row's limit to it: the unit cell,
    /// else a unit in the limit column's header, else the pollutant's usual unit.
    private static func unitOfRow(_ row: inout RowCells, pollutant: String?,
                                  isCompliance: Bool) -> (unit: String?, exponent: Int) {
        if pollutant == "pH" { return (nil, 0) }
        let expected = pollutant.flatMap { PollutantCodes.complianceUnit[$0] } ?? nil
        guard let written = row.text("unit") else {
            if let header = row.layout.columns["limit"]?.conversion { return (header.canonical, 0) }
            return (expected, 0)
        }
        guard let conversion = Units.concentration[TextFolding.key(written)] else {
            row.reject("unit", "unknown unit (write mg/m3, µg/m3, g/m3, mg/L or µg/L)")
            return (nil, 0)
        }
        if isCompliance, let expected, conversion.canonical != expected, let pollutant {
            row.reject("unit", "unit \(written) does not fit \(pollutant) (measured in \(expected))")
        }
        return (conversion.canonical, conversion.exponent)
    }
}

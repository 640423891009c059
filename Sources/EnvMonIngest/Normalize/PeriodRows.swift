import EnvMonDomain

/// The kinds reported per place per period: `sewage`, `green` and `waste`.
enum PeriodRows {
    /// Sewage fields by `SewageColumn` (line and extra are the caller's).
    static func sewage(_ row: inout RowCells) -> [String?] {
        let plant = row.id("plant_id")
        let name = row.text("plant_name")
        let district = row.text("district")
        let period = row.period()
        let discharged = row.amount("sewage_discharged_m3", required: true)
        let treated = row.amount("sewage_treated_m3", required: true)
        // Metering differs between the plant and the network: 5% over is tolerated, more is an error.
        if let discharged, let treated, treated.double > discharged.double * 1.05 {
            row.reject("sewage_treated_m3", "sewage treated exceeds sewage discharged by more than 5%")
        }
        var fields = SewageColumn.emptyFields()
        fields[SewageColumn.plantID.position] = plant
        fields[SewageColumn.plantName.position] = name
        fields[SewageColumn.district.position] = district
        fields[SewageColumn.periodStart.position] = period?.start.iso
        fields[SewageColumn.periodEnd.position] = period?.end.iso
        fields[SewageColumn.periodLabel.position] = period?.label
        fields[SewageColumn.discharged.position] = discharged?.plain
        fields[SewageColumn.treated.position] = treated?.plain
        return fields
    }

    /// Green fields by `GreenColumn` (line and extra are the caller's).
    static func green(_ row: inout RowCells) -> [String?] {
        let district = row.text("district", required: true)
        let period = row.period()
        let builtUp = row.amount("built_up_area_ha", required: true)
        let covered = row.amount("green_covered_area_ha", required: true)
        let park = row.amount("park_green_area_ha")
        let population = row.amount("population")
        if let builtUp, let covered, covered.double > builtUp.double {
            row.reject("green_covered_area_ha", "green covered area exceeds the built-up area")
        }
        var fields = GreenColumn.emptyFields()
        fields[GreenColumn.district.position] = district
        fields[GreenColumn.periodStart.position] = period?.start.iso
        fields[GreenColumn.periodEnd.position] = period?.end.iso
        fields[GreenColumn.periodLabel.position] = period?.label
        fields[GreenColumn.builtUpArea.position] = builtUp?.plain
        fields[GreenColumn.greenCoveredArea.position] = covered?.plain
        fields[GreenColumn.parkGreenArea.position] = park?.plain
        fields[GreenColumn.population.position] = population?.plain
        return fields
    }

    /// Waste fields by `WasteColumn` (line and extra are the caller's).
    static func waste(_ row: inout RowCells) -> [String?] {
        let district = row.text("district", required: true)
        let period = row.period()
        let collected = row.amount("collected_t", required: true)
        let harmless = row.amount("harmless_t", required: true)
        let sites = row.amount("white_pollution_sites", wholeNumber: true)
        let remediated = row.amount("white_pollution_remediated", wholeNumber: true)
        if let collected, let harmless, harmless.double > collected.double {
            row.reject("harmless_t", "harmless treatment exceeds the waste collected")
        }
        if let sites, let remediated, remediated.double > sites.double {
            row.reject("white_pollution_remediated", "more sites remediated than white pollution sites")
        }
        var fields = WasteColumn.emptyFields()
        fields[WasteColumn.district.position] = district
        fields[WasteColumn.periodStart.position] = period?.start.iso
        fields[WasteColumn.periodEnd.position] = period?.end.iso
        fields[WasteColumn.periodLabel.position] = period?.label
        fields[WasteColumn.collected.position] = collected?.plain
        fields[WasteColumn.harmless.position] = harmless?.plain
        fields[WasteColumn.whitePollutionSites.position] = sites?.plain
        fields[WasteColumn.whitePollutionRemediated.position] = remediated?.plain
        return fields
    }
}

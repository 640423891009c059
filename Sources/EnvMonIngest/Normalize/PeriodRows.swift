/// The kinds reported per place per period: `sewage`, `green` and `waste`.
enum PeriodRows {
    /// Sewage fields after `line` and before `extra` (`FeedKind.sewage.stagingColumns`).
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
        return [plant, name, district, period?.start.iso, period?.end.iso, period?.label,
                discharged?.plain, treated?.plain]
    }

    /// Green fields after `line` and before `extra` (`FeedKind.green.stagingColumns`).
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
        return [district, period?.start.iso, period?.end.iso, period?.label,
                builtUp?.plain, covered?.plain, park?.plain, population?.plain]
    }

    /// Waste fields after `line` and before `extra` (`FeedKind.waste.stagingColumns`).
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
        return [district, period?.start.iso, period?.end.iso, period?.label,
                collected?.plain, harmless?.plain, sites?.plain, remediated?.plain]
    }
}

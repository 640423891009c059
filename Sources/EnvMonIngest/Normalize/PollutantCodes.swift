/// HJ 212 pollutant codes and the names the bureau writes, mapped to the code stored.
///
/// The eight compliance pollutants are stored by short name (SO2, NOx, PM, COD, NH3N, TP, TN, pH);
/// every other known HJ 212 factor by its 2017 code (a19001, w00000, …).
enum PollutantCodes {
    /// One HJ 212 factor (HJ 212-2017 Table B; /work/shared/data/hj212_pollutant_codes.csv).
    struct Factor: Sendable {
        var code2017: String
        var code2005: String?
        var nameZh: String
        var nameEn: String
    }

    static let factors: [Factor] = [
        Factor(code2017: "w00000", code2005: "B01", nameZh: "污水", nameEn: "wastewater flow"),
        Factor(code2017: "w01001", code2005: "001", nameZh: "pH值", nameEn: "pH"),
        Factor(code2017: "w01009", code2005: nil, nameZh: "溶解氧", nameEn: "dissolved oxygen"),
        Factor(code2017: "w01010", code2005: nil, nameZh: "水温", nameEn: "water temperature"),
        Factor(code2017: "w01014", code2005: nil, nameZh: "电导率", nameEn: "conductivity"),
        Factor(code2017: "w01018", code2005: "011", nameZh: "化学需氧量", nameEn: "COD"),
        Factor(code2017: "w01019", code2005: nil, nameZh: "高锰酸盐指数", nameEn: "permanganate index"),
        Factor(code2017: "w21001", code2005: "065", nameZh: "总氮", nameEn: "total nitrogen"),
        Factor(code2017: "w21003", code2005: "060", nameZh: "氨氮", nameEn: "ammonia nitrogen"),
        Factor(code2017: "w21011", code2005: "101", nameZh: "总磷", nameEn: "total phosphorus"),
        Factor(code2017: "a00000", code2005: "B02", nameZh: "废气", nameEn: "flue gas flow"),
        Factor(code2017: "a01011", code2005: "S02", nameZh: "烟气流速", nameEn: "flue gas velocity"),
        Factor(code2017: "a01012", code2005: "S03", nameZh: "烟气温度", nameEn: "flue gas temperature"),
        Factor(code2017: "a01013", code2005: "S08", nameZh: "烟气压力", nameEn: "flue gas pressure"),
        Factor(code2017: "a01014", code2005: "S05", nameZh: "烟气湿度", nameEn: "flue gas humidity"),
        Factor(code2017: "a19001", code2005: "S01", nameZh: "氧气含量", nameEn: "oxygen content"),
        Factor(code2017: "a21002", code2005: "03", nameZh: "氮氧化物", nameEn: "NOx"),
        Factor(code2017: "a21003", code2005: nil, nameZh: "一氧化氮", nameEn: "NO"),
        Factor(code2017: "a21004", code2005: nil, nameZh: "二氧化氮", nameEn: "NO2"),
        Factor(code2017: "a21005", code2005: "04", nameZh: "一氧化碳", nameEn: "CO"),
        Factor(code2017: "a21026", code2005: "02", nameZh: "二氧化硫", nameEn: "SO2"),
        Factor(code2017: "a34013", code2005: "01", nameZh: "烟尘", nameEn: "smoke/dust (particulate)"),
        Factor(code2017: "a34004", code2005: nil, nameZh: "细微颗粒物PM2.5", nameEn: "PM2.5"),
    ]

    /// The eight compliance pollutants: stored name, HJ 212-2017 code, other names, canonical unit.
    static let compliance: [(name: String, code: String, names: [String], unit: String?)] = [
        ("SO2", "a21026", ["二氧化硫"], "mg/m3"),
        ("NOx", "a21002", ["氮氧化物"], "mg/m3"),
        ("PM", "a34013", ["颗粒物", "烟尘", "烟尘颗粒物", "烟尘/颗粒物"], "mg/m3"),
        ("COD", "w01018", ["化学需氧量", "CODcr"], "mg/L"),
        ("NH3N", "w21003", ["氨氮", "NH3-N"], "mg/L"),
        ("TP", "w21011", ["总磷"], "mg/L"),
        ("TN", "w21001", ["总氮"], "mg/L"),
        ("pH", "w01001", ["pH值"], nil),
    ]

    /// Stored name of a compliance pollutant → its canonical unit (nil for pH).
    static let complianceUnit: [String: String?] = Dictionary(
        uniqueKeysWithValues: compliance.map { ($0.name, $0.unit) })

    /// Folded code or name → stored pollutant.
    static let lookup: [String: String] = {
        var table: [String: String] = [:]
        // Other factors first, so that the compliance names below win for shared codes.
        for factor in factors {
            table[TextFolding.key(factor.code2017)] = factor.code2017
            if let old = factor.code2005 { table[TextFolding.key(old)] = factor.code2017 }
            table[TextFolding.key(factor.nameZh)] = factor.code2017
            table[TextFolding.key(factor.nameEn)] = factor.code2017
        }
        for pollutant in compliance {
            for name in [pollutant.name, pollutant.code] + pollutant.names {
                table[TextFolding.key(name)] = pollutant.name
            }
            if let old = factors.first(where: { $0.code2017 == pollutant.code })?.code2005 {
                table[TextFolding.key(old)] = pollutant.name
            }
        }
        return table
    }()

    /// The stored pollutant for a code or name as written, nil when unknown.
    static func canonical(_ raw: String) -> String? {
        lookup[TextFolding.key(raw)]
    }
}

/// HJ 212 pollutant codes (2017 and their 2005 predecessors) and the envmon pollutant each maps to.
///
/// envmon's canonical codes: SO2, NOx, PM, COD, NH3N, TP, TN, pH, O2, flow, temperature,
/// humidity. Factors without one (NO, CO, PM2.5, conductivity, …) are known but unmapped.
public struct HJ212CodeTable: Sendable {
    /// One factor of HJ 212-2017 Appendix B.
    public struct Entry: Sendable, Hashable {
        /// HJ 212-2017 code, e.g. `a21026`.
        public var code2017: String
        /// HJ/T 212-2005 code, e.g. `02`; nil when 2005 had none.
        public var code2005: String?
        public var nameZh: String
        public var nameEn: String
        /// The standard's default concentration unit, as printed.
        public var unit: String?
        /// `water` or `air`.
        public var medium: String
        /// The envmon pollutant code, nil when envmon does not store this factor.
        public var canonical: String?

        public init(
            code2017: String, code2005: String?, nameZh: String, nameEn: String, unit: String?, medium: String,
            canonical: String?
        ) {
            self.code2017 = code2017
            self.code2005 = code2005
            self.nameZh = nameZh
            self.nameEn = nameEn
            self.unit = unit
            self.medium = medium
            self.canonical = canonical
        }
    }

    /// The entries, in table order.
    public let entries: [Entry]
    private let byCode: [String: Int]

    /// A table of `entries`; a code listed twice resolves to its first entry.
    public init(entries: [Entry]) {
        self.entries = entries
        var byCode: [String: Int] = [:]
        for (index, entry) in entries.enumerated() {
            for code in [entry.code2017, entry.code2005].compactMap({ $0 }) where byCode[code.uppercased()] == nil {
                byCode[code.uppercased()] = index
            }
        }
        self.byCode = byCode
    }

    /// The factor a code names, 2017 or 2005, in either case.
    public func entry(for code: String) -> Entry? {
        byCode[code.uppercased()].map { entries[$0] }
    }

    /// The envmon pollutant a code maps to, nil when unknown or unmapped.
    public func canonicalCode(for code: String) -> String? {
        entry(for: code)?.canonical
    }

    /// HJ 212-2017 Appendix B, Tables B.1/B.2 (shared/data/hj212_pollutant_codes.csv).
    public static let standard = HJ212CodeTable(entries: [
        Entry(code2017: "w00000", code2005: "B01", nameZh: "污水", nameEn: "wastewater flow", unit: "L/s", medium: "water", canonical: "flow"),
        Entry(code2017: "w01001", code2005: "001", nameZh: "pH值", nameEn: "pH", unit: nil, medium: "water", canonical: "pH"),
        Entry(code2017: "w01009", code2005: nil, nameZh: "溶解氧", nameEn: "dissolved oxygen", unit: "mg/L", medium: "water", canonical: nil),
        Entry(code2017: "w01010", code2005: nil, nameZh: "水温", nameEn: "water temperature", unit: "degC", medium: "water", canonical: "temperature"),
        Entry(code2017: "w01014", code2005: nil, nameZh: "电导率", nameEn: "conductivity", unit: "uS/cm", medium: "water", canonical: nil),
        Entry(code2017: "w01018", code2005: "011", nameZh: "化学需氧量", nameEn: "COD", unit: "mg/L", medium: "water", canonical: "COD"),
        Entry(code2017: "w01019", code2005: nil, nameZh: "高锰酸盐指数", nameEn: "permanganate index", unit: "mg/L", medium: "water", canonical: nil),
        Entry(code2017: "w21001", code2005: "065", nameZh: "总氮", nameEn: "total nitrogen", unit: "mg/L", medium: "water", canonical: "TN"),
        Entry(code2017: "w21003", code2005: "060", nameZh: "氨氮", nameEn: "ammonia nitrogen", unit: "mg/L", medium: "water", canonical: "NH3N"),
        Entry(code2017: "w21011", code2005: "101", nameZh: "总磷", nameEn: "total phosphorus", unit: "mg/L", medium: "water", canonical: "TP"),
        Entry(code2017: "a00000", code2005: "B02", nameZh: "废气", nameEn: "flue gas flow", unit: "m3/s", medium: "air", canonical: "flow"),
        Entry(code2017: "a01011", code2005: "S02", nameZh: "烟气流速", nameEn: "flue gas velocity", unit: "m/s", medium: "air", canonical: nil),
        Entry(code2017: "a01012", code2005: "S03", nameZh: "烟气温度", nameEn: "flue gas temperature", unit: "degC", medium: "air", canonical: "temperature"),
        Entry(code2017: "a01013", code2005: "S08", nameZh: "烟气压力", nameEn: "flue gas pressure", unit: "kPa", medium: "air", canonical: nil),
        Entry(code2017: "a01014", code2005: "S05", nameZh: "烟气湿度", nameEn: "flue gas humidity", unit: "%", medium: "air", canonical: "humidity"),
        Entry(code2017: "a19001", code2005: "S01", nameZh: "氧气含量", nameEn: "oxygen content", unit: "%", medium: "air", canonical: "O2"),
        Entry(code2017: "a21002", code2005: "03", nameZh: "氮氧化物", nameEn: "NOx", unit: "mg/m3", medium: "air", canonical: "NOx"),
        Entry(code2017: "a21003", code2005: nil, nameZh: "一氧化氮", nameEn: "NO", unit: "mg/m3", medium: "air", canonical: nil),
        Entry(code2017: "a21004", code2005: nil, nameZh: "二氧化氮", nameEn: "NO2", unit: "mg/m3", medium: "air", canonical: nil),
        Entry(code2017: "a21005", code2005: "04", nameZh: "一氧化碳", nameEn: "CO", unit: "mg/m3", medium: "air", canonical: nil),
        Entry(code2017: "a21026", code2005: "02", nameZh: "二氧化硫", nameEn: "SO2", unit: "mg/m3", medium: "air", canonical: "SO2"),
        Entry(code2017: "a34013", code2005: "01", nameZh: "烟尘", nameEn: "smoke/dust (particulate)", unit: "mg/m3", medium: "air", canonical: "PM"),
        Entry(code2017: "a34004", code2005: nil, nameZh: "细微颗粒物PM2.5", nameEn: "PM2.5", unit: nil, medium: "air", canonical: nil),
    ])
}

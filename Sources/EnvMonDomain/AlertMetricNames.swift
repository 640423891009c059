/// The display name of a plan metric in Chinese and English, with how its values read.
///
/// Alert texts, emails and reports name a metric by these words and add the English metric id,
/// so that a reader of the Chinese text and an analyst with SQL find the same thing.
public struct AlertMetricName: Sendable, Equatable, Hashable {
    /// How a metric's values are written for people.
    public enum Unit: String, Sendable, Codable, Hashable {
        /// A share between 0 and 1, written as a percentage ("92.3%").
        case ratio
        /// Square metres per inhabitant ("12.5 m²").
        case squareMetresPerCapita
    }

    /// The metric id used in views, targets and alert labels, e.g. `sewage_treatment_rate`.
    public var id: String
    /// The official Chinese name, e.g. 污水集中处理率.
    public var chinese: String
    /// An English name for logs and English readers.
    public var english: String
    public var unit: Unit

    public init(id: String, chinese: String, english: String, unit: Unit) {
        self.id = id
        self.chinese = chinese
        self.english = english
        self.unit = unit
    }

    /// The eight plan metrics, in the order the plan lists them.
    public static let all: [AlertMetricName] = [
        AlertMetricName(id: "emissions_compliance_rate", chinese: "重点工业企业排放稳定达标率",
                        english: "Key industrial enterprises' stable emission compliance rate", unit: .ratio),
        AlertMetricName(id: "sewage_treatment_rate", chinese: "污水集中处理率",
                        english: "Centralised sewage treatment rate", unit: .ratio),
        AlertMetricName(id: "water_class_v_or_better_share", chinese: "二级河道断面Ⅴ类及以上比例",
                        english: "Share of second-level river sections at class V or better", unit: .ratio),
        AlertMetricName(id: "green_coverage_rate", chinese: "建成区绿化覆盖率",
                        english: "Built-up area green coverage rate", unit: .ratio),
        AlertMetricName(id: "park_green_per_capita_m2", chinese: "人均公园绿地面积",
                        english: "Park green area per capita (m²)", unit: .squareMetresPerCapita),
        AlertMetricName(id: "white_pollution_remediation_rate", chinese: "白色污染整治率",
                        english: "White pollution remediation rate", unit: .ratio),
        AlertMetricName(id: "waste_harmless_transfer_rate", chinese: "生活垃圾无害化转运率",
                        english: "Domestic waste harmless transfer rate", unit: .ratio),
        AlertMetricName(id: "emissions_event_compliance_rate", chinese: "重点源事件达标率",
                        english: "Key source event compliance rate", unit: .ratio),
    ]

    private static let byID: [String: AlertMetricName] = Dictionary(
        all.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })

    /// The name of metric `id`, or nil for an id that is not one of the plan metrics.
    public static func named(_ id: String) -> AlertMetricName? { byID[id] }

    /// A value of this metric as people read it: `0.923` → `92.3%`, `12.5` → `12.5 m²`.
    public func format(_ value: Double) -> String {
        switch unit {
        case .ratio: return AlertMetricName.decimal(value * 100, places: 1) + "%"
        case .squareMetresPerCapita: return AlertMetricName.decimal(value, places: 2) + " m²"
        }
    }

    /// `value` with at most `places` decimals and no trailing zeros ("92.3", "90", "-1.25").
    public static func decimal(_ value: Double, places: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "∞" : "-∞") }
        var scale = 1.0
        for _ in 0..<max(0, places) { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        // Integral part and fraction digits written by hand: no Foundation formatter, no locale.
        let negative = rounded < 0
        let magnitude = abs(rounded)
        // Past 2^53 a Double holds no fraction digits anyway; also keeps Int64 from overflowing.
        guard magnitude * scale < 9e15 else { return String(rounded) }
        let units = Int64((magnitude * scale).rounded())
        let factor = Int64(scale)
        let whole = units / factor
        var fraction = factor > 1 ? String(units % factor) : ""
        if factor > 1 {
            let width = places
            fraction = String(repeating: "0", count: max(0, width - fraction.count)) + fraction
            while fraction.hasSuffix("0") { fraction.removeLast() }
        }
        let sign = negative && units != 0 ? "-" : ""
        return sign + String(whole) + (fraction.isEmpty ? "" : "." + fraction)
    }
}

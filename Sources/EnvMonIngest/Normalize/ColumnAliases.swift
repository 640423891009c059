public import EnvMonDomain

/// One column a feed kind understands: its canonical name, the other names the bureau's
/// spreadsheets use for it, and what it holds.
public struct FeedColumn: Sendable, Equatable {
    /// Canonical snake_case name (FEEDS.md).
    public var canonical: String
    /// Other accepted names (Chinese names first), compared case-, width- and space-insensitively.
    public var aliases: [String]
    /// Whether an upload without this column is refused.
    public var required: Bool
    /// Names that carry their unit in the name itself, e.g. `built_up_area_km2`: name → unit.
    public var unitNames: [String: String]
    /// What a numeric column holds, which decides the units its header may name (nil for text).
    var quantity: Quantity?

    init(_ canonical: String, _ aliases: [String], required: Bool = false, quantity: Quantity? = nil,
         unitNames: [String: String] = [:]) {
        self.canonical = canonical
        self.aliases = aliases
        self.required = required
        self.quantity = quantity
        self.unitNames = unitNames
    }

    /// Every name this column is known by: canonical, aliases and unit-carrying names.
    public var allNames: [String] { [canonical] + aliases + unitNames.keys.sorted() }
}

/// The column names of every feed kind, in one place. docs/feeds.md is tested against this table.
public enum ColumnAliases {
    /// The water quality items with their canonical ids (GB 3838-2002 Table 1 order).
    static let waterItems: [FeedColumn] = [
        FeedColumn("ph", ["pH值"], quantity: .dimensionless),
        FeedColumn("do", ["溶解氧", "DO"], quantity: .waterConcentration),
        FeedColumn("codmn", ["高锰酸盐指数", "CODMn"], quantity: .waterConcentration),
        FeedColumn("cod", ["化学需氧量", "CODcr"], quantity: .waterConcentration),
        FeedColumn("bod5", ["五日生化需氧量", "BOD"], quantity: .waterConcentration),
        FeedColumn("nh3n", ["氨氮", "NH3-N"], quantity: .waterConcentration),
        FeedColumn("tp", ["总磷"], quantity: .waterConcentration),
        FeedColumn("tn", ["总氮"], quantity: .waterConcentration),
        FeedColumn("cu", ["铜"], quantity: .waterConcentration),
        FeedColumn("zn", ["锌"], quantity: .waterConcentration),
        FeedColumn("f", ["氟化物"], quantity: .waterConcentration),
        FeedColumn("se", ["硒"], quantity: .waterConcentration),
        FeedColumn("as", ["砷"], quantity: .waterConcentration),
        FeedColumn("hg", ["汞"], quantity: .waterConcentration),
        FeedColumn("cd", ["镉"], quantity: .waterConcentration),
        FeedColumn("cr6", ["六价铬", "Cr6+"], quantity: .waterConcentration),
        FeedColumn("pb", ["铅"], quantity: .waterConcentration),
        FeedColumn("cn", ["氰化物"], quantity: .waterConcentration),
        FeedColumn("phenol", ["挥发酚"], quantity: .waterConcentration),
        FeedColumn("oil", ["石油类"], quantity: .waterConcentration),
        FeedColumn("las", ["阴离子表面活性剂"], quantity: .waterConcentration),
        FeedColumn("s2", ["硫化物"], quantity: .waterConcentration),
    ]

    /// The columns of `kind`, in the order FEEDS.md lists them.
    public static func columns(for kind: FeedKind) -> [FeedColumn] {
        switch kind {
        case .emissions:
            return [
                FeedColumn("enterprise_id", ["企业编码", "企业代码", "统一社会信用代码"], required: true),
                FeedColumn("enterprise_name", ["企业名称"]),
                FeedColumn("district", ["所属街道", "所属区域", "街道"]),
                FeedColumn("outlet_id", ["排放口编码", "排口编号"], required: true),
                FeedColumn("pollutant", ["污染物", "监测因子", "污染物名称"], required: true),
                FeedColumn("measured_at", ["监测时间", "时间", "时段"], required: true),
                // With a date column, measured_at holds the time of day (13:00, or 13:00-14:00).
                FeedColumn("measured_date", ["监测日期", "日期"]),
                FeedColumn("value", ["监测值", "浓度", "实测浓度"], required: true, quantity: .emissionConcentration),
                FeedColumn("unit", ["单位"]),
                FeedColumn("limit", ["排放限值", "标准限值", "限值"], quantity: .emissionConcentration),
                FeedColumn("flag", ["数据标记"]),
                FeedColumn("corrected", ["折算浓度", "折算值", "折算"], quantity: .emissionConcentration),
                FeedColumn("o2", ["氧含量", "含氧量", "O2"], quantity: .percent),
            ]
        case .sewage:
            return [
                FeedColumn("plant_id", ["污水处理厂编码", "厂站编码"], required: true),
                FeedColumn("plant_name", ["污水处理厂名称"]),
                FeedColumn("district", ["所属街道", "服务区域"]),
            ] + periodColumns(["统计期", "月份", "日期"]) + [
                FeedColumn("sewage_discharged_m3", ["污水排放量"], required: true, quantity: .cubicMetres),
                FeedColumn("sewage_treated_m3", ["污水处理量", "集中处理量"], required: true, quantity: .cubicMetres),
            ]
        case .water:
            return [
                FeedColumn("section_id", ["断面编码"], required: true),
                FeedColumn("section_name", ["断面名称"]),
                FeedColumn("river", ["河流", "所属河流"]),
                FeedColumn("river_level", ["河道等级"]),
                FeedColumn("water_body", ["水体类型"]),
                FeedColumn("district", ["所属街道"]),
                FeedColumn("sampled_at", ["监测时间", "采样时间"], required: true),
                FeedColumn("sampled_date", ["采样日期", "监测日期"]),
            ] + waterItems + [
                FeedColumn("reported_class", ["水质类别"]),
                FeedColumn("station_status", ["站点情况"]),
            ]
        case .green:
            return [
                FeedColumn("district", ["区域", "街道"], required: true),
            ] + periodColumns(["统计期", "年份"]) + [
                FeedColumn("built_up_area_ha", ["建成区面积"], required: true, quantity: .hectares,
                           unitNames: ["built_up_area_km2": "km2"]),
                FeedColumn("green_covered_area_ha", ["绿化覆盖面积"], required: true, quantity: .hectares,
                           unitNames: ["green_covered_area_km2": "km2"]),
                FeedColumn("park_green_area_ha", ["公园绿地面积"], quantity: .hectares,
                           unitNames: ["park_green_area_km2": "km2"]),
                FeedColumn("population", ["人口", "常住人口"], quantity: .persons,
                           unitNames: ["population_10k": "万人"]),
            ]
        case .waste:
            return [
                FeedColumn("district", ["区域", "街道"], required: true),
            ] + periodColumns(["统计期", "月份"]) + [
                FeedColumn("collected_t", ["生活垃圾清运量"], required: true, quantity: .tonnes),
                FeedColumn("harmless_t", ["无害化处理量", "无害化转运量"], required: true, quantity: .tonnes),
                FeedColumn("white_pollution_sites", ["白色污染点位数"], quantity: .count),
                FeedColumn("white_pollution_remediated", ["白色污染整治数", "已整治点位数"], quantity: .count),
            ]
        case .permits:
            return [
                FeedColumn("enterprise_id", ["统一社会信用代码", "企业编码", "企业代码"], required: true),
                FeedColumn("enterprise_name", ["企业名称", "单位名称"]),
                FeedColumn("outlet_id", ["排放口编号", "排口编号", "排放口编码"], required: true),
                FeedColumn("pollutant", ["污染物", "污染物种类", "污染物名称"], required: true),
                FeedColumn("limit", ["排放限值", "许可排放浓度限值", "许可排放浓度", "排放浓度限值"], required: true,
                           quantity: .emissionConcentration),
                FeedColumn("unit", ["单位"]),
                FeedColumn("o2_reference", ["基准氧含量", "基准含氧量"], quantity: .percent),
                FeedColumn("monitoring", ["监测方式", "监测类型"]),
                FeedColumn("valid_from", ["生效日期", "有效期起", "有效期限起"]),
                FeedColumn("valid_to", ["失效日期", "有效期止", "有效期限止"]),
            ]
        }
    }

    /// `period`, or `period_start` + `period_end` instead (checked in `missingRequired`).
    private static func periodColumns(_ periodAliases: [String]) -> [FeedColumn] {
        [
            FeedColumn("period", periodAliases),
            FeedColumn("period_start", ["开始日期", "起始日期"]),
            FeedColumn("period_end", ["结束日期", "截止日期"]),
        ]
    }
}

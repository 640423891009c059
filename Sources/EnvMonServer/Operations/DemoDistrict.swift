public import EnvMonDomain
public import Foundation

/// A realistic district for `envmon demo`: the seed's eight sub-districts, 40 key enterprises
/// with their outlets, 12 second-level river sections, 4 sewage plants, green surveys and
/// waste reports over the 13 months up to `today`, written as the bureau's own CSV feeds (Chinese
/// headers) and loaded through the real ingest path.
///
/// It tells a story a section chief can find in the console: most targets met; sewage treatment
/// met this month but falling (at risk by the due date), dragged down by 张贵庄街's plant; one
/// enterprise (津东化工) over its NOx limit on every sixth day, month after month; one section
/// (新地河·军粮城桥) 劣Ⅴ; one enterprise's outlet silent for the last three days; two bad rows in
/// the emissions file, so the rejections page has something to show. The same `today` gives the
/// same bytes (a fixed random seed), so running the demo twice on a day loads nothing twice.
public struct DemoDistrict: Sendable {
    public static let subDistricts = ["金钟街", "金桥街", "军粮城街", "新立街", "华明街", "无瑕街", "张贵庄街", "丰年村街"]

    public let today: CivilDate

    public init(today: CivilDate) {
        self.today = today
    }

    /// The local date of `now` in `zone`.
    public static func localDate(_ now: Date, zone: TimeZone) -> CivilDate {
        let seconds = Int(now.timeIntervalSince1970) + zone.secondsFromGMT(for: now)
        return CivilDate(dayNumber: seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
    }

    /// Writes the five feeds into `folder` (created if missing) and returns their URLs.
    @discardableResult
    public func write(to folder: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let files: [(String, String)] = [
            ("emissions-district.csv", emissions()), ("sewage-district.csv", sewage()),
            ("water-district.csv", water()), ("green-district.csv", green()), ("waste-district.csv", waste()),
        ]
        return try files.map { name, text in
            let url = folder.appendingPathComponent(name)
            try Data(text.utf8).write(to: url, options: .atomic)
            return url
        }
    }

    // MARK: Calendar

    /// The 13 months up to this one, oldest first, as (year, month).
    var months: [(year: Int, month: Int)] {
        let current = today.year * 12 + today.month - 1
        return ((current - 12)...current).map { ($0 / 12, $0 % 12 + 1) }
    }

    static func month(_ ym: (year: Int, month: Int)) -> String {
        String(format: "%04d-%02d", ym.year, ym.month)
    }

    // MARK: Key enterprises

    struct Enterprise {
        var id: String
        var name: String
        var district: String
        var outlets: [(id: String, pollutants: [(name: String, unit: String, limit: Double)])]
    }

    static let gas: [(name: String, unit: String, limit: Double)] = [("二氧化硫", "mg/m3", 35), ("氮氧化物", "mg/m3", 50), ("颗粒物", "mg/m3", 10)]
    static let wastewater: [(name: String, unit: String, limit: Double)] = [("化学需氧量", "mg/L", 50), ("氨氮", "mg/L", 5)]

    static let enterprises: [Enterprise] = {
        let prefixes = ["津东", "金钟", "华明", "新立", "军粮", "无瑕", "张贵", "丰年", "东丽", "金桥",
                        "海河", "渤海", "津塘", "东郊", "先锋", "利民", "宏达", "恒信", "瑞丰", "鑫源"]
        let industries: [(String, Bool, Bool)] = [  // name, gas outlet, wastewater outlet
            ("化工", true, true), ("热电", true, false), ("制药", false, true), ("钢铁", true, false),
            ("造纸", true, true), ("印染", false, true), ("食品", false, true), ("建材", true, false),
        ]
        return (0..<40).map { n in
            let (industry, hasGas, hasWater) = industries[n % industries.count]
            var outlets: [(id: String, pollutants: [(name: String, unit: String, limit: Double)])] = []
            if hasGas { outlets.append(("DA001", gas)) }
            if hasWater { outlets.append(("DW001", wastewater)) }
            return Enterprise(
                id: String(format: "91120110MA05%05d%@", 17_001 + n * 37, n % 2 == 0 ? "X" : "Y"),
                name: "天津\(prefixes[n % prefixes.count])\(industry)\(n < 20 ? "" : "科技")有限公司",
                district: subDistricts[n % subDistricts.count], outlets: outlets)
        }
    }()

    /// The enterprise over its NOx limit (津东化工, the first one).
    static var offender: Enterprise { enterprises[0] }
    /// The enterprise whose outlet fell silent three days ago.
    static var silent: Enterprise { enterprises[13] }

    func emissions() -> String {
        var random = SplitMix64(seed: UInt64(today.dayNumber))
        var out = "企业编码,企业名称,所属街道,排放口编码,污染物,监测时间,监测值,单位,排放限值,数据标记\n"
        let first = CivilDate(year: months[0].year, month: months[0].month, day: 1).dayNumber
        let last = today.dayNumber
        for (index, enterprise) in Self.enterprises.enumerated() {
            let level = 0.35 + 0.3 * Double(index % 7) / 6  // share of its limit it usually runs at
            for outlet in enterprise.outlets {
                for day in first...last {
                    if index == 13 && day > last - 3 { continue }
                    let date = CivilDate(dayNumber: day)
                    for pollutant in outlet.pollutants {
                        var share = level * (0.85 + 0.3 * random.unit())
                        // The story: NOx over the limit on every sixth day, all year.
                        if index == 0 && pollutant.name == "氮氧化物" && day % 6 == 0 {
                            share = 1.12 + 0.2 * random.unit()
                        }
                        let flag = random.unit() < 0.004 ? "M" : "N"
                        out += "\(enterprise.id),\(enterprise.name),\(enterprise.district),\(outlet.id),\(pollutant.name),"
                        out += "\(date) 00:00,\(Self.decimal(pollutant.limit * share, places: pollutant.limit < 20 ? 2 : 1)),"
                        out += "\(pollutant.unit),\(Self.decimal(pollutant.limit, places: 0)),\(flag)\n"
                    }
                }
            }
        }
        // Two rows a clerk must fix: a value that is not a number, a date that does not exist.
        let bad = Self.enterprises[5]
        out += "\(bad.id),\(bad.name),\(bad.district),DW001,化学需氧量,\(today) 00:00,待补测,mg/L,50,N\n"
        out += "\(bad.id),\(bad.name),\(bad.district),DW001,氨氮,\(today.year)-02-30 00:00,1.2,mg/L,5,N\n"
        return out
    }

    // MARK: Sewage

    func sewage() -> String {
        var random = SplitMix64(seed: UInt64(today.dayNumber) &+ 1)
        let plants: [(id: String, name: String, district: String, volume: Double, rate: Double, slope: Double)] = [
            ("WS120110001", "张贵庄污水处理厂", "张贵庄街", 60, 0.935, -0.001),
            ("WS120110002", "金钟河污水处理厂", "金钟街", 120, 0.975, -0.0004),
            ("WS120110003", "华明污水处理厂", "华明街", 90, 0.965, -0.0005),
            ("WS120110004", "军粮城污水处理厂", "军粮城街", 70, 0.96, -0.00075),
        ]
        var out = "污水处理厂编码,污水处理厂名称,服务区域,统计期,污水排放量(万立方米),污水处理量(万立方米)\n"
        for (step, month) in months.dropLast().enumerated() {
            for plant in plants {
                let discharged = plant.volume * (0.95 + 0.1 * random.unit())
                let rate = plant.rate + plant.slope * Double(step) + 0.0015 * (random.unit() - 0.5)
                out += "\(plant.id),\(plant.name),\(plant.district),\(Self.month(month)),"
                out += "\(Self.decimal(discharged, places: 2)),\(Self.decimal(discharged * rate, places: 2))\n"
            }
        }
        return out
    }

    // MARK: Surface water

    /// Parameters in the middle of each GB 3838 class: DO, CODMn, COD, BOD5, NH3-N, TP (rivers).
    static let classBands: [Int: [Double]] = [
        2: [6.9, 3.2, 12.5, 2.4, 0.38, 0.07], 3: [5.6, 4.9, 17.5, 3.5, 0.78, 0.15],
        4: [4.1, 7.8, 25.0, 4.9, 1.22, 0.25], 5: [2.6, 12.0, 35.0, 7.8, 1.75, 0.35],
        6: [1.6, 16.5, 44.0, 11.0, 2.6, 0.52],
    ]
    static let classNames = [1: "Ⅰ", 2: "Ⅱ", 3: "Ⅲ", 4: "Ⅳ", 5: "Ⅴ", 6: "劣Ⅴ"]

    func water() -> String {
        var random = SplitMix64(seed: UInt64(today.dayNumber) &+ 2)
        let sections: [(id: String, name: String, river: String, district: String, waterClass: Int)] = [
            ("DL-01", "金钟桥", "金钟河", "金钟街", 3), ("DL-02", "登州桥", "北塘排污河", "金桥街", 4),
            ("DL-03", "军粮城桥", "新地河", "军粮城街", 6), ("DL-04", "新立闸", "袁家河", "新立街", 4),
            ("DL-05", "华明桥", "东减河", "华明街", 3), ("DL-06", "无瑕涵洞", "卫津河", "无瑕街", 5),
            ("DL-07", "张贵庄桥", "月牙河", "张贵庄街", 4), ("DL-08", "丰年闸", "北丰产河", "丰年村街", 3),
            ("DL-09", "东丽湖出口", "东河", "金桥街", 2), ("DL-10", "赤土桥", "南排干", "新立街", 4),
            ("DL-11", "大毕庄闸", "小王庄河", "华明街", 5), ("DL-12", "南大桥", "西减河", "丰年村街", 3),
        ]
        var out = "断面编码,断面名称,河流,河道等级,水体类型,所属街道,采样时间,pH,溶解氧,高锰酸盐指数,化学需氧量,五日生化需氧量,氨氮,总磷,水质类别\n"
        for month in months {
            guard month.year * 12 + month.month < today.year * 12 + today.month || today.day >= 6 else { continue }
            for (index, section) in sections.enumerated() {
                guard let band = Self.classBands[section.waterClass] else { continue }
                let value = band.map { $0 * (0.96 + 0.08 * random.unit()) }
                // One month a section reports Ⅲ where its parameters say Ⅳ (a discrepancy to review).
                let reported = index == 3 && month == months[9] ? 3 : section.waterClass
                out += "\(section.id),\(section.name),\(section.river),二级,河流,\(section.district),"
                out += "\(Self.month(month))-05 \(String(format: "%02d", 9 + index % 6)):30,\(Self.decimal(7.2 + 0.6 * random.unit(), places: 2)),"
                out += [value[0], value[1], value[2], value[3]].map { Self.decimal($0, places: 1) }.joined(separator: ",")
                out += ",\(Self.decimal(value[4], places: 2)),\(Self.decimal(value[5], places: 3)),\(Self.classNames[reported] ?? "")\n"
            }
        }
        return out
    }

    // MARK: Green and waste

    func green() -> String {
        var random = SplitMix64(seed: UInt64(today.dayNumber) &+ 3)
        var out = "街道,年份,建成区面积(平方公里),绿化覆盖面积(公顷),公园绿地面积(公顷),常住人口(万人)\n"
        for (step, year) in ((today.year - 2)...today.year).enumerated() {
            for (index, district) in Self.subDistricts.enumerated() {
                let area = 8.0 + Double(index * 37 % 8)  // km²
                let coverage = 0.395 + 0.012 * Double(index % 4) + 0.004 * Double(step) + 0.004 * random.unit()
                let population = 4.5 + Double(index * 53 % 9)  // 万人
                let perCapita = 8.9 + 0.35 * Double(index % 3) + 0.2 * Double(step) + 0.1 * random.unit()
                out += "\(district),\(year),\(Self.decimal(area, places: 1)),\(Self.decimal(area * 100 * coverage, places: 1)),"
                out += "\(Self.decimal(perCapita * population, places: 1)),\(Self.decimal(population, places: 2))\n"
            }
        }
        return out
    }

    func waste() -> String {
        var random = SplitMix64(seed: UInt64(today.dayNumber) &+ 4)
        var out = "区域,月份,生活垃圾清运量,无害化转运量,白色污染点位数,已整治点位数\n"
        for month in months.dropLast() {
            for (index, district) in Self.subDistricts.enumerated() {
                let collected = 900 + Double(index * 131 % 700) + 80 * random.unit()
                let sites = 12 + index % 5
                let remediated = district == "军粮城街" ? sites - 4 : sites - (random.unit() < 0.5 ? 0 : 1)
                out += "\(district),\(Self.month(month)),\"\(Self.decimal(collected, places: 1))\",\"\(Self.decimal(collected, places: 1))\",\(sites),\(remediated)\n"
            }
        }
        return out
    }

    static func decimal(_ value: Double, places: Int) -> String {
        String(format: "%.\(places)f", value)
    }
}

/// A small, fast, seedable generator (Steele, Lea & Flood's SplitMix64), so the demo's numbers
/// are the same for the same day.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in [0, 1).
    mutating func unit() -> Double {
        Double(next() >> 11) / Double(1 << 53)
    }
}

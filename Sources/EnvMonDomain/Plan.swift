public import Foundation

/// How a metric's value is compared with its target (`alerts/targets.yaml` `comparator`).
public enum Comparator: String, Sendable, Codable, CaseIterable, Hashable {
    case atLeast = ">="
    case above = ">"
    case atMost = "<="
    case below = "<"
    case equal = "="

    /// Whether `value` meets `target` under this comparator, compared exactly.
    public func holds(_ value: Decimal, _ target: Decimal) -> Bool {
        switch self {
        case .atLeast: value >= target
        case .above: value > target
        case .atMost: value <= target
        case .below: value < target
        case .equal: value == target
        }
    }
}

/// The period a target is judged over.
public enum Granularity: String, Sendable, Codable, CaseIterable, Hashable {
    case month, year
}

/// A plan target's standing in `analytics.plan_progress`.
public enum PlanStatus: String, Sendable, Codable, CaseIterable, Hashable {
    /// The latest value meets the target and its trend does not threaten it.
    case met
    /// It meets the target, but the least-squares projection to the due date does not.
    case atRisk = "at_risk"
    case missed
    /// No value yet in any period.
    case noData = "no_data"

    /// 达标, 有风险, 未达标, 无数据.
    public var chinese: String {
        switch self {
        case .met: "达标"
        case .atRisk: "有风险"
        case .missed: "未达标"
        case .noData: "无数据"
        }
    }
}

/// A calendar date without a time or zone (`2028-12-31`).
public struct CivilDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// `YYYY-MM-DD` with a real month and a day that month has; nil for anything else.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1...12).contains(month), day >= 1, day <= CivilDate.days(inMonth: month, year: year) else { return nil }
        self.init(year: year, month: month, day: day)
    }

    public static func days(inMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    public var description: String {
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let y = String(year)
        return String(repeating: "0", count: max(0, 4 - y.count)) + y + "-" + two(month) + "-" + two(day)
    }

    public static func < (lhs: CivilDate, rhs: CivilDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let date = CivilDate(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a date: \(text)"))
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// One target of the three-year plan: a metric in a scope compared with a value by a due date.
public struct PlanTarget: Sendable, Codable, Equatable {
    /// A plan metric id (`AlertMetricName.all`).
    public var metric: String
    /// `all` (the district) or a sub-district's name.
    public var scope: String
    public var comparator: Comparator
    /// The target exactly as written (0.95), compared as SQL numeric.
    public var value: Decimal
    public var granularity: Granularity
    public var due: CivilDate
    public var description: String?

    public init(metric: String, scope: String = "all", comparator: Comparator, value: Decimal,
                granularity: Granularity, due: CivilDate, description: String? = nil) {
        self.metric = metric
        self.scope = scope
        self.comparator = comparator
        self.value = value
        self.granularity = granularity
        self.due = due
        self.description = description
    }
}

/// A surface-water quality class of GB 3838-2002 (the single-factor method's result).
/// The limits themselves live once, in SQL (`envmon.gb3838_*`); this is the class as a value.
public enum WaterClass: Int, Sendable, Codable, CaseIterable, Comparable, Hashable {
    case i = 1, ii, iii, iv, v
    /// 劣Ⅴ: worse than the class Ⅴ limit on at least one assessed item.
    case worseThanV = 6

    /// Ⅰ Ⅱ Ⅲ Ⅳ Ⅴ 劣Ⅴ, as the bureau writes them.
    public var label: String {
        switch self {
        case .i: "Ⅰ"
        case .ii: "Ⅱ"
        case .iii: "Ⅲ"
        case .iv: "Ⅳ"
        case .v: "Ⅴ"
        case .worseThanV: "劣Ⅴ"
        }
    }

    /// Whether the class counts toward the plan's "class Ⅴ or better" share.
    public var isVOrBetter: Bool { self <= .v }

    public static func < (lhs: WaterClass, rhs: WaterClass) -> Bool { lhs.rawValue < rhs.rawValue }
}

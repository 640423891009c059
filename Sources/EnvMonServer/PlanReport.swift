public import EnvMonDomain
import Foundation

/// Plan progress as a table a person can read: metric in Chinese and English, value as %,
/// target, gap, status.
public enum PlanReport {
    public static func render(_ rows: [PlanProgressRow]) -> String {
        var lines: [[String]] = [["指标 metric", "范围 scope", "期间 period", "实际 value", "目标 target", "差距 gap", "状态 status"]]
        for row in rows {
            let name = AlertMetricName.named(row.metric)
            let label = name.map { "\($0.chinese) \(row.metric)" } ?? row.metric
            let value = row.value?.double
            let target: Double? = row.target.double
            func show(_ number: Double?) -> String {
                guard let number else { return "—" }
                return name?.format(number) ?? AlertMetricName.decimal(number, places: 3)
            }
            // The view's gap: value − target, negative when short of a `>=` target.
            var gap = "—"
            if let difference = row.gap?.double {
                gap = name?.unit == .ratio
                    ? AlertMetricName.decimal(difference * 100, places: 1) + " pp"
                    : AlertMetricName.decimal(difference, places: 2)
            }
            lines.append([label, row.scope, row.period ?? "—", show(value), "\(row.comparator.rawValue) \(show(target))", gap,
                          statusText(row.status)])
        }
        return table(lines)
    }

    static func statusText(_ status: PlanStatus) -> String {
        switch status {
        case .met: "达标 met"
        case .atRisk: "有风险 at risk"
        case .missed: "未达标 MISSED"
        case .noData: "无数据 no data"
        }
    }

    /// Aligns columns by display width (CJK characters take two cells).
    public static func table(_ rows: [[String]]) -> String {
        guard let columns = rows.map(\.count).max() else { return "" }
        var widths = Array(repeating: 0, count: columns)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], displayWidth(cell)) } }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - displayWidth(cell))
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func displayWidth(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { width, scalar in
            let v = scalar.value
            let wide = (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
                || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
                || (0xFFE0...0xFFE6).contains(v)
            return width + (wide ? 2 : 1)
        }
    }
}

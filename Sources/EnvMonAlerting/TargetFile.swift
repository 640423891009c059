public import EnvMonDomain
import Foundation
import Yams

/// `alerts/targets.yaml`: the plan's targets, validated with line-numbered errors.
///
/// ```yaml
/// targets:
///   - metric: sewage_treatment_rate
///     scope: all
///     comparator: ">="
///     value: 0.95
///     granularity: month
///     due: 2028-12-31
/// ```
public struct TargetFile: Sendable, Equatable {
    public var fileName: String
    public var targets: [PlanTarget]

    public init(fileName: String, targets: [PlanTarget]) {
        self.fileName = fileName
        self.targets = targets
    }

    public static let comparators = Comparator.allCases.map(\.rawValue)
    static let keys = ["metric", "scope", "comparator", "value", "granularity", "due", "description"]

    public static func parse(text: String, fileName: String) throws(AlertFileError) -> TargetFile {
        var reader = YAMLReading(fileName: fileName)
        var targets: [PlanTarget] = []
        if let root = reader.compose(text),
           let top = reader.mapping(root, what: "the targets file", allowed: ["targets"]),
           let list = top["targets"].flatMap({ reader.sequence($0, what: "targets") }) {
            var seen: Set<String> = []
            for node in list {
                guard let fields = reader.mapping(node, what: "a target", allowed: keys) else { continue }
                guard let metricNode = fields["metric"], let metric = reader.string(metricNode, what: "metric") else {
                    reader.report(node, "a target needs `metric`")
                    continue
                }
                if AlertMetricName.named(metric) == nil {
                    let known = AlertMetricName.all.map(\.id)
                    let hint = YAMLReading.closest(to: metric, among: known).map { " (did you mean \($0)?)" } ?? ""
                    reader.report(metricNode, "unknown metric '\(metric)'\(hint); known: \(known.joined(separator: ", "))")
                }
                let scope = fields["scope"].flatMap { reader.string($0, what: "scope") } ?? "all"
                var comparator = Comparator.atLeast
                if let node = fields["comparator"], let text = reader.string(node, what: "comparator") {
                    if let known = Comparator(rawValue: text) { comparator = known } else {
                        reader.report(node, "unknown comparator '\(text)'; use one of \(comparators.joined(separator: " "))")
                    }
                }
                var value: Decimal?
                if let node = fields["value"], let text = node.scalar?.string {
                    if let number = Decimal(string: text), Double(text) != nil {
                        value = number
                        if metric != "park_green_per_capita_m2", number > 1 {
                            reader.report(node, "value \(text) is above 1: rates are fractions (0.95 for 95%)")
                        }
                    } else {
                        reader.report(node, "value '\(text)' is not a number (write fractions: 0.95 for 95%)")
                    }
                } else {
                    reader.report(node, "target \(metric) needs `value`")
                }
                var granularity: Granularity = metric.hasPrefix("green") || metric.hasPrefix("park") ? .year : .month
                if let node = fields["granularity"], let text = reader.string(node, what: "granularity") {
                    if let known = Granularity(rawValue: text) { granularity = known } else {
                        reader.report(node, "granularity must be month or year, not '\(text)'")
                    }
                }
                var due: CivilDate?
                if let node = fields["due"], let text = node.scalar?.string {
                    if let date = CivilDate(text), (1900...2200).contains(date.year) { due = date } else {
                        reader.report(node, "due '\(text)' is not a date YYYY-MM-DD")
                    }
                } else {
                    reader.report(node, "target \(metric) needs `due` (YYYY-MM-DD)")
                }
                if !seen.insert("\(metric)|\(scope)").inserted {
                    reader.report(node, "a second target for \(metric) in scope \(scope)")
                }
                guard let value, let due else { continue }
                targets.append(PlanTarget(
                    metric: metric, scope: scope, comparator: comparator, value: value, granularity: granularity,
                    due: due, description: fields["description"].flatMap { reader.string($0, what: "description") }))
            }
        }
        if !reader.issues.isEmpty { throw AlertFileError(issues: reader.issues) }
        return TargetFile(fileName: fileName, targets: targets)
    }
}

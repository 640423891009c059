import EnvMonDomain
import Foundation
import Yams

/// One plan target of `alerts/targets.yaml`.
public struct PlanTargetDefinition: Sendable, Equatable, Codable {
    public var metric: String
    public var scope: String
    /// `>=`, `>`, `<=`, `<` or `=`.
    public var comparator: String
    /// The target as written (exact decimal text, compared as SQL numeric).
    public var value: String
    /// `month` or `year`.
    public var granularity: String
    /// `YYYY-MM-DD`.
    public var due: String
    public var description: String?

    public init(metric: String, scope: String, comparator: String, value: String, granularity: String, due: String,
                description: String? = nil) {
        self.metric = metric
        self.scope = scope
        self.comparator = comparator
        self.value = value
        self.granularity = granularity
        self.due = due
        self.description = description
    }
}

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
    public var targets: [PlanTargetDefinition]

    public init(fileName: String, targets: [PlanTargetDefinition]) {
        self.fileName = fileName
        self.targets = targets
    }

    public static let comparators = [">=", ">", "<=", "<", "="]
    static let keys = ["metric", "scope", "comparator", "value", "granularity", "due", "description"]

    public static func parse(text: String, fileName: String) throws(AlertFileError) -> TargetFile {
        var reader = YAMLReading(fileName: fileName)
        var targets: [PlanTargetDefinition] = []
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
                var comparator = ">="
                if let node = fields["comparator"], let text = reader.string(node, what: "comparator") {
                    if comparators.contains(text) { comparator = text } else {
                        reader.report(node, "unknown comparator '\(text)'; use one of \(comparators.joined(separator: " "))")
                    }
                }
                var value = ""
                if let node = fields["value"], let text = node.scalar?.string {
                    if Decimal(string: text) == nil || Double(text) == nil {
                        reader.report(node, "value '\(text)' is not a number (write fractions: 0.95 for 95%)")
                    } else {
                        value = text
                        if metric != "park_green_per_capita_m2", let number = Double(text), number > 1 {
                            reader.report(node, "value \(text) is above 1: rates are fractions (0.95 for 95%)")
                        }
                    }
                } else {
                    reader.report(node, "target \(metric) needs `value`")
                }
                var granularity = metric.hasPrefix("green") || metric.hasPrefix("park") ? "year" : "month"
                if let node = fields["granularity"], let text = reader.string(node, what: "granularity") {
                    if ["month", "year"].contains(text) { granularity = text } else {
                        reader.report(node, "granularity must be month or year, not '\(text)'")
                    }
                }
                var due = ""
                if let node = fields["due"], let text = node.scalar?.string {
                    if Self.isDate(text) { due = text } else { reader.report(node, "due '\(text)' is not a date YYYY-MM-DD") }
                } else {
                    reader.report(node, "target \(metric) needs `due` (YYYY-MM-DD)")
                }
                if !seen.insert("\(metric)|\(scope)").inserted {
                    reader.report(node, "a second target for \(metric) in scope \(scope)")
                }
                targets.append(PlanTargetDefinition(
                    metric: metric, scope: scope, comparator: comparator, value: value, granularity: granularity,
                    due: due, description: fields["description"].flatMap { reader.string($0, what: "description") }))
            }
        }
        if !reader.issues.isEmpty { throw AlertFileError(issues: reader.issues) }
        return TargetFile(fileName: fileName, targets: targets)
    }

    static func isDate(_ text: String) -> Bool {
        let parts = text.split(separator: "-")
        guard parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]) else { return false }
        return (1900...2200).contains(y) && (1...12).contains(m) && (1...31).contains(d)
    }
}

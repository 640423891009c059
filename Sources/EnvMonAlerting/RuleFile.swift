public import EnvMonDomain
import Yams

/// The alert rules of one rule file (alerts/rules.yaml), Prometheus-like.
///
/// ```yaml
/// groups:
///   - name: plan
///     rules:
///       - name: PlanTargetMissed
///         kind: target
///         severity: critical
///         for: 0s
///         annotations:
///           summary: "{metric_zh}（{metric}）{period}未达标：{value}，目标{target}"
/// ```
/// A flat `rules:` list without groups is accepted too.
public struct RuleFile: Sendable, Equatable {
    /// The file name errors are reported against.
    public var fileName: String
    /// The rules in file order, disabled ones included.
    public var rules: [AlertRule]

    public init(fileName: String, rules: [AlertRule]) {
        self.fileName = fileName
        self.rules = rules
    }

    /// The rules that produce alerts.
    public var enabledRules: [AlertRule] { rules.filter(\.enabled) }

    static let ruleKeys = [
        "name", "kind", "severity", "labels", "for", "keep_firing_for", "annotations", "lookback",
        "cadence", "max_rejected_share", "enabled", "silence", "min_consecutive",
    ]

    /// Parses a rule file's text; every problem found is reported, each as `file:line:col: message`.
    ///
    /// - Parameters:
    ///   - text: The file's contents.
    ///   - fileName: The name used in error messages.
    /// - Throws: ``AlertFileError`` listing every problem.
    public static func parse(text: String, fileName: String) throws(AlertFileError) -> RuleFile {
        var reader = YAMLReading(fileName: fileName)
        var rules: [AlertRule] = []
        var seen: [String: Int] = [:]
        if let root = reader.compose(text),
           let top = reader.mapping(root, what: "the rule file", allowed: ["groups", "rules"]) {
            if top.isEmpty { reader.report(root, "the rule file has neither 'groups:' nor 'rules:'") }
            var listed: [(group: String?, node: Node)] = []
            if let groups = top["groups"], let items = reader.sequence(groups, what: "groups") {
                for item in items {
                    guard let group = reader.mapping(item, what: "a group", allowed: ["name", "rules"]) else { continue }
                    let name = group["name"].flatMap { reader.string($0, what: "group name") }
                    if group["name"] == nil { reader.report(item, "a group needs a 'name'") }
                    guard let list = group["rules"] else {
                        reader.report(item, "group '\(name ?? "")' has no 'rules:'")
                        continue
                    }
                    for rule in reader.sequence(list, what: "rules") ?? [] { listed.append((name, rule)) }
                }
            }
            if let list = top["rules"] {
                for rule in reader.sequence(list, what: "rules") ?? [] { listed.append((nil, rule)) }
            }
            for (group, node) in listed {
                let rule = parseRule(node, group: group, reader: &reader)
                // Names count even on rules with other problems, so a duplicate is reported at once.
                guard let name = node.mapping?[Node("name")]?.string else { continue }
                if let line = seen[name] {
                    reader.report(node, "duplicate rule name '\(name)' (first defined on line \(line))")
                    continue
                }
                seen[name] = node.mark?.line ?? 0
                if let rule { rules.append(rule) }
            }
        }
        if !reader.issues.isEmpty { throw AlertFileError(issues: reader.issues) }
        return RuleFile(fileName: fileName, rules: rules)
    }

    private static func parseRule(_ node: Node, group: String?, reader: inout YAMLReading) -> AlertRule? {
        guard let fields = reader.mapping(node, what: "a rule", allowed: ruleKeys) else { return nil }
        let startCount = reader.issues.count
        let name = fields["name"].flatMap { reader.string($0, what: "name") }
        if fields["name"] == nil { reader.report(node, "a rule needs a 'name'") }
        if let name, name.isEmpty || name.contains(where: \.isWhitespace) {
            reader.report(fields["name"] ?? node, "rule name '\(name)' must be one word without spaces")
        }
        var kind: AlertRuleKind?
        if let kindNode = fields["kind"], let text = reader.string(kindNode, what: "kind") {
            kind = AlertRuleKind(rawValue: text)
            if kind == nil {
                let all = AlertRuleKind.allCases.map(\.rawValue)
                var message = "unknown kind '\(text)' (one of \(all.joined(separator: ", ")))"
                if let guess = YAMLReading.closest(to: text, among: all) { message += "; did you mean '\(guess)'?" }
                reader.report(kindNode, message)
            }
        } else if fields["kind"] == nil {
            reader.report(node, "rule '\(name ?? "")' needs a 'kind'")
        }
        var severity = kind?.defaultSeverity ?? .warning
        if let severityNode = fields["severity"], let text = reader.string(severityNode, what: "severity") {
            if let parsed = AlertSeverity(rawValue: text) {
                severity = parsed
            } else {
                reader.report(severityNode, "unknown severity '\(text)' (critical, warning or info)")
            }
        }
        var rule = AlertRule(name: name ?? "", kind: kind ?? .target, severity: severity, group: group)
        if let labels = fields["labels"].flatMap({ reader.stringMap($0, what: "labels") }) {
            for reserved in ["alertname", "severity", "kind"] where labels[reserved] != nil {
                reader.report(fields["labels"] ?? node, "label '\(reserved)' is set by the rule itself")
            }
            rule.labels = labels
        }
        if let value = fields["for"].flatMap({ reader.duration($0, what: "for") }) { rule.pendingFor = value }
        if let value = fields["keep_firing_for"].flatMap({ reader.duration($0, what: "keep_firing_for") }) {
            rule.keepFiringFor = value
        }
        if let value = fields["enabled"].flatMap({ reader.bool($0, what: "enabled") }) { rule.enabled = value }
        if let annotationsNode = fields["annotations"],
           let annotations = reader.mapping(annotationsNode, what: "annotations", allowed: ["summary", "description"]) {
            for (key, templateNode) in annotations {
                guard let template = reader.string(templateNode, what: "annotations.\(key)") else { continue }
                for problem in TemplateRenderer.problems(in: template) {
                    let (line, column) = position(in: template, at: problem.offset, node: templateNode)
                    reader.report(line: line, column: column, "annotations.\(key): \(problem.message)")
                }
                if key == "summary" { rule.summary = template } else { rule.description = template }
            }
        }
        if fields["annotations"] == nil || rule.summary.isEmpty {
            reader.report(node, "rule '\(rule.name)' needs annotations.summary")
        }
        parseKindParameters(fields, rule: &rule, kindKnown: kind != nil, reader: &reader)
        return reader.issues.count == startCount ? rule : nil
    }

    private static func parseKindParameters(
        _ fields: [String: Node], rule: inout AlertRule, kindKnown: Bool, reader: inout YAMLReading
    ) {
        func onlyFor(_ key: String, _ kind: AlertRuleKind) -> Node? {
            guard let node = fields[key] else { return nil }
            if kindKnown, rule.kind != kind {
                reader.report(node, "'\(key)' applies to rules of kind \(kind.rawValue) only")
                return nil
            }
            return node
        }
        if let node = onlyFor("lookback", .exceedance), let value = reader.duration(node, what: "lookback") {
            if value <= 0 { reader.report(node, "lookback must be longer than 0") } else { rule.lookback = value }
        }
        if let node = onlyFor("max_rejected_share", .dataQuality),
           let value = reader.number(node, what: "max_rejected_share") {
            if (0...1).contains(value) {
                rule.maxRejectedShare = value
            } else {
                reader.report(node, "max_rejected_share must be between 0 and 1 (0.05 is 5%)")
            }
        }
        if let node = onlyFor("silence", .deviceOffline), let value = reader.duration(node, what: "silence") {
            if value <= 0 { reader.report(node, "silence must be longer than 0") } else { rule.silence = value }
        }
        if let node = fields["min_consecutive"] {
            if kindKnown, rule.kind != .constantValue, rule.kind != .zeroOrNegative {
                reader.report(node, "'min_consecutive' applies to rules of kind constant_value and zero_or_negative only")
            } else if let value = reader.number(node, what: "min_consecutive") {
                if value >= 2, value <= 1_000, value == value.rounded() {
                    rule.minConsecutive = Int(value)
                } else {
                    reader.report(node, "min_consecutive must be a whole number from 2 to 1000")
                }
            }
        }
        if let node = onlyFor("cadence", .missingData),
           let cadence = reader.mapping(node, what: "cadence", allowed: FeedKind.allCases.map(\.rawValue)) {
            for (key, valueNode) in cadence {
                guard let kind = FeedKind(rawValue: key),
                      let value = reader.duration(valueNode, what: "cadence.\(key)") else { continue }
                if value <= 0 { reader.report(valueNode, "cadence.\(key) must be longer than 0") }
                rule.cadence[kind] = value
            }
        }
    }

    /// Where a character of a template stands in the file. Exact for one-line plain and quoted
    /// scalars (escapes aside); for block scalars (`|`, `>`) the line is exact and the column is
    /// the block's indicator.
    private static func position(in template: String, at offset: Int, node: Node) -> (line: Int, column: Int) {
        let line = node.mark?.line ?? 1
        let column = node.mark?.column ?? 1
        guard case let .scalar(scalar) = node else { return (line, column) }
        let before = template.prefix(offset)
        let newlines = before.filter { $0 == "\n" }.count
        switch scalar.style {
        case .literal, .folded:
            return (line + 1 + newlines, column)
        case .plain where newlines == 0:
            return (line, column + offset)
        case .singleQuoted where newlines == 0, .doubleQuoted where newlines == 0:
            return (line, column + 1 + offset)
        default:
            return (line + newlines, column)
        }
    }
}

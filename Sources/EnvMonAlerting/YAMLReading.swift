import Foundation
import Yams

/// Walks a Yams node tree and collects line-numbered problems instead of stopping at the first.
struct YAMLReading {
    let fileName: String
    private(set) var issues: [AlertFileIssue] = []

    init(fileName: String) {
        self.fileName = fileName
    }

    /// Parses `text` into a node tree; a YAML syntax error becomes one issue.
    mutating func compose(_ text: String) -> Node? {
        do {
            guard let root = try Yams.compose(yaml: text) else {
                report(line: 1, column: 1, "the file is empty")
                return nil
            }
            return root
        } catch let error as YamlError {
            switch error {
            case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
                 let .composer(context, problem, mark, _):
                let detail = context.map { "\(problem) (\($0.text))" } ?? problem
                report(line: mark.line, column: mark.column, "YAML syntax: \(detail)")
            case let .reader(problem, _, _, _):
                report(line: 1, column: 1, "cannot read the file: \(problem)")
            default:
                report(line: 1, column: 1, "cannot parse the file: \(error)")
            }
            return nil
        } catch {
            report(line: 1, column: 1, "cannot parse the file: \(error)")
            return nil
        }
    }

    mutating func report(line: Int, column: Int, _ message: String) {
        issues.append(AlertFileIssue(file: fileName, line: line, column: column, message: message))
    }

    mutating func report(_ node: Node, _ message: String) {
        report(line: node.mark?.line ?? 1, column: node.mark?.column ?? 1, message)
    }

    /// The pairs of a mapping node with string keys; reports unknown keys with a suggestion.
    mutating func mapping(_ node: Node, what: String, allowed: [String]) -> [String: Node]? {
        guard case let .mapping(mapping) = node else {
            report(node, "\(what) must be a mapping")
            return nil
        }
        var result: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard case let .scalar(key) = keyNode else {
                report(keyNode, "keys of \(what) must be plain words")
                continue
            }
            if result[key.string] != nil {
                report(keyNode, "duplicate key '\(key.string)' in \(what)")
                continue
            }
            if !allowed.contains(key.string) {
                var message = "unknown key '\(key.string)' in \(what)"
                if let guess = Self.closest(to: key.string, among: allowed) {
                    message += "; did you mean '\(guess)'?"
                }
                report(keyNode, message)
                continue
            }
            result[key.string] = value
        }
        return result
    }

    mutating func sequence(_ node: Node, what: String) -> [Node]? {
        guard case let .sequence(sequence) = node else {
            report(node, "\(what) must be a list")
            return nil
        }
        return Array(sequence)
    }

    mutating func string(_ node: Node, what: String) -> String? {
        guard case let .scalar(scalar) = node else {
            report(node, "\(what) must be a single value, not a list or mapping")
            return nil
        }
        return scalar.string
    }

    mutating func bool(_ node: Node, what: String) -> Bool? {
        guard let text = string(node, what: what) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            report(node, "\(what) must be true or false, not '\(text)'")
            return nil
        }
    }

    mutating func duration(_ node: Node, what: String) -> Double? {
        guard let text = string(node, what: what) else { return nil }
        guard let seconds = AlertDuration.seconds(text) else {
            report(node, "\(what): bad duration '\(text)' (use e.g. 0s, 90s, 10m, 2h, 1d, 1h30m)")
            return nil
        }
        return seconds
    }

    mutating func number(_ node: Node, what: String) -> Double? {
        guard let text = string(node, what: what) else { return nil }
        guard let value = Double(text), value.isFinite else {
            report(node, "\(what) must be a number, not '\(text)'")
            return nil
        }
        return value
    }

    mutating func stringMap(_ node: Node, what: String) -> [String: String]? {
        guard case let .mapping(mapping) = node else {
            report(node, "\(what) must be a mapping of names to values")
            return nil
        }
        var result: [String: String] = [:]
        for (keyNode, valueNode) in mapping {
            guard let key = string(keyNode, what: "a key of \(what)"),
                  let value = string(valueNode, what: "\(what).\(keyNode.string ?? "")") else { continue }
            if !AlertLabelName.isValid(key) {
                report(keyNode, "'\(key)' is not a label name (letters, digits and _, not starting with a digit)")
                continue
            }
            result[key] = value
        }
        return result
    }

    mutating func stringList(_ node: Node, what: String) -> [String]? {
        guard let items = sequence(node, what: what) else { return nil }
        return items.compactMap { string($0, what: "an item of \(what)") }
    }

    /// The allowed word nearest to `word` by edit distance, when it is close enough to be a typo.
    static func closest(to word: String, among candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        return best.1 <= max(2, word.count / 3) ? best.0 : nil
    }

    /// Optimal string alignment distance: Levenshtein plus adjacent swaps, the commonest typo.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var table = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }
}

/// Label names as Prometheus allows them.
enum AlertLabelName {
    static func isValid(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
        }
    }
}

/// Durations as rule and route files write them: `0`, `0s`, `90s`, `10m`, `2h`, `1d`, `1w`, `1h30m`.
public enum AlertDuration {
    /// The number of seconds `text` stands for, or nil when it is not a duration.
    public static func seconds(_ text: String) -> Double? {
        let text = text.trimmingCharacters(in: .whitespaces)
        if text == "0" { return 0 }
        var total = 0.0
        var digits = ""
        var sawUnit = false
        var characters = Array(text)[...]
        while let character = characters.first {
            characters = characters.dropFirst()
            if character.isASCII, character.isNumber {
                digits.append(character)
                continue
            }
            var unit = String(character)
            if character == "m", characters.first == "s" {
                unit = "ms"
                characters = characters.dropFirst()
            }
            guard let amount = Double(digits), amount <= 1e9 else { return nil }
            let factor: Double
            switch unit {
            case "ms": factor = 0.001
            case "s": factor = 1
            case "m": factor = 60
            case "h": factor = 3_600
            case "d": factor = 86_400
            case "w": factor = 604_800
            default: return nil
            }
            total += amount * factor
            digits = ""
            sawUnit = true
        }
        // A century is more than any alert setting needs; the cap keeps arithmetic on it safe.
        return sawUnit && digits.isEmpty && total <= maximum ? total : nil
    }

    /// The longest duration accepted: 100 years.
    public static let maximum: Double = 100 * 366 * 86_400

    /// Seconds written back in the file syntax: 3600 → `1h`, 5400 → `1h30m`.
    public static func text(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds < 9e15 else { return "\(seconds)s" }
        var rest = Int64(seconds.rounded())
        guard rest > 0 else { return "0s" }
        var parts = ""
        for (unit, size) in [("d", Int64(86_400)), ("h", 3_600), ("m", 60), ("s", 1)] where rest >= size {
            parts += "\(rest / size)\(unit)"
            rest %= size
        }
        return parts
    }
}

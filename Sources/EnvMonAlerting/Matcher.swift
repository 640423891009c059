public import Foundation

/// A condition on one label, as routes and silences write it: `severity="critical"`,
/// `metric=~"sewage.*"`, `scope!="all"`, `pollutant!~"so2|nox"`.
///
/// Regular expressions are anchored at both ends, as in Prometheus: `=~"sewage"` matches only the
/// value `sewage`. A label the alert does not carry counts as the empty string.
public struct Matcher: Sendable, Hashable, Codable, CustomStringConvertible {
    /// How the label is compared.
    public enum Operator: String, Sendable, Hashable, Codable, CaseIterable {
        case equal = "=", notEqual = "!=", matchesRegex = "=~", notMatchesRegex = "!~"
    }

    public let name: String
    public let op: Operator
    public let value: String
    private let pattern: CompiledPattern?

    /// A matcher; throws a message when a regex operator gets a pattern that does not compile.
    public init(name: String, op: Operator, value: String) throws(MatcherError) {
        guard AlertLabelName.isValid(name) else { throw MatcherError("'\(name)' is not a label name") }
        self.name = name
        self.op = op
        self.value = value
        switch op {
        case .equal, .notEqual:
            pattern = nil
        case .matchesRegex, .notMatchesRegex:
            do {
                pattern = CompiledPattern(try NSRegularExpression(pattern: "^(?:\(value))$"))
            } catch {
                throw MatcherError("'\(value)' is not a regular expression")
            }
        }
    }

    /// Parses `name="value"` (the value may also be written without quotes).
    public init(parsing text: String) throws(MatcherError) {
        let text = text.trimmingCharacters(in: .whitespaces)
        guard let opStart = text.firstIndex(where: { $0 == "=" || $0 == "!" }) else {
            throw MatcherError("'\(text)' is not a matcher (write e.g. severity=\"critical\")")
        }
        let name = text[..<opStart].trimmingCharacters(in: .whitespaces)
        let rest = text[opStart...]
        guard let op = Operator.allCases.sorted(by: { $0.rawValue.count > $1.rawValue.count })
            .first(where: { rest.hasPrefix($0.rawValue) }) else {
            throw MatcherError("'\(text)' has no operator (=, !=, =~ or !~)")
        }
        var raw = rest.dropFirst(op.rawValue.count).trimmingCharacters(in: .whitespaces)
        if raw.hasPrefix("\"") {
            guard raw.count >= 2, raw.hasSuffix("\"") else { throw MatcherError("'\(text)' has an unclosed quote") }
            raw = Self.unescape(String(raw.dropFirst().dropLast()))
        }
        try self.init(name: name, op: op, value: raw)
    }

    /// Whether `labels` satisfy the matcher.
    public func matches(_ labels: [String: String]) -> Bool {
        let actual = labels[name] ?? ""
        switch op {
        case .equal: return actual == value
        case .notEqual: return actual != value
        case .matchesRegex: return pattern?.matches(actual) ?? false
        case .notMatchesRegex: return !(pattern?.matches(actual) ?? false)
        }
    }

    /// The matcher in file syntax, e.g. `metric=~"sewage.*"`.
    public var description: String {
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\(name)\(op.rawValue)\"\(escaped)\""
    }

    public static func == (lhs: Matcher, rhs: Matcher) -> Bool {
        lhs.name == rhs.name && lhs.op == rhs.op && lhs.value == rhs.value
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(op)
        hasher.combine(value)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(parsing: text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    private static func unescape(_ text: String) -> String {
        var result = ""
        var escaping = false
        for character in text {
            if escaping {
                result.append(character == "n" ? "\n" : character)
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else {
                result.append(character)
            }
        }
        return result
    }
}

/// Why a matcher could not be made.
public struct MatcherError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A compiled regular expression; NSRegularExpression is immutable and safe to share.
private final class CompiledPattern: @unchecked Sendable {
    let regex: NSRegularExpression
    init(_ regex: NSRegularExpression) { self.regex = regex }

    func matches(_ text: String) -> Bool {
        regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}

/// A time-boxed mute: alerts whose labels match every matcher are not notified between
/// `startsAt` and `endsAt` (they are still evaluated and recorded).
public struct Silence: Sendable, Equatable, Codable {
    public var id: Int64?
    public var matchers: [Matcher]
    public var startsAt: Date
    public var endsAt: Date
    public var author: String
    /// Why, e.g. "plant maintenance 12–14 Nov".
    public var reason: String

    public init(id: Int64? = nil, matchers: [Matcher], startsAt: Date, endsAt: Date, author: String, reason: String) {
        self.id = id
        self.matchers = matchers
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.author = author
        self.reason = reason
    }

    /// Whether the silence is in force at `now`.
    public func isActive(at now: Date) -> Bool { startsAt <= now && now < endsAt }

    /// Whether the silence mutes an alert with `labels` at `now`.
    public func mutes(_ labels: [String: String], at now: Date) -> Bool {
        isActive(at: now) && matchers.allSatisfy { $0.matches(labels) }
    }
}

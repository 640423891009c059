public import EnvMonDomain
import Foundation
import Yams

/// Receivers and the route tree of a route file (alerts/routes.yaml), Alertmanager-like.
///
/// `${NAME}` (or `${NAME:-fallback}`) in any value is replaced from the injected environment;
/// an unset variable is empty. A receiver left without any channel after that (an email list
/// that came out empty, a webhook without url) is inactive: routes to it deliver nothing, and
/// that is not an error, so the shipped file works without `ENVMON_ALERT_EMAIL`.
public struct RouteFile: Sendable, Equatable {
    public var fileName: String
    /// Receivers with at least one channel, by name.
    public var receivers: [String: Receiver]
    /// Receivers declared in the file that ended up without channels.
    public var inactiveReceivers: Set<String>
    /// The root of the route tree; it matches every alert.
    public var root: Route

    public init(fileName: String, receivers: [String: Receiver], inactiveReceivers: Set<String>, root: Route) {
        self.fileName = fileName
        self.receivers = receivers
        self.inactiveReceivers = inactiveReceivers
        self.root = root
    }

    /// Parses a route file; every problem is reported as `file:line:col: message`.
    ///
    /// - Parameters:
    ///   - text: The file's contents.
    ///   - fileName: The name used in error messages.
    ///   - environment: Values for `${NAME}` interpolation (the process environment, in production).
    /// - Throws: ``AlertFileError`` listing every problem.
    public static func parse(
        text: String, fileName: String, environment: [String: String]
    ) throws(AlertFileError) -> RouteFile {
        var parser = RouteFileParser(reader: YAMLReading(fileName: fileName), environment: environment)
        let file = parser.parse(text)
        if !parser.reader.issues.isEmpty { throw AlertFileError(issues: parser.reader.issues) }
        return RouteFile(
            fileName: fileName, receivers: file.receivers, inactiveReceivers: file.inactive,
            root: file.root ?? Route(settings: .defaults(receiver: ""))
        )
    }
}

/// One node of the route tree.
public struct Route: Sendable, Equatable {
    /// Effective settings: what the file says here, else what the parent route says.
    public var settings: RouteSettings
    /// All must match for the route (and its children) to take an alert.
    public var matchers: [Matcher]
    /// After this route takes an alert, keep trying the next sibling routes too.
    public var `continue`: Bool
    public var routes: [Route]

    public init(settings: RouteSettings, matchers: [Matcher] = [], continue: Bool = false, routes: [Route] = []) {
        self.settings = settings
        self.matchers = matchers
        self.continue = `continue`
        self.routes = routes
    }
}

/// Also notify `receiver` once when an alert has fired, unacknowledged, for `after` seconds.
public struct Escalation: Sendable, Equatable, Codable {
    public var after: Double
    public var receiver: String

    public init(after: Double, receiver: String) {
        self.after = after
        self.receiver = receiver
    }
}

/// What a route does with the alerts it takes; children inherit what they do not set.
public struct RouteSettings: Sendable, Equatable, Codable {
    public var receiver: String
    /// Labels whose values split alerts into notification groups; empty = one group.
    public var groupBy: [String]
    /// Seconds to wait after an alert fires before its first notification, to batch its group.
    public var groupWait: Double
    /// Seconds between notifications of one group that gained new alerts (for the notifier).
    public var groupInterval: Double
    /// Seconds after which a still-firing, unacknowledged alert is notified again.
    public var repeatInterval: Double
    /// Whether recovery is notified.
    public var sendResolved: Bool
    public var escalate: [Escalation]

    /// Alertmanager's defaults: group_wait 30s, group_interval 5m, repeat_interval 4h.
    public static func defaults(receiver: String) -> RouteSettings {
        RouteSettings(receiver: receiver, groupBy: [], groupWait: 30, groupInterval: 300,
                      repeatInterval: 4 * 3_600, sendResolved: true, escalate: [])
    }

    public init(receiver: String, groupBy: [String], groupWait: Double, groupInterval: Double,
                repeatInterval: Double, sendResolved: Bool, escalate: [Escalation]) {
        self.receiver = receiver
        self.groupBy = groupBy
        self.groupWait = groupWait
        self.groupInterval = groupInterval
        self.repeatInterval = repeatInterval
        self.sendResolved = sendResolved
        self.escalate = escalate
    }
}

/// The parsing work of ``RouteFile/parse(text:fileName:environment:)``.
private struct RouteFileParser {
    var reader: YAMLReading
    let environment: [String: String]
    private var declared: Set<String> = []
    private var referenced: [(name: String, node: Node)] = []

    init(reader: YAMLReading, environment: [String: String]) {
        self.reader = reader
        self.environment = environment
    }

    static let routeKeys = [
        "receiver", "group_by", "group_wait", "group_interval", "repeat_interval", "send_resolved",
        "matchers", "continue", "routes", "escalate",
    ]

    mutating func parse(_ text: String) -> (receivers: [String: Receiver], inactive: Set<String>, root: Route?) {
        var receivers: [String: Receiver] = [:]
        var inactive: Set<String> = []
        guard let rootNode = reader.compose(text),
              let top = reader.mapping(rootNode, what: "the route file", allowed: ["receivers", "route"]) else {
            return (receivers, inactive, nil)
        }
        for item in top["receivers"].flatMap({ reader.sequence($0, what: "receivers") }) ?? [] {
            guard let receiver = parseReceiver(item) else { continue }
            if declared.contains(receiver.name) {
                reader.report(item, "duplicate receiver '\(receiver.name)'")
                continue
            }
            declared.insert(receiver.name)
            if receiver.channels.isEmpty { inactive.insert(receiver.name) } else { receivers[receiver.name] = receiver }
        }
        if top["receivers"] == nil { reader.report(rootNode, "the route file needs 'receivers:'") }
        var root: Route?
        if let routeNode = top["route"] {
            root = parseRoute(routeNode, parent: nil)
            // Looked up without `reader.mapping`, which parseRoute already used to report unknown keys.
            if let fields = routeNode.mapping {
                if fields["receiver"] == nil { reader.report(routeNode, "the root route needs a 'receiver'") }
                if let matchers = fields["matchers"] {
                    reader.report(matchers, "the root route takes every alert; put matchers on its child routes")
                }
            }
        } else {
            reader.report(rootNode, "the route file needs 'route:'")
        }
        for (name, node) in referenced where !declared.contains(name) {
            var message = "unknown receiver '\(name)'"
            if let guess = YAMLReading.closest(to: name, among: declared.sorted()) { message += "; did you mean '\(guess)'?" }
            reader.report(node, message)
        }
        return (receivers, inactive, root)
    }

    private mutating func interpolated(_ node: Node, what: String) -> String? {
        guard let text = reader.string(node, what: what) else { return nil }
        var output = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            output += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                reader.report(node, "\(what): unclosed '${' in '\(text)'")
                return nil
            }
            let expression = rest[start.upperBound..<end]
            let parts = expression.split(separator: ":-", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts.first ?? "")
            guard AlertLabelName.isValid(name) else {
                reader.report(node, "\(what): '${\(expression)}' does not name an environment variable")
                return nil
            }
            let value = environment[name] ?? ""
            output += value.isEmpty && parts.count > 1 ? String(parts[1]) : value
            rest = rest[rest.index(after: end)...]
        }
        return output + rest
    }

    private mutating func parseReceiver(_ node: Node) -> Receiver? {
        guard let fields = reader.mapping(node, what: "a receiver", allowed: ["name", "log", "email", "webhook"]) else {
            return nil
        }
        guard let name = fields["name"].flatMap({ reader.string($0, what: "receiver name") }), !name.isEmpty else {
            reader.report(node, "a receiver needs a 'name'")
            return nil
        }
        var channels: [ReceiverChannel] = []
        if let logNode = fields["log"], reader.bool(logNode, what: "log") == true { channels.append(.log) }
        if let emailNode = fields["email"], let email = reader.mapping(emailNode, what: "email", allowed: ["to"]) {
            var addresses: [String] = []
            if let toNode = email["to"] {
                let items: [Node] = if case .sequence = toNode { reader.sequence(toNode, what: "email.to") ?? [] } else { [toNode] }
                for item in items {
                    guard let value = interpolated(item, what: "email.to") else { continue }
                    for address in RouteFile.addresses(in: value) {
                        if !RouteFile.isMailbox(address) {
                            reader.report(item, "'\(address)' is not an email address (write name@example.org or 王工 <name@example.org>)")
                        }
                        addresses.append(address)
                    }
                }
            } else {
                reader.report(emailNode, "email needs 'to:' (a list of addresses)")
            }
            if !addresses.isEmpty { channels.append(.email(to: addresses)) }
        }
        if let hookNode = fields["webhook"],
           let hook = reader.mapping(hookNode, what: "webhook", allowed: ["url", "format"]) {
            var format = WebhookFormat.generic
            if let formatNode = hook["format"], let text = reader.string(formatNode, what: "webhook.format") {
                if let parsed = WebhookFormat(rawValue: text) { format = parsed } else {
                    reader.report(formatNode, "unknown webhook format '\(text)' (generic, wecom or dingtalk)")
                }
            }
            if let urlNode = hook["url"], let url = interpolated(urlNode, what: "webhook.url") {
                if !url.isEmpty {
                    if !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                        reader.report(urlNode, "webhook url '\(url)' must start with http:// or https://")
                    }
                    channels.append(.webhook(url: url, format: format))
                }
            } else if hook["url"] == nil {
                reader.report(hookNode, "webhook needs a 'url'")
            }
        }
        return Receiver(name: name, channels: channels)
    }

    private mutating func parseRoute(_ node: Node, parent: RouteSettings?) -> Route? {
        guard let fields = reader.mapping(node, what: "a route", allowed: Self.routeKeys) else { return nil }
        var settings = parent ?? .defaults(receiver: "")
        if let receiverNode = fields["receiver"], let name = reader.string(receiverNode, what: "receiver") {
            settings.receiver = name
            referenced.append((name, receiverNode))
        }
        if let node = fields["group_by"], let value = reader.stringList(node, what: "group_by") {
            for name in value where !AlertLabelName.isValid(name) {
                reader.report(node, "group_by: '\(name)' is not a label name")
            }
            settings.groupBy = value
        }
        if let value = fields["group_wait"].flatMap({ reader.duration($0, what: "group_wait") }) { settings.groupWait = value }
        if let value = fields["group_interval"].flatMap({ reader.duration($0, what: "group_interval") }) {
            settings.groupInterval = value
        }
        if let node = fields["repeat_interval"], let value = reader.duration(node, what: "repeat_interval") {
            if value <= 0 { reader.report(node, "repeat_interval must be longer than 0") }
            settings.repeatInterval = value
        }
        if let value = fields["send_resolved"].flatMap({ reader.bool($0, what: "send_resolved") }) {
            settings.sendResolved = value
        }
        if let escalateNode = fields["escalate"], let items = reader.sequence(escalateNode, what: "escalate") {
            settings.escalate = []
            for item in items {
                guard let step = reader.mapping(item, what: "an escalation", allowed: ["after", "receiver"]) else { continue }
                guard let afterNode = step["after"], let receiverNode = step["receiver"] else {
                    reader.report(item, "an escalation needs 'after' and 'receiver'")
                    continue
                }
                guard let after = reader.duration(afterNode, what: "escalate.after"),
                      let receiver = reader.string(receiverNode, what: "escalate.receiver") else { continue }
                referenced.append((receiver, receiverNode))
                settings.escalate.append(Escalation(after: after, receiver: receiver))
            }
        }
        var matchers: [Matcher] = []
        for item in fields["matchers"].flatMap({ reader.sequence($0, what: "matchers") }) ?? [] {
            guard let text = reader.string(item, what: "a matcher") else { continue }
            do {
                matchers.append(try Matcher(parsing: text))
            } catch {
                reader.report(item, "bad matcher: \(error.message)")
            }
        }
        let continues = fields["continue"].flatMap { reader.bool($0, what: "continue") } ?? false
        var children: [Route] = []
        for child in fields["routes"].flatMap({ reader.sequence($0, what: "routes") }) ?? [] {
            if let route = parseRoute(child, parent: settings) { children.append(route) }
        }
        return Route(settings: settings, matchers: matchers, continue: continues, routes: children)
    }
}

extension RouteFile {
    /// Addresses of a comma-separated list; commas inside a quoted display name or inside
    /// `<…>` do not split.
    static func addresses(in text: String) -> [String] {
        var result: [String] = []
        var current = ""
        var quoted = false
        var angled = false
        for character in text {
            switch character {
            case "\"": quoted.toggle()
            case "<": angled = true
            case ">": angled = false
            case "," where !quoted && !angled:
                result.append(current)
                current = ""
                continue
            default: break
            }
            current.append(character)
        }
        result.append(current)
        return result.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// `name@domain` or `Display Name <name@domain>`.
    static func isMailbox(_ text: String) -> Bool {
        var address = Substring(text)
        if let open = text.lastIndex(of: "<"), text.hasSuffix(">") {
            address = text[text.index(after: open)..<text.index(before: text.endIndex)]
        }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".")
            && !address.contains(where: { $0 == " " || $0 == "\r" || $0 == "\n" || $0 == "<" || $0 == ">" })
    }
}

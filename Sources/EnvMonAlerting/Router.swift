public import EnvMonDomain

/// Sends alerts down the route tree of a ``RouteFile`` to receivers, as Alertmanager does.
///
/// A route takes an alert when all its matchers match; its children are tried in order and the
/// first that takes the alert ends the search unless it says `continue: true`. When no child
/// takes it, the route itself does. The root takes every alert.
public struct Router: Sendable, Equatable {
    public let file: RouteFile

    public init(_ file: RouteFile) {
        self.file = file
    }

    /// The effective settings of every route that takes an alert with `labels`, in tree order.
    public func matchingRoutes(_ labels: [String: String]) -> [RouteSettings] {
        Self.match(file.root, labels: labels, isRoot: true)
    }

    /// The names of the active receivers an alert goes to, without repeats, in route order.
    public func route(_ notice: AlertNotice) -> [String] {
        receivers(for: notice.labels)
    }

    /// Active receivers for `labels`; routes to an inactive receiver deliver nowhere.
    public func receivers(for labels: [String: String]) -> [String] {
        var names: [String] = []
        for settings in matchingRoutes(labels)
        where file.receivers[settings.receiver] != nil && !names.contains(settings.receiver) {
            names.append(settings.receiver)
        }
        return names
    }

    /// Whether `name` is a receiver with at least one channel.
    public func isActive(_ name: String) -> Bool { file.receivers[name] != nil }

    private static func match(_ route: Route, labels: [String: String], isRoot: Bool) -> [RouteSettings] {
        guard isRoot || route.matchers.allSatisfy({ $0.matches(labels) }) else { return [] }
        var taken: [RouteSettings] = []
        for child in route.routes {
            let matched = match(child, labels: labels, isRoot: false)
            taken += matched
            if !matched.isEmpty && !child.continue { break }
        }
        return taken.isEmpty ? [route.settings] : taken
    }
}

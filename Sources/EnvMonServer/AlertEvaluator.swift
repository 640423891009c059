public import EnvMonAlerting
public import EnvMonDomain
public import EnvMonStore
public import Foundation
import Logging

/// One evaluation pass: reads the analytics views, runs the alert engine against the stored
/// alerts, and writes the new states, their history and the notifications due — in one
/// transaction, so a notification exists exactly when its state change does.
public struct AlertEvaluator: Sendable {
    public let database: Database
    public let configuration: AlertConfiguration

    public init(database: Database, configuration: AlertConfiguration) {
        self.database = database
        self.configuration = configuration
    }

    /// What a pass did.
    public struct Summary: Sendable, Codable, Equatable {
        public struct Change: Sendable, Codable, Equatable {
            public var alertID: Int64?
            public var rule: String
            public var from: AlertPhase?
            public var to: AlertPhase
            public var labels: [String: String]
        }
        public var evaluatedAt: Date
        public var candidates: Int
        public var changes: [Change]
        public var notificationsQueued: Int
        public var firing: Int
        public var pending: Int
    }

    /// Resolved alerts are kept in planning this long, so their resolved notices go out.
    static let resolvedWindow: TimeInterval = 7 * 86_400

    public func evaluate(at now: Date) async throws -> Summary {
        let rules = configuration.rules.enabledRules
        let router = Router(configuration.routes)
        return try await AlertStore(database: database).withEvaluation { tx in
            let candidates = try await AlertCandidates.collect(rules: rules, now: now, on: tx)
            let previous = try await tx.alerts(resolvedSince: now.addingTimeInterval(-Self.resolvedWindow))
            let open = previous.filter(\.state.isOpen)
            let result = AlertEngine.evaluate(rules: configuration.rules.rules, candidates: candidates, previous: open, now: now)

            // Persist the changed states; new alerts get their ids here.
            let saved = try await tx.save(result.states)
            var newIDs: [String: Int64] = [:]
            for (state, before) in zip(saved, result.states) where before.id == nil {
                if let id = state.id { newIDs[state.fingerprint] = id }
            }
            try await tx.record(result.transitions.compactMap { transition in
                guard let id = transition.alertID ?? newIDs[transition.fingerprint] else { return nil }
                return AlertEventRecord(alertID: id, at: transition.at, fromState: transition.from,
                                        toState: transition.to, event: AlertEventKind(entering: transition.to),
                                        details: ["reason": transition.reason])
            })

            // Everything the planner should see: stored alerts updated by this pass.
            var byID: [Int64: AlertState] = [:]
            for state in previous { if let id = state.id { byID[id] = state } }
            for state in saved { if let id = state.id { byID[id] = state } }
            let planning = byID.values.filter { $0.state != .cancelled }.sorted { ($0.id ?? 0) < ($1.id ?? 0) }
            let silences = try await tx.silences().compactMap(Self.silence(from:))
            let planned = NotificationPlanner.plan(states: planning, notices: [], routes: router, now: now, silences: silences)
            var entries: [OutboxEntry] = []
            for notification in planned {
                let payload = try AlertStore.json(notification.group)
                let ids = notification.group.alerts.compactMap(\.alertID)
                for channel in notification.channels {
                    entries.append(OutboxEntry(
                        receiver: notification.receiver, channel: Data(try AlertStore.json(channel).utf8),
                        payload: Data(payload.utf8), alertIDs: ids, notBefore: notification.notBefore))
                }
            }
            try await tx.enqueue(entries)
            let recorded = NotificationPlanner.record(planned, in: planning, at: now)
            _ = try await tx.save(recorded)
            for notification in planned {
                let event: AlertEventKind = notification.group.alerts.contains(where: \.isEscalation) ? .escalated : .notified
                try await tx.record(notification.group.alerts.compactMap { notice in
                    notice.alertID.map {
                        AlertEventRecord(alertID: $0, at: now, fromState: nil, toState: nil, event: event,
                                         details: ["receiver": notification.receiver, "status": notice.status.rawValue])
                    }
                })
            }

            let final = Array(byID.values)
            return Summary(
                evaluatedAt: now, candidates: candidates.count,
                changes: result.transitions.map { change in
                    Summary.Change(alertID: change.alertID ?? newIDs[change.fingerprint], rule: change.rule,
                                   from: change.from, to: change.to,
                                   labels: saved.first { $0.fingerprint == change.fingerprint }?.labels ?? [:])
                },
                notificationsQueued: entries.count,
                firing: final.filter { $0.state == .firing }.count,
                pending: final.filter { $0.state == .pending }.count)
        }
    }

    static func silence(from stored: SilenceRecord) -> Silence? {
        let matchers = stored.matchers.compactMap { try? Matcher(parsing: $0) }
        guard matchers.count == stored.matchers.count else { return nil }
        return Silence(id: stored.id, matchers: matchers, startsAt: stored.startsAt, endsAt: stored.endsAt,
                       author: stored.author, reason: stored.reason)
    }
}

/// The rule and route files in force, and the plan's targets file.
public struct AlertConfiguration: Sendable {
    public var rules: RuleFile
    public var routes: RouteFile
    public var targets: TargetFile

    public init(rules: RuleFile, routes: RouteFile, targets: TargetFile) {
        self.rules = rules
        self.routes = routes
        self.targets = targets
    }

    /// The files of `directory` (rules.yaml, routes.yaml, targets.yaml), each falling back to
    /// the defaults built into the binary; `${VAR}` in routes from `environment`.
    public static func load(directory: URL?, environment: [String: String]) throws -> AlertConfiguration {
        func text(_ name: String) throws -> (String, String) {
            if let directory {
                let url = directory.appendingPathComponent(name)
                if FileManager.default.fileExists(atPath: url.path) {
                    return (try String(contentsOf: url, encoding: .utf8), url.path)
                }
            }
            guard let builtIn = EmbeddedResources.files[name] else {
                throw AlertFileError(issues: [AlertFileIssue(file: name, line: 1, column: 1, message: "no such file")])
            }
            return (builtIn, "alerts/\(name) (built in)")
        }
        let (rulesText, rulesName) = try text("rules.yaml")
        let (routesText, routesName) = try text("routes.yaml")
        let (targetsText, targetsName) = try text("targets.yaml")
        return AlertConfiguration(
            rules: try RuleFile.parse(text: rulesText, fileName: rulesName),
            routes: try RouteFile.parse(text: routesText, fileName: routesName, environment: environment),
            targets: try TargetFile.parse(text: targetsText, fileName: targetsName))
    }
}

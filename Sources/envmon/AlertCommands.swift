import ArgumentParser
import EnvMonDomain
import EnvMonServer
import Foundation

struct Alerts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Alerts: list, acknowledge, history; check rule and route files.",
        subcommands: [List.self, Ack.self, History.self, Check.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Alerts in a state, newest first.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "pending, firing, resolved or all (default firing).") var state = "firing"

        func validate() throws {
            guard ["pending", "firing", "resolved", "cancelled", "all"].contains(state) else {
                throw ValidationError("--state must be pending, firing, resolved or all")
            }
        }

        func run() async throws {
            let state = self.state
            let alerts = try await global.operations.alerts(state: AlertPhase(rawValue: state))
            let listed = alerts.map(ListedAlert.init)
            if global.json { try Output.json(["alerts": listed]); return }
            if listed.isEmpty { Output.line("no \(state == "all" ? "" : state + " ")alerts"); return }
            for alert in listed {
                Output.line("#\(alert.id) [\(alert.state)] \(alert.severity) \(alert.rule)  \((alert.summary ?? "").printable)"
                            + (alert.ackedBy.map { "  (acked by \($0.printable))" } ?? ""))
            }
        }
    }

    struct Ack: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Acknowledge an alert: stops repeats and escalation; recorded in its history.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Alert id.") var id: Int64
        @Option(name: .long, help: "Who acknowledges.") var by: String
        @Option(name: .long, help: "A note, e.g. what is being done.") var note: String?

        func run() async throws {
            let alert = try await global.operations.acknowledge(alertID: id, by: by, note: note)
            if global.json { try Output.json(ListedAlert(alert)) } else { Output.line("alert \(id) acknowledged by \(by)") }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every transition and action of an alert.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Alert id.") var id: Int64

        func run() async throws {
            let (alert, events) = try await global.operations.alertHistory(id: id)
            if global.json {
                struct Shown: Encodable { var alert: ListedAlert; var events: [AlertEventRecord] }
                try Output.json(Shown(alert: ListedAlert(alert), events: events))
                return
            }
            Output.line("alert \(id) \(alert.rule) (\(alert.state.rawValue)): \((alert.annotations["summary"] ?? "").printable)")
            for event in events {
                let move = event.fromState.map { "\($0.rawValue) → \(event.toState?.rawValue ?? "")" } ?? ""
                let details = event.details.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                Output.line("  \(event.at.iso8601Text)  \(event.event.rawValue) \(move) \(event.actor.map { "by \($0.printable) " } ?? "")\(details.printable)")
            }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate rule, route and targets files; errors are file:line:column: message.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Files to check (default: the files in force).") var files: [String] = []
        @OptionGroup var alertFiles: AlertFilesOption

        func run() async throws {
            let (checked, problems) = global.operations.checkAlertFiles(files, directory: alertFiles.alertsDir)
            if global.json {
                struct Result: Encodable { var ok: Bool; var checked: [String]; var errors: [String] }
                try Output.json(Result(ok: problems.isEmpty, checked: checked, errors: problems))
            } else {
                for problem in problems { Output.note(problem) }
                if problems.isEmpty { Output.line("ok: \(checked.joined(separator: ", "))") }
            }
            if !problems.isEmpty { throw ExitCode(1) }
        }
    }
}

/// An alert as `alerts list --json` prints it.
struct ListedAlert: Encodable {
    var id: Int64
    var rule: String
    var kind: String
    var state: String
    var severity: String
    var labels: [String: String]
    var value: Double?
    var target: Double?
    var startedAt: Date
    var firedAt: Date?
    var resolvedAt: Date?
    var ackedBy: String?
    var ackedAt: Date?
    var ackNote: String?
    var summary: String?
    var description: String?

    private enum CodingKeys: String, CodingKey {
        case id, rule, kind, state, severity, labels, value, target, startedAt, firedAt, resolvedAt, ackedBy, ackedAt,
             ackNote, summary, description
    }

    /// Every key is written, absent values as `null`.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(rule, forKey: .rule)
        try c.encode(kind, forKey: .kind)
        try c.encode(state, forKey: .state)
        try c.encode(severity, forKey: .severity)
        try c.encode(labels, forKey: .labels)
        try c.encode(value, forKey: .value)
        try c.encode(target, forKey: .target)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(firedAt, forKey: .firedAt)
        try c.encode(resolvedAt, forKey: .resolvedAt)
        try c.encode(ackedBy, forKey: .ackedBy)
        try c.encode(ackedAt, forKey: .ackedAt)
        try c.encode(ackNote, forKey: .ackNote)
        try c.encode(summary, forKey: .summary)
        try c.encode(description, forKey: .description)
    }

    init(_ alert: AlertState) {
        id = alert.id ?? 0
        rule = alert.rule
        kind = alert.kind.rawValue
        state = alert.state.rawValue
        severity = alert.severity.rawValue
        var labels = alert.labels
        labels["period"] = labels["period"] ?? alert.annotations["period"]
        self.labels = labels
        value = alert.value
        target = alert.target
        startedAt = alert.activeSince
        firedAt = alert.firedAt
        resolvedAt = alert.resolvedAt
        ackedBy = alert.ackedBy
        ackedAt = alert.ackedAt
        ackNote = alert.ackNote
        summary = alert.annotations["summary"]
        description = alert.annotations["description"]
    }
}

struct SilenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "silence",
        abstract: "Silences mute notifications (not evaluation) for matching alerts, e.g. during maintenance.",
        subcommands: [Add.self, List.self, Expire.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a silence.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .customLong("matcher"), help: "A label matcher, e.g. site_id=\"WWTP01\" or metric=~\"sewage.*\" (repeatable).")
        var matchers: [String]
        @Option(name: .long, help: "How long from --start, e.g. 2h, 3d.") var duration: String?
        @Option(name: .long, help: "End time, ISO 8601 (instead of --duration).") var until: String?
        @Option(name: .long, help: "Start time, ISO 8601 (default now).") var start: String?
        @Option(name: .long, help: "Who adds it.") var author: String
        @Option(name: .long, help: "Why, e.g. plant maintenance.") var reason: String

        func validate() throws {
            if matchers.isEmpty { throw ValidationError("give at least one --matcher") }
            for matcher in matchers where Operations.matcherProblem(matcher) != nil {
                throw ValidationError("bad matcher '\(matcher)': use name=\"value\", !=, =~ or !~")
            }
            if (duration == nil) == (until == nil) { throw ValidationError("give exactly one of --duration or --until") }
            if let duration, Operations.durationSeconds(duration) == nil { throw ValidationError("bad --duration '\(duration)'") }
            if let until, Timestamps.parse(until) == nil { throw ValidationError("bad --until '\(until)'") }
            if let start, Timestamps.parse(start) == nil { throw ValidationError("bad --start '\(start)'") }
        }

        func run() async throws {
            let starts = start.flatMap { Timestamps.parse($0) } ?? Date()
            let ends = until.flatMap { Timestamps.parse($0) }
                ?? starts.addingTimeInterval(duration.flatMap(Operations.durationSeconds) ?? 3600)
            guard ends > starts else { throw OperationFailure("the silence ends before it starts") }
            let id = try await global.operations.addSilence(matchers: matchers, startsAt: starts, endsAt: ends,
                                                            author: author, reason: reason)
            if global.json { try Output.json(["id": id]) } else {
                Output.line("silence \(id) until \(ends.iso8601Text): \(matchers.joined(separator: ", "))")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Active silences (--all: also ended ones).")
        @OptionGroup var global: GlobalOptions
        @Flag(name: .long, help: "Include expired silences.") var all = false

        func run() async throws {
            let silences = try await global.operations.silences(includeExpired: all)
            if global.json { try Output.json(["silences": silences]); return }
            if silences.isEmpty { Output.line("no silences") }
            for s in silences {
                Output.line("#\(s.id) \(s.startsAt.iso8601Text) → \(s.endsAt.iso8601Text) by \(s.author): \(s.matchers.joined(separator: ", ")) — \(s.reason)\(s.expiredAt == nil ? "" : " (expired)")")
            }
        }
    }

    struct Expire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End a silence now.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Silence id.") var id: Int64

        func run() async throws {
            let done = try await global.operations.expireSilence(id: id)
            guard done else { throw EnvMonError.notFound("no active silence with id \(id)") }
            if global.json { try Output.json(["expired": id]) } else { Output.line("silence \(id) expired") }
        }
    }
}

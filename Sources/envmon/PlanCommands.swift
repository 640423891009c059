import ArgumentParser
import EnvMonDomain
import EnvMonServer
import Foundation

struct Targets: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The plan's targets: load a targets file, list them.",
        subcommands: [Load.self, List.self])

    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace every plan target with those of FILE, in one transaction (validated first).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "A targets YAML file (see alerts/targets.yaml).") var file: String

        func run() async throws {
            let targets = try await global.operations.loadTargets(from: file)
            if global.json { try Output.json(["targets": targets]) } else {
                Output.line("loaded \(targets.count) plan targets from \(file)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The plan targets in force.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let targets = try await global.operations.targets()
            if global.json { try Output.json(["targets": targets]); return }
            var rows = [["metric", "scope", "target", "granularity", "due"]]
            rows += targets.map {
                [$0.metric, $0.scope, "\($0.comparator.rawValue) \($0.value)", $0.granularity.rawValue, $0.due.description]
            }
            Output.line(PlanReport.table(rows))
        }
    }
}

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Plan progress: each target against its latest period with data (or --period).",
        discussion: "With --read-url (or ENVMON_READ_URL) the report is read from that streaming standby when it lags at most --read-max-lag; otherwise from the primary, with a warning on stderr.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var readReplica: ReadReplicaOptions
    @Option(name: .long, help: "A period: YYYY-MM or YYYY (default: each target's latest).") var period: String?

    func validate() throws {
        if let period, period.range(of: #"^\d{4}(-\d{2})?$"#, options: .regularExpression) == nil {
            throw ValidationError("--period must be YYYY or YYYY-MM")
        }
        _ = try readReplica.settings(environment: ProcessInfo.processInfo.environment)
    }

    func run() async throws {
        let replica = try readReplica.settings(environment: ProcessInfo.processInfo.environment)
        let rows = try await global.operations.planProgress(period: period, replica: replica)
        if global.json { try Output.json(["plan": rows]) } else { Output.line(PlanReport.render(rows)) }
    }
}

struct Evaluate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate the alert rules once against the analytics views; queue notifications.",
        discussion: "--at sets the evaluation clock (pending durations, staleness, due dates), e.g. 2026-04-01T09:00:00+08:00.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var files: AlertFilesOption
    @Option(name: .long, help: "Evaluation time, ISO 8601 (default: now).") var at: String?

    func validate() throws {
        if let at, Timestamps.parse(at) == nil { throw ValidationError("--at '\(at)' is not an ISO 8601 time") }
    }

    func run() async throws {
        let operations = global.operations
        let summary = try await operations.evaluate(
            at: at.flatMap { Timestamps.parse($0) } ?? Date(),
            configuration: try operations.alertConfiguration(directory: files.alertsDir))
        if global.json { try Output.json(summary); return }
        Output.line("evaluated at \(summary.evaluatedAt.iso8601Text): \(summary.firing) firing, \(summary.pending) pending, \(summary.notificationsQueued) notifications queued")
        for change in summary.changes {
            let labels = change.labels.filter { !["alertname", "severity", "kind"].contains($0.key) }
                .sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            Output.line("  alert \(change.alertID.map(String.init) ?? "-") \(change.rule): \(change.from?.rawValue ?? "new") → \(change.to.rawValue)  \(labels.printable)")
        }
    }
}

struct Sites: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The site registry: retire a site (no missing-data alerts) or bring it back.",
        subcommands: [Retire.self, Unretire.self])

    struct Retire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Retire a site: it raises no missing-data alert.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Site id (enterprise, plant, section or district).") var id: String
        @Option(name: .long, help: "enterprise, plant, section or district (when the id is ambiguous).") var kind: String?
        @Option(name: .long, help: "Why, for the record.") var reason: String?

        func run() async throws {
            let count = try await global.operations.retireSite(id: id, kind: kind, reason: reason, retire: true)
            guard count > 0 else { throw OperationFailure("no site with id \(id)\(kind.map { " of kind \($0)" } ?? "")") }
            if global.json { try Output.json(["retired": count]) } else { Output.line("retired \(count) site(s) with id \(id)") }
        }
    }

    struct Unretire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Bring a retired site back.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Site id.") var id: String
        @Option(name: .long, help: "enterprise, plant, section or district.") var kind: String?

        func run() async throws {
            let count = try await global.operations.retireSite(id: id, kind: kind, reason: nil, retire: false)
            guard count > 0 else { throw OperationFailure("no site with id \(id)") }
            if global.json { try Output.json(["unretired": count]) } else { Output.line("site \(id) is active again") }
        }
    }
}

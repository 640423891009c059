import ArgumentParser
import EmbeddedPostgres
import EnvMonServer
import EnvMonStore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

struct DB: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Manage the embedded PostgreSQL cluster under $ENVMON_HOME.",
        subcommands: [Start.self, Stop.self, Status.self, URLCommand.self, PSQL.self]
    )

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create (when needed) and start the embedded cluster; harmless when running.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let cluster = try global.runtime.embeddedCluster(logger: global.logger)
            let info = try cluster.start()
            let report = ClusterReport(cluster: cluster, status: "running", port: info.port)
            if global.json { try Output.json(report) } else {
                Output.line("embedded PostgreSQL running on 127.0.0.1:\(info.port), socket \(cluster.layout.socketDirectory.path)")
                if let reason = cluster.layout.relocatedReason { Output.line("note: \(reason)") }
            }
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the embedded cluster (fast shutdown).")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let cluster = try global.runtime.embeddedCluster(logger: global.logger)
            try cluster.stop()
            if global.json { try Output.json(ClusterReport(cluster: cluster, status: "stopped", port: nil)) } else {
                Output.line("embedded PostgreSQL stopped")
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Say whether the embedded cluster exists and runs; exit 1 when it does not run.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let cluster = try global.runtime.embeddedCluster(logger: global.logger)
            let report: ClusterReport
            switch cluster.status() {
            case .notInitialized: report = ClusterReport(cluster: cluster, status: "not_initialized", port: nil)
            case .stopped: report = ClusterReport(cluster: cluster, status: "stopped", port: nil)
            case .running(let port): report = ClusterReport(cluster: cluster, status: "running", port: port)
            }
            if global.json { try Output.json(report) } else {
                Output.line("embedded PostgreSQL: \(report.status.replacingOccurrences(of: "_", with: " "))"
                            + (report.port.map { " on 127.0.0.1:\($0)" } ?? "") + ", data \(report.dataDirectory)")
                if let reason = report.relocated { Output.line("note: \(reason)") }
            }
            if report.status != "running" { throw ExitCode(1) }
        }
    }

    struct URLCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "url", abstract: "Print the database URL (the embedded cluster's unless a database is configured).")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let url = try Self.resolvedURL(global)
            if global.json { try Output.json(["url": url]) } else { Output.line(url) }
        }

        static func resolvedURL(_ global: GlobalOptions) throws -> String {
            let (address, _) = try global.runtime.resolveAddress(logger: global.logger)
            return ConnectionInfo(host: address.host, port: address.port, socketDirectory: address.socketDirectory,
                                  user: address.user, password: address.password ?? "", database: address.database).url
                + (address.sslMode == .prefer ? "" : "?sslmode=\(address.sslMode.rawValue)")
        }
    }

    struct PSQL: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "psql", abstract: "Run psql on the database; arguments after `psql` are passed through (e.g. -c '\\dt envmon.*').")
        @OptionGroup var global: GlobalOptions
        @Argument(parsing: .captureForPassthrough, help: "Arguments for psql.")
        var arguments: [String] = []

        func run() async throws {
            let url = try URLCommand.resolvedURL(global)
            var psql = "psql"
            if let bin = try? EmbeddedPostgres.findBinaries() {
                psql = bin.appendingPathComponent("psql").path
            }
            let argv = [psql, url] + arguments
            var cArgs = argv.map { strdup($0) } + [nil]
            execvp(psql, &cArgs)
            throw CommandFailure("cannot run psql (\(String(cString: strerror(errno)))); install it: apt-get install -y postgresql-client")
        }
    }
}

struct ClusterReport: Encodable {
    var status: String
    var port: Int?
    var dataDirectory: String
    var socketDirectory: String
    var relocated: String?

    init(cluster: EmbeddedPostgres, status: String, port: Int?) {
        self.status = status
        self.port = port
        self.dataDirectory = cluster.layout.dataDirectory.path
        self.socketDirectory = cluster.layout.socketDirectory.path
        self.relocated = cluster.layout.relocatedReason
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending migrations and (re)create the analytics views; re-running is a no-op.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: .long, help: "List applied and pending migrations; change nothing.")
    var status = false

    func run() async throws {
        let global = self.global
        if status {
            let rows = try await global.runtime.withDatabase(logger: global.logger, requireSchema: false) { db in
                try await Migrator(database: db).status()
            }
            if global.json { try Output.json(["migrations": rows]) } else {
                for row in rows {
                    Output.line("\(row.state.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(row.name)"
                                + (row.appliedAt.map { "  \($0.iso8601Text)" } ?? ""))
                }
            }
            return
        }
        let environment = global.runtime.environment
        let report = try await global.runtime.withDatabase(logger: global.logger, requireSchema: false) { db in
            let report = try await Migrator(database: db).migrate()
            try await RuntimeConfiguration.seedDefaults(db, environment: environment)
            return report
        }
        if global.json { try Output.json(report) } else {
            for name in report.applied { Output.line("applied \(name)") }
            if report.viewsRecreated { Output.line("created analytics views") }
        }
    }
}

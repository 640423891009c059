import ArgumentParser
import EnvMonDomain
import EnvMonServer
import Foundation

struct DB: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Manage the embedded PostgreSQL cluster under $ENVMON_HOME; back up and restore the database.",
        subcommands: [Start.self, Stop.self, Status.self, URLCommand.self, PSQL.self, Backup.self, Restore.self]
    )

    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a consistent backup of the database (pg_dump custom format) to FILE.",
            discussion: """
                Works on the embedded cluster or a configured server while envmon serves: the dump is
                one snapshot. FILE is created readable by its owner only (it holds token hashes and
                every archived upload) and appears only when complete; an existing FILE is never
                overwritten. Restore with `envmon db restore FILE` into an empty home or database.
                See docs/operations.md "Backup and restore".
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The backup file to write, e.g. envmon-2026-12-02.dump.") var file: String

        func run() async throws {
            let report = try await global.operations.backup(to: file)
            if global.json { try Output.json(report) } else {
                Output.line("backup of \(report.database) (\(report.uploads) uploads) written to \(report.file.printable), \(report.bytes) bytes")
            }
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Restore a backup of `envmon db backup` into an empty database.",
            discussion: """
                The target is the configured database (--database-url, DATABASE_URL, PG*) or the embedded
                cluster of ENVMON_HOME; it must not hold an envmon schema yet. The restore is one
                transaction (all or nothing); pending migrations are then applied. Analyst logins
                are cluster roles, not data: create them again with `envmon analyst create`.
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "A file written by `envmon db backup`.") var file: String

        func run() async throws {
            let report = try await global.operations.restore(from: file)
            if global.json { try Output.json(report) } else {
                Output.line("restored \(report.file.printable) into \(report.database): \(report.uploads) uploads")
            }
        }
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create (when needed) and start the embedded cluster; harmless when running.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let report = try global.operations.startCluster()
            if global.json { try Output.json(report) } else {
                Output.line("embedded PostgreSQL running on 127.0.0.1:\(report.port ?? 0), socket \(report.socketDirectory)")
                if let reason = report.relocated { Output.line("note: \(reason)") }
            }
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the embedded cluster (fast shutdown).")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let report = try global.operations.stopCluster()
            if global.json { try Output.json(report) } else { Output.line("embedded PostgreSQL stopped") }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Say whether the embedded cluster exists and runs; exit 1 when it does not run.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let report = try global.operations.clusterStatus()
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
            let url = try global.operations.databaseURL()
            if global.json { try Output.json(["url": url]) } else { Output.line(url) }
        }
    }

    struct PSQL: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "psql", abstract: "Run psql on the database; arguments after `psql` are passed through (e.g. -c '\\dt envmon.*').")
        @OptionGroup var global: GlobalOptions
        @Argument(parsing: .captureForPassthrough, help: "Arguments for psql.")
        var arguments: [String] = []

        func run() async throws {
            let url = try global.operations.databaseURL()
            let psql = Operations.psqlPath()
            let argv = [psql, url] + arguments
            var cArgs = argv.map { strdup($0) } + [nil]
            execvp(psql, &cArgs)
            throw OperationFailure("cannot run psql (\(String(cString: strerror(errno)))); install it: apt-get install -y postgresql-client")
        }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending migrations and (re)create the analytics views; re-running is a no-op.")
    @OptionGroup var global: GlobalOptions
    @Flag(name: .long, help: "List applied and pending migrations; change nothing.")
    var status = false

    func run() async throws {
        let operations = global.operations
        if status {
            let rows = try await operations.migrationStatus()
            if global.json { try Output.json(["migrations": rows]) } else {
                for row in rows {
                    Output.line("\(row.state.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(row.name)"
                                + (row.appliedAt.map { "  \($0.iso8601Text)" } ?? ""))
                }
            }
            return
        }
        let report = try await operations.migrate()
        if global.json { try Output.json(report) } else {
            for name in report.applied { Output.line("applied \(name)") }
            if report.viewsRecreated { Output.line("created analytics views") }
        }
    }
}

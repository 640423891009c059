import ArgumentParser
import EnvMonDomain
import EnvMonServer
import Foundation

struct DB: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Manage the embedded PostgreSQL cluster under $ENVMON_HOME; back up and restore the database.",
        subcommands: [Start.self, Stop.self, Status.self, URLCommand.self, PSQL.self, Backup.self, Restore.self, Archive.self,
                      RestoreArchive.self]
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

    struct Archive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move the readings of every month before YYYY-MM, and old uploads' raw bytes, into a dump file.",
            discussion: """
                Retention for a database that has grown: the emissions readings of each month before \
                --before (whole UTC months, as the partitions are cut), their superseded values, and \
                the raw bytes of the uploads received before it are written to FILE (pg_dump custom \
                format, readable by its owner only) and then removed. The daily aggregates stay, so \
                plan progress, compliance and every view's history are unchanged; what needs the rows \
                themselves (an old upload's original bytes, reverting an archived upload) asks for \
                `envmon db restore-archive FILE`. Rows that change while FILE is written stop the \
                archive with nothing removed. See docs/operations.md "Retention".
                """)
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "The first month to keep, YYYY-MM.") var before: String
        @Option(name: .long, help: "The archive file to write, e.g. envmon-before-2025-01.dump.") var output: String

        func run() async throws {
            let report = try await global.operations.archive(before: before, to: output)
            if global.json { try Output.json(report) } else {
                Output.line("archived before \(report.before): \(report.months.count) months (\(report.readings) readings), "
                            + "\(report.historyRows) superseded values, raw bytes of \(report.uploads.count) uploads "
                            + "(\(report.chunkBytes) bytes) to \(report.file.printable), \(report.bytes) bytes, sha256 \(report.sha256)")
            }
        }
    }

    struct RestoreArchive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "restore-archive",
            abstract: "Bring back what `envmon db archive` moved into FILE.",
            discussion: """
                The month partitions are attached again and the superseded values and raw bytes put \
                back, in one transaction each step (pg_restore is all or nothing). Only an archive of \
                this database that is still out is accepted (by its SHA-256).
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "A file written by `envmon db archive`.") var file: String

        func run() async throws {
            let report = try await global.operations.restoreArchive(from: file)
            if global.json { try Output.json(report) } else {
                Output.line("restored \(report.file.printable): \(report.months.count) months (\(report.readings) readings), "
                            + "raw bytes of \(report.uploads.count) uploads")
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

import ArgumentParser
import EnvMonDomain
import EnvMonServer
import Foundation

struct Analyst: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read-only access for analysts (psql, Grafana, Excel ODBC).",
        subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a login that can SELECT the analytics views and nothing else; prints its connection URL once.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Login name (lower-case letters, digits, _).") var name: String
        @Option(help: "Longest statement in seconds (default 300).") var statementTimeout = 300
        @Option(help: "Longest idle open transaction in seconds (default 600).") var idleTimeout = 600
        @Option(help: "Longest wait for a lock in seconds (default 30).") var lockTimeout = 30

        func validate() throws {
            guard [statementTimeout, idleTimeout, lockTimeout].allSatisfy({ $0 > 0 && $0 <= 86_400 }) else {
                throw ValidationError("timeouts are 1 to 86400 seconds")
            }
        }

        func run() async throws {
            var limits = AnalystLimits()
            limits.statementTimeout = .seconds(statementTimeout)
            limits.idleInTransactionTimeout = .seconds(idleTimeout)
            limits.lockTimeout = .seconds(lockTimeout)
            let url = try await global.operations.createAnalyst(name: name, limits: limits)
            if global.json { try Output.json(["name": name, "url": url]) } else {
                Output.line(url)
                Output.note("the password is shown only now; run the command again to reset it. Views: docs/views.md")
            }
        }
    }
}

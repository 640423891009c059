import ArgumentParser
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

        func run() async throws {
            let url = try await global.operations.createAnalyst(name: name)
            if global.json { try Output.json(["name": name, "url": url]) } else {
                Output.line(url)
                Output.note("the password is shown only now; run the command again to reset it. Views: docs/views.md")
            }
        }
    }
}

import ArgumentParser
import EmbeddedPostgres
import EnvMonServer
import EnvMonStore
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
            let global = self.global
            let name = self.name
            let (password, address) = try await global.runtime.withDatabase(logger: global.logger) { db in
                (try await AnalystAccess(database: db).create(name: name), db.address)
            }
            let url = ConnectionInfo(host: address.host, port: address.port, socketDirectory: nil, user: name,
                                     password: password, database: address.database).url
            if global.json { try Output.json(["name": name, "url": url]) } else {
                Output.line(url)
                Output.note("the password is shown only now; run the command again to reset it. Views: docs/views.md")
            }
        }
    }
}

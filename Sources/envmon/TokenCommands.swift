public import ArgumentParser
import EnvMonDomain
import EnvMonServer
import Foundation

extension TokenScope: ExpressibleByArgument {}

/// `envmon token create|list|revoke`: bearer tokens for the HTTP API.
struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and revoke API tokens (scopes nest: admin ⊃ upload ⊃ read).",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token and print its secret once; only its SHA-256 is kept.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "Who holds it; recorded as the uploader of what it uploads.")
        var name: String
        @Option(name: .long, help: "read, upload or admin.")
        var scope: TokenScope

        func validate() throws {
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.count > 100 { throw ValidationError("--name must be 1 to 100 characters") }
        }

        func run() async throws {
            let created = try await global.operations.createToken(name: name.trimmingCharacters(in: .whitespaces),
                                                                  scope: scope)
            if global.json {
                struct Created: Encodable { var token: APIToken; var secret: String }
                try Output.json(Created(token: created.token, secret: created.secret))
                return
            }
            Output.line(created.secret)
            Output.note("token \(created.token.id) for '\(created.token.name)' (\(created.token.scope.rawValue)); "
                        + "store the secret now: it is not shown again. Use it as: Authorization: Bearer <secret>")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every token, without secrets.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let tokens = try await global.operations.tokens()
            if global.json { try Output.json(["tokens": tokens]); return }
            Output.line("id    name                 scope   prefix        created              last used            revoked")
            for t in tokens {
                Output.line([String(t.id).padding(5), t.name.printable.padding(20), t.scope.rawValue.padding(7), t.prefix.padding(13),
                             t.createdAt.iso8601Text.padding(20),
                             (t.lastUsedAt?.iso8601Text ?? "-").padding(20),
                             t.revokedAt?.iso8601Text ?? "-"].joined(separator: " "))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by id, or every token of a name.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Token id or name.") var token: String

        func run() async throws {
            let revoked = try await global.operations.revokeTokens(token)
            if global.json { try Output.json(["revoked": revoked]); return }
            for t in revoked { Output.line("revoked token \(t.id) '\(t.name)' (\(t.scope.rawValue))") }
        }
    }
}

public import ArgumentParser
import EnvMonDomain
import EnvMonServer
import Foundation

extension UserRole: ExpressibleByArgument {}

/// `envmon user add|list|disable|passwd`: the people who sign in to the web console.
struct User: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add, list and disable web console users, and set their passwords.",
        discussion: """
            Roles are the API token scopes: viewer (read), uploader (upload feeds, acknowledge \
            alerts), admin (everything). Passwords are read from standard input (never from the \
            command line, which other users can see) and kept only as bcrypt hashes.
            """,
        subcommands: [Add.self, List.self, Disable.self, Passwd.self])

    /// The first line of standard input: the password.
    static func readPassword() throws -> String {
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw ValidationError("give the password on standard input, e.g. printf '%s\\n' \"$PASSWORD\" | envmon user add …")
        }
        return line
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a user with a role; the password comes from standard input.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The user name (1 to 64 characters, no spaces).")
        var name: String
        @Option(name: .long, help: "viewer, uploader or admin.")
        var role: UserRole
        @Flag(name: .long, help: "Read the password from standard input (required).")
        var passwordStdin = false

        func validate() throws {
            if !passwordStdin { throw ValidationError("pass --password-stdin and give the password on standard input") }
            if !ConsoleUser.validName(name) { throw ValidationError("a user name is 1 to 64 characters without spaces or control characters") }
        }

        func run() async throws {
            let user = try await global.operations.addUser(name: name, role: role, password: try User.readPassword())
            if global.json { try Output.json(user); return }
            Output.line("user \(user.id) \(user.name.printable) (\(user.role.rawValue)) added")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every user, with role, last sign-in and whether disabled.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let users = try await global.operations.users()
            if global.json { try Output.json(["users": users]); return }
            Output.line("id    name                 role      created              last sign-in         disabled")
            for u in users {
                Output.line([String(u.id).padding(5), u.name.printable.padding(20), u.role.rawValue.padding(9),
                             u.createdAt.iso8601Text.padding(20), (u.lastLoginAt?.iso8601Text ?? "-").padding(20),
                             u.disabledAt?.iso8601Text ?? "-"].joined(separator: " "))
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a user; their sessions end at once.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The user name.")
        var name: String

        func run() async throws {
            let user = try await global.operations.disableUser(name: name)
            if global.json { try Output.json(user); return }
            Output.line("user \(user.id) \(user.name.printable) disabled")
        }
    }

    struct Passwd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a user's password from standard input; their sessions end.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The user name.")
        var name: String
        @Flag(name: .long, help: "Read the password from standard input (required).")
        var passwordStdin = false

        func validate() throws {
            if !passwordStdin { throw ValidationError("pass --password-stdin and give the password on standard input") }
        }

        func run() async throws {
            let user = try await global.operations.changePassword(name: name, password: try User.readPassword())
            if global.json { try Output.json(user); return }
            Output.line("password of \(user.name.printable) set; their sessions ended")
        }
    }
}

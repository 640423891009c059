import ArgumentParser
import EnvMonServer
import Foundation

/// Parses, runs, and maps every failure to the conventions of docs/operations.md: one line on
/// stderr (`{"error", "detail"}` with --json), exit 1 for failures and 2 for usage errors.
@main
enum Main {
    static func main() async {
        // A reader that goes away (`| head`) must not kill or crash a command: writes see EPIPE
        // instead of SIGPIPE, and `Output` stops quietly.
        signal(SIGPIPE, SIG_IGN)
        // A file size limit (`ulimit -f`) must be an error of the write that meets it, with a
        // message, not a silent SIGXFSZ death.
        signal(SIGXFSZ, SIG_IGN)
        let arguments = Array(CommandLine.arguments.dropFirst())
        let json = arguments.contains("--json")
        do {
            var command = try Envmon.parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = Envmon.exitCode(for: error)
            if code == .success {
                Envmon.exit(withError: error)  // --help, --version
            }
            if let exit = error as? ExitCode {
                Foundation.exit(exit.rawValue)
            }
            if code == .validationFailure {
                Output.fail(ErrorReport(OperationFailure(Envmon.message(for: error))), detail: "usage", json: json)
                Output.note("see 'envmon --help'")
                Foundation.exit(2)
            }
            let report = ErrorReport(error)
            Output.fail(report, detail: report.kind, json: json)
            Foundation.exit(1)
        }
    }
}

struct Envmon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "envmon",
        abstract: "Environment bureau feeds into PostgreSQL, metrics against the plan, alerts.",
        discussion: """
            With no DATABASE_URL, PG* variables or --database-url, envmon starts and uses its own
            PostgreSQL cluster under $ENVMON_HOME (default ./.envmon).
            """,
        version: "0.2.0",
        subcommands: [
            DemoCommand.self, DB.self, Migrate.self, Ingest.self, Uploads.self, Targets.self, Report.self,
            Evaluate.self, Notify.self, Alerts.self, SilenceCommand.self, Sites.self, Analyst.self, Serve.self, Token.self, User.self, Audit.self, Devices.self,
        ]
    )
}

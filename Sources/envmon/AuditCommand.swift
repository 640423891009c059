import ArgumentParser
import EnvMonDomain
import EnvMonServer
import Foundation

/// `envmon audit`: the audit trail, newest first.
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the audit trail: who changed what, when and from where (newest first).",
        discussion: """
            Every state change is recorded: uploads (and duplicates), reverts, acknowledgements,
            silences added and expired, plan target changes, API tokens created and revoked,
            analyst logins created. The trail is append-only in the database; analysts cannot
            read it. Examples:
              envmon audit --since 24h
              envmon audit --since 2026-11-01 --actor token:clerk --json
            """)

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Only events since then: ISO 8601 time or date, or a duration back from now (e.g. 24h, 7d).")
    var since: String?
    @Option(name: .long, help: "Only this actor, exactly as listed (e.g. token:clerk, cli:root, inbox).")
    var actor: String?
    @Option(name: .long, help: "At most this many events (default 100).")
    var limit: Int = 100

    func validate() throws {
        if let since, Self.start(since) == nil {
            throw ValidationError("bad --since '\(since)': use e.g. 2026-11-01, 2026-11-01T08:00:00+08:00 or 24h")
        }
        if !(1...100_000).contains(limit) { throw ValidationError("--limit must be between 1 and 100000") }
    }

    static func start(_ text: String) -> Date? {
        if let seconds = Operations.durationSeconds(text) { return Date().addingTimeInterval(-seconds) }
        return Timestamps.parse(text)
    }

    func run() async throws {
        let events = try await global.operations.auditEvents(since: since.flatMap(Self.start), actor: actor, limit: limit)
        if global.json { try Output.json(["events": events]); return }
        if events.isEmpty { Output.note("no audit events"); return }
        for event in events {
            let subject = event.subject.map { " \($0.printable)" } ?? ""
            let summary = event.summary.isEmpty ? "" : " — \(event.summary.printable)"
            Output.line("\(event.at.iso8601Text)  \(event.actor.printable) (\(event.origin.printable))  \(event.action)\(subject)\(summary)")
        }
    }
}

import ArgumentParser
import EmbeddedPostgres
import EnvMonDomain
import EnvMonNotify
import EnvMonServer
import EnvMonStore
import Foundation
import Logging

struct Notify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Deliver queued notifications (email, log, webhook) with retries; --status shows failures.",
        discussion: """
            Without --once, keeps delivering every few seconds until interrupted (envmon serve does this
            too). Email needs ENVMON_SMTP_URL (smtp://user:pass@host:587?starttls=required, smtps://…)
            and ENVMON_MAIL_FROM; links use ENVMON_BASE_URL. The log channel writes one JSON line per
            notification to ENVMON_NOTIFY_LOG (a file) or stdout.
            """)
    @OptionGroup var global: GlobalOptions
    @Flag(name: .long, help: "Deliver everything queued now, ignoring group waits, then exit.") var once = false
    @Flag(name: .long, help: "Show the outbox: counts and the notifications that are failing or failed.") var status = false
    @Option(name: .long, help: "Seconds between rounds without --once (default 5).") var interval = 5

    func run() async throws {
        let global = self.global
        if status {
            let status = try await global.runtime.withDatabase(logger: global.logger) { db in
                try await OutboxStore(database: db).status()
            }
            if global.json { try Output.json(status); return }
            Output.line("outbox: \(status.pending) pending, \(status.delivered) delivered, \(status.failed) failed")
            for p in status.problems {
                Output.line("  #\(p.id) \(p.receiver) \(p.status) after \(p.attempts) attempt(s), next \(p.nextAttemptAt.iso8601Text): \(p.lastError ?? "")")
            }
            return
        }
        let context = try NotifyContext.make(global)
        let (once, interval) = (self.once, self.interval)
        let round = try await global.runtime.withDatabase(logger: global.logger) { db in
            let notifier = OutboxNotifier(database: db, context: context)
            if once { return try await notifier.deliverDue(ignoreGroupWait: true) }
            while !Task.isCancelled {
                _ = try await notifier.deliverDue(ignoreGroupWait: false)
                try await Task.sleep(for: .seconds(interval))
            }
            return OutboxNotifier.Round()
        }
        if global.json { try Output.json(round) } else {
            Output.note("notifications: \(round.delivered) delivered, \(round.retrying) to retry, \(round.failed) failed")
            for error in round.errors { Output.note("  \(error)") }
        }
        if round.failed > 0 { throw ExitCode(1) }
    }
}

/// Delivery settings from the environment.
enum NotifyContext {
    static func make(_ global: GlobalOptions) throws -> DeliveryContext {
        let environment = global.runtime.environment
        let log: NotificationLog
        if let path = environment["ENVMON_NOTIFY_LOG"], !path.isEmpty {
            log = .file(atPath: path)
        } else if global.json {
            // stdout carries the command's one JSON object.
            log = NotificationLog { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
        } else {
            log = .standardOutput
        }
        do {
            return try DeliveryContext(environment: environment, log: log, logger: global.logger)
        } catch {
            throw CommandFailure(error.description)
        }
    }
}

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "The main job end to end: embedded PostgreSQL, migrate, ingest examples/feeds, evaluate, notify, report.",
        discussion: "Uses the configured database when DATABASE_URL/PG*/--database-url is set. Safe to run again: the same files are recognised as duplicates.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var files: AlertFilesOption
    @Option(name: .long, help: "Folder of sample feeds (default examples/feeds).") var feeds: String?
    @Option(name: .long, help: "Evaluation time, ISO 8601 (default now).") var at: String?

    func run() async throws {
        let global = self.global
        guard let folder = feeds.map({ URL(fileURLWithPath: $0) }) ?? Demo.defaultFeedFolder() else {
            throw CommandFailure("no sample feeds: run from the envmon source folder or pass --feeds DIR")
        }
        let now = at.flatMap(Timestamps.parse) ?? Date()
        let configuration = try Evaluate.loadConfiguration(global, files)
        let context = try NotifyContext.make(global)
        let json = global.json
        let runtime = global.runtime
        if !json {
            if case .embedded = try runtime.settings() {
                let cluster = try runtime.embeddedCluster(logger: global.logger)
                let info = try cluster.start()
                Output.line("== PostgreSQL: embedded cluster at 127.0.0.1:\(info.port) (ENVMON_HOME \(runtime.home.path))")
                if let reason = cluster.layout.relocatedReason { Output.line("   note: \(reason)") }
            }
            Output.line("== ingesting \(folder.path)")
        }
        let (result, round) = try await runtime.withDatabase(logger: global.logger) { db in
            let result = try await Demo(database: db, configuration: configuration).run(
                feeds: folder, uploader: "demo", year: nil, at: now,
                onUpload: { report in if !json { Output.line("   " + Ingest.summary(report)) } })
            if !json { Output.line("== notifications (log channel)") }
            let round = try await OutboxNotifier(database: db, context: context).deliverDue(now: now, ignoreGroupWait: true)
            return (result, round)
        }
        if json {
            struct Shown: Encodable { var demo: Demo.Result; var notifications: OutboxNotifier.Round }
            try Output.json(Shown(demo: result, notifications: round))
            return
        }
        Output.line("   \(round.delivered) delivered, \(round.retrying) to retry, \(round.failed) failed")
        Output.line("== plan progress")
        Output.line(PlanReport.render(result.plan))
        Output.line("== firing alerts (\(result.alerts.count))")
        for alert in result.alerts {
            Output.line("#\(alert.id ?? 0) \(alert.severity) \(alert.rule): \(alert.annotations["summary"] ?? "")")
        }
        Output.line("== next: envmon uploads list · envmon alerts list · envmon db psql -c 'SELECT * FROM analytics.plan_progress'")
    }
}

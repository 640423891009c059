import ArgumentParser
import EnvMonDomain
import EnvMonServer
import Foundation

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
        let operations = global.operations
        if status {
            let status = try await operations.outboxStatus()
            if global.json { try Output.json(status); return }
            Output.line("outbox: \(status.pending) pending, \(status.delivered) delivered, \(status.failed) failed")
            for p in status.problems {
                Output.line("  #\(p.id) \(p.receiver) \(p.status) after \(p.attempts) attempt(s), next \(p.nextAttemptAt.iso8601Text): \((p.lastError ?? "").printable)")
            }
            return
        }
        let context = try operations.deliveryContext(logToStandardError: global.json)
        guard once else {
            try await operations.deliverNotificationsForever(context: context, interval: .seconds(interval))
            return
        }
        let round = try await operations.deliverNotifications(context: context, ignoreGroupWait: true)
        if global.json { try Output.json(round) } else {
            Output.note("notifications: \(round.delivered) delivered, \(round.retrying) to retry, \(round.failed) failed")
            for error in round.errors { Output.note("  \(error.printable)") }
        }
        if round.failed > 0 { throw ExitCode(1) }
    }
}

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "The main job end to end: embedded PostgreSQL, migrate, load a realistic district, evaluate, notify, report; then the web console.",
        discussion: """
            Uses the configured database when DATABASE_URL/PG*/--database-url is set. The district \
            (8 sub-districts, 40 key enterprises, 12 river sections, 4 sewage plants, green and \
            waste reports over the 13 months up to today) is written as CSV feeds under \
            ENVMON_HOME/demo and loaded through the real ingest path; --feeds DIR loads a folder \
            instead (examples/feeds holds a sample of every format). Safe to run again: the same \
            files are recognised as duplicates. Afterwards it serves the web console on 127.0.0.1 \
            (--port, default 8080) with a user `demo` (admin) whose new password it prints, until \
            Ctrl-C; --no-serve ends after the report.
            """)
    @OptionGroup var global: GlobalOptions
    @OptionGroup var files: AlertFilesOption
    @Option(name: .long, help: "Load this folder's feeds (e.g. examples/feeds) instead of the generated district.") var feeds: String?
    @Option(name: .long, help: "Evaluation time, ISO 8601 (default now).") var at: String?
    @Option(name: .long, help: "Port of the console served afterwards (default 8080; 0 picks a free one).") var port: Int = 8080
    @Flag(name: [.customLong("no-serve"), .customLong("no-console")], help: "End after the report instead of serving the console.") var noConsole = false

    func validate() throws {
        if !(0...65535).contains(port) { throw ValidationError("--port must be between 0 and 65535") }
    }

    func run() async throws {
        let folder = feeds.map { URL(fileURLWithPath: $0) }
        let operations = global.operations
        let now = at.flatMap { Timestamps.parse($0) } ?? Date()
        let alerts = try operations.alertConfiguration(directory: files.alertsDir)
        let context = try operations.deliveryContext(logToStandardError: global.json)
        let json = global.json
        if !json {
            if let cluster = try operations.embeddedClusterIfDefault() {
                Output.line("== PostgreSQL: embedded cluster at 127.0.0.1:\(cluster.port ?? 0) (ENVMON_HOME \(operations.runtime.home.path))")
                if let reason = cluster.relocated { Output.line("   note: \(reason)") }
            }
            Output.line(folder.map { "== ingesting \($0.path)" } ?? "== ingesting a generated district: 8 sub-districts, 40 key enterprises, 12 river sections, 4 sewage plants, 13 months")
        }
        let (result, round) = try await operations.demo(
            feeds: folder, at: now, alerts: alerts, delivery: context,
            onUpload: { report in if !json { Output.line("   " + Ingest.summary(report)) } })
        if json {
            struct Shown: Encodable { var demo: Demo.Result; var notifications: OutboxNotifier.Round }
            try Output.json(Shown(demo: result, notifications: round))
            return
        }
        Output.line("== notifications (log channel)")
        Output.line("   \(round.delivered) delivered, \(round.retrying) to retry, \(round.failed) failed")
        Output.line("== plan progress")
        Output.line(PlanReport.render(result.plan))
        Output.line("== firing alerts (\(result.alerts.count))")
        for alert in result.alerts {
            Output.line("#\(alert.id ?? 0) \(alert.severity.rawValue) \(alert.rule): \((alert.annotations["summary"] ?? "").printable)")
        }
        Output.line("== next: envmon uploads list · envmon alerts list · envmon db psql -c 'SELECT * FROM analytics.plan_progress'")
        guard !noConsole else { return }
        let password = try await operations.demoConsoleUser()
        var config = ServerConfiguration()
        config.host = "127.0.0.1"
        config.port = port
        config.workers = 1
        Output.line("== web console: http://127.0.0.1:\(port)/ — sign in as demo / \(password) (a new password each run); Ctrl-C stops")
        LogSetup.bootstrapOnce(level: global.logLevel ?? "warning", json: true)
        let metrics = ServiceMetrics()
        metrics.bootstrapSystem()
        try await operations.serve(config, alertsDirectory: files.alertsDir, metrics: metrics)
    }
}

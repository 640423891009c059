import EnvMonNotify
import EnvMonStore
import Foundation
import Logging
public import ServiceLifecycle

/// Evaluates the alert rules as soon as an upload finishes — PostgreSQL announces it on
/// `envmon_upload_finished` (LISTEN/NOTIFY, from every process on the database) — and at least
/// every `interval`, the fallback should the listening connection be down. Notifications that
/// arrive during an evaluation are folded into the next one. On graceful shutdown the current
/// evaluation finishes (it is one transaction either way) and the loop stops.
public struct EvaluatorLoop: Service {
    let database: Database
    let configuration: AlertConfiguration
    let logger: Logger
    let interval: Duration
    let gate: StartupGate?

    init(database: Database, configuration: AlertConfiguration, logger: Logger, interval: Duration, gate: StartupGate?) {
        self.database = database
        self.configuration = configuration
        self.logger = logger
        self.interval = interval
        self.gate = gate
    }

    public func run() async throws {
        if let gate { try await cancelWhenGracefulShutdown { try await gate.wait() } }
        let (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let database = self.database
        let logger = self.logger
        let interval = self.interval
        await withDiscardingTaskGroup { group in
            group.addTask { await Self.listen(database, logger: logger) { wake.yield() } }
            group.addTask {
                while !Task.isCancelled {
                    wake.yield()
                    try? await Task.sleep(for: interval)
                }
            }
            await withGracefulShutdownHandler {
                for await _ in wakeups {
                    if Task.isShuttingDownGracefully { break }
                    await evaluateOnce()
                }
            } onGracefulShutdown: {
                wake.yield()
            }
            group.cancelAll()
        }
    }

    private func evaluateOnce() async {
        // Data the loads did not refresh (HJ 212 packets, psql edits) made rollups stale; the
        // rules read the same views, so bring them up to date first (best effort).
        await Rollups(database: database).refreshIfStale()
        do {
            let (database, configuration) = (self.database, self.configuration)
            let summary = try await abandoning(after: Self.roundLimit, timeout: { RoundAbandoned(what: "alert evaluation") }) {
                try await AlertEvaluator(database: database, configuration: configuration).evaluate(at: Date())
            }
            if !summary.changes.isEmpty {
                logger.info("alerts evaluated", metadata: [
                    "envmon.alerts.changes": "\(summary.changes.count)", "envmon.alerts.firing": "\(summary.firing)",
                    "envmon.alerts.queued": "\(summary.notificationsQueued)",
                ])
            }
        } catch {
            logger.warning("alert evaluation failed", metadata: ["envmon.error": "\(Database.describe(error))"])
        }
    }

    /// Listens for finished uploads until cancelled, listening again (after a pause that grows
    /// to 30 s) whenever the connection is lost.
    static func listen(_ database: Database, logger: Logger, _ onFinished: @escaping @Sendable () -> Void) async {
        var pause: Duration = .seconds(1)
        while !Task.isCancelled {
            do {
                try await database.listenForFinishedUploads { _ in onFinished() }
            } catch {
                if Task.isCancelled { return }
                logger.debug("not listening for finished uploads", metadata: ["envmon.error": "\(Database.describe(error))"])
            }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .seconds(30))
        }
    }
}

/// Delivers due notifications every `interval`. A round in progress is finished on graceful
/// shutdown (cutting a delivery short could send an email twice).
public struct NotifierLoop: Service {
    let notifier: OutboxNotifier
    let logger: Logger
    let interval: Duration
    let gate: StartupGate?

    init(notifier: OutboxNotifier, logger: Logger, interval: Duration, gate: StartupGate?) {
        self.notifier = notifier
        self.logger = logger
        self.interval = interval
        self.gate = gate
    }

    public func run() async throws {
        if let gate { try await cancelWhenGracefulShutdown { try await gate.wait() } }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let notifier = self.notifier
                let round = try await abandoning(after: EvaluatorLoop.roundLimit, timeout: { RoundAbandoned(what: "notification delivery") }) {
                    try await notifier.deliverDue(ignoreGroupWait: false)
                }
                if round.delivered + round.retrying + round.failed > 0 {
                    logger.info("notifications delivered", metadata: [
                        "envmon.notify.delivered": "\(round.delivered)", "envmon.notify.retrying": "\(round.retrying)",
                        "envmon.notify.failed": "\(round.failed)",
                    ])
                }
            } catch {
                logger.warning("notification delivery failed", metadata: ["envmon.error": "\(Database.describe(error))"])
            }
            _ = try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}

/// A round of a loop that did not finish in `EvaluatorLoop.roundLimit` — a database call whose
/// connection went away mid-call can wait for ever (PostgresNIO) — was left behind, so that the
/// loop goes on and its service can stop.
struct RoundAbandoned: Error, CustomStringConvertible {
    let what: String
    var description: String { "\(what) did not finish in \(EvaluatorLoop.roundLimit); left behind" }
}

extension EvaluatorLoop {
    /// How long one evaluation or delivery round may take.
    static let roundLimit: Duration = .seconds(300)
}

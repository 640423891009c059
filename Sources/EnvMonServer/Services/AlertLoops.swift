public import EnvMonNotify
public import EnvMonStore
import Foundation
public import Logging
public import ServiceLifecycle

/// The long-running alert work of `envmon serve`: an evaluator that runs right after each
/// successful load (it watches for newly finished uploads) and at least every `interval`, and a
/// notifier that delivers the outbox, honouring group waits.
public enum AlertLoops {
    public static func services(
        database: Database, configuration: AlertConfiguration, delivery: DeliveryContext, logger: Logger,
        evaluationInterval: Duration = .seconds(60), pollInterval: Duration = .seconds(2),
        notifyInterval: Duration = .seconds(5)
    ) -> [any Service] {
        [
            EvaluatorLoop(database: database, configuration: configuration, logger: logger,
                          interval: evaluationInterval, pollInterval: pollInterval),
            NotifierLoop(notifier: OutboxNotifier(database: database, context: delivery), logger: logger,
                         interval: notifyInterval),
        ]
    }
}

/// Evaluates the alert rules after each load and periodically.
struct EvaluatorLoop: Service {
    let database: Database
    let configuration: AlertConfiguration
    let logger: Logger
    let interval: Duration
    let pollInterval: Duration

    func run() async throws {
        var lastSeenUpload: Int64 = -1
        var lastEvaluation = ContinuousClock.now - interval
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let newest = try await UploadQueries(database: database).newestFinishedUpload() ?? 0
                if newest != lastSeenUpload || ContinuousClock.now - lastEvaluation >= interval {
                    let summary = try await AlertEvaluator(database: database, configuration: configuration).evaluate(at: Date())
                    lastSeenUpload = newest
                    lastEvaluation = .now
                    if !summary.changes.isEmpty {
                        logger.info("alerts evaluated", metadata: [
                            "envmon.alerts.changes": "\(summary.changes.count)", "envmon.alerts.firing": "\(summary.firing)",
                            "envmon.alerts.queued": "\(summary.notificationsQueued)",
                        ])
                    }
                }
            } catch {
                logger.warning("alert evaluation failed", metadata: ["envmon.error": "\(Database.describe(error))"])
            }
            _ = try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pollInterval) }
        }
    }
}

/// Delivers due notifications.
struct NotifierLoop: Service {
    let notifier: OutboxNotifier
    let logger: Logger
    let interval: Duration

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let round = try await notifier.deliverDue(ignoreGroupWait: false)
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

import EnvMonDomain
public import EnvMonNotify
public import EnvMonStore
public import Foundation
import Logging

/// Delivers the notification outbox: each due entry once per attempt on its channel; failures
/// are recorded and retried with exponential backoff, never lost.
public struct OutboxNotifier: Sendable {
    public let database: Database
    public let context: DeliveryContext
    let notifier = Notifier()

    public init(database: Database, context: DeliveryContext) {
        self.database = database
        self.context = context
    }

    /// What one round did.
    public struct Round: Sendable, Codable, Equatable {
        public var delivered = 0
        public var retrying = 0
        public var failed = 0
        public var errors: [String] = []
        public init() {}
    }

    /// Delivers what is due at `now`; with `ignoreGroupWait` (`envmon notify --once`) also what
    /// still waits for its group wait.
    public func deliverDue(now: Date = Date(), ignoreGroupWait: Bool) async throws -> Round {
        let outbox = OutboxStore(database: database)
        var round = Round()
        // Times in notifications are shown in the feed time zone, the one the views cut days in.
        var context = self.context
        context.timeZone = try await FeedZone.read(database)
        while true {
            let batch = try await outbox.claimDue(now: now, ignoreGroupWait: ignoreGroupWait)
            if batch.isEmpty { break }
            for entry in batch {
                guard let id = entry.id else { continue }
                var logger = context.logger
                logger[metadataKey: "envmon.outbox.id"] = "\(id)"
                let channel: ReceiverChannel
                let group: NotificationGroup
                do {
                    channel = try AlertStore.decoder.decode(ReceiverChannel.self, from: entry.channel)
                    group = try AlertStore.decoder.decode(NotificationGroup.self, from: entry.payload)
                } catch {
                    try await outbox.markFailed(id: id, error: "cannot read the stored notification: \(error)", retryable: false, at: now)
                    round.failed += 1
                    continue
                }
                let failure: NotificationError?
                do {
                    try await notifier.deliver(group: group, channel: channel, context: context)
                    failure = nil
                } catch {
                    failure = error
                }
                if let error = failure {
                    try await outbox.markFailed(id: id, error: error.reason, retryable: error.isRetryable, at: now)
                    logger.info("notification failed", metadata: [
                        "envmon.notify.receiver": "\(entry.receiver)", "envmon.notify.error": "\(error.reason)",
                        "envmon.notify.retryable": "\(error.isRetryable)",
                    ])
                    if error.isRetryable && entry.attempts + 1 < OutboxStore.maxAttempts { round.retrying += 1 } else { round.failed += 1 }
                    round.errors.append("\(entry.receiver): \(error.reason)")
                } else {
                    try await outbox.markDelivered(id: id, at: now)
                    logger.debug("notification delivered", metadata: ["envmon.notify.receiver": "\(entry.receiver)"])
                    round.delivered += 1
                }
            }
            // A claimed-but-retrying entry is not due again this round (its next attempt is later).
        }
        return round
    }
}

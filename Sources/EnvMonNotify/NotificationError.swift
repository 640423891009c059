/// A failed delivery, classified so the outbox knows whether to try again.
public struct NotificationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `true` when trying again later may succeed (4xx SMTP replies, 5xx/429 HTTP, timeouts,
    /// refused connections); `false` when the same message would fail the same way.
    public var isRetryable: Bool
    /// What went wrong, for the outbox row and the log; never contains credentials.
    public var reason: String

    public init(isRetryable: Bool, reason: String) {
        self.isRetryable = isRetryable
        self.reason = reason
    }

    /// A failure that may pass on a later attempt.
    public static func retryable(_ reason: String) -> NotificationError {
        NotificationError(isRetryable: true, reason: reason)
    }

    /// A failure that will repeat until the configuration or the message changes.
    public static func permanent(_ reason: String) -> NotificationError {
        NotificationError(isRetryable: false, reason: reason)
    }

    public var description: String {
        "\(isRetryable ? "retryable" : "permanent"): \(reason)"
    }
}

import HummingbirdCore
import Logging
import NIOCore
import Synchronization

/// Open connections of one server, counted across its event loops.
final class ConnectionCounter: Sendable {
    let maximum: Int
    private let open = Atomic<Int>(0)

    init(maximum: Int) {
        self.maximum = maximum
    }

    /// Counts a new connection; false (and not counted) when `maximum` are already open.
    func admit() -> Bool {
        var current = open.load(ordering: .relaxed)
        while current < maximum {
            let (exchanged, original) = open.compareExchange(expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
        return false
    }

    func release() {
        open.subtract(1, ordering: .acquiringAndReleasing)
    }

    var count: Int { open.load(ordering: .relaxed) }
}

/// Admits a connection only while fewer than the maximum are open; one over the limit is
/// closed at once, before a byte is read (a client or balancer retries another time or
/// host, instead of waiting in the listen backlog for a slot).
struct ConnectionLimitChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let counter: ConnectionCounter

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard counter.admit() else {
            logger.warning("connection limit reached; connection closed", metadata: [
                "envmon.http.max_connections": "\(counter.maximum)",
                "envmon.http.peer": "\(channel.remoteAddress?.ipAddress ?? "-")",
            ])
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(ConnectionLimitReached())
        }
        let counter = self.counter
        channel.closeFuture.whenComplete { _ in counter.release() }
        return base.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

struct ConnectionLimitReached: Error {}

import Foundation
import Synchronization

/// A token bucket per API token: `perMinute` uploads may start at once, and the bucket refills
/// at `perMinute` a minute. Per process (two `envmon serve` behind a balancer allow twice as
/// many); memory is one entry per token that uploaded.
final class UploadRateLimiter: Sendable {
    struct Bucket {
        var available: Double
        var updated: ContinuousClock.Instant
    }

    let perMinute: Int
    private let buckets = Mutex<[Int: Bucket]>([:])

    init(perMinute: Int) {
        self.perMinute = perMinute
    }

    /// Takes one upload from `token`'s bucket; nil when allowed, else the whole seconds until
    /// the next one is (for `Retry-After`).
    func take(token: Int, now: ContinuousClock.Instant = .now) -> Int? {
        guard perMinute > 0 else { return nil }
        let capacity = Double(perMinute)
        let perSecond = capacity / 60
        return buckets.withLock { buckets in
            var bucket = buckets[token] ?? Bucket(available: capacity, updated: now)
            let elapsed = now - bucket.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.available = min(capacity, bucket.available + max(0, seconds) * perSecond)
            bucket.updated = now
            defer { buckets[token] = bucket }
            if bucket.available >= 1 {
                bucket.available -= 1
                return nil
            }
            // (less a hair, so that 10.000000001 s of float arithmetic is 10, not 11)
            return max(1, Int(((1 - bucket.available) / perSecond - 1e-6).rounded(.up)))
        }
    }
}

import EnvMonDomain
import EnvMonStore
import Foundation
import Logging
import Synchronization

/// Group commit of HJ 212 packets: connections hand in their packets; every `interval` (or as
/// soon as `maximumBatch` packets wait) the packets waiting are written in ONE transaction
/// (`PacketArchive.commit`), and only then is each submission completed — which is when its
/// connection answers. A failed commit completes its submissions with the error: nothing is
/// answered and the loggers send again.
///
/// Up to `committers` batches commit at once (each on its own connection), so that the next
/// batch is written while one waits for its commit. Batches in flight never share a connection
/// (its packets are archived and answered in the order received) nor a key (device, command,
/// data time: a value sent again, even over another connection, commits after the one before
/// it, and supersedes it).
///
/// Memory is bounded by the connections: each holds at most a few submissions in flight
/// (`HJ212Configuration.maximumInFlight`) and stops reading until they complete.
final class PacketCommitter: Sendable {
    struct Submission: Sendable {
        /// The connection that sent the packets.
        var origin: ObjectIdentifier
        var records: [PacketRecord]
        var completion: @Sendable (Result<[PacketResult], any Error>) -> Void
    }

    private struct State {
        var queue: [Submission] = []
        var finished = false
        /// Batches committing now, and the keys they hold.
        var committing = 0
        var keysInFlight: Set<String> = []
        var originsInFlight: Set<ObjectIdentifier> = []
        /// When the oldest waiting submission arrived (or was passed over by a batch).
        var waitingSince: ContinuousClock.Instant?
    }

    let archive: PacketArchive
    let interval: Duration
    let maximumBatch: Int
    /// Batches committing at once at most.
    let committers: Int
    /// A commit that has not returned by then is abandoned (PostgresNIO may never resume a call
    /// whose session the server ended): its packets are not answered, the next batch goes on.
    let commitLimit: Duration
    let logger: Logger
    private let state = Mutex(State())
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    init(archive: PacketArchive, interval: Duration, maximumBatch: Int, committers: Int = 1,
         commitLimit: Duration = .seconds(30), logger: Logger) {
        self.archive = archive
        self.interval = interval
        self.maximumBatch = max(1, maximumBatch)
        self.committers = max(1, committers)
        self.commitLimit = commitLimit
        self.logger = logger
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues packets; `completion` runs once they are committed (or failed). After `finish()`,
    /// submissions fail at once.
    func submit(_ submission: Submission) {
        let accepted = state.withLock { state in
            guard !state.finished else { return false }
            if state.queue.isEmpty { state.waitingSince = .now }
            state.queue.append(submission)
            return true
        }
        if accepted {
            wake.yield()
        } else {
            submission.completion(.failure(CancellationError()))
        }
    }

    /// Takes no more submissions; `run()` returns once those queued are committed.
    func finish() {
        state.withLock { $0.finished = true }
        wake.finish()
    }

    /// Commits until `finish()`: each wake-up (a submission, a commit finished) waits out the
    /// commit window, then starts batches while fewer than `committers` are committing.
    func run() async {
        await withDiscardingTaskGroup { group in
            for await _ in wakeups {
                // The commit window, from the oldest waiting submission: packets arriving
                // meanwhile share the transaction.
                let (pending, since) = waiting()
                if pending < maximumBatch, let since {
                    try? await Task.sleep(until: since + interval)
                }
                while let batch = takeBatch() {
                    group.addTask {
                        await self.commit(batch.submissions)
                        self.committed(batch)
                    }
                }
            }
        }
        // Finished, and every batch in flight has returned: what is left commits one by one.
        while let batch = takeBatch() {
            await commit(batch.submissions)
            committed(batch)
        }
    }

    private func waiting() -> (packets: Int, since: ContinuousClock.Instant?) {
        state.withLock { ($0.queue.reduce(0) { $0 + $1.records.count }, $0.waitingSince) }
    }

    /// What two packets' values must not share within one batch, or in two batches committing
    /// at once: device, command and data time (nil for a packet that stores nothing). A
    /// submission never holds two packets with one key (the connection splits them).
    static func key(of record: PacketRecord) -> String? {
        guard case .data = record.handling, let mn = record.mn, let cn = record.cn, !record.values.isEmpty else { return nil }
        return mn + "\u{1}" + cn + "\u{1}" + (record.dataTime ?? "")
    }

    /// A batch has returned: its connections and keys are free, and the next batch may start.
    private func committed(_ batch: Batch) {
        state.withLock { state in
            state.committing -= 1
            state.keysInFlight.subtract(batch.keys)
            state.originsInFlight.subtract(batch.origins)
        }
        wake.yield()
    }

    /// The next submissions to commit together, at most `maximumBatch` packets (one submission
    /// at least), when fewer than `committers` batches are committing. A submission with a value
    /// of the same device, command and data time as one already taken, or committing, waits for
    /// a later batch, so that a changed value supersedes the earlier one with history instead of
    /// both meeting in one statement (or racing in two transactions). A connection's submissions
    /// go in the order received: none while one of its batches commits, and none after one of
    /// its submissions had to wait.
    private func takeBatch() -> Batch? {
        state.withLock { state in
            guard !state.queue.isEmpty, state.committing < committers else { return nil }
            var taken: [Submission] = []
            var kept: [Submission] = []
            var keys: Set<String> = []
            var origins: Set<ObjectIdentifier> = []
            var waiting: Set<ObjectIdentifier> = state.originsInFlight
            var count = 0
            for submission in state.queue {
                let submissionKeys = submission.records.compactMap(Self.key(of:))
                let fits = taken.isEmpty || count + submission.records.count <= maximumBatch
                if fits, !waiting.contains(submission.origin), keys.isDisjoint(with: submissionKeys),
                   state.keysInFlight.isDisjoint(with: submissionKeys) {
                    taken.append(submission)
                    keys.formUnion(submissionKeys)
                    origins.insert(submission.origin)
                    count += submission.records.count
                } else {
                    kept.append(submission)
                    waiting.insert(submission.origin)
                }
            }
            guard !taken.isEmpty else { return nil }
            state.queue = kept
            state.waitingSince = kept.isEmpty ? nil : .now
            state.committing += 1
            state.keysInFlight.formUnion(keys)
            state.originsInFlight.formUnion(origins)
            return Batch(submissions: taken, keys: keys, origins: origins)
        }
    }

    /// Submissions committing together, with the keys and connections they hold.
    private struct Batch {
        var submissions: [Submission]
        var keys: Set<String>
        var origins: Set<ObjectIdentifier>
    }

    private func commit(_ batch: [Submission]) async {
        let records = batch.flatMap(\.records)
        let started = ContinuousClock.now
        do {
            let archive = self.archive
            let results = try await abandoning(after: commitLimit, timeout: { [commitLimit] in CommitAbandoned(limit: commitLimit) }) {
                try await archive.commit(records)
            }
            logger.debug("HJ 212 packets committed", metadata: [
                "envmon.hj212.packets": "\(records.count)", "envmon.hj212.commit": "\(ContinuousClock.now - started)"])
            var offset = 0
            for submission in batch {
                let count = submission.records.count
                submission.completion(.success(Array(results[offset..<(offset + count)])))
                offset += count
            }
        } catch {
            logger.warning("HJ 212 packets not committed; nothing is answered, the loggers will send them again", metadata: [
                "envmon.hj212.packets": "\(records.count)", "envmon.error": "\(Database.describe(error))"])
            for submission in batch { submission.completion(.failure(error)) }
        }
    }
}

/// A group commit that did not return within its limit was left behind.
struct CommitAbandoned: Error, CustomStringConvertible {
    let limit: Duration
    var description: String { "an HJ 212 group commit did not finish within \(limit); left behind, nothing of it answered" }
}

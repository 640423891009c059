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
/// Memory is bounded by the connections: each holds at most a few submissions in flight
/// (`HJ212Configuration.maximumInFlight`) and stops reading until they complete.
final class PacketCommitter: Sendable {
    struct Submission: Sendable {
        var records: [PacketRecord]
        var completion: @Sendable (Result<[PacketResult], any Error>) -> Void
    }

    private struct State {
        var queue: [Submission] = []
        var finished = false
    }

    let archive: PacketArchive
    let interval: Duration
    let maximumBatch: Int
    /// A commit that has not returned by then is abandoned (PostgresNIO may never resume a call
    /// whose session the server ended): its packets are not answered, the next batch goes on.
    let commitLimit: Duration
    let logger: Logger
    private let state = Mutex(State())
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    init(archive: PacketArchive, interval: Duration, maximumBatch: Int, commitLimit: Duration = .seconds(30),
         logger: Logger) {
        self.archive = archive
        self.interval = interval
        self.maximumBatch = max(1, maximumBatch)
        self.commitLimit = commitLimit
        self.logger = logger
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues packets; `completion` runs once they are committed (or failed). After `finish()`,
    /// submissions fail at once.
    func submit(_ submission: Submission) {
        let accepted = state.withLock { state in
            guard !state.finished else { return false }
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

    /// Commits until `finish()`.
    func run() async {
        for await _ in wakeups {
            // The commit window: packets arriving meanwhile share the transaction.
            let start = ContinuousClock.now
            if pendingPackets() < maximumBatch {
                try? await Task.sleep(until: start + interval)
            }
            while let batch = takeBatch() {
                await commit(batch)
            }
        }
        while let batch = takeBatch() { await commit(batch) }
    }

    private func pendingPackets() -> Int {
        state.withLock { $0.queue.reduce(0) { $0 + $1.records.count } }
    }

    /// The next submissions to commit together, at most `maximumBatch` packets (one submission
    /// at least). A submission with a value of the same device, command and data time as one
    /// already taken waits for the next batch, so that a changed value supersedes the earlier
    /// one with history instead of both meeting in one statement.
    private func takeBatch() -> [Submission]? {
        state.withLock { state in
            guard !state.queue.isEmpty else { return nil }
            var taken: [Submission] = []
            var kept: [Submission] = []
            var keys: Set<String> = []
            var count = 0
            for submission in state.queue {
                let submissionKeys = submission.records.compactMap { record -> String? in
                    guard case .data = record.handling, let mn = record.mn, let cn = record.cn, !record.values.isEmpty
                    else { return nil }
                    return mn + "\u{1}" + cn + "\u{1}" + (record.dataTime ?? "")
                }
                let fits = taken.isEmpty || count + submission.records.count <= maximumBatch
                if fits, keys.isDisjoint(with: submissionKeys) {
                    taken.append(submission)
                    keys.formUnion(submissionKeys)
                    count += submission.records.count
                } else {
                    kept.append(submission)
                }
            }
            state.queue = kept
            return taken
        }
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

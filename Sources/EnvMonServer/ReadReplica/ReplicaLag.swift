import EnvMonStore

/// How far a standby is behind its primary, in seconds: an upper bound on how old the newest
/// commit is that the primary has and the standby does not show yet.
///
/// Each check asks the primary for its WAL position first, then the standby for its replay
/// position: equal (or ahead) is 0. Otherwise the lag is the smaller of two upper bounds —
/// PostgreSQL's `now() - pg_last_xact_replay_timestamp()` (every commit after the last replayed
/// one is newer than it), and the age of the newest earlier check whose primary position the
/// standby has replayed (everything committed before that check is visible). The second bound
/// keeps a long-idle primary from looking hours behind while the standby replays its first new
/// commit. Pure: the clock is passed in.
struct ReplicaLag {
    private struct Sighting {
        var position: UInt64
        var at: ContinuousClock.Instant
    }

    /// Primary positions seen, oldest first; only the last one the standby has passed, and
    /// those it has not yet, are kept.
    private var sightings: [Sighting] = []
    static let maximumSightings = 4096

    /// The lag after one check; nil when it cannot be told (the standby reports no replay
    /// position, or is behind and has replayed no commit since it started).
    mutating func measure(primary: UInt64?, primaryAt: ContinuousClock.Instant, standby: StandbyReport) -> Double? {
        guard let replay = standby.replayPosition else { return nil }
        defer {
            if let primary {
                sightings.append(Sighting(position: primary, at: primaryAt))
                if sightings.count > Self.maximumSightings { sightings.removeFirst(sightings.count - Self.maximumSightings) }
            }
        }
        if let primary, replay >= primary {
            sightings.removeAll()
            return 0
        }
        var lag = standby.secondsSinceReplayedCommit
        if let passed = sightings.lastIndex(where: { $0.position <= replay }) {
            let bound = (primaryAt - sightings[passed].at).inSeconds
            lag = min(lag ?? bound, bound)
            sightings.removeFirst(passed)
        }
        return lag.map { max(0, $0) }
    }
}

/// Whether reads go to the standby, and why not when they do not.
public enum ReplicaState: Sendable, Equatable {
    /// Not checked yet: reads go to the primary.
    case checking
    /// Reads go to the standby, which lags by `lag` seconds.
    case inUse(lag: Double)
    /// Further behind than allowed (or by an amount that cannot be told: nil).
    case lagging(lag: Double?)
    /// It does not answer.
    case unreachable
    /// It is not in recovery: a primary, not a standby.
    case notStandby
    /// A standby, but of another cluster than the primary.
    case otherCluster

    /// The name `/readyz` reports: `in_use`, `lagging`, `unreachable`, `not_standby`,
    /// `other_cluster`, `checking`.
    public var name: String {
        switch self {
        case .checking: "checking"
        case .inUse: "in_use"
        case .lagging: "lagging"
        case .unreachable: "unreachable"
        case .notStandby: "not_standby"
        case .otherCluster: "other_cluster"
        }
    }

    public var isInUse: Bool {
        if case .inUse = self { return true }
        return false
    }

    /// The measured lag in seconds, when there is one.
    public var lag: Double? {
        switch self {
        case .inUse(let lag): lag
        case .lagging(let lag): lag
        default: nil
        }
    }

    /// The state a check's findings put the standby in.
    static func judge(standby: StandbyReport, primaryIdentifier: Int64?, lag: Double?, maxLag: Duration) -> ReplicaState {
        guard standby.inRecovery else { return .notStandby }
        if let mine = primaryIdentifier, let theirs = standby.systemIdentifier, mine != theirs { return .otherCluster }
        guard let lag, lag <= maxLag.inSeconds else { return .lagging(lag: lag) }
        return .inUse(lag: lag)
    }
}

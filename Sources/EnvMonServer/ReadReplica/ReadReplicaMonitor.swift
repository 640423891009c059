import EnvMonStore
import Foundation
import Logging
import ServiceLifecycle

/// Checks the read replica every `checkInterval`: that it answers, that it is a standby of this
/// primary, and how far behind it is (`ReplicaLag`); sets `ReadReplica.state` accordingly, and
/// logs each change of state once. A service of the application: it starts with it and stops at
/// graceful shutdown.
struct ReadReplicaMonitor: Service {
    let replica: ReadReplica
    let primary: Database
    let metrics: ServiceMetrics
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var lag = ReplicaLag()
            while !Task.isCancelled {
                let state = await check(&lag)
                let previous = replica.update(state)
                metrics.record(replica: state)
                if previous.name != state.name { report(state, after: previous) }
                try await Task.sleep(for: replica.settings.checkInterval)
            }
        }
    }

    func check(_ lag: inout ReplicaLag) async -> ReplicaState {
        await Self.check(replica.settings, primary: primary, logger: logger, lag: &lag)
    }

    /// One check: the primary's WAL position first, then the standby's state.
    static func check(_ settings: ReadReplicaSettings, primary: Database, logger: Logger, lag: inout ReplicaLag) async -> ReplicaState {
        let primaryAt = ContinuousClock.now
        let primaryReport = try? await abandoning(after: settings.connectTimeout + .seconds(2), timeout: { ReplicaReadTimeout() }) {
            try await Replication.primary(primary)
        }
        let standby: StandbyReport
        do {
            standby = try await abandoning(after: settings.connectTimeout + .seconds(2), timeout: { ReplicaReadTimeout() }) {
                try await Replication.standby(settings.address, connectTimeout: settings.connectTimeout, logger: logger)
            }
        } catch {
            logger.debug("read replica check failed", metadata: [
                "envmon.replica": "\(settings.displayName)", "envmon.error": "\(Database.describe(error))",
            ])
            return .unreachable
        }
        let measured = lag.measure(primary: primaryReport?.position, primaryAt: primaryAt, standby: standby)
        return ReplicaState.judge(standby: standby, primaryIdentifier: primaryReport?.systemIdentifier, lag: measured,
                                  maxLag: settings.maxLag)
    }

    private func report(_ state: ReplicaState, after previous: ReplicaState) {
        let metadata = Self.metadata(state, replica.settings)
        switch state {
        case .checking:
            break
        case .inUse:
            logger.info("reading from the read replica", metadata: metadata)
        case .lagging:
            logger.info("read replica lags more than allowed; reading from the primary", metadata: metadata)
        case .unreachable:
            logger.warning("read replica does not answer; reading from the primary", metadata: metadata)
        case .notStandby:
            logger.warning("the read replica is not a standby (pg_is_in_recovery() is false: it is a primary); it is not used, reads go to the primary. Point --read-url at a streaming standby", metadata: metadata)
        case .otherCluster:
            logger.warning("the read replica is a standby of another cluster than the primary (system identifiers differ); it is not used, reads go to the primary", metadata: metadata)
        }
    }

    static func metadata(_ state: ReplicaState, _ settings: ReadReplicaSettings) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "envmon.replica": "\(settings.displayName)", "envmon.replica.state": "\(state.name)",
            "envmon.replica.max_lag_s": "\(settings.maxLag.inSeconds)",
        ]
        if let lag = state.lag { metadata["envmon.replica.lag_s"] = "\(String(format: "%.1f", lag))" }
        return metadata
    }
}

extension ReadReplicaSettings {
    /// For a one-off command (`envmon report`): runs the read `body` on the standby when one
    /// check finds it fit, else — saying why in the log — on `primary`; a standby that fails the
    /// read leaves it to the primary too.
    func read<T: Sendable>(primary: Database, logger: Logger,
                           _ body: @escaping @Sendable (Database) async throws -> T) async throws -> T {
        var lag = ReplicaLag()
        let state = await ReadReplicaMonitor.check(self, primary: primary, logger: logger, lag: &lag)
        let metadata = ReadReplicaMonitor.metadata(state, self)
        guard state.isInUse else {
            logger.warning("read replica not used; reading from the primary", metadata: metadata)
            return try await body(primary)
        }
        logger.info("reading from the read replica", metadata: metadata)
        do {
            return try await Database.withDatabase(address, logger: logger, maximumConnections: 2) { try await body($0) }
        } catch {
            guard ReadSource.worthRetrying(error) else { throw error }
            logger.warning("the read failed on the read replica; reading from the primary",
                           metadata: metadata.merging(["envmon.error": "\(Database.describe(error))"]) { $1 })
            return try await body(primary)
        }
    }
}

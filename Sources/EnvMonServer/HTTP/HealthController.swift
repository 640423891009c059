import Logging
import EnvMonStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore

/// `GET /healthz` (the process answers), `GET /readyz` (the database answers and its schema is
/// current; with a read replica, whether reads go to it), `GET /metrics` (Prometheus text).
struct HealthController {
    let database: Database
    let replica: ReadReplica?
    let metrics: ServiceMetrics
    let readinessTimeout: Duration

    func addRoutes(to router: Router<APIContext>) {
        router.get("healthz", use: health)
        router.get("readyz", use: ready)
        router.get("metrics", use: prometheus)
    }

    @Sendable func health(request: Request, context: APIContext) async throws -> Response {
        JSONBody.raw(Array(#"{"status":"ok"}"#.utf8))
    }

    @Sendable func ready(request: Request, context: APIContext) async throws -> Response {
        let database = self.database
        let verdict: Result<Bool, any Error> = await Self.within(readinessTimeout) {
            try await Migrator(database: database).isCurrent()
        }
        switch verdict {
        case .success(true):
            return JSONBody.raw(Self.readiness(replica: replica?.state))
        case .success(false):
            throw APIError.unavailable("migrations_pending", "the database has pending migrations; run `envmon migrate`")
        case .failure(let error):
            context.logger.info("not ready", metadata: ["envmon.error": "\(Database.describe(error))"])
            throw APIError.unavailable("database_unavailable",
                                       "the database at \(database.address.displayLocation) does not answer")
        }
    }

    @Sendable func prometheus(request: Request, context: APIContext) async throws -> Response {
        // Database gauges are best effort: counters are still served when it is down.
        let database = self.database
        let timeout = readinessTimeout
        let queue = await Self.within(timeout) { try await JobQueue(database: database).depth() }
        let counts = await Self.within(timeout) { try await ServiceQueries(database: database).alertAndNotificationCounts() }
        if case .success(let queue) = queue, case .success(let counts) = counts {
            metrics.record(queue: queue, alerts: counts.alerts, failedNotifications: counts.failedNotifications)
        }
        if let replica { metrics.record(replica: replica.state) }
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: metrics.render())))
    }

    /// `{"status":"ready"}`; with a read replica also `"read_replica"` (its `ReplicaState.name`:
    /// reads go to it only when `in_use`) and `"read_replica_lag_seconds"` when measured. A
    /// replica that is not used does not make the process unready: reads go to the primary.
    static func readiness(replica state: ReplicaState?) -> [UInt8] {
        guard let state else { return Array(#"{"status":"ready"}"#.utf8) }
        var text = #"{"read_replica":""# + state.name + #"""#
        if let lag = state.lag, lag.isFinite { text += #","read_replica_lag_seconds":"# + String(format: "%.3f", lag) }
        return Array((text + #","status":"ready"}"#).utf8)
    }

    /// Runs `body`, giving up after `timeout` (a pool that cannot connect would wait longer).
    static func within<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async -> Result<T, any Error> {
        // Not a task group: a group waits for every child, and a database call whose session
        // the server ended may never return (PostgresNIO), which would hang /readyz itself.
        // The stuck call is cancelled and left behind; the probe answers in time.
        do {
            return .success(try await abandoning(after: timeout, timeout: { ReadinessTimeout() }, body))
        } catch {
            return .failure(error)
        }
    }
}

struct ReadinessTimeout: Error, CustomStringConvertible {
    var description: String { "no answer in time" }
}

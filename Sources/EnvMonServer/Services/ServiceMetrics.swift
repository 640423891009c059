import CoreMetrics
import EnvMonDomain
public import EnvMonStore
import Foundation
import Metrics
public import Prometheus

/// The service's metrics, made through the swift-metrics API with a Prometheus factory of their
/// own (no global bootstrap, so tests and several apps in one process do not share counts), and
/// the registry `/metrics` renders. Counters are per process; queue and alert gauges are read
/// from the database at each scrape, so every instance reports the shared truth.
public struct ServiceMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
            .seconds(2), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(120), .seconds(300),
        ]
        self.factory = factory
    }

    /// An upload was accepted (`queued`, `duplicate`) or finished (`loaded`, `failed`).
    public func upload(status: String, source: String) {
        Counter(label: "envmon_uploads_total", dimensions: [("status", status), ("source", source)], factory: factory)
            .increment()
    }

    /// A job's load finished.
    public func loaded(_ outcome: LoadOutcome, duration: Duration) {
        Counter(label: "envmon_rows_loaded_total", factory: factory).increment(by: outcome.rowsLoaded)
        Counter(label: "envmon_rows_rejected_total", factory: factory).increment(by: outcome.rowsRejected)
        let nanoseconds = duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        CoreMetrics.Timer(label: "envmon_ingest_duration_seconds", dimensions: [("status", outcome.status.rawValue)],
                      factory: factory).recordNanoseconds(nanoseconds)
    }

    /// A job attempt ended without an outcome (retried or given up).
    public func jobError(final: Bool) {
        Counter(label: "envmon_ingest_job_errors_total", dimensions: [("final", final ? "true" : "false")],
                factory: factory).increment()
    }

    /// Sets the gauges that come from the database.
    func record(queue: (waiting: Int, running: Int, oldestAgeSeconds: Double), alerts: [String: Int], failedNotifications: Int) {
        Gauge(label: "envmon_ingest_queue_depth", dimensions: [("status", "queued")], factory: factory).record(queue.waiting)
        Gauge(label: "envmon_ingest_queue_depth", dimensions: [("status", "running")], factory: factory).record(queue.running)
        Gauge(label: "envmon_ingest_queue_oldest_age_seconds", factory: factory).record(queue.oldestAgeSeconds)
        for (state, count) in alerts {
            Gauge(label: "envmon_alerts", dimensions: [("state", state)], factory: factory).record(count)
        }
        Gauge(label: "envmon_notifications_failed", factory: factory).record(failedNotifications)
    }

    /// The read replica's state (one gauge per state, 1 for the current one) and its lag in
    /// seconds (NaN when it cannot be told).
    func record(replica state: ReplicaState) {
        let states: [ReplicaState] = [.checking, .inUse(lag: 0), .lagging(lag: nil), .unreachable, .notStandby, .otherCluster]
        for each in states {
            Gauge(label: "envmon_read_replica_state", dimensions: [("state", each.name)], factory: factory)
                .record(each.name == state.name ? 1 : 0)
        }
        Gauge(label: "envmon_read_replica_lag_seconds", factory: factory).record(state.lag ?? .nan)
    }

    /// Prometheus text exposition of everything recorded.
    public func render() -> String {
        registry.emitToString()
    }
}

extension ServiceMetrics {
    /// Makes this registry the process's swift-metrics backend, so that metrics recorded by
    /// libraries land on `/metrics` too. Call once, from the executable.
    public func bootstrapSystem() {
        MetricsSystem.bootstrap(factory)
    }
}

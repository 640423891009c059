import UnixSignals
public import EnvMonStore
public import Logging
public import ServiceLifecycle

/// What `envmon serve` runs, as one ServiceGroup in dependency order (shutdown runs in
/// reverse): the database pool, the HTTP server, the ingest workers, the inbox watcher, and the
/// alert loops. SIGTERM and SIGINT mean graceful shutdown: the server stops accepting, workers
/// finish or give back their current job, loops stop sleeping.
public enum EnvMonServices {
    /// The services of one `envmon serve` process on `database` (its pool not yet running).
    ///
    /// - Parameters:
    ///   - alertLoops: the evaluator and notifier loops (added by the alerting work); they run
    ///     after the workers and stop before them.
    public static func group(
        config: ServerConfiguration, database: Database, metrics: ServiceMetrics, logger: Logger,
        alertLoops: [any Service] = []
    ) -> ServiceGroup {
        var services: [any Service] = [database.client]
        services.append(buildApplication(config: config, database: database, metrics: metrics, logger: logger))
        if config.workers > 0 {
            services.append(IngestWorkers(
                queue: JobQueue(database: database, lease: config.jobLease), count: config.workers,
                pollInterval: config.pollInterval, metrics: metrics, logger: logger))
        }
        if let inbox = config.inbox {
            services.append(InboxWatcher(directory: inbox, interval: config.inboxInterval, database: database,
                                         metrics: metrics, logger: logger))
        }
        // ── Slot: evaluator loop and notifier loop (lead). ──
        services.append(contentsOf: alertLoops)

        var configuration = ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: logger)
        configuration.maximumGracefulShutdownDuration = config.shutdownGracePeriod
        return ServiceGroup(configuration: configuration)
    }
}

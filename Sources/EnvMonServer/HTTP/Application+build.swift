public import EnvMonNotify
import EnvMonStore
import EnvMonWeb
public import Foundation
import HTTPTypes
public import Hummingbird
import HummingbirdTLS
import HummingbirdCore
import NIOCore
public import Logging
import ServiceLifecycle
import UnixSignals
import EnvMonDomain

/// How `envmon serve` runs: address, workers, inbox, limits. Flags and environment variables
/// map onto it (docs/operations.md).
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Ingest workers in this process.
    public var workers = 2
    /// The inbox folder (`DIR/<kind>/`), when one is watched.
    public var inbox: URL?
    /// Larger request bodies get 413.
    public var maxUploadBytes: Int64 = 256 << 20
    /// How long a claimed job is held without a heartbeat.
    public var jobLease: Duration = .seconds(60)
    /// How often an idle worker looks at the queue.
    public var pollInterval: Duration = .milliseconds(250)
    /// How often the inbox is scanned; a file is taken when its size is the same on two scans.
    public var inboxInterval: Duration = .seconds(1)
    /// Where request bodies are written while they arrive.
    public var temporaryDirectory = FileManager.default.temporaryDirectory
    /// How long `/readyz` waits for the database.
    public var readinessTimeout: Duration = .seconds(3)
    /// A connection that sends nothing for this long while its request is being read (or
    /// between requests) is closed: slow or stalled clients cannot hold connections forever.
    public var idleTimeout: Duration = .seconds(30)
    /// Open connections at most; one more is closed at once (slow clients are closed by
    /// `idleTimeout`, so a slot frees up).
    public var maxConnections = 1_000
    /// Uploads one token may start per minute (0: no limit); more get 429 with Retry-After.
    public var uploadsPerMinute = 120
    /// HTTPS: a PEM certificate chain and its private key (both or neither). Served with TLS
    /// 1.2 or newer, with `Strict-Transport-Security` on every response.
    public var tls: TLSFiles?
    /// How long graceful shutdown may take before the rest is cancelled.
    public var shutdownGracePeriod: Duration = .seconds(30)
    /// Whether this process evaluates alerts and delivers notifications (several processes may;
    /// evaluation is serialised by an advisory lock and the outbox by row locks).
    public var alertLoops = true
    /// The evaluator's fallback interval (it also runs whenever an upload finishes).
    public var evaluationInterval: Duration = .seconds(60)
    /// How often the notifier looks at the outbox.
    public var notifyInterval: Duration = .seconds(5)
    /// The HJ 212 listener for data loggers (`--hj212 HOST:PORT`), when one runs.
    public var hj212: HJ212Configuration?
    /// A streaming standby for the console's and the API's reads (`--read-url`), when one is used.
    public var readReplica: ReadReplicaSettings?
    /// How long start-up waits for the ServiceGroup to start the database pool before it gives
    /// up with an error (instead of asking a pool that never runs, and waiting for good).
    var poolStartLimit: Duration = .seconds(60)

    public init() {}

    /// Connections the pool needs: each worker holds two while loading (the load transaction
    /// and the chunk reads), the evaluator one to listen and one to evaluate, and requests need
    /// some of their own; the HJ 212 listener one per group committer and two for maintenance.
    public var poolSize: Int { max(10, 2 * workers + 8) + (hj212.map { 2 + $0.committers } ?? 0) }
}

/// Everything one envmon process needs to serve: where the database is, how to serve, the
/// alert files in force and how notifications are delivered.
public struct AppConfiguration: Sendable {
    public var runtime: RuntimeConfiguration
    public var server: ServerConfiguration
    public var alerts: AlertConfiguration
    public var delivery: DeliveryContext
    public var metrics: ServiceMetrics

    public init(runtime: RuntimeConfiguration, server: ServerConfiguration, alerts: AlertConfiguration,
                delivery: DeliveryContext, metrics: ServiceMetrics = ServiceMetrics()) {
        self.runtime = runtime
        self.server = server
        self.alerts = alerts
        self.delivery = delivery
        self.metrics = metrics
    }
}

/// The application `envmon serve` runs.
public typealias EnvMonApplication = Application<RouterResponder<APIContext>>

/// The composition root: the configured Hummingbird application with every long-running
/// service of one envmon process, in dependency order (shutdown runs in reverse): the database
/// pool (and, with a read replica, its pool and the monitor of its lag), the ingest workers,
/// the inbox watcher, the alert evaluator and the notifier, then the HTTP server. The schema is
/// migrated (embedded cluster) or checked (a configured server) in `beforeServerStarts`; the
/// services wait for it at a gate. `envmon serve`, `envmon demo` and the tests all build the
/// application here.
///
/// ```swift
/// let app = try buildApplication(configuration, logger: logger)
/// try await app.runService()                       // envmon serve
/// try await app.test(.router) { client in … }      // tests
/// ```
public func buildApplication(_ configuration: AppConfiguration, logger: Logger) throws -> EnvMonApplication {
    let server = configuration.server
    let (address, embedded) = try configuration.runtime.resolveAddress(logger: logger)
    let database = try Database.unstarted(address, logger: logger, maximumConnections: server.poolSize)
    let pool = DatabasePool(database)
    let replica = try server.readReplica.map { try ReadReplica(settings: $0, logger: logger) }
    let gate = StartupGate()
    let metrics = configuration.metrics
    let http1 = HTTP1Channel.Configuration(
        idleTimeout: .nanoseconds(Int64(server.idleTimeout.components.seconds) * 1_000_000_000
                                  + server.idleTimeout.components.attoseconds / 1_000_000_000))
    let tls = try server.tls?.serverConfiguration()
    let counter = ConnectionCounter(maximum: server.maxConnections)
    let builder = HTTPServerBuilder { responder in
        let channel = HTTP1Channel(responder: responder, configuration: http1)
        if let tls { return ConnectionLimitChannel(base: try TLSChannel(channel, tlsConfiguration: tls), counter: counter) }
        return ConnectionLimitChannel(base: channel, counter: counter)
    }
    var app = Application(
        router: try buildRouter(config: server, database: database, replica: replica, metrics: metrics),
        server: builder,
        configuration: .init(address: .hostname(server.host, port: server.port), serverName: "envmon"),
        services: [pool] + (replica.map { [$0.pool] } ?? []),
        logger: logger)
    if let replica {
        app.addServices(ReadReplicaMonitor(replica: replica, primary: database, metrics: metrics, logger: logger))
    }
    let targets = configuration.alerts.targets
    let poolStartLimit = server.poolStartLimit
    app.beforeServerStarts {
        do {
            // This runs beside the pool's service, which may not have started yet.
            try await pool.waitUntilStarted(within: poolStartLimit)
            try await Schema.prepare(database, embedded: embedded, targets: targets)
            gate.open()
        } catch {
            gate.fail(error)
            throw error
        }
    }
    if server.workers > 0 {
        app.addServices(IngestWorkers(
            queue: JobQueue(database: database, lease: server.jobLease), count: server.workers,
            pollInterval: server.pollInterval, metrics: metrics, logger: logger, gate: gate,
            shutdownDeadline: server.shutdownGracePeriod))
    }
    if let inbox = server.inbox {
        app.addServices(InboxWatcher(directory: inbox, interval: server.inboxInterval, database: database,
                                     metrics: metrics, logger: logger, gate: gate))
    }
    if server.alertLoops {
        app.addServices(
            EvaluatorLoop(database: database, configuration: configuration.alerts, logger: logger,
                          interval: server.evaluationInterval, gate: gate),
            NotifierLoop(notifier: OutboxNotifier(database: database, context: configuration.delivery), logger: logger,
                         interval: server.notifyInterval, gate: gate))
    }
    if let hj212 = server.hj212 {
        app.addServices(HJ212Listener(configuration: hj212, database: database, logger: logger, gate: gate))
    }
    return app
}

/// Runs `app` until SIGTERM or SIGINT, then shuts it down gracefully: the server stops taking
/// requests, workers finish their load within `gracePeriod` or cancel it and give the job back,
/// loops stop, then the pool closes. Should that hang, everything is cancelled 15 s later, and
/// should even the cancellation hang, the process exits 30 s after that (`ExitBackstop`).
public func serve(_ app: EnvMonApplication, listening address: String, gracePeriod: Duration, logger: Logger) async throws {
    let backstop = gracePeriod + .seconds(15)
    // Graceful shutdown reaches services last to first: the backstop is armed before the app
    // begins to stop.
    var configuration = ServiceGroupConfiguration(
        services: [.init(service: app), .init(service: ExitBackstop(after: backstop + .seconds(30), logger: logger))],
        gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: logger)
    configuration.maximumGracefulShutdownDuration = backstop
    do {
        try await ServiceGroup(configuration: configuration).run()
    } catch let error as IOError where error.description.hasPrefix("bind(") {
        // Not the database's fault (which is what an IOError otherwise means here).
        throw OperationFailure("cannot listen on \(address): \(ListenFailure.reason(error.errnoCode))")
    }
}

/// Why the HTTP server could not bind its address, as an operator can act on it.
enum ListenFailure {
    static func reason(_ code: Int32) -> String {
        switch code {
        case EADDRINUSE: return "the address is in use (another process listens there; choose another with --port or ENVMON_PORT)"
        case EACCES: return "permission denied (ports below 1024 need privileges; choose another with --port or ENVMON_PORT)"
        case EADDRNOTAVAIL: return "no interface of this machine has that address (see --host or ENVMON_HOST)"
        default: return String(cString: strerror(code))
        }
    }
}

/// Ends the process `after` the start of a graceful shutdown that has not finished by then —
/// a call that ignores its cancellation must not keep `envmon serve` alive (holding its port and
/// its jobs' leases) until an operator kills it. Exit status 70 (EX_SOFTWARE), after one line
/// on stderr that says so.
struct ExitBackstop: Service {
    let after: Duration
    let logger: Logger

    init(after: Duration, logger: Logger) {
        self.after = after
        self.logger = logger
    }

    func run() async throws {
        // Returns when graceful shutdown begins; cancellation (the end of the group) ends it too.
        try? await gracefulShutdown()
        guard !Task.isCancelled else { return }
        let seconds = Double(after.components.seconds) + Double(after.components.attoseconds) / 1e18
        let logger = self.logger
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
            logger.critical("shutdown did not finish within \(seconds) s; exiting")
            _exit(70)
        }
    }
}

/// The router alone: every route of docs/openapi.yaml.
/// Sessions, tokens, CSRF and every write use the primary `database`; the reads behind GET
/// pages and endpoints go through a `ReadSource` (the read replica while it is fit).
func buildRouter(config: ServerConfiguration, database: Database, replica: ReadReplica? = nil,
                 metrics: ServiceMetrics) throws -> Router<APIContext> {
    let router = Router(context: APIContext.self)
    let reads = ReadSource(primary: database, replica: replica)
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: SecurityHeadersMiddleware(tls: config.tls != nil))
    router.add(middleware: ErrorMiddleware())
    HealthController(database: database, replica: replica, metrics: metrics, readinessTimeout: config.readinessTimeout)
        .addRoutes(to: router)
    let view = try ConsoleView()
    let sessions = SessionController(database: database, secureCookies: config.tls != nil, view: view)
    sessions.addRoutes(to: router)
    ConsoleController(database: database, reads: reads, view: view).addRoutes(to: router)

    let tokens = TokenStore(database: database)
    let uploads = UploadController(database: database, reads: reads, configuration: config, metrics: metrics)
    let bureau = BureauController(database: database, reads: reads)
    let readers = router.group("v1").add(middleware: TokenAuthMiddleware(scope: .read, tokens: tokens))
    uploads.addReadRoutes(to: readers)
    bureau.addReadRoutes(to: readers)
    sessions.addReadRoutes(to: readers)
    let silences = SilenceController(database: database, reads: reads)
    silences.addReadRoutes(to: readers)
    let writes = router.group("v1").add(middleware: TokenAuthMiddleware(scope: .upload, tokens: tokens))
    uploads.addUploadRoutes(to: writes)
    bureau.addUploadRoutes(to: writes)
    let admins = router.group("v1").add(middleware: TokenAuthMiddleware(scope: .admin, tokens: tokens))
    uploads.addAdminRoutes(to: admins)
    silences.addAdminRoutes(to: admins)
    return router
}

/// One structured log line per request: method, path, status, duration.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = APIContext

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            log(request, context, status: Int(response.status.code), started: started)
            return response
        } catch let error as APIError {
            log(request, context, status: Int(error.status.code), started: started)
            throw error
        } catch {
            log(request, context, status: 500, started: started)
            throw error
        }
    }

    private func log(_ request: Request, _ context: APIContext, status: Int, started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        context.logger.info("request", metadata: [
            "http.method": "\(request.method.rawValue)", "http.path": "\(request.uri.path)",
            "http.status": "\(status)", "http.duration_ms": "\(String(format: "%.1f", ms))",
        ])
    }
}

public import EnvMonStore
public import Foundation
import HTTPTypes
public import Hummingbird
import HummingbirdCore
public import Logging

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
    /// How long graceful shutdown may take before the rest is cancelled.
    public var shutdownGracePeriod: Duration = .seconds(30)

    public init() {}

    /// Connections the pool needs: each worker holds two while loading (the load transaction
    /// and the chunk reads), and requests need some of their own.
    public var poolSize: Int { max(8, 2 * workers + 6) }
}

/// Builds the HTTP application: routes, token auth, JSON errors. The caller runs it, usually
/// with the database pool, the ingest workers and the inbox in one ServiceGroup
/// (`EnvMonServer.makeServices`); tests run it with HummingbirdTesting.
///
/// ```swift
/// let app = buildApplication(config: config, database: db, metrics: ServiceMetrics(), logger: logger)
/// try await app.test(.router) { client in … }
/// ```
public func buildApplication(
    config: ServerConfiguration, database: Database, metrics: ServiceMetrics, logger: Logger
) -> Application<RouterResponder<APIContext>> {
    Application(
        router: buildRouter(config: config, database: database, metrics: metrics),
        configuration: .init(address: .hostname(config.host, port: config.port), serverName: "envmon"),
        logger: logger)
}

/// The router alone: every route of docs/openapi.yaml.
public func buildRouter(config: ServerConfiguration, database: Database, metrics: ServiceMetrics) -> Router<APIContext> {
    let router = Router(context: APIContext.self)
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: ErrorMiddleware())
    HealthController(database: database, metrics: metrics, readinessTimeout: config.readinessTimeout).addRoutes(to: router)

    let tokens = TokenStore(database: database)
    let uploads = UploadController(database: database, configuration: config, metrics: metrics)
    let bureau = BureauController(database: database)
    let reads = router.group("v1").add(middleware: TokenAuthMiddleware(scope: .read, tokens: tokens))
    uploads.addReadRoutes(to: reads)
    bureau.addReadRoutes(to: reads)
    let writes = router.group("v1").add(middleware: TokenAuthMiddleware(scope: .upload, tokens: tokens))
    uploads.addUploadRoutes(to: writes)
    bureau.addUploadRoutes(to: writes)
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

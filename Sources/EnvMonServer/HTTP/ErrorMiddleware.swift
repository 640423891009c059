import EnvMonDomain
import EnvMonStore
import Foundation
import HTTPTypes
public import Hummingbird
import HummingbirdCore
import Logging

/// Turns every error into the API's JSON `{error, detail}`: envmon's own errors and
/// Hummingbird's HTTP errors keep their meaning, a database that does not answer is a 503, and
/// anything unexpected is a 500. Server-side details (SQL text, stack traces) go to the log
/// only; the client gets a `reference` (the request id) that finds the log line.
public struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            do {
                // A NUL in a query value can reach nothing useful (PostgreSQL text cannot hold
                // it): the client's error, said here once for every route.
                for (name, value) in request.uri.queryParameters where value.utf8.contains(0) || name.utf8.contains(0) {
                    throw APIError.badRequest("the query parameter '\(String(name).replacingOccurrences(of: "\u{0}", with: "\\0"))' contains a NUL character")
                }
                return try await next(request, context)
            } catch {
                // What went wrong inside a transaction, not its wrapper.
                throw Database.unwrap(error)
            }
        } catch let error as APIError {
            throw error
        } catch let error as EnvMonError {
            switch error.kind {
            case .notFound: throw APIError.notFound(error.message)
            case .conflict: throw APIError(.conflict, error: "conflict", detail: error.message)
            case .invalid: throw APIError.unprocessable("invalid", error.message)
            }
        } catch let error as HTTPError {
            let code = error.status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_")
            throw APIError(error.status, error: code, detail: error.body ?? error.status.reasonPhrase)
        } catch let error as any HTTPResponseError {
            throw APIError(error.status, error: "http_\(error.status.code)", detail: error.status.reasonPhrase)
        } catch {
            let reference = Self.reference(context)
            switch DatabaseFailure.of(error) {
            case .missingRelation?:
                context.logger.warning("analytics view missing", metadata: ["envmon.error": "\(Database.describe(error))"])
                throw APIError.unavailable("analytics_unavailable",
                                           "the analytics views are not there yet; run `envmon migrate`", reference: reference)
            case .unavailable?, .transient?:
                context.logger.warning("database error", metadata: ["envmon.error": "\(Database.describe(error))"])
                throw APIError.unavailable("database_unavailable", "the database did not answer; try again shortly",
                                           reference: reference)
            case .permanent?, nil:
                context.logger.error("request failed", metadata: ["envmon.error": "\(Database.describe(error))"])
                var failure = APIError(.internalServerError, error: "internal",
                                       detail: "internal error; the server log has the details")
                failure.reference = reference
                throw failure
            }
        }
    }

    /// The id Hummingbird gave the request (in every log line of it).
    static func reference(_ context: Context) -> String? {
        context.logger[metadataKey: "hb.request.id"].map { "\($0)" }
    }
}

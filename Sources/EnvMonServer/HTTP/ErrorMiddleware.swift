import Foundation
import EnvMonStore
import HTTPTypes
public import Hummingbird
import HummingbirdCore
import Logging
import PostgresNIO

/// Turns every error into the API's JSON `{error, detail}`: Hummingbird's own HTTP errors keep
/// their status, a database that does not answer is a 503, and anything unexpected is a 500
/// whose details go to the log only.
public struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            do {
                return try await next(request, context)
            } catch let error as PostgresTransactionError {
                // What went wrong inside a transaction, not the wrapper.
                throw Self.underlying(error)
            }
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            let code = error.status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_")
            throw APIError(error.status, error: code, detail: error.body ?? error.status.reasonPhrase)
        } catch let error as AnalyticsUnavailable {
            throw APIError.unavailable("analytics_unavailable", error.description)
        } catch let error as PSQLError {
            context.logger.warning("database error", metadata: ["envmon.error": "\(Database.describe(error))"])
            throw APIError.unavailable("database_unavailable", "the database did not answer; try again shortly")
        } catch let error as any HTTPResponseError {
            throw APIError(error.status, error: "http_\(error.status.code)", detail: error.status.reasonPhrase)
        } catch {
            context.logger.error("request failed", metadata: ["envmon.error": "\(Database.describe(error))"])
            throw APIError(.internalServerError, error: "internal", detail: "internal error; the server log has the details")
        }
    }

    /// The error a transaction's body, BEGIN or COMMIT threw.
    static func underlying(_ error: PostgresTransactionError) -> any Error {
        error.closureError ?? error.beginError ?? error.commitError ?? error
    }
}

import EnvMonStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import PostgresNIO

/// The bureau's figures and alerts: `GET /v1/metrics`, `GET /v1/plan`, `GET /v1/alerts`,
/// `POST /v1/alerts/{id}/ack`.
struct BureauController {
    let database: Database

    func addReadRoutes(to group: RouterGroup<APIContext>) {
        group.get("metrics", use: metrics)
        group.get("plan", use: plan)
        group.get("alerts", use: alerts)
    }

    func addUploadRoutes(to group: RouterGroup<APIContext>) {
        group.post("alerts/{id}/ack", use: acknowledge)
    }

    @Sendable func metrics(request: Request, context: APIContext) async throws -> Response {
        let query = request.uri.queryParameters
        let (limit, offset) = try Paging.read(query, defaultLimit: 1_000, maximum: 10_000)
        let json = try await ServiceQueries(database: database).metricValues(
            metric: query["metric"].map(String.init), scope: query["scope"].map(String.init),
            period: query["period"].map(String.init), limit: limit, offset: offset)
        return JSONBody.wrap("metrics", json: json, extra: ["limit": limit, "offset": offset])
    }

    @Sendable func plan(request: Request, context: APIContext) async throws -> Response {
        JSONBody.wrap("plan", json: try await ServiceQueries(database: database).planProgress())
    }

    static let alertStates = ["pending", "firing", "resolved"]

    @Sendable func alerts(request: Request, context: APIContext) async throws -> Response {
        let query = request.uri.queryParameters
        let state = query["state"].map(String.init)
        if let state, !Self.alertStates.contains(state) {
            throw APIError.notAllowed("state", state, allowed: Self.alertStates)
        }
        let (limit, _) = try Paging.read(query, defaultLimit: 200, maximum: 1_000)
        let alerts = try await AlertStore(database: database).list(state: state ?? "all", limit: limit)
        return try JSONBody.response(["alerts": alerts])
    }

    struct AckBody: Decodable {
        var note: String?
    }

    /// Acknowledges an open alert as the token's holder; body `{"note": "…"}` is optional.
    @Sendable func acknowledge(request: Request, context: APIContext) async throws -> Response {
        let token = try context.requireToken()
        guard let id = context.parameters.get("id", as: Int64.self), id > 0 else {
            throw APIError.notFound("alert ids are positive whole numbers")
        }
        var request = request
        let body = try await request.collectBody(upTo: 64 * 1024)
        var note: String?
        if body.readableBytes > 0 {
            do {
                note = try JSONDecoder().decode(AckBody.self, from: Data(body.readableBytesView)).note
            } catch {
                throw APIError.badRequest("the body must be JSON like {\"note\": \"called the plant\"}")
            }
        }
        do {
            do {
                let alert = try await AlertStore(database: database).acknowledge(alertID: id, by: token.name, note: note, at: Date())
                return try JSONBody.response(alert)
            } catch let error as PostgresTransactionError {
                throw ErrorMiddleware<APIContext>.underlying(error)
            }
        } catch is AlertNotFound {
            throw APIError.notFound("no alert with id \(id)")
        } catch let error as AlertStateConflict {
            throw APIError(.conflict, error: "alert_resolved", detail: error.description)
        }
    }
}

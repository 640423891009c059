import EnvMonDomain
import EnvMonStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore

/// The bureau's figures and alerts: `GET /v1/metrics`, `GET /v1/plan`, `GET /v1/alerts`,
/// `POST /v1/alerts/{id}/ack`.
struct BureauController {
    /// The primary: acknowledgements.
    let database: Database
    /// The figures' and the alert list's reads.
    let reads: ReadSource

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
        let (metric, scope, period) = (query["metric"].map(String.init), query["scope"].map(String.init),
                                       query["period"].map(String.init))
        let json = try await reads.run { db in
            try await ServiceQueries(database: db).metricValues(metric: metric, scope: scope, period: period,
                                                                limit: limit, offset: offset)
        }
        return JSONBody.wrap("metrics", json: json, extra: ["limit": limit, "offset": offset])
    }

    @Sendable func plan(request: Request, context: APIContext) async throws -> Response {
        JSONBody.wrap("plan", json: try await reads.run { try await ServiceQueries(database: $0).planProgress() })
    }

    static let alertStates: [AlertPhase] = [.pending, .firing, .resolved]

    @Sendable func alerts(request: Request, context: APIContext) async throws -> Response {
        let query = request.uri.queryParameters
        var state: AlertPhase?
        if let raw = query["state"] {
            guard let phase = AlertPhase(rawValue: String(raw)), Self.alertStates.contains(phase) else {
                throw APIError.notAllowed("state", raw, allowed: Self.alertStates.map(\.rawValue))
            }
            state = phase
        }
        let (limit, _) = try Paging.read(query, defaultLimit: 200, maximum: 1_000)
        let phase = state
        let alerts = try await reads.run { try await AlertStore(database: $0).list(state: phase, limit: limit) }
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
            let alert = try await AlertStore(database: database).acknowledge(alertID: id, by: token.name, note: note, at: Date())
            try await AuditLog(database: database).record(try context.auditActor(), "alert.acknowledge", subject: "alert \(id)",
                                                          summary: "by \(token.name)" + (note.map { ": \($0)" } ?? ""))
            return try JSONBody.response(alert)
        } catch {
            if let error = Database.unwrap(error) as? EnvMonError, error.kind == .conflict {
                throw APIError(.conflict, error: "alert_resolved", detail: error.message)
            }
            throw error
        }
    }
}

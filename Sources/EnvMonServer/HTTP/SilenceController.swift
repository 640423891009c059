import EnvMonDomain
import EnvMonStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// An alert's history and the silences: `GET /v1/alerts/{id}/history`, `GET /v1/silences`
/// (read), `POST /v1/silences` and `POST /v1/silences/{id}/expire` (admin). Every change is in
/// the audit trail with who made it.
struct SilenceController {
    /// The primary: new and expired silences.
    let database: Database
    /// The history's and the list's reads.
    let reads: ReadSource

    func addReadRoutes(to group: RouterGroup<APIContext>) {
        group.get("alerts/{id}/history", use: history)
        group.get("silences", use: list)
    }

    func addAdminRoutes(to group: RouterGroup<APIContext>) {
        group.post("silences", use: add)
        group.post("silences/{id}/expire", use: expire)
    }

    struct History: Encodable {
        var alert: AlertState
        var events: [AlertEventRecord]
    }

    @Sendable func history(request: Request, context: APIContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: Int64.self), id > 0 else {
            throw APIError.notFound("alert ids are positive whole numbers")
        }
        guard let (alert, found) = try await reads.find({ try await AlertStore(database: $0).alert(id: id) }) else {
            throw APIError.notFound("no alert with id \(id)")
        }
        let events = try await reads.run(after: found) { try await AlertStore(database: $0).history(alertID: id) }
        return try JSONBody.response(History(alert: alert, events: events))
    }

    @Sendable func list(request: Request, context: APIContext) async throws -> Response {
        let all = request.uri.queryParameters["all"].map { $0 == "true" || $0 == "1" } ?? false
        let silences = try await reads.run { try await AlertStore(database: $0).silences(includeExpired: all, at: Date()) }
        return try JSONBody.response(["silences": silences])
    }

    struct NewSilence: Decodable {
        var matchers: [String]
        /// How long from now, e.g. `2h`, `3d` (or `endsAt`).
        var duration: String?
        var endsAt: Date?
        var reason: String

        enum CodingKeys: String, CodingKey {
            case matchers, duration, reason
            case endsAt = "ends_at"
        }
    }

    @Sendable func add(request: Request, context: APIContext) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: 64 * 1024)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let silence: NewSilence
        do {
            silence = try decoder.decode(NewSilence.self, from: Data(body.readableBytesView))
        } catch {
            throw APIError.badRequest(#"the body must be JSON like {"matchers": ["rule=FeedMissing"], "duration": "2h", "reason": "plant maintenance"}"#)
        }
        guard !silence.matchers.isEmpty, silence.matchers.count <= 20 else {
            throw APIError.unprocessable("bad_matchers", "give from 1 to 20 matchers")
        }
        for matcher in silence.matchers {
            if let problem = Operations.matcherProblem(matcher) {
                throw APIError.unprocessable("bad_matcher", "matcher '\(matcher.prefix(200))': \(problem)")
            }
        }
        let reason = silence.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else { throw APIError.unprocessable("no_reason", "say why (reason), e.g. plant maintenance") }
        let now = Date()
        let ends: Date
        switch (silence.duration, silence.endsAt) {
        case let (duration?, nil):
            guard let seconds = Operations.durationSeconds(duration), seconds > 0, seconds <= 366 * 86_400 else {
                throw APIError.unprocessable("bad_duration", "duration '\(duration.prefix(50))' must be like 30m, 2h or 3d, at most a year")
            }
            ends = now.addingTimeInterval(seconds)
        case let (nil, endsAt?):
            guard endsAt > now else { throw APIError.unprocessable("bad_end", "ends_at must be in the future") }
            ends = endsAt
        default:
            throw APIError.unprocessable("bad_end", "give exactly one of duration or ends_at")
        }
        let author = try context.requireToken().name
        let store = AlertStore(database: database)
        let id: Int64
        do {
            id = try await store.addSilence(matchers: silence.matchers, startsAt: now, endsAt: ends, author: author, reason: reason)
        } catch let error as EnvMonError {
            throw APIError.unprocessable("bad_silence", error.message)
        }
        try await AuditLog(database: database).record(
            try context.auditActor(), "silence.add", subject: "silence \(id)",
            summary: "\(silence.matchers.joined(separator: " ")) until \(ends.ISO8601Format()): \(reason)")
        return try JSONBody.response(["id": id], status: .created)
    }

    @Sendable func expire(request: Request, context: APIContext) async throws -> Response {
        guard let id = context.parameters.get("id", as: Int64.self), id > 0 else {
            throw APIError.notFound("silence ids are positive whole numbers")
        }
        guard try await AlertStore(database: database).expireSilence(id: id, at: Date()) else {
            throw APIError.notFound("no active silence with id \(id)")
        }
        try await AuditLog(database: database).record(try context.auditActor(), "silence.expire", subject: "silence \(id)")
        return try JSONBody.response(["id": id])
    }
}

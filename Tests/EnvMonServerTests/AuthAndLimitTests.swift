import EnvMonDomain
@testable import EnvMonServer
@testable import EnvMonStore
import EnvMonTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@Suite("Tokens, scopes and request limits", .timeLimit(.minutes(10)), .temporaryDatabases)
struct AuthAndLimitTests {
    /// Which token a case sends.
    enum Credential: String, Sendable {
        case none, malformed, unknown, revoked, read, upload
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var credential: Credential
        var method: HTTPRequest.Method
        var uri: String
        var status: HTTPResponse.Status
        var error: String
        var testDescription: String { "\(method) \(uri) with \(credential.rawValue) → \(status.code)" }
    }

    static let cases: [Case] = [
        Case(credential: .none, method: .post, uri: "/v1/uploads?kind=emissions", status: .unauthorized, error: "unauthorized"),
        Case(credential: .malformed, method: .get, uri: "/v1/plan", status: .unauthorized, error: "unauthorized"),
        Case(credential: .unknown, method: .get, uri: "/v1/uploads/1", status: .unauthorized, error: "unauthorized"),
        Case(credential: .revoked, method: .get, uri: "/v1/alerts", status: .unauthorized, error: "unauthorized"),
        Case(credential: .read, method: .post, uri: "/v1/uploads?kind=emissions", status: .forbidden, error: "forbidden"),
        Case(credential: .read, method: .post, uri: "/v1/alerts/1/ack", status: .forbidden, error: "forbidden"),
        Case(credential: .upload, method: .post, uri: "/v1/uploads?kind=noise", status: .unprocessableContent, error: "unknown_kind"),
        Case(credential: .upload, method: .post, uri: "/v1/uploads", status: .unprocessableContent, error: "missing_kind"),
        Case(credential: .upload, method: .post, uri: "/v1/uploads?kind=water&format=xls", status: .unprocessableContent, error: "unknown_format"),
        Case(credential: .upload, method: .post, uri: "/v1/uploads?kind=water&encoding=latin1", status: .unprocessableContent, error: "unknown_encoding"),
        Case(credential: .read, method: .get, uri: "/v1/alerts?state=sleeping", status: .unprocessableContent, error: "unknown_state"),
    ]

    @Test("each auth and validation failure has its status and a JSON {error, detail}", arguments: cases)
    func failures(_ c: Case) async throws {
        try await Harness.withApp(workers: 0) { client, db, tokens in
            var headers: HTTPFields = [.contentType: "text/csv"]
            switch c.credential {
            case .none: break
            case .malformed: headers[.authorization] = "Token \(tokens.admin)"
            case .unknown: headers[.authorization] = "Bearer envm_notarealtokenatall"
            case .revoked:
                let doomed = try await TokenStore(database: db).create(name: "leaver", scope: .admin)
                _ = try await TokenStore(database: db).revoke("leaver")
                headers[.authorization] = "Bearer \(doomed.secret)"
            case .read: headers[.authorization] = "Bearer \(tokens.read)"
            case .upload: headers[.authorization] = "Bearer \(tokens.upload)"
            }
            let response = try await client.execute(uri: c.uri, method: c.method, headers: headers,
                                                    body: ByteBuffer(string: Feed.emissions()))
            #expect(response.status == c.status)
            let body = try Harness.json(response.body)
            #expect(body["error"] as? String == c.error)
            let detail = try #require(body["detail"] as? String)
            #expect(!detail.isEmpty)
            if c.error == "unknown_kind" { #expect(detail.contains("emissions, sewage, water, green, waste")) }
            if c.status == .unauthorized { #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true) }
        }
    }

    @Test("an unsupported media type is 415 and names the accepted ones")
    func unsupportedMediaType() async throws {
        try await Harness.withApp(workers: 0) { client, _, tokens in
            let response = try await client.execute(
                uri: "/v1/uploads?kind=emissions", method: .post,
                headers: Harness.bearer(tokens.upload, [.contentType: "image/png"]), body: ByteBuffer(string: "x"))
            #expect(response.status == .unsupportedMediaType)
            let detail = try #require(try Harness.json(response.body)["detail"] as? String)
            #expect(detail.contains("text/csv") && detail.contains("multipart/form-data"))
        }
    }

    @Test("an empty body is 422")
    func emptyBody() async throws {
        try await Harness.withApp(workers: 0) { client, _, tokens in
            let response = try await client.execute(uri: "/v1/uploads?kind=sewage", method: .post,
                                                    headers: Harness.csvHeaders(tokens.upload), body: ByteBuffer())
            #expect(response.status == .unprocessableContent)
            #expect(try Harness.json(response.body)["error"] as? String == "empty_body")
        }
    }

    @Test("a body over the limit is 413, by declared length and while streaming; nothing is archived")
    func tooLarge() async throws {
        var config = ServerConfiguration.test
        config.maxUploadBytes = 64
        try await Harness.withApp(config: config, workers: 0) { client, db, tokens in
            let big = Feed.emissions(rows: 10)
            let response = try await client.execute(uri: "/v1/uploads?kind=emissions", method: .post,
                                                    headers: Harness.csvHeaders(tokens.upload), body: ByteBuffer(string: big))
            #expect(response.status == .contentTooLarge)
            #expect(try Harness.json(response.body)["error"] as? String == "too_large")
            let (body, headers) = Harness.multipart(big, fileName: "big.csv")
            let streamed = try await client.execute(uri: "/v1/uploads?kind=emissions", method: .post,
                                                    headers: Harness.bearer(tokens.upload, headers), body: body)
            #expect(streamed.status == .contentTooLarge)
            let count = try await UploadQueries(database: db).list().count
            #expect(count == 0)
        }
    }

    @Test("over a real socket an oversized body is refused with 413", .timeLimit(.minutes(10)))
    func tooLargeLive() async throws {
        var config = ServerConfiguration.test
        config.maxUploadBytes = 1024
        try await Harness.withApp(.live, config: config, workers: 0) { client, _, tokens in
            let response = try await client.execute(uri: "/v1/uploads?kind=emissions", method: .post,
                                                    headers: Harness.csvHeaders(tokens.upload),
                                                    body: ByteBuffer(string: Feed.emissions(rows: 200)))
            #expect(response.status == .contentTooLarge)
        }
    }

    @Test("a token is stored as its SHA-256, listed without its secret, and stops working when revoked")
    func tokenLifecycle() async throws {
        let testDB = try await TestDatabase.make()
        try await testDB.withDatabase { db in
            let store = TokenStore(database: db)
            let created = try await store.create(name: "bureau-uploader", scope: .upload)
            #expect(created.secret.hasPrefix("envm_"))
            #expect(created.secret.count == 5 + 43)
            let stored = try #require(try await testDB.value("SELECT encode(token_hash, 'hex') FROM envmon.api_token"))
            #expect(stored == TokenStore.hash(created.secret).map { String(format: "%02x", $0) }.joined())
            #expect(try await store.authenticate(secret: created.secret)?.name == "bureau-uploader")
            #expect(try await store.authenticate(secret: created.secret + "x") == nil)
            let listed = try await store.list()
            #expect(listed.map(\.name) == ["bureau-uploader"])
            #expect(listed.first?.lastUsedAt != nil)
            #expect(!String(describing: listed).contains(created.secret))
            _ = try await store.revoke(String(created.token.id))
            #expect(try await store.authenticate(secret: created.secret) == nil)
            await #expect(throws: EnvMonError.notFound("no API token nobody")) { try await store.revoke("nobody") }
        }
    }

    @Test("scopes nest: admin ⊃ upload ⊃ read", arguments: TokenScope.allCases)
    func scopesNest(_ scope: TokenScope) {
        #expect(TokenScope.admin.allows(scope))
        #expect(scope.allows(.read))
        #expect(TokenScope.read.allows(scope) == (scope == .read))
    }
}

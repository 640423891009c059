import Crypto
public import EnvMonDomain
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// Bearer tokens for the HTTP API, kept in `envmon.api_token` as SHA-256 of the secret.
public struct TokenStore: Sendable {
    /// Every secret starts with this, so that leaked tokens are easy to search for.
    public static let secretPrefix = "envm_"

    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Creates a token: `envm_` and 32 random bytes in base64url.
    public func create(name: String, scope: TokenScope) async throws -> NewAPIToken {
        let secret = Self.generateSecret()
        let hash = ByteBuffer(bytes: Self.hash(secret))
        let prefix = String(secret.prefix(Self.secretPrefix.count + 6))
        let rows = try await database.client.query("""
            INSERT INTO envmon.api_token (name, scope, token_hash, prefix)
            VALUES (\(name), \(scope.rawValue), \(hash), \(prefix))
            RETURNING id, name, scope, prefix, created_at, last_used_at, revoked_at
            """, logger: database.logger)
        for try await token in decode(rows) {
            return NewAPIToken(token: token, secret: secret)
        }
        throw EnvMonError.conflict("the token \(name) was not stored")
    }

    /// All tokens, revoked ones included, oldest first.
    public func list() async throws -> [APIToken] {
        let rows = try await database.client.query("""
            SELECT id, name, scope, prefix, created_at, last_used_at, revoked_at FROM envmon.api_token ORDER BY id
            """, logger: database.logger)
        var result: [APIToken] = []
        for try await token in decode(rows) { result.append(token) }
        return result
    }

    /// Revokes by id (digits) or by name (every live token of that name); returns the revoked.
    public func revoke(_ reference: String) async throws -> [APIToken] {
        let id = Int(reference)
        let rows = try await database.client.query("""
            UPDATE envmon.api_token SET revoked_at = now()
             WHERE revoked_at IS NULL AND (id = \(id) OR (\(id)::integer IS NULL AND name = \(reference)))
            RETURNING id, name, scope, prefix, created_at, last_used_at, revoked_at
            """, logger: database.logger)
        var result: [APIToken] = []
        for try await token in decode(rows) { result.append(token) }
        if result.isEmpty { throw EnvMonError.notFound("no API token \(reference)") }
        return result
    }

    /// The live token whose secret this is, or nil. The row is found by the secret's hash; the
    /// hashes are then compared in constant time. The use is recorded at most once a minute, so
    /// that concurrent requests with one token do not queue on its row.
    public func authenticate(secret: String) async throws -> APIToken? {
        guard secret.hasPrefix(Self.secretPrefix), secret.utf8.count < 200 else { return nil }
        let digest = Self.hash(secret)
        let rows = try await database.client.query("""
            SELECT id, name, scope, prefix, created_at, last_used_at, revoked_at, token_hash
              FROM envmon.api_token WHERE token_hash = \(ByteBuffer(bytes: digest)) AND revoked_at IS NULL
            """, logger: database.logger)
        var found: APIToken?
        for try await row in rows {
            let stored = try row.makeRandomAccess()[7].decode(ByteBuffer.self)
            if Self.constantTimeEqual(Array(stored.readableBytesView), digest) { found = try Self.token(from: row) }
        }
        guard var token = found else { return nil }
        if token.lastUsedAt.map({ $0 < Date().addingTimeInterval(-60) }) ?? true {
            try await database.client.query(
                "UPDATE envmon.api_token SET last_used_at = now() WHERE id = \(token.id)", logger: database.logger)
            token.lastUsedAt = Date()
        }
        return token
    }

    static func hash(_ secret: String) -> [UInt8] {
        Array(SHA256.hash(data: Data(secret.utf8)))
    }

    /// Whether two secrets are equal, in time that does not depend on where they differ.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    static func generateSecret(prefix: String = secretPrefix) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let base64 = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return prefix + base64
    }

    private func decode(_ rows: PostgresRowSequence) -> AsyncThrowingMapSequence<PostgresRowSequence, APIToken> {
        rows.map { try Self.token(from: $0) }
    }

    static func token(from row: PostgresRow) throws -> APIToken {
        let r = row.makeRandomAccess()
        return APIToken(
            id: try r[0].decode(Int.self), name: try r[1].decode(String.self),
            scope: TokenScope(rawValue: try r[2].decode(String.self)) ?? .read, prefix: try r[3].decode(String.self),
            createdAt: try r[4].decode(Date.self), lastUsedAt: try r[5].decode(Date?.self),
            revokedAt: try r[6].decode(Date?.self))
    }
}

import EmbeddedPostgres
import EnvMonDomain
@testable import EnvMonServer
import EnvMonStore
import Foundation
import Hummingbird
import Logging
import PostgresNIO
import Testing
import Yams

@Suite("docs/openapi.yaml and the router agree")
struct OpenAPITests {
    static let spec = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/openapi.yaml")

    /// `METHOD /path` for every operation under `paths:`, read with a YAML parser (so the file
    /// must be YAML that tools can read).
    static func documentedOperations() throws -> Set<String> {
        let text = try String(contentsOf: spec, encoding: .utf8)
        guard let document = try Yams.load(yaml: text) as? [String: Any],
              let paths = document["paths"] as? [String: Any] else {
            throw OpenAPIError("docs/openapi.yaml has no paths mapping")
        }
        let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options"]
        var operations: Set<String> = []
        for (path, item) in paths {
            guard let item = item as? [String: Any] else { throw OpenAPIError("\(path) is not a mapping") }
            for key in item.keys where methods.contains(key) { operations.insert("\(key.uppercased()) \(path)") }
        }
        return operations
    }

    @Test("docs/openapi.yaml is a valid OpenAPI 3.1 document (openapi-spec-validator)")
    func validOpenAPI() async throws {
        let result = try await Shell.run("/usr/bin/env", ["python3", "-m", "openapi_spec_validator", Self.spec.path])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains(": OK"), "\(result.stdout)")
    }

    @Test("every route is documented and every documented operation is routed")
    func inSync() throws {
        // The router is only built, never run: a pool that is never started is enough.
        let address = ServerAddress(host: "127.0.0.1", port: 1, user: "nobody", password: nil, database: "none", sslMode: .disable)
        let database = try Database.unstarted(address, logger: Logger(label: "openapi"), maximumConnections: 1)
        let router = try buildRouter(config: .test, database: database, metrics: ServiceMetrics())
        let routed = Set(router.routes.map { "\($0.method.rawValue) \($0.path.description)" })
        let documented = try Self.documentedOperations()
        #expect(routed.count >= 10)
        #expect(routed.subtracting(documented).isEmpty, "routed but not in openapi.yaml: \(routed.subtracting(documented).sorted())")
        #expect(documented.subtracting(routed).isEmpty, "in openapi.yaml but not routed: \(documented.subtracting(routed).sorted())")
    }
}

struct OpenAPIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

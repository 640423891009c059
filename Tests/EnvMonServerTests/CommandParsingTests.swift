import ArgumentParser
@testable import envmon
import EnvMonDomain
@testable import EnvMonServer
import EnvMonStore
import Foundation
import Testing

@Suite("envmon serve and envmon token parsing")
struct CommandParsingTests {
    @Test("flags win over environment, environment over defaults")
    func serveConfiguration() throws {
        let serve = try Serve.parse(["--port", "9090", "--workers", "4"])
        let config = try serve.serverConfiguration(environment: [
            "ENVMON_PORT": "7070", "ENVMON_HOST": "0.0.0.0", "ENVMON_MAX_UPLOAD_BYTES": "1048576", "ENVMON_INBOX": "/srv/inbox",
        ])
        #expect(config.port == 9090)
        #expect(config.workers == 4)
        #expect(config.host == "0.0.0.0")
        #expect(config.maxUploadBytes == 1_048_576)
        #expect(config.inbox?.path == "/srv/inbox")
        let defaults = try Serve.parse([]).serverConfiguration(environment: [:])
        #expect(defaults.port == 8080 && defaults.host == "127.0.0.1" && defaults.workers == 2 && defaults.inbox == nil)
        #expect(defaults.maxUploadBytes == 256 << 20)
    }

    @Test("bad serve settings are usage errors", arguments: [
        (["--port", "70000"], [String: String]()),
        (["--workers", "-1"], [:]),
        ([], ["ENVMON_PORT": "eighty"]),
        (["--workers", "0", "--inbox", "/tmp/in"], [:]),
    ])
    func badServeSettings(_ arguments: [String], _ environment: [String: String]) throws {
        #expect(throws: (any Error).self) {
            try Serve.parse(arguments).serverConfiguration(environment: environment)
        }
    }

    @Test("token create needs a name and one of the three scopes")
    func tokenCreate() throws {
        let create = try Token.Create.parse(["--name", "district-3", "--scope", "upload"])
        #expect(create.name == "district-3" && create.scope == .upload)
        #expect(throws: (any Error).self) { try Token.Create.parse(["--name", "x", "--scope", "root"]) }
        #expect(throws: (any Error).self) { try Token.Create.parse(["--scope", "read"]) }
        #expect(try Token.Revoke.parse(["7"]).token == "7")
    }
}

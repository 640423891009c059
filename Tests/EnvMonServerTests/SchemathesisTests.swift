import EmbeddedPostgres
import EnvMonDomain
@testable import EnvMonServer
import EnvMonStore
import EnvMonTestSupport
import Foundation
import ServiceLifecycle
import Testing

/// schemathesis (PyPI) against a live server, driven by docs/openapi.yaml: every documented
/// operation gets the schema's examples, boundary cases, fuzzed inputs and stateful sequences,
/// with a token of each scope. No response may be a 5xx, and every response must match the
/// document. A fixed seed makes the cases the same from run to run (how many run depends on the time
/// budget, about 30 s per scope); schemathesis runs at a lower priority (nice), so that the
/// rest of the suite, running alongside, is not starved on a 2-core machine.
@Suite("schemathesis against a live server", .timeLimit(.minutes(10)), .temporaryDatabases)
struct SchemathesisTests {
    static let spec = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/openapi.yaml")

    @Test("no server error and no response outside the schema, for read, upload and admin tokens")
    func fuzz() async throws {
        let testDB = try await TestDatabase.make()
        var config = ServerConfiguration.test
        config.workers = 1
        let tokens = try await testDB.withDatabase { try await Tokens.make($0) }
        _ = try await ServiceGroupTests.withLiveServer(testDB, config: config) { base in
            for (scope, token) in [("read", tokens.read), ("upload", tokens.upload), ("admin", tokens.admin)] {
                let junit = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-st-\(UUID().uuidString).xml")
                defer { try? FileManager.default.removeItem(at: junit) }
                let result = try await Task.detached {
                    try await Shell.run("/usr/bin/env", [
                        "nice", "-n", "10", "python3", "-c",
                        "import sys; from schemathesis.cli import schemathesis; sys.argv[0] = 'schemathesis'; sys.exit(schemathesis())",
                        "run", Self.spec.path, "--url", base, "--header", "Authorization: Bearer \(token)",
                        "--checks", "not_a_server_error,response_schema_conformance",
                        "--max-time", "30", "--workers", "1", "--seed", "20261202", "--no-color",
                        "--report", "junit", "--report-junit-path", junit.path,
                    ])
                }.value
                // The checks' failures are <failure> elements. A run that stops for another
                // reason (a network hiccup on a loaded machine is an <error>) is not a verdict
                // on the API, but a run without its report is.
                let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
                let from = lines.firstIndex { $0.contains("FAILURES") || $0.contains("ERRORS") } ?? max(lines.count - 40, 0)
                let summary = lines[from...].prefix(80).joined(separator: "\n")
                guard let report = try? String(contentsOf: junit, encoding: .utf8) else {
                    Issue.record("schemathesis with the \(scope) token wrote no report (status \(result.status)):\n\(summary)\n\(result.stderr)")
                    continue
                }
                #expect(!report.contains("<failure"), "schemathesis with the \(scope) token:\n\(summary)")
                #expect(report.contains("<testcase"), "schemathesis with the \(scope) token ran nothing:\n\(summary)")
            }
        }
    }
}

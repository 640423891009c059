import EnvMonDomain
import EnvMonStore
import EnvMonTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// Requests a careless or hostile client sends: each a clear client error, nothing stored,
/// never a 5xx.
@Suite("Hostile requests get client errors", .timeLimit(.minutes(2)), .temporaryDatabases)
struct HostileRequestTests {
    @Test("a NUL in the file name is 422 naming the file name; nothing is archived")
    func nulInFileName() async throws {
        try await Harness.withApp(workers: 0) { client, db, tokens in
            let response = try await client.execute(
                uri: "/v1/uploads?kind=sewage&file_name=a%00b.csv", method: .post,
                headers: Harness.bearer(tokens.upload, [.contentType: "text/csv"]),
                body: ByteBuffer(string: "plant_id,period,sewage_discharged_m3,sewage_treated_m3\nP1,2026-03,100,99\n"))
            #expect(response.status == .unprocessableContent)
            let body = try Harness.json(response.body)
            #expect((body["detail"] as? String)?.contains("file name contains a NUL") == true, "\(body)")
            let testDB = TestDatabase(address: db.address, name: db.address.database)
            #expect(try await testDB.value("SELECT count(*) FROM envmon.upload") == "0")
        }
    }

    @Test("a NUL in an acknowledgement note is 422; the alert stays unacknowledged")
    func nulInNote() async throws {
        try await Harness.withApp(workers: 0) { client, db, tokens in
            let testDB = TestDatabase(address: db.address, name: db.address.database)
            try await testDB.execute(BureauAPITests.firingAlert)
            let id = try #require(try await testDB.value("SELECT id FROM envmon.alert"))
            let response = try await client.execute(
                uri: "/v1/alerts/\(id)/ack", method: .post,
                headers: Harness.bearer(tokens.upload, [.contentType: "application/json"]),
                body: ByteBuffer(string: #"{"note": "a\u0000b"}"#))
            #expect(response.status == .unprocessableContent)
            #expect(try await testDB.value("SELECT acked_by FROM envmon.alert WHERE id = \(id)") == nil)
        }
    }
}

import EnvMonDomain
@testable import EnvMonServer
import EnvMonStore
import EnvMonTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Requests a careless or hostile client sends: each a clear client error, nothing stored,
/// never a 5xx.
@Suite("Hostile requests get client errors", .timeLimit(.minutes(10)), .temporaryDatabases)
struct HostileRequestTests {
    @Test("a NUL in a multipart file name is 422 naming the file name; in the query it is 400; nothing is archived")
    func nulInFileName() async throws {
        try await Harness.withApp(workers: 0) { client, db, tokens in
            let csv = "plant_id,period,sewage_discharged_m3,sewage_treated_m3\nP1,2026-03,100,99\n"
            let (body, headers) = Harness.multipart(csv, fileName: "a\u{0}b.csv")
            let response = try await client.execute(
                uri: "/v1/uploads?kind=sewage", method: .post, headers: Harness.bearer(tokens.upload, headers), body: body)
            #expect(response.status == .unprocessableContent)
            let detail = try Harness.json(response.body)["detail"] as? String
            #expect(detail?.contains("file name contains a NUL") == true, "\(detail ?? "")")
            let query = try await client.execute(
                uri: "/v1/uploads?kind=sewage&file_name=a%00b.csv", method: .post,
                headers: Harness.bearer(tokens.upload, [.contentType: "text/csv"]), body: ByteBuffer(string: csv))
            #expect(query.status == .badRequest)
            let testDB = TestDatabase(address: db.address, name: db.address.database)
            #expect(try await testDB.value("SELECT count(*) FROM envmon.upload") == "0")
        }
    }

    @Test("a NUL in a query parameter is 400, on every route (schemathesis found a 500 on /v1/metrics)")
    func nulInQuery() async throws {
        try await Harness.withApp(workers: 0) { client, _, tokens in
            for uri in ["/v1/metrics?metric=%07%00M%C2%BA", "/v1/uploads?kind=%00", "/v1/alerts?state=fir%00ing"] {
                let response = try await client.execute(uri: uri, method: .get, headers: Harness.bearer(tokens.read))
                #expect(response.status == .badRequest, "\(uri): \(response.status)")
            }
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

    @Test("the rejections CSV defuses cells that a spreadsheet would run as formulas")
    func formulaInjection() async throws {
        try await Harness.withApp(workers: 1) { client, _, tokens in
            let csv = """
                plant_id,period,sewage_discharged_m3,sewage_treated_m3
                P1,2026-03,1000,990
                P2,2026-03,"=HYPERLINK(""http://evil.example/"",""click"")",990
                P3,2026-03,@SUM(1),990
                P4,2026-03,-5,990
                """
            let accepted = try await Harness.post(client, csv: csv, token: tokens.upload, kind: "sewage")
            let id = Int64(try #require(accepted["id"] as? Int))
            let upload = try await Harness.waitForOutcome(client, id: id, token: tokens.read)
            #expect(upload["rows_rejected"] as? Int == 3, "\(upload)")
            let response = try await client.execute(uri: "/v1/uploads/\(id)/rejections?format=csv", method: .get,
                                                    headers: Harness.bearer(tokens.read))
            let text = String(buffer: response.body)
            #expect(text.contains("\"'=HYPERLINK(\"\"http://evil.example/\"\",\"\"click\"\")\""), "\(text)")
            #expect(text.contains(",'@SUM(1),"), "\(text)")
            #expect(text.contains(",-5,"), "\(text)")  // a negative number stays a number
            for line in text.split(separator: "\r\n").dropFirst() {
                let cells = line.split(separator: ",", omittingEmptySubsequences: false)
                #expect(!cells.contains { $0.hasPrefix("=") || $0.hasPrefix("@") || $0.hasPrefix("\"=") }, "\(line)")
            }
        }
    }

    @Test("a request body is written to a file only its owner can read")
    func temporaryFileIsPrivate() async throws {
        let directory = FileManager.default.temporaryDirectory
        let receiver = UploadReceiver(directory: directory, limit: 1 << 20)
        let received = try await receiver.receive(RequestBody(buffer: ByteBuffer(string: "a,b\n1,2\n")),
                                                  mediaType: "text/csv", boundary: nil)
        defer { try? FileManager.default.removeItem(at: received.url) }
        let attributes = try FileManager.default.attributesOfItem(atPath: received.url.path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    }
}

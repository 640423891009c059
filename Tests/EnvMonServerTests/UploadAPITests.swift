import EnvMonDomain
import EnvMonTestSupport
@testable import EnvMonServer
import EnvMonStore
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@Suite("Uploads over HTTP", .timeLimit(.minutes(10)), .temporaryDatabases)
struct UploadAPITests {
    @Test("a raw CSV body is accepted with 202, then a worker loads it")
    func rawUploadIsLoaded() async throws {
        try await Harness.withApp { client, _, tokens in
            let accepted = try await Harness.post(client, csv: Feed.emissions(rows: 3), token: tokens.upload)
            #expect(accepted["status"] as? String == "queued")
            #expect((accepted["sha256"] as? String)?.count == 64)
            #expect(accepted["duplicate_of"] is NSNull)
            let id = Int64(try #require(accepted["id"] as? Int))
            let upload = try await Harness.waitForOutcome(client, id: id, token: tokens.read)
            #expect(upload["status"] as? String == "loaded")
            #expect(upload["rows_loaded"] as? Int == 3)
            #expect(upload["uploader"] as? String == "alice")
            #expect(upload["source"] as? String == "http")
        }
    }

    @Test("the same bytes again are a duplicate pointing at the first upload")
    func duplicate() async throws {
        try await Harness.withApp { client, _, tokens in
            let csv = Feed.emissions(rows: 2, seed: 7)
            let first = try await Harness.post(client, csv: csv, token: tokens.upload)
            let second = try await Harness.post(client, csv: csv, token: tokens.admin)
            #expect(second["status"] as? String == "duplicate")
            #expect(second["duplicate_of"] as? Int == first["id"] as? Int)
            #expect(second["sha256"] as? String == first["sha256"] as? String)
        }
    }

    @Test("multipart/form-data: the part named file is stored with its file name")
    func multipartUpload() async throws {
        try await Harness.withApp { client, _, tokens in
            let (body, headers) = Harness.multipart(Feed.emissions(rows: 2, seed: 3), fileName: "三月排放.csv")
            let response = try await client.execute(
                uri: "/v1/uploads?kind=emissions", method: .post, headers: Harness.bearer(tokens.upload, headers), body: body)
            #expect(response.status == .accepted)
            let id = try #require(try Harness.json(response.body)["id"] as? Int)
            let upload = try await Harness.waitForOutcome(client, id: Int64(id), token: tokens.read)
            #expect(upload["status"] as? String == "loaded")
            #expect(upload["rows_loaded"] as? Int == 2)
            #expect(upload["file_name"] as? String == "三月排放.csv")
            #expect(upload["format"] as? String == "csv")
        }
    }

    @Test("multipart without a file part is 422")
    func multipartWithoutFile() async throws {
        try await Harness.withApp(workers: 0) { client, _, tokens in
            let body = ByteBuffer(string: "--b\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--b--\r\n")
            let response = try await client.execute(
                uri: "/v1/uploads?kind=emissions", method: .post,
                headers: Harness.bearer(tokens.upload, [.contentType: "multipart/form-data; boundary=b"]), body: body)
            #expect(response.status == .unprocessableContent)
            #expect(try Harness.json(response.body)["error"] as? String == "no_file_part")
        }
    }

    @Test("rejections: a JSON page with the total, and a CSV download with a UTF-8 BOM")
    func rejections() async throws {
        try await Harness.withApp { client, _, tokens in
            let csv = Feed.emissions(rows: 3, seed: 11) + "E1,DA001,SO2,2026-03-01 05:00,不是数字,35\n"
            let accepted = try await Harness.post(client, csv: csv, token: tokens.upload)
            let id = try #require(accepted["id"] as? Int)
            let upload = try await Harness.waitForOutcome(client, id: Int64(id), token: tokens.read)
            #expect(upload["rows_rejected"] as? Int == 1)

            let page = try await client.execute(uri: "/v1/uploads/\(id)/rejections?limit=10", method: .get,
                                                headers: Harness.bearer(tokens.read))
            let object = try Harness.json(page.body)
            #expect(object["total"] as? Int == 1)
            let rows = try #require(object["rejections"] as? [[String: Any]])
            #expect(rows.first?["line"] as? Int == 5)
            #expect(rows.first?["value"] as? String == "不是数字")

            let sheet = try await client.execute(uri: "/v1/uploads/\(id)/rejections?format=csv", method: .get,
                                                 headers: Harness.bearer(tokens.read))
            #expect(sheet.headers[.contentType]?.hasPrefix("text/csv") == true)
            let bytes = Array(sheet.body.readableBytesView)
            #expect(Array(bytes.prefix(3)) == [0xEF, 0xBB, 0xBF])
            let text = String(decoding: bytes.dropFirst(3), as: UTF8.self)
            #expect(text.hasPrefix("line,column,value,reason\r\n5,"))
            #expect(text.contains("不是数字"))
        }
    }

    @Test("an unknown upload is 404 as JSON")
    func unknownUpload() async throws {
        try await Harness.withApp(workers: 0) { client, _, tokens in
            let response = try await client.execute(uri: "/v1/uploads/999999", method: .get, headers: Harness.bearer(tokens.read))
            #expect(response.status == .notFound)
            #expect(try Harness.json(response.body)["error"] as? String == "not_found")
            let route = try await client.execute(uri: "/v1/nothing-here", method: .get, headers: Harness.bearer(tokens.read))
            #expect(route.status == .notFound)
            #expect(try Harness.json(route.body)["error"] as? String != nil)
        }
    }

    @Test("over a real socket: raw and multipart uploads both load", .timeLimit(.minutes(10)))
    func liveUploads() async throws {
        try await Harness.withApp(.live) { client, _, tokens in
            #expect(client.port != nil && client.port != 0)
            let raw = try await Harness.post(client, csv: Feed.emissions(enterprise: "E9", rows: 2), token: tokens.upload)
            let (body, headers) = Harness.multipart(Feed.emissions(enterprise: "E8", rows: 4), fileName: "e8.csv")
            let multipart = try Harness.json(try await client.execute(
                uri: "/v1/uploads?kind=emissions", method: .post, headers: Harness.bearer(tokens.upload, headers), body: body).body)
            for (answer, rows) in [(raw, 2), (multipart, 4)] {
                let id = try #require(answer["id"] as? Int)
                let upload = try await Harness.waitForOutcome(client, id: Int64(id), token: tokens.read)
                #expect(upload["status"] as? String == "loaded")
                #expect(upload["rows_loaded"] as? Int == rows)
            }
        }
    }
}

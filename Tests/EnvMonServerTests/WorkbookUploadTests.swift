import EmbeddedPostgres
import EnvMonDomain
@testable import EnvMonServer
import EnvMonStore
import EnvMonTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// `.xlsx` uploads through the real paths: HTTP (raw body and multipart) with the queue and a
/// worker, and the `envmon ingest` command. The workbook (`BureauWorkbooks.emissions`): an
/// instructions sheet, then 小时数据 with a merged title, a blank row, Chinese headers, 24 hourly
/// readings, one value that is not a number (F28) and a total row.
@Suite("Excel workbook uploads", .timeLimit(.minutes(10)), .temporaryDatabases)
struct WorkbookUploadTests {
    static let mediaType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    static func workbook() throws -> Data {
        try BureauWorkbooks.emissions()
    }

    /// The same readings under another title: other bytes, so not a duplicate.
    static func revisedWorkbook() throws -> Data {
        try BureauWorkbooks.emissions(title: "城东热电有限公司 2026年3月 废气小时监测数据（修订）")
    }

    static func post(_ client: any TestClientProtocol, _ bytes: Data, query: String, token: String,
                     type: String = mediaType) async throws -> (HTTPResponse.Status, [String: Any]) {
        let encoded = query.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? query
        let response = try await client.execute(uri: "/v1/uploads?kind=emissions\(encoded)", method: .post,
                                                headers: Harness.bearer(token, [.contentType: type]),
                                                body: ByteBuffer(bytes: bytes))
        return (response.status, try Harness.json(response.body))
    }

    @Test("over HTTP: loaded by a worker, the rejected value named by sheet and cell, the same bytes a duplicate")
    func httpUpload() async throws {
        try await Harness.withApp(.live) { client, _, tokens in
            let bytes = try Self.workbook()
            let (status, accepted) = try await Self.post(client, bytes, query: "", token: tokens.upload)
            #expect(status == .accepted, "\(accepted)")
            let id = try #require(accepted["id"] as? Int)
            let upload = try await Harness.waitForOutcome(client, id: Int64(id), token: tokens.read)
            #expect(upload["status"] as? String == "loaded", "\(upload)")
            #expect(upload["format"] as? String == "xlsx")
            #expect(upload["rows_loaded"] as? Int == 24)
            #expect(upload["rows_rejected"] as? Int == 1)
            #expect(upload["rows_skipped"] as? Int == 1)

            let page = try await client.execute(uri: "/v1/uploads/\(id)/rejections", method: .get, headers: Harness.bearer(tokens.read))
            let rows = try #require(try Harness.json(page.body)["rejections"] as? [[String: Any]])
            #expect(rows.count == 1)
            #expect(rows.first?["line"] as? Int == 28)
            #expect(rows.first?["column"] as? String == "监测值")
            #expect(rows.first?["value"] as? String == "仪器故障")
            #expect((rows.first?["reason"] as? String)?.hasSuffix("(小时数据!F28)") == true, "\(rows)")

            let (_, again) = try await Self.post(client, bytes, query: "&sheet=小时数据", token: tokens.upload)
            #expect(again["status"] as? String == "duplicate")
            #expect(again["duplicate_of"] as? Int == id)
        }
    }

    @Test("multipart with a .xlsx file part; a named sheet that is not there fails the upload, listing the sheets")
    func multipartAndSheet() async throws {
        try await Harness.withApp(.live) { client, _, tokens in
            let boundary = "envmon-workbook-boundary"
            var body = Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"三月小时数据.xlsx\"\r\nContent-Type: \(Self.mediaType)\r\n\r\n".utf8)
            body += try Self.workbook()
            body += Data("\r\n--\(boundary)--\r\n".utf8)
            let (status, accepted) = try await Self.post(client, body, query: "&sheet=2", token: tokens.upload,
                                                         type: "multipart/form-data; boundary=\(boundary)")
            #expect(status == .accepted, "\(accepted)")
            let id = try #require(accepted["id"] as? Int)
            let upload = try await Harness.waitForOutcome(client, id: Int64(id), token: tokens.read)
            #expect(upload["status"] as? String == "loaded", "\(upload)")
            #expect(upload["file_name"] as? String == "三月小时数据.xlsx")
            #expect(upload["rows_loaded"] as? Int == 24)

            let other = try Self.revisedWorkbook()
            let (_, wrong) = try await Self.post(client, other, query: "&sheet=日数据", token: tokens.upload)
            let wrongID = try #require(wrong["id"] as? Int)
            let failed = try await Harness.waitForOutcome(client, id: Int64(wrongID), token: tokens.read)
            #expect(failed["status"] as? String == "failed")
            #expect(failed["error"] as? String == "the workbook has no sheet '日数据'; its sheets are 填报说明, 小时数据", "\(failed)")
            #expect(failed["rows_loaded"] as? Int ?? 0 == 0)
        }
    }

    @Test("a legacy .xls fails with advice to save it as .xlsx; nothing is loaded")
    func legacyWorkbook() async throws {
        try await Harness.withApp(.live) { client, _, tokens in
            let ole2 = Data([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1] + Array(repeating: 0, count: 504))
            let (_, accepted) = try await Self.post(client, ole2, query: "", token: tokens.upload, type: "application/vnd.ms-excel")
            let id = try #require(accepted["id"] as? Int)
            let upload = try await Harness.waitForOutcome(client, id: Int64(id), token: tokens.read)
            #expect(upload["status"] as? String == "failed")
            #expect((upload["error"] as? String)?.contains("save it as .xlsx") == true, "\(upload)")
        }
    }

    @Test("envmon ingest reads a workbook file; --sheet picks one; a missing sheet is a failed upload")
    func command() async throws {
        let db = try await TestDatabase.make()
        let url = CLIProcessTests.url(db.address)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-xlsx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("三月小时数据.xlsx")
        try Self.workbook().write(to: file)
        let envmon = try CLIProcessTests.executable()

        let loaded = try await Shell.run(envmon, ["ingest", "--kind", "emissions", file.path, "--json", "--database-url", url])
        #expect(loaded.status == 0, "\(loaded.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(loaded.stdout.utf8)) as? [String: Any])
        let upload = try #require((report["uploads"] as? [[String: Any]])?.first)
        #expect(upload["status"] as? String == "loaded")
        #expect(upload["rows_loaded"] as? Int == 24)
        #expect(upload["rows_rejected"] as? Int == 1)
        #expect(try await db.value("SELECT reason FROM envmon.upload_rejection") == "not a number (小时数据!F28)")

        let copy = directory.appendingPathComponent("revised.xlsx")
        try Self.revisedWorkbook().write(to: copy)
        let missing = try await Shell.run(envmon, ["ingest", "--kind", "emissions", "--sheet", "9", copy.path, "--database-url", url])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("the workbook has no sheet '9'; its sheets are 填报说明, 小时数据"), "\(missing.stderr)")
        #expect(try await db.value("SELECT count(*) FROM envmon.emission_reading") == "24")
    }
}

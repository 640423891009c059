import EnvMonDomain
import EnvMonIngest
import Foundation
import Testing

@Suite("Reading whole uploads", .timeLimit(.minutes(10)))
struct FeedIngestorTests {
    private let header = ReadFixtures.header

    @Test("title rows above the header and blank rows are ignored")
    func titleAndBlankRows() throws {
        let text = """
            2024年1月 生活垃圾清运情况,,,
            单位：吨,,,
            ,,,
            \(header)
            东区,2024-01,100,90
            ,,,

            西区,2024-01,80,80
            """
        let result = try ReadFixtures.ingest(ReadFixtures.bytes(text), chunkSize: 4096)
        #expect(result.output.records.map(\.line) == [5, 8])
        #expect(result.counts == IngestCounts(rowsTotal: 2, rowsRejected: 0, rowsSkipped: 0))
    }

    @Test("a total row is skipped and counted")
    func totalRow() throws {
        let text = "\(header)\n东区,2024-01,100,90\n合计,2024-01,100,90\n"
        let result = try ReadFixtures.ingest(ReadFixtures.bytes(text), chunkSize: 4096)
        #expect(result.output.records.map(\.line) == [2])
        #expect(result.counts == IngestCounts(rowsTotal: 2, rowsRejected: 0, rowsSkipped: 1))
    }

    @Test("a bad row is rejected with its line; the good rows load")
    func rejectedRow() throws {
        let text = "\(header)\n\"东\n区\",2024-01,100,90\n西区,2024-01,lots,90\n北区,2024-01,5,5\n"
        let result = try ReadFixtures.ingest(ReadFixtures.bytes(text), chunkSize: 4096)
        #expect(result.output.records.map(\.line) == [2, 5])
        #expect(result.output.rejections.map(\.line) == [4])
        #expect(result.counts == IngestCounts(rowsTotal: 3, rowsRejected: 1, rowsSkipped: 0))
    }

    @Test("no header within the first 10 rows names the missing column")
    func missingColumn() {
        let text = "district,period,collected_t\n" + String(repeating: "东区,2024-01,100\n", count: 12)
        let error = ReadFixtures.failure(ReadFixtures.bytes(text))
        #expect(error?.reason == "missing required column harmless_t")
        #expect(error?.line == 1)
    }

    @Test("a short file without the header names the missing column")
    func missingColumnShortFile() {
        let error = ReadFixtures.failure(ReadFixtures.bytes("district,period\nA,2024-01\n"))
        #expect(error?.reason == "missing required columns collected_t, harmless_t")
    }

    @Test("an empty file fails as empty", arguments: ["", "\n\n", ",,,\n  \n", "\u{FEFF}", " []\n", #"{"records": []}"#])
    func emptyFile(text: String) {
        #expect(ReadFixtures.failure(ReadFixtures.bytes(text)) == .emptyFile)
    }

    @Test("a header-only file loads nothing without error")
    func headerOnly() throws {
        let result = try ReadFixtures.ingest(ReadFixtures.bytes(header + "\r\n"), chunkSize: 4096)
        #expect(result.output.records.isEmpty)
        #expect(result.counts == IngestCounts())
    }

    @Test("a truncated quote fails the upload with the line it opened on")
    func truncatedQuote() {
        let error = ReadFixtures.failure(ReadFixtures.bytes("\(header)\n东区,2024-01,100,90\n\"西区,2024-01,1,1\n"))
        #expect(error?.line == 3)
    }

    @Test("a header that can never work fails the upload", arguments: [
        "district,district,period,collected_t,harmless_t\nA,A,2024-01,1,1\n",
        "district,period,collected_t(桶),harmless_t\nA,2024-01,1,1\n",
    ])
    func unusableHeader(text: String) {
        #expect(ReadFixtures.failure(ReadFixtures.bytes(text)) != nil)
    }

    @Test("NUL bytes and a 1 MB cell are read as data, not a crash")
    func oddCells() throws {
        let big = String(repeating: "x", count: 1 << 20)
        let text = "\(header)\nA\u{0}B,2024-01,1,1\n\"\(big)\",2024-01,1,1\nC,2024-01,1,1\n"
        let result = try ReadFixtures.ingest(ReadFixtures.bytes(text), chunkSize: 65_536)
        #expect(result.counts.rowsTotal == 3)
        #expect(result.output.records.last?.line == 4)
    }

    static let csvText = "报表\n\(ReadFixtures.header.replacingOccurrences(of: ",", with: ";"))\n"
        + "\"东;区\";2024-01;100;90\r\n\r\n\"西\r\n区\";2024-01;80;80\r南区;2024-01;1;1"

    @Test("one byte at a time gives the same result as the whole", arguments: [1, 2, 3, 5, 8, 4096])
    func chunking(chunkSize: Int) throws {
        let whole = try ReadFixtures.ingest(ReadFixtures.bytes(Self.csvText), chunkSize: 1 << 20)
        let chunked = try ReadFixtures.ingest(ReadFixtures.bytes(Self.csvText), chunkSize: chunkSize)
        #expect(whole.output.records.map(\.line) == [3, 5, 7])
        #expect(chunked.output.records == whole.output.records)
        #expect(chunked.counts == whole.counts)
    }

    static let jsonArray = """
        [{"district": "东区", "period": "2024-01", "collected_t": 100, "harmless_t": 90},
         {"period": "2024-01", "collected_t": 80, "harmless_t": 80, "district": "西区"}]
        """
    static let jsonRecords = #"{"source": "bureau", "records": "# + jsonArray + "}"
    static let ndjson = """
        {"district": "东区", "period": "2024-01", "collected_t": 100, "harmless_t": 90}

        {"period": "2024-01", "collected_t": 80, "harmless_t": 80, "district": "西区"}
        """

    @Test("the format is detected by content", arguments: [
        (jsonArray, FeedFormat.json, [1, 2], ["东区", "西区"]),
        (jsonRecords, .json, [1, 2], ["东区", "西区"]),
        (ndjson, .ndjson, [1, 3], ["东区", "西区"]),
        ("\n  " + ReadFixtures.header + "\n东区,2024-01,1,1\n", .csv, [3], ["东区"]),
    ] as [(String, FeedFormat, [Int], [String])])
    func autoDetection(text: String, format: FeedFormat, lines: [Int], districts: [String]) throws {
        for chunkSize in [1, 7, 1 << 20] {
            let result = try ReadFixtures.ingest(ReadFixtures.bytes(text), chunkSize: chunkSize)
            #expect(result.format == format)
            #expect(result.output.records.map(\.line) == lines)
            #expect(result.output.records.map { $0.fields[1] } == districts)
        }
    }

    @Test("a single-line NDJSON record is NDJSON; a declared format is used as declared")
    func singleLine() throws {
        let line = #"{"district": "东区", "period": "2024-01", "collected_t": 1, "harmless_t": 1}"#
        let detected = try ReadFixtures.ingest(ReadFixtures.bytes(line), chunkSize: 4096)
        #expect(detected.format == .ndjson)
        #expect(detected.output.records.count == 1)
        let declared = try ReadFixtures.ingest(ReadFixtures.bytes("[" + line + "]"), chunkSize: 4096, format: .json)
        #expect(declared.format == .json)
        #expect(declared.output.records.count == 1)
    }

    @Test("JSON whose first record lacks a required key fails naming it")
    func jsonMissingKey() {
        let error = ReadFixtures.failure(ReadFixtures.bytes(#"[{"district": "东区", "period": "2024-01", "collected_t": 1}]"#))
        #expect(error?.reason.contains("harmless_t") == true)
    }

    @Test("JSON: a later record lacking a key is rejected, not the upload")
    func jsonLaterMissingKey() throws {
        let text = """
            [{"district": "A", "period": "2024-01", "collected_t": 1, "harmless_t": 1},
             {"district": "B", "period": "2024-01", "collected_t": 1},
             {"district": "C", "period": "2024-01", "collected_t": 2},
             {"district": "D", "period": "2024-01", "collected_t": 1, "harmless_t": 1}]
            """
        let result = try ReadFixtures.ingest(ReadFixtures.bytes(text), chunkSize: 4096)
        #expect(result.output.records.map(\.line) == [1, 4])
        #expect(Set(result.output.rejections.map(\.line)) == [2, 3])
        #expect(result.counts == IngestCounts(rowsTotal: 4, rowsRejected: 2, rowsSkipped: 0))
    }

    @Test("malformed JSON fails with the record index")
    func malformedJSON() {
        let text = #"[{"district": "A", "period": "2024-01", "collected_t": 1, "harmless_t": 1}, {"district": }]"#
        #expect(ReadFixtures.failure(ReadFixtures.bytes(text))?.reason.hasPrefix("record 2 ") == true)
    }

    @Test("hostile bytes never crash: random input ends in output or a FeedError", arguments: 0..<20)
    func hostile(seed: Int) {
        var generator = SeededGenerator(seed: UInt64(seed))
        let alphabet: [UInt8] = Array("\",;\t\r\n{}[]:\\ ab0".utf8) + [0x00, 0xFF, 0xE4, 0xB8]
        let bytes = (0..<2000).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
        for encoding in [FeedEncoding.gb18030, .utf16le] {
            for format in FeedFormat.allCases {
                _ = try? ReadFixtures.ingest(bytes, chunkSize: 1 + seed, encoding: encoding, format: format)
            }
        }
    }
}

/// A small seeded generator, so a failing hostile input can be reproduced.
private struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

import EnvMonIngest
import Testing

@Suite("JSON and NDJSON readers", .timeLimit(.minutes(10)))
struct JSONReaderTests {
    private func records(_ text: String, chunkSize: Int = 4096) throws(FeedError) -> [JSONRecord] {
        let bytes = ReadFixtures.bytes(text)
        var reader = JSONRecordReader()
        var result: [JSONRecord] = []
        var start = 0
        while start < bytes.count {
            result += try reader.consume(bytes[start..<min(start + chunkSize, bytes.count)])
            start += chunkSize
        }
        return result + (try reader.finish())
    }

    private func ndjson(_ text: String) throws(FeedError) -> [JSONRecord] {
        var reader = NDJSONReader()
        return try reader.consume(ReadFixtures.bytes(text)) + reader.finish()
    }

    static let arrayText = """
        [
          {"district": "东区", "collected_t": 12.50, "ok": true, "note": null,
           "nested": {"a": [1, "]"]}, "esc": "a\\"b\\u00e9\\ud83d\\ude00"},
          {"district": "西区"}
        ]
        """

    @Test("an array of objects, values as the file wrote them", arguments: [1, 3, 4096])
    func array(chunkSize: Int) throws {
        let result = try records(Self.arrayText, chunkSize: chunkSize)
        #expect(result.count == 2)
        #expect(result[0].index == 1)
        #expect(result[0].keys == ["district", "collected_t", "ok", "note", "nested", "esc"])
        #expect(result[0].values == ["东区", "12.50", "true", nil, "{\"a\": [1, \"]\"]}", "a\"bé😀"])
        #expect(result[1] == JSONRecord(index: 2, keys: ["district"], values: ["西区"]))
    }

    @Test("an object with a records array; other members are skipped")
    func recordsObject() throws {
        let text = #"{"source": {"x": [1,2]}, "count": 2, "records": [{"a": "1"}, {"a": "2"}], "end": "}"}"#
        #expect(try records(text).map(\.values) == [["1"], ["2"]])
    }

    @Test("malformed JSON fails naming the record", arguments: [
        (#"[{"a": 1}, {"a": 2,}]"#, "record 2"),
        (#"[{"a": 1}, {"a": tru}]"#, "record 2"),
        (#"[{"a": 1}, 5]"#, "record 2"),
        (#"[{"a": 1}, {"a": "#, "record 2"),
        (#"[{"a": 1} {"a": 2}]"#, "record 1"),
        (#"{"data": []}"#, "records"),
    ])
    func malformed(text: String, mention: String) {
        do {
            _ = try records(text)
            Issue.record("expected a FeedError")
        } catch {
            #expect(error.reason.contains(mention))
        }
    }

    @Test("NDJSON: one object per line, blank lines skipped, index is the line number")
    func ndjsonLines() throws {
        let result = try ndjson("{\"a\": \"1\"}\r\n\n  \n{\"a\": 2}\n")
        #expect(result.map(\.index) == [1, 4])
        #expect(result.map(\.values) == [["1"], ["2"]])
    }

    @Test("NDJSON: a broken line fails with its line number")
    func ndjsonBroken() {
        #expect(throws: FeedError.self) { try ndjson("{\"a\": 1}\n{\"a\": \n") }
        do {
            _ = try ndjson("{\"a\": 1}\n{\"a\": \n")
        } catch {
            #expect(error.line == 2)
        }
    }

    @Test("deep nesting does not overflow the stack")
    func deepNesting() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let result = try records("[{\"a\": \(deep)}]")
        #expect(result.first?.values.first??.count == 200_000)
    }
}

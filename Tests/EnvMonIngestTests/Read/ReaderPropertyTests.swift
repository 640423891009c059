import EnvMonDomain
@testable import EnvMonIngest
import Foundation
import PropertyBased
import Testing

/// The readers' properties over generated input — what the libFuzzer targets of Fuzz/ explore
/// for hours, checked here in seconds on every run (scripts/fuzz.sh is not part of CI).
@Suite("Readers: properties over generated input")
struct ReaderPropertyTests {
    /// Cells made of the characters that make CSV hard: delimiters, quotes, line breaks,
    /// spaces, Chinese text and emoji.
    static let alphabet: [Character] = ["a", "b", "1", ",", ";", "\"", "\n", "\r", " ", "水", "质", "断", "面", "😀", "\t"]
    static let cell = Gen.int(in: 0...(alphabet.count - 1)).array(of: 0...12)
        .map { indices in String(indices.map { alphabet[$0] }) }

    /// RFC 4180 as a spreadsheet writes it: every cell quoted, quotes doubled, CRLF rows.
    static func csv(_ rows: [[String]]) -> [UInt8] {
        Array(rows.map { row in
            row.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: ",")
        }.joined(separator: "\r\n").utf8) + Array("\r\n".utf8)
    }

    static func read(_ bytes: [UInt8], chunk: Int) throws -> [[String]] {
        var reader = CSVReader(delimiter: UInt8(ascii: ","))
        var rows: [CSVRow] = []
        var start = 0
        while start < bytes.count {
            let end = min(start + chunk, bytes.count)
            rows += try reader.consume(bytes[start..<end])
            start = end
        }
        rows += try reader.finish()
        return rows.map(\.cells)
    }

    @Test("quoted CSV reads back to the same cells in any chunking")
    func csvRoundTrip() async {
        await propertyCheck(count: 200, input: Self.cell.array(of: 1...5).array(of: 1...6), Gen.int(in: 1...64)) { rows, chunk in
            // A row of one empty cell is a blank line, which readers skip by design.
            let rows = rows.filter { $0 != [""] }
            guard !rows.isEmpty else { return }
            let bytes = Self.csv(rows)
            #expect((try? Self.read(bytes, chunk: chunk)) == rows)
        }
    }

    /// The whole upload pipeline over arbitrary bytes, once whole and once in small chunks.
    static func ingest(_ bytes: [UInt8], kind: FeedKind, format: FeedFormat, encoding: FeedEncoding, chunk: Int) -> String {
        var ingestor = FeedIngestor(options: IngestOptions(kind: kind, now: Date(timeIntervalSince1970: 1_767_225_600)),
                                    encoding: encoding, format: format)
        var records = 0
        var rejections: [String] = []
        do {
            var start = 0
            while start < bytes.count {
                let end = min(start + chunk, bytes.count)
                let part = try Array(bytes[start..<end]).withUnsafeBytes { buffer in
                    Result { () throws(FeedError) in try ingestor.consume(buffer) }
                }.get()
                records += part.records.count
                rejections += part.rejections.map { "\($0.line) \($0.column ?? "-") \($0.reason)" }
                start = end
            }
            let rest = try ingestor.finish()
            records += rest.records.count
            rejections += rest.rejections.map { "\($0.line) \($0.column ?? "-") \($0.reason)" }
            return "\(records) records; \(rejections.joined(separator: " | "))"
        } catch {
            // A refused file: the message names what is wrong, and is the same however it arrived.
            #expect(!error.description.isEmpty)
            return "refused: \(error.description)"
        }
    }

    /// Bytes near real feeds: a header of the kind, then rows of plausible and hostile pieces.
    static func feedBytes(kind: FeedKind, pieces: [Int], noise: [UInt8]) -> [UInt8] {
        let header = kind.columns.map(\.name).joined(separator: ",")
        let parts = ["P1", "2026-03", "2026-03-19 08:00", "12.5", "1e309", "-3", "", "\"", "\"a,b\"", "水质", "\u{0}",
                     "1,2", "\n", "\r\n", ",", "NaN", "99999999999", "0.000", "P2", "so2", "mg/m3"]
        var text = header + "\n"
        for piece in pieces { text += parts[piece % parts.count] + (piece % 3 == 0 ? "\n" : ",") }
        return Array(text.utf8) + noise
    }

    @Test("any bytes through FeedIngestor: no crash, and the same verdict in any chunking")
    func ingestorIsChunkingInvariant() async {
        let kinds = FeedKind.allCases
        let formats: [FeedFormat] = [.auto, .csv, .json, .ndjson]
        let encodings: [FeedEncoding] = [.utf8, .gb18030]
        await propertyCheck(
            count: 400,
            input: Gen.int(in: 0...(kinds.count * formats.count * encodings.count - 1)),
            Gen.int(in: 0...1000).array(of: 0...60),
            Gen.uint8().array(of: 0...40),
            Gen.int(in: 1...17)
        ) { selector, pieces, noise, chunk in
            let kind = kinds[selector % kinds.count]
            let format = formats[(selector / kinds.count) % formats.count]
            let encoding = encodings[selector / (kinds.count * formats.count)]
            let bytes = Self.feedBytes(kind: kind, pieces: pieces, noise: noise)
            let whole = Self.ingest(bytes, kind: kind, format: format, encoding: encoding, chunk: bytes.count + 1)
            let pieces = Self.ingest(bytes, kind: kind, format: format, encoding: encoding, chunk: chunk)
            #expect(whole == pieces, "\(kind) \(format) \(encoding) chunk \(chunk)")
        }
    }

    @Test("found by the property above: a bad byte after a format problem reports the format problem, whole or byte by byte")
    func firstProblemFirst() {
        let bytes = Array("enterprise_id,outlet_id\n".utf8) + [0x80]
        let whole = Self.ingest(bytes, kind: .emissions, format: .json, encoding: .utf8, chunk: bytes.count + 1)
        let bytewise = Self.ingest(bytes, kind: .emissions, format: .json, encoding: .utf8, chunk: 1)
        #expect(whole == bytewise)
        #expect(whole.contains("line 1: not JSON"), "\(whole)")
    }

    @Test("the encoding sniffer's verdict does not depend on how the bytes arrive")
    func snifferIsChunkingInvariant() async {
        await propertyCheck(count: 300, input: Gen.uint8().array(of: 0...300), Gen.int(in: 1...31)) { bytes, chunk in
            var whole = EncodingSniffer()
            whole.consume(bytes)
            var pieces = EncodingSniffer()
            var start = 0
            while start < bytes.count {
                pieces.consume(bytes[start..<min(start + chunk, bytes.count)])
                start += chunk
            }
            #expect(whole.finish() == pieces.finish())
        }
    }
}

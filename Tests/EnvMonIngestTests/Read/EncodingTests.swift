import EnvMonDomain
import EnvMonIngest
import Testing

@Suite("Encoding detection and decoding", .timeLimit(.minutes(10)))
struct EncodingTests {
    private func sniff(_ bytes: [UInt8], chunkSize: Int = 4096) -> EncodingSniffer {
        var sniffer = EncodingSniffer()
        var start = 0
        while start < bytes.count {
            sniffer.consume(bytes[start..<min(start + chunkSize, bytes.count)])
            start += chunkSize
        }
        return sniffer
    }

    @Test("a BOM decides the encoding", arguments: [
        ([0xEF, 0xBB, 0xBF, 0x61], FeedEncoding.utf8),
        ([0xFF, 0xFE, 0x61, 0x00], .utf16le),
        ([0xFE, 0xFF, 0x00, 0x61], .utf16be),
    ] as [([UInt8], FeedEncoding)])
    func bom(bytes: [UInt8], expected: FeedEncoding) {
        #expect(sniff(bytes, chunkSize: 1).finish() == expected)
    }

    @Test("UTF-8 split across chunks at every offset is still UTF-8", arguments: 1...12)
    func utf8AcrossChunks(chunkSize: Int) {
        let text = ReadFixtures.bytes("区域,统计期\n东区𝄞,2024-01\n")
        #expect(sniff(text, chunkSize: chunkSize).finish() == .utf8)
    }

    @Test("one invalid byte deep in a large file makes it GB18030")
    func invalidDeepInFile() {
        var bytes = ReadFixtures.bytes(String(repeating: "东区,2024-01,100,90\n", count: 100_000))
        #expect(sniff(bytes, chunkSize: 65_536).finish() == .utf8)
        bytes.insert(0xB6, at: bytes.count - 10)
        #expect(bytes.count > 2_000_000)
        #expect(sniff(bytes, chunkSize: 65_536).finish() == .gb18030)
    }

    @Test("GB18030 Chinese text is not taken for UTF-8")
    func gbText() {
        #expect(sniff(ReadFixtures.hex(gbFeedHex), chunkSize: 3).finish() == .gb18030)
    }

    @Test("a truncated UTF-8 character at the end is not UTF-8")
    func truncatedAtEnd() {
        #expect(sniff([0x61, 0xE4, 0xB8]).finish() == .gb18030)
    }

    @Test("workbooks are recognised", arguments: [
        ([0x50, 0x4B, 0x03, 0x04, 0x14, 0x00], "xlsx"),
        ([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1], "xls"),
        (Array("district,period".utf8), nil),
    ] as [([UInt8], String?)])
    func workbook(bytes: [UInt8], kind: String?) {
        let sniffer = sniff(bytes, chunkSize: 1)
        #expect(sniffer.spreadsheetKind == kind)
        #expect(sniffer.isSpreadsheet == (kind != nil))
    }

    @Test("a damaged .xlsx is a whole-upload error; a legacy .xls is refused with advice to save it as .xlsx")
    func brokenWorkbooks() {
        let truncated = ReadFixtures.failure([0x50, 0x4B, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00])
        #expect(truncated?.reason.contains("zip") == true || truncated?.reason.contains("archive") == true, "\(String(describing: truncated))")
        let legacy = ReadFixtures.failure([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1] + Array(repeating: 0, count: 504))
        #expect(legacy?.reason.contains("save it as .xlsx") == true, "\(String(describing: legacy))")
    }

    /// `区域,统计期,生活垃圾清运量,无害化处理量\n东区,2024-01,100,90\n` through `iconv -t GB18030`.
    let gbFeedHex = "c7f8d3f22ccdb3bcc6c6da2cc9fabbeec0acbbf8c7e5d4cbc1bf2ccedebaa6bbafb4a6c0edc1bf0a"
        + "b6abc7f82c323032342d30312c3130302c39300a"

    @Test("GB18030 decodes to the same text in any chunking", arguments: [1, 2, 3, 7, 1000])
    func gbDecodes(chunkSize: Int) throws {
        let bytes = ReadFixtures.hex(gbFeedHex)
        var decoder = TextDecoder(encoding: .gb18030)
        var text: [UInt8] = []
        var start = 0
        while start < bytes.count {
            text += try decoder.decode(Array(bytes[start..<min(start + chunkSize, bytes.count)]))
            start += chunkSize
        }
        text += try decoder.finish()
        #expect(String(decoding: text, as: UTF8.self) == "区域,统计期,生活垃圾清运量,无害化处理量\n东区,2024-01,100,90\n")
    }

    @Test("a GB18030 upload with Chinese headers loads")
    func gbUpload() throws {
        let result = try ReadFixtures.ingest(ReadFixtures.hex(gbFeedHex), chunkSize: 5, encoding: .gb18030)
        #expect(result.output.records.map(\.line) == [2])
        #expect(result.output.records.first?.fields[1] == "东区")
    }

    @Test("UTF-16LE with BOM, tab-separated (Excel's Unicode text), loads", arguments: [1, 2, 3, 4096])
    func utf16Upload(chunkSize: Int) throws {
        let text = "区域\t统计期\t生活垃圾清运量\t无害化处理量\r\n东区\t2024-01\t100\t90\r\n西区\t2024-01\t80\t80\r\n"
        let bytes = ReadFixtures.utf16LE(text)
        var sniffer = EncodingSniffer()
        sniffer.consume(bytes)
        #expect(sniffer.finish() == .utf16le)
        let result = try ReadFixtures.ingest(bytes, chunkSize: chunkSize, encoding: .utf16le)
        #expect(result.output.records.map(\.line) == [2, 3])
        #expect(result.output.records.map { $0.fields[1] } == ["东区", "西区"])
    }

    @Test("UTF-16BE with BOM decodes, including characters outside the BMP")
    func utf16BE() throws {
        let text = "东区\t𝄞\n"
        let bytes: [UInt8] = [0xFE, 0xFF] + text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        var decoder = TextDecoder(encoding: .utf16be)
        var decoded: [UInt8] = []
        for byte in bytes { decoded += try decoder.decode([byte]) }
        decoded += try decoder.finish()
        #expect(String(decoding: decoded, as: UTF8.self) == text)
    }

    @Test("a UTF-16 file with an odd number of bytes fails")
    func utf16Odd() {
        #expect(ReadFixtures.failure(ReadFixtures.utf16LE("a\tb\n") + [0x61], encoding: .utf16le) != nil)
    }

    @Test("an invalid byte in a declared GB18030 file names its offset and line")
    func gbInvalid() {
        // "a,b\n" then 0x80, which GB18030 never uses alone.
        let error = ReadFixtures.failure([0x61, 0x2C, 0x62, 0x0A, 0x80, 0x0A], encoding: .gb18030)
        #expect(error?.reason == "not valid GB18030 at byte 4")
        #expect(error?.line == 2)
    }

    @Test("a file the sniffer took for GB18030 because it is not UTF-8, and that is not GB18030 either, says both")
    func guessedGBInvalid() {
        // UTF-8 text with one stray byte on line 3 (the sniffer then tries GB18030), and 0x80 on
        // line 3 again, which GB18030 never uses alone.
        let bytes = Array("a,b\n东区,1\n".utf8) + [0x80, 0x0A]
        var ingestor = FeedIngestor(options: ReadFixtures.options, encoding: .gb18030, format: .csv, encodingGuessed: true)
        var reason: String?
        var line: Int?
        do {
            _ = try bytes.withUnsafeBytes { buffer in Result { () throws(FeedError) in try ingestor.consume(buffer) } }.get()
            _ = try ingestor.finish()
        } catch {
            reason = error.reason
            line = error.line
        }
        #expect(reason?.hasPrefix("neither UTF-8 nor GB18030 at byte") == true, "\(reason ?? "no error")")
        #expect(reason?.contains("CSV UTF-8") == true)
        #expect(line == 3)
    }

    @Test("a GB18030 file cut inside a character fails")
    func gbTruncated() {
        #expect(ReadFixtures.failure(ReadFixtures.bytes("district\n") + [0xB6], encoding: .gb18030) != nil)
    }

    @Test("declared UTF-8 that is not UTF-8 fails with the offset")
    func utf8Invalid() {
        let bytes = ReadFixtures.bytes(ReadFixtures.header + "\n东区,2024-01,100,90\n") + [0xFF]
        let error = ReadFixtures.failure(bytes, encoding: .utf8)
        #expect(error?.reason == "not valid UTF-8 at byte \(bytes.count - 1)")
        #expect(error?.line == 3)
    }

    @Test("a UTF-8 BOM split across chunks is dropped", arguments: [1, 2, 3, 64])
    func utf8BOM(chunkSize: Int) throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + ReadFixtures.bytes(ReadFixtures.header + "\nA,2024-01,1,1\n")
        let result = try ReadFixtures.ingest(bytes, chunkSize: chunkSize)
        #expect(result.output.records.map(\.line) == [2])
        #expect(result.format == .csv)
    }
}

import EnvMonIngest
import Testing

@Suite("CSV reader", .timeLimit(.minutes(10)))
struct CSVReaderTests {
    private func rows(_ text: String, delimiter: UInt8? = nil, chunkSize: Int = 4096) throws(FeedError) -> [CSVRow] {
        try rows(ReadFixtures.bytes(text), delimiter: delimiter, chunkSize: chunkSize)
    }

    private func rows(_ bytes: [UInt8], delimiter: UInt8? = nil, chunkSize: Int = 4096) throws(FeedError) -> [CSVRow] {
        var reader = CSVReader(delimiter: delimiter)
        var rows: [CSVRow] = []
        var start = 0
        while start < bytes.count {
            rows += try reader.consume(bytes[start..<min(start + chunkSize, bytes.count)])
            start += chunkSize
        }
        return rows + (try reader.finish())
    }

    @Test("quotes, embedded delimiters and doubled quotes")
    func quoting() throws {
        let result = try rows("a,b,c\n\"North, \"\"Old\"\" Town\",\"\",x\"y\n")
        #expect(result == [
            CSVRow(line: 1, cells: ["a", "b", "c"]),
            CSVRow(line: 2, cells: ["North, \"Old\" Town", "", "x\"y"]),
        ])
    }

    @Test("CRLF, LF and CR all end rows", arguments: ["\r\n", "\n", "\r"])
    func lineEndings(ending: String) throws {
        let result = try rows(["a,b", "1,2", "3,4"].joined(separator: ending) + ending)
        #expect(result.map(\.line) == [1, 2, 3])
        #expect(result.last?.cells == ["3", "4"])
    }

    @Test("a quoted newline keeps its text and the following line numbers right", arguments: [1, 2, 5, 4096])
    func quotedNewline(chunkSize: Int) throws {
        let result = try rows("a,b\r\n\"line one\r\nline two\nthree\",x\r\nlast,y\r\n", chunkSize: chunkSize)
        #expect(result.map(\.line) == [1, 2, 5])
        #expect(result[1].cells == ["line one\r\nline two\nthree", "x"])
        #expect(result[2].cells == ["last", "y"])
    }

    @Test("the delimiter is detected from the first line that has one", arguments: [
        ("a;b;c\n1;2,5;3\n", UInt8(ascii: ";")),
        ("a\tb\tc\n1\t2,5\t3\n", 0x09),
        ("a,b,c\n1,2,3\n", UInt8(ascii: ",")),
        ("Monthly report\n\na;b;c\n1;2;3\n", UInt8(ascii: ";")),
        ("\"x,y,z\";b;c\n1;2;3\n", UInt8(ascii: ";")),
        ("Report, January\na;b;c\n1;2,5;3\n4;5,5;6\n", UInt8(ascii: ";")),
        ("排放监测,,,\na,b,c\n1,\"2;5\",3\n", UInt8(ascii: ",")),
    ] as [(String, UInt8)])
    func delimiterDetection(text: String, expected: UInt8) throws {
        var reader = CSVReader()
        let result = try reader.consume(ReadFixtures.bytes(text)) + reader.finish()
        #expect(reader.delimiter == expected)
        #expect(result.last?.cells.count == 3)
    }

    @Test("a given delimiter is used as given")
    func givenDelimiter() throws {
        #expect(try rows("a;b,c\n", delimiter: UInt8(ascii: ",")).first?.cells == ["a;b", "c"])
    }

    @Test("an unterminated quote fails naming the line where it opened")
    func unterminatedQuote() {
        #expect(throws: FeedError("a quoted field opened here is never closed (unterminated quote)", line: 3)) {
            try rows("a,b\n1,2\n3,\"four\n5,6\n7,8\n")
        }
    }

    @Test("a 1 MB field is read whole")
    func largeField() throws {
        let big = String(repeating: "x", count: 1 << 20)
        let result = try rows("a,b\n\"\(big)\",2\n3,4\n", chunkSize: 65_536)
        #expect(result[1].cells[0].utf8.count == 1 << 20)
        #expect(result.map(\.line) == [1, 2, 3])
    }

    @Test("a field beyond the cap fails cleanly")
    func oversizedField() {
        var bytes = ReadFixtures.bytes("a,b\n\"")
        bytes += [UInt8](repeating: 0x78, count: CSVReader.maxFieldBytes + 1)
        #expect(throws: FeedError.self) { try rows(bytes, chunkSize: 1 << 20) }
    }

    @Test("NUL bytes are data")
    func nulBytes() throws {
        let result = try rows([0x61, 0x2C, 0x00, 0x62, 0x0A, 0x00, 0x2C, 0x00, 0x0A])
        #expect(result.map(\.cells) == [["a", "\u{0}b"], ["\u{0}", "\u{0}"]])
    }

    @Test("any chunking gives the same rows as the whole", arguments: [1, 2, 3, 7, 13])
    func chunking(chunkSize: Int) throws {
        let text = "title\n\na;b\n\"x;\"\"y\"\"\r\nz\";2\r\n\r\n3;\"\"\r4;5"
        #expect(try rows(text, chunkSize: chunkSize) == rows(text))
    }

    @Test("blank and whitespace-only rows are blank")
    func blankRows() throws {
        let result = try rows("a,b\n,\n  , \n\n1,2\n")
        #expect(result.map(\.isBlank) == [false, true, true, false])
        #expect(result.map(\.line) == [1, 2, 3, 5])
    }
}

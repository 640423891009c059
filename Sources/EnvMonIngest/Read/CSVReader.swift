/// One CSV row as read: its cells and the line on which it starts.
public struct CSVRow: Sendable, Equatable {
    /// 1-based line of the row's first character (a quoted newline makes a row span lines).
    public var line: Int
    /// The cells, unquoted.
    public var cells: [String]

    /// Makes a row.
    public init(line: Int, cells: [String]) {
        self.line = line
        self.cells = cells
    }

    /// Whether every cell is empty or whitespace (Excel writes such rows as `,,,`).
    public var isBlank: Bool {
        cells.allSatisfy { $0.allSatisfy(\.isWhitespace) }
    }
}

/// A streaming RFC 4180 reader over UTF-8 bytes (FEEDS.md "Formats").
///
/// Quoted fields may hold delimiters, doubled quotes and line breaks; rows end with CRLF, LF or
/// CR. The delimiter (`,`, `;` or tab) is given or detected from the first lines that hold one.
/// Input is lenient where Excel is (a stray quote inside an unquoted field is data) and strict
/// where data would be lost (an unterminated quote fails the upload). Memory is bounded by the
/// largest row, and a single field may not exceed `maxFieldBytes`.
public struct CSVReader: Sendable {
    /// The largest field accepted; anything bigger is not a spreadsheet cell.
    public static let maxFieldBytes = 16 << 20
    /// The most cells accepted in one row.
    public static let maxCells = 16_384
    /// How many bytes may be held while looking for a line that shows the delimiter.
    static let detectionWindow = 1 << 20
    /// How many non-empty lines are looked at to detect the delimiter (as many as the header
    /// search, so title rows cannot hide the columns).
    static let detectionLines = 10

    /// The delimiter in use; nil until detected.
    public private(set) var delimiter: UInt8?

    private var detectionBuffer: [UInt8] = []

    // Parser state.
    private var field: [UInt8] = []
    private var cells: [String] = []
    private var inQuotes = false
    private var quoteClosed = false      // just saw a quote inside a quoted field
    private var fieldStarted = false     // the current field has content or quotes
    private var rowStarted = false
    private var lastWasCR = false
    private var line = 1
    private var rowLine = 1
    private var quoteLine = 1

    /// Makes a reader; `delimiter` nil means detect it.
    public init(delimiter: UInt8? = nil) {
        self.delimiter = delimiter
    }

    /// Reads the next chunk and returns the rows it completed.
    public mutating func consume(_ bytes: some Collection<UInt8>) throws(FeedError) -> [CSVRow] {
        var rows: [CSVRow] = []
        if let delimiter {
            try parse(bytes, delimiter: delimiter, into: &rows)
            return rows
        }
        detectionBuffer.append(contentsOf: bytes)
        // Detection only changes its mind at a line break; skip rescanning otherwise.
        let mayDecide = bytes.contains { $0 == 0x0A || $0 == 0x0D } || detectionBuffer.count >= Self.detectionWindow
        if mayDecide, let found = Self.detectDelimiter(in: detectionBuffer, final: false) {
            delimiter = found
            let buffered = detectionBuffer
            detectionBuffer = []
            try parse(buffered, delimiter: found, into: &rows)
        }
        return rows
    }

    /// Ends the input and returns the last row; fails on an unterminated quote.
    public mutating func finish() throws(FeedError) -> [CSVRow] {
        var rows: [CSVRow] = []
        if delimiter == nil {
            let found = Self.detectDelimiter(in: detectionBuffer, final: true) ?? UInt8(ascii: ",")
            delimiter = found
            let buffered = detectionBuffer
            detectionBuffer = []
            try parse(buffered, delimiter: found, into: &rows)
        }
        if inQuotes && !quoteClosed {
            throw FeedError("a quoted field opened here is never closed (unterminated quote)",
                            line: quoteLine)
        }
        if rowStarted { try endRow(into: &rows) }
        return rows
    }

    /// Picks `,`, `;` or tab from the first non-empty lines, counting outside quotes. Each
    /// candidate scores its most telling steady count: n delimiters on each of k lines scores
    /// n × k. That lets a consistent header and data win over a title row above them
    /// ("Report, January" above `;` columns) and over decimal commas inside `;` rows.
    /// Returns nil while more input is needed.
    static func detectDelimiter(in bytes: [UInt8], final: Bool) -> UInt8? {
        let candidates: [UInt8] = [UInt8(ascii: ","), UInt8(ascii: ";"), 0x09]
        var lines: [[Int]] = []
        var counts = [0, 0, 0]
        var inQuotes = false
        var lineHasContent = false
        var complete = false
        for byte in bytes {
            if byte == UInt8(ascii: "\"") { inQuotes.toggle() }
            if inQuotes { lineHasContent = true; continue }
            if let index = candidates.firstIndex(of: byte) {
                counts[index] += 1
            } else if byte == 0x0A || byte == 0x0D {
                if lineHasContent { lines.append(counts) }
                counts = [0, 0, 0]
                lineHasContent = false
                if lines.count >= detectionLines { complete = true; break }
            } else if byte != 0x20 {
                lineHasContent = true
            }
        }
        if !complete {
            guard final || bytes.count >= detectionWindow else { return nil }
            if lineHasContent { lines.append(counts) }
        }
        var best: (score: Int, delimiter: UInt8) = (0, UInt8(ascii: ","))
        for (index, candidate) in candidates.enumerated() {
            var linesWithCount: [Int: Int] = [:]
            for line in lines where line[index] > 0 { linesWithCount[line[index], default: 0] += 1 }
            let score = linesWithCount.map { $0.key * $0.value }.max() ?? 0
            if score > best.score { best = (score, candidate) }
        }
        return best.delimiter
    }

    private mutating func parse(_ bytes: some Collection<UInt8>, delimiter: UInt8,
                                into rows: inout [CSVRow]) throws(FeedError) {
        let bytes = Array(bytes)
        let quote = UInt8(ascii: "\"")
        func isPlain(_ byte: UInt8) -> Bool {
            byte != quote && byte != delimiter && byte != 0x0A && byte != 0x0D
        }
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            // Fast path: a run of ordinary bytes inside a field goes in at once.
            if isPlain(byte) && (inQuotes ? !quoteClosed : fieldStarted) {
                var end = index + 1
                while end < bytes.count && isPlain(bytes[end]) { end += 1 }
                try append(bytes[index..<end])
                lastWasCR = false
                index = end
                continue
            }
            index += 1
            try step(byte, delimiter: delimiter, into: &rows)
        }
    }

    /// One byte through the RFC 4180 state machine.
    private mutating func step(_ byte: UInt8, delimiter: UInt8, into rows: inout [CSVRow]) throws(FeedError) {
        let quote = UInt8(ascii: "\"")
        let afterCR = lastWasCR
        lastWasCR = byte == 0x0D
        if byte == 0x0A && afterCR {
            // The LF of a CRLF: the break was already taken at the CR.
            if inQuotes && !quoteClosed { try append(byte) }
            return
        }
        let isBreak = byte == 0x0A || byte == 0x0D
        if inQuotes {
            if quoteClosed {
                if byte == quote {          // a doubled quote is one quote
                    quoteClosed = false
                    try append(quote)
                    return
                }
                inQuotes = false            // the quote ended the quoted part
                quoteClosed = false
            } else {
                if byte == quote {
                    quoteClosed = true
                } else {
                    try append(byte)
                    if isBreak { line += 1 }
                }
                return
            }
        }
        if byte == delimiter {
            startRowIfNeeded()
            try endField()
        } else if isBreak {
            if rowStarted { try endRow(into: &rows) }
            line += 1
        } else if byte == quote && !fieldStarted {
            startRowIfNeeded()
            inQuotes = true
            fieldStarted = true
            quoteLine = line
        } else {
            startRowIfNeeded()
            fieldStarted = true
            try append(byte)
        }
    }

    private mutating func startRowIfNeeded() {
        if !rowStarted {
            rowStarted = true
            rowLine = line
        }
    }

    private mutating func append(_ byte: UInt8) throws(FeedError) {
        try append(CollectionOfOne(byte))
    }

    private mutating func append(_ run: some Collection<UInt8>) throws(FeedError) {
        guard field.count + run.count <= Self.maxFieldBytes else {
            throw FeedError("a field is longer than \(Self.maxFieldBytes >> 20) MiB; this is not a spreadsheet cell",
                            line: rowLine)
        }
        field.append(contentsOf: run)
    }

    private mutating func endField() throws(FeedError) {
        guard cells.count < Self.maxCells else {
            throw FeedError("a row has more than \(Self.maxCells) columns", line: rowLine)
        }
        cells.append(String(decoding: field, as: UTF8.self))
        field.removeAll(keepingCapacity: field.count <= 4096)
        fieldStarted = false
    }

    private mutating func endRow(into rows: inout [CSVRow]) throws(FeedError) {
        try endField()
        rows.append(CSVRow(line: rowLine, cells: cells))
        cells.removeAll(keepingCapacity: true)
        rowStarted = false
    }
}

public import EnvMonDomain

/// How many rows of an upload were read, and what became of them.
public struct IngestCounts: Sendable, Equatable {
    /// Data rows (or records) read: loaded, rejected and skipped together. Blank rows, title
    /// rows and the header are not counted.
    public var rowsTotal: Int
    /// Rows that were rejected, each with its `Rejection`s.
    public var rowsRejected: Int
    /// Rows deliberately not loaded, such as total rows (合计, 总计, 小计).
    public var rowsSkipped: Int

    /// Makes counts.
    public init(rowsTotal: Int = 0, rowsRejected: Int = 0, rowsSkipped: Int = 0) {
        self.rowsTotal = rowsTotal
        self.rowsRejected = rowsRejected
        self.rowsSkipped = rowsSkipped
    }
}

/// What a stretch of an upload produced: rows ready for staging, and rows rejected.
public struct IngestOutput: Sendable {
    /// Normalised rows, in file order.
    public var records: [StagingRecord]
    /// Why the rejected rows were not loaded, in file order.
    public var rejections: [Rejection]

    /// Makes an output.
    public init(records: [StagingRecord] = [], rejections: [Rejection] = []) {
        self.records = records
        self.rejections = rejections
    }
}

/// Reads one upload, chunk by chunk, into staging records: decodes the text, splits it into
/// rows or records, finds the header and hands each row to the normalizer.
///
/// Feed the bytes in order with `consume`, then call `finish`; each call returns what was
/// completed so far, so memory stays bounded by a chunk plus one row. A `FeedError` from any
/// call means the whole upload fails.
///
/// ```swift
/// var ingestor = FeedIngestor(options: IngestOptions(kind: .waste), encoding: .utf8, format: .auto)
/// for chunk in chunks { stage(try chunk.withUnsafeBytes { try ingestor.consume($0) }) }
/// stage(try ingestor.finish())
/// ```
///
/// A CSV that has a header but no data rows loads nothing and is not an error (counts are zero):
/// an empty period is a legitimate report. A file with no rows at all (nothing, only blank
/// rows, or a JSON `[]`) fails as empty.
public struct FeedIngestor: Sendable {
    /// How many non-blank rows are searched for the header (FEEDS.md "Excel realities").
    public static let headerSearchRows = 10
    /// How many JSON key lists keep their normalizer ready.
    static let cachedKeyLists = 64

    private let options: IngestOptions
    private var decoder: TextDecoder
    /// Text, or an Excel workbook; undecided until the first bytes are in.
    private var mode: Mode
    /// Raw bytes held while the mode is undecided, then the whole workbook.
    private var held: [UInt8] = []
    /// Decoded text held until the format is known.
    private var undetected: [UInt8] = []
    private var csv: CSVReader?
    private var json: JSONRecordReader?
    private var ndjson: NDJSONReader?

    private var normalizer: RowNormalizer?
    /// Outcomes of repeated cells under the CSV header (JSON records normalise without it).
    private var memo: EmissionsMemo?
    private var rowsBeforeHeader = 0
    private var bestCandidate: (line: Int, missing: [String])?
    private var sawRow = false
    private var headersByKeys: [[String]: KeyedHeader] = [:]
    /// The last row before the header, for a header written over two rows.
    private var previousRow: [String]?
    private var output = IngestOutput()

    /// What was read so far.
    public private(set) var counts = IngestCounts()
    /// The format in use: the declared one, or the detected one once known.
    public private(set) var detectedFormat: FeedFormat?

    /// Makes an ingestor for one upload.
    /// - Parameters:
    ///   - options: the kind and the facts the file cannot tell.
    ///   - encoding: detected (`EncodingSniffer`) or declared; `.auto` is read as UTF-8.
    ///   - format: declared, or `.auto` to decide from the content.
    public init(options: IngestOptions, encoding: FeedEncoding, format: FeedFormat, encodingGuessed: Bool = false) {
        self.options = options
        self.decoder = TextDecoder(encoding: encoding, guessed: encodingGuessed)
        switch format {
        case .xlsx: mode = .workbook
        case .auto: mode = .undecided
        case .csv, .json, .ndjson:
            mode = .undecided  // an Excel workbook is still recognised by its first bytes
            start(format)
        }
    }

    private enum Mode {
        case undecided, text, workbook
    }

    /// Reads the next chunk of the upload; returns everything completed so far.
    public mutating func consume(_ bytes: UnsafeRawBufferPointer) throws(FeedError) -> IngestOutput {
        switch mode {
        case .text:
            return try consumeText(bytes)
        case .workbook:
            try hold(bytes)
            return IngestOutput()
        case .undecided:
            held.append(contentsOf: bytes)
            guard held.count >= Self.signatureBytes else { return IngestOutput() }
            return try decide()
        }
    }

    /// Bytes enough to tell a workbook from text.
    private static let signatureBytes = 4

    /// A zip (.xlsx) is read as a workbook, an OLE2 file (.xls) is refused, anything else is
    /// text.
    private mutating func decide() throws(FeedError) -> IngestOutput {
        var sniffer = EncodingSniffer()
        sniffer.consume(held)
        switch sniffer.spreadsheetKind {
        case "xlsx"?:
            mode = .workbook
            detectedFormat = .xlsx
            try checkWorkbookSize()
            return IngestOutput()
        case "xls"?:
            throw .legacyWorkbook
        default:
            mode = .text
            return try consumeHeldText()
        }
    }

    /// Decodes and reads a chunk of text; the caller's buffer is decoded in place, not copied.
    private mutating func consumeText(_ bytes: UnsafeRawBufferPointer) throws(FeedError) -> IngestOutput {
        let text: [UInt8]
        do {
            text = try decoder.decode(bytes)
        } catch {
            try readBeforeInvalidBytes()
            throw error
        }
        try read(text, final: false)
        return takeOutput()
    }

    /// The bytes held while the mode was undecided, as text.
    private mutating func consumeHeldText() throws(FeedError) -> IngestOutput {
        let first = held
        held = []
        return try first.withUnsafeBytes { buffer in
            Result { () throws(FeedError) in try consumeText(buffer) }
        }.get()
    }

    private mutating func hold(_ bytes: UnsafeRawBufferPointer) throws(FeedError) {
        held.append(contentsOf: bytes)
        try checkWorkbookSize()
    }

    private func checkWorkbookSize() throws(FeedError) {
        guard held.count <= Self.maxWorkbookBytes else {
            throw FeedError("the workbook is larger than \(Self.maxWorkbookBytes >> 20) MiB; split it, or save the sheet as CSV")
        }
    }

    /// The largest workbook read: it is held in memory, since a zip's directory is at its end.
    public static let maxWorkbookBytes = 256 << 20

    /// The text before an undecodable byte is read first: a problem in it comes earlier in
    /// the file, and is the one to report, whatever the chunking.
    private mutating func readBeforeInvalidBytes() throws(FeedError) {
        let before = decoder.decodedBeforeError
        guard !before.isEmpty else { return }
        try read(before, final: false)
    }

    /// Ends the upload; returns the rest. Fails when the file is empty, has no header, or ends
    /// inside a quoted field, a character or a JSON record.
    public mutating func finish() throws(FeedError) -> IngestOutput {
        var output = IngestOutput()
        let rest = try finish { batch in
            output.records += batch.records
            output.rejections += batch.rejections
        }
        output.records += rest.records
        output.rejections += rest.rejections
        return output
    }

    /// Ends the upload like `finish()`, handing a workbook's rows to `emit` in batches as its
    /// sheet is read (a workbook is read only at its end); returns the rest.
    public mutating func finish(emitting emit: (IngestOutput) -> Void) throws(FeedError) -> IngestOutput {
        if mode == .undecided {
            // A file shorter than a signature is text.
            mode = .text
            output = try consumeHeldText()
        }
        if mode == .workbook {
            var sheet = try WorkbookSheet.open(held, options: options)
            held = []
            do throws(FeedError) {
                while let row = try sheet.next() {
                    let before = output.rejections.count
                    let hadHeader = normalizer != nil
                    try handle(row)
                    if !hadHeader, let normalizer {
                        sheet.header(row.cells, periodColumn: normalizer.layout.columns["period"]?.index)
                    }
                    for index in before..<output.rejections.count { sheet.locate(&output.rejections[index]) }
                    if output.records.count + output.rejections.count >= Self.workbookBatch { emit(takeOutput()) }
                }
                if !sawRow { throw FeedError.emptyFile }
                if normalizer == nil {
                    throw FeedError.missingColumns(bestCandidate?.missing ?? [], line: bestCandidate?.line)
                }
            } catch {
                var located = error
                located.reason += " in sheet \(sheet.name)"
                throw located
            }
            return takeOutput()
        }
        return try finishText()
    }

    /// Rows handed over at a time while a workbook's sheet is read.
    static let workbookBatch = 4096

    private mutating func finishText() throws(FeedError) -> IngestOutput {
        let text: [UInt8]
        do {
            text = try decoder.finish()
        } catch {
            try readBeforeInvalidBytes()
            throw error
        }
        try read(text, final: true)
        if let finalRows = try csv?.finish() {
            for row in finalRows { try handle(row) }
        }
        if let records = try json?.finish() {
            for record in records { try handle(record) }
        }
        if let records = try ndjson?.finish() {
            for record in records { try handle(record) }
        }
        if !sawRow { throw .emptyFile }
        if csv != nil && normalizer == nil {
            throw .missingColumns(bestCandidate?.missing ?? [], line: bestCandidate?.line)
        }
        return takeOutput()
    }

    private mutating func takeOutput() -> IngestOutput {
        defer { output = IngestOutput() }
        return output
    }

    private mutating func start(_ format: FeedFormat) {
        detectedFormat = format
        switch format {
        case .json: json = JSONRecordReader()
        case .ndjson: ndjson = NDJSONReader()
        case .csv, .auto, .xlsx: csv = CSVReader(delimiter: options.delimiter)
        }
    }

    /// Passes decoded text to the reader, holding it back while the format is undecided.
    private mutating func read(_ text: [UInt8], final: Bool) throws(FeedError) {
        var text = text
        if detectedFormat == nil {
            let isFirstText = undetected.isEmpty
            undetected.append(contentsOf: text)
            // Past the first character, only a line break or the window's end can decide.
            let mayDecide = final || isFirstText || undetected.count >= FormatDetector.window
                || text.contains { $0 == 0x0A || $0 == 0x0D }
            guard mayDecide, let format = FormatDetector.detect(undetected, final: final) else { return }
            start(format)
            text = undetected
            undetected = []
        }
        if csv != nil {
            for row in try csv?.consume(text) ?? [] { try handle(row) }
        } else if json != nil {
            for record in try json?.consume(text) ?? [] { try handle(record) }
        } else {
            for record in try ndjson?.consume(text) ?? [] { try handle(record) }
        }
    }

    // MARK: Rows

    private mutating func handle(_ row: CSVRow) throws(FeedError) {
        if let normalizer, var active = memo {
            memo = nil  // `active` is now the only reference: no copy on write
            tally(normalizer.normalize(line: row.line, cells: row.cells.map { Optional($0) }, memo: &active))
            memo = active
            return
        }
        // Before the header: title rows and blank rows, searched for the header.
        guard !row.isBlank else { return }
        sawRow = true
        rowsBeforeHeader += 1
        if let found = try RowNormalizer.resolve(header: row.cells, options: options) {
            normalizer = found
            memo = found.makeMemo()
            return
        }
        // Two header rows: a pollutant merged over its measures (实测浓度, 折算浓度).
        if let upper = previousRow {
            let combined = TwoRowHeader.combine(upper: upper, lower: row.cells)
            if let found = try RowNormalizer.resolve(header: combined, options: options) {
                normalizer = found
                memo = found.makeMemo()
                return
            }
        }
        previousRow = row.cells
        let missing = RowNormalizer.missingRequired(header: row.cells, kind: options.kind)
        if bestCandidate == nil || missing.count < (bestCandidate?.missing.count ?? .max) {
            bestCandidate = (row.line, missing)
        }
        if rowsBeforeHeader >= Self.headerSearchRows {
            throw .missingColumns(bestCandidate?.missing ?? missing, line: bestCandidate?.line)
        }
    }

    /// A JSON record's header is its own keys. The first record must hold every required column
    /// (else the upload fails, as a CSV header would); a later record lacking one gets the missing
    /// columns as nulls, so the normalizer rejects that row for its missing value.
    private mutating func handle(_ record: JSONRecord) throws(FeedError) {
        let isBlank = record.values.allSatisfy { ($0 ?? "").allSatisfy(\.isWhitespace) }
        guard !isBlank else { return }
        let isFirst = !sawRow
        sawRow = true
        let header: KeyedHeader
        if let cached = headersByKeys[record.keys] {
            header = cached
        } else {
            header = try resolve(keys: record.keys, isFirst: isFirst, index: record.index)
            if headersByKeys.count >= Self.cachedKeyLists { headersByKeys.removeAll() }
            headersByKeys[record.keys] = header
        }
        guard let normalizer = header.normalizer else {
            let reason = FeedError.missingColumns(header.padding, line: nil).reason
            tally(.rejected([Rejection(line: record.index, column: nil, value: nil, reason: reason)]))
            return
        }
        let cells = record.values + Array(repeating: nil, count: header.padding.count)
        tally(normalizer.normalize(line: record.index, cells: cells))
    }

    private func resolve(keys: [String], isFirst: Bool, index: Int) throws(FeedError) -> KeyedHeader {
        if let found = try RowNormalizer.resolve(header: keys, options: options) {
            return KeyedHeader(normalizer: found, padding: [])
        }
        let missing = RowNormalizer.missingRequired(header: keys, kind: options.kind)
        if isFirst {
            throw FeedError(FeedError.missingColumns(missing, line: nil).reason + " (record \(index))")
        }
        let padded = try RowNormalizer.resolve(header: keys + missing, options: options)
        return KeyedHeader(normalizer: padded, padding: missing)
    }

    private mutating func tally(_ outcome: RowOutcome) {
        switch outcome {
        case .record(let record):
            counts.rowsTotal += 1
            output.records.append(record)
        case .rejected(let rejections):
            counts.rowsTotal += 1
            counts.rowsRejected += 1
            output.rejections += rejections
        case .skippedTotal:
            counts.rowsTotal += 1
            counts.rowsSkipped += 1
        case .readings(let records, let rejected, let rejections):
            counts.rowsTotal += records.count + rejected
            counts.rowsRejected += rejected
            output.records += records
            output.rejections += rejections
        case .blank:
            break
        }
    }
}

/// How the records with one list of keys are normalised: the missing required columns
/// (`padding`) are appended as nulls; `normalizer` nil means even that does not resolve.
private struct KeyedHeader: Sendable {
    var normalizer: RowNormalizer?
    var padding: [String]
}

/// Reads a whole upload held in memory (tests, small files).
public func ingestAll(
    bytes: [UInt8], options: IngestOptions, encoding: FeedEncoding, format: FeedFormat
) throws(FeedError) -> (IngestOutput, IngestCounts) {
    var ingestor = FeedIngestor(options: options, encoding: encoding, format: format)
    // withUnsafeBytes rethrows untyped errors, so the typed error travels out in a Result.
    var output = try bytes.withUnsafeBytes { buffer in
        Result { () throws(FeedError) in try ingestor.consume(buffer) }
    }.get()
    let rest = try ingestor.finish()
    output.records += rest.records
    output.rejections += rest.rejections
    return (output, ingestor.counts)
}

public import EnvMonDomain
import Glibc

/// Turns an upload's bytes, chunk by chunk, into UTF-8 for the readers.
///
/// UTF-8 passes through, validated; GB18030 and UTF-16 go through glibc's iconv. A character
/// split across two chunks is carried over to the next one. A leading BOM is dropped. Bytes that
/// are not valid in the encoding fail the whole upload with their byte offset (0-based, counted
/// from the start of the file as received) and line.
///
/// iconv is opened per chunk rather than held open: these encodings have no shift state, so the
/// carried-over bytes are all the state there is, and the decoder stays a plain `Sendable` value.
public struct TextDecoder: Sendable {
    /// The encoding being decoded.
    public let encoding: FeedEncoding
    /// Bytes received but not yet decoded: a possible BOM at the start, or an incomplete
    /// character at the end of the last chunk.
    private var pending: [UInt8] = []
    /// Offset in the file of `pending`'s first byte.
    private var pendingOffset = 0
    private var bomHandled = false
    private var validator = UTF8Validator()
    /// After `decode` threw for an invalid byte: the text decoded from the same chunk before it,
    /// so that a reader sees it (and reports an earlier problem first) however the file was cut.
    public private(set) var decodedBeforeError: [UInt8] = []
    /// Line breaks in the decoded output so far, to say on which line an invalid byte sits.
    private var lineBreaks = 0
    private var lastWasCR = false

    /// Whether `encoding` was guessed by the sniffer rather than named by the uploader.
    public let guessed: Bool

    /// Makes a decoder for a detected or declared encoding (`.auto` is read as UTF-8);
    /// `guessed` when the sniffer chose it, which changes what a bad byte's message says.
    public init(encoding: FeedEncoding, guessed: Bool = false) {
        self.encoding = encoding == .auto ? .utf8 : encoding
        self.guessed = guessed
    }

    /// The encoding a BOM at the start of `head` announces, if any.
    public static func bomEncoding(of head: some Collection<UInt8>) -> FeedEncoding? {
        if head.starts(with: [0xEF, 0xBB, 0xBF]) { return .utf8 }
        if head.starts(with: [0xFF, 0xFE]) { return .utf16le }
        if head.starts(with: [0xFE, 0xFF]) { return .utf16be }
        return nil
    }

    private var bom: [UInt8] {
        switch encoding {
        case .utf8, .auto: return [0xEF, 0xBB, 0xBF]
        case .utf16le: return [0xFF, 0xFE]
        case .utf16be: return [0xFE, 0xFF]
        case .gb18030: return []
        }
    }

    private var encodingName: String {
        switch encoding {
        case .utf8, .auto: return "UTF-8"
        case .gb18030: return "GB18030"
        case .utf16le: return "UTF-16LE"
        case .utf16be: return "UTF-16BE"
        }
    }

    /// Decodes the next chunk; returns the UTF-8 of every character completed so far.
    public mutating func decode(_ bytes: UnsafeRawBufferPointer) throws(FeedError) -> [UInt8] {
        pending.append(contentsOf: bytes)
        return try decodePending(final: false)
    }

    /// Decodes the next chunk; returns the UTF-8 of every character completed so far.
    public mutating func decode(_ bytes: [UInt8]) throws(FeedError) -> [UInt8] {
        pending.append(contentsOf: bytes)
        return try decodePending(final: false)
    }

    /// Ends the stream; fails when it stops in the middle of a character.
    public mutating func finish() throws(FeedError) -> [UInt8] {
        try decodePending(final: true)
    }

    private mutating func decodePending(final: Bool) throws(FeedError) -> [UInt8] {
        if !bomHandled {
            let bom = self.bom
            // Wait until the BOM (or its absence) is certain.
            if pending.count < bom.count && !final && bom.starts(with: pending) { return [] }
            bomHandled = true
            if !bom.isEmpty && pending.starts(with: bom) {
                pending.removeFirst(bom.count)
                pendingOffset += bom.count
            }
        }
        if pending.isEmpty { return [] }
        let output: [UInt8]
        if encoding == .utf8 || encoding == .auto {
            output = try passUTF8(final: final)
        } else {
            output = try convert(final: final)
        }
        countLineBreaks(output)
        return output
    }

    private mutating func passUTF8(final: Bool) throws(FeedError) -> [UInt8] {
        let chunk = pending
        pending = []
        let invalidIndex = chunk.withUnsafeBytes { validator.consume($0) }
        if let invalidIndex {
            throw invalid(at: pendingOffset + invalidIndex, decodedBefore: chunk[..<invalidIndex])
        }
        pendingOffset += chunk.count
        if final && !validator.isCompleteAndValid {
            throw FeedError("not valid UTF-8: the file ends in the middle of a character",
                            line: lineBreaks + 1)
        }
        return chunk
    }

    private enum ConversionStop { case done, incomplete, invalid, failed }

    /// Runs iconv over `pending`, keeping an incomplete trailing character for the next chunk.
    private mutating func convert(final: Bool) throws(FeedError) -> [UInt8] {
        let name = encodingName
        let handle = iconv_open("UTF-8", name)
        guard let handle, handle != iconv_t(bitPattern: -1) else {
            throw FeedError("cannot decode \(name): the system has no converter for it")
        }
        defer { iconv_close(handle) }
        // GB18030 and UTF-16 never take more than twice their size as UTF-8.
        var output = [UInt8](repeating: 0, count: pending.count * 2 + 16)
        var inputLeft = pending.count
        var outputLeft = output.count
        var stop = ConversionStop.done
        pending.withUnsafeMutableBytes { input in
            output.withUnsafeMutableBytes { out in
                var inPointer = input.baseAddress?.assumingMemoryBound(to: CChar.self)
                var outPointer = out.baseAddress?.assumingMemoryBound(to: CChar.self)
                while inputLeft > 0 {
                    if iconv(handle, &inPointer, &inputLeft, &outPointer, &outputLeft) != -1 { continue }
                    switch errno {
                    case EINVAL: stop = .incomplete
                    case EILSEQ: stop = .invalid
                    default: stop = .failed  // E2BIG cannot happen with the room given
                    }
                    return
                }
            }
        }
        let consumed = pending.count - inputLeft
        output.removeLast(outputLeft)
        switch stop {
        case .done:
            pending.removeFirst(consumed)
            pendingOffset += consumed
            return output
        case .incomplete where !final:
            // An incomplete character at the end of the chunk: keep it for the next one.
            pending.removeFirst(consumed)
            pendingOffset += consumed
            return output
        case .incomplete:
            throw FeedError("not valid \(name): the file ends in the middle of a character",
                            line: lineBreaks + lineBreakCount(output) + 1)
        case .invalid, .failed:
            throw invalid(at: pendingOffset + consumed, decodedBefore: output[...])
        }
    }

    private mutating func invalid(at offset: Int, decodedBefore: ArraySlice<UInt8>) -> FeedError {
        decodedBeforeError = Array(decodedBefore)
        let line = lineBreaks + lineBreakCount(decodedBefore) + 1
        if guessed && encoding == .gb18030 {
            // The sniffer tries GB18030 only for a file that is not UTF-8: it is neither.
            return FeedError("neither UTF-8 nor GB18030 at byte \(offset): the file is in another encoding or damaged; "
                             + "save it as UTF-8 (Excel: CSV UTF-8) or GB18030, or name its encoding (--encoding, ?encoding=)",
                             line: line)
        }
        return .invalidBytes(encoding: encodingName, byteOffset: offset, line: line)
    }

    private func lineBreakCount(_ bytes: some Collection<UInt8>) -> Int {
        var copy = self
        copy.countLineBreaks(bytes)
        return copy.lineBreaks - lineBreaks
    }

    /// Counts LF, CR and CRLF each as one break, as the CSV reader does.
    private mutating func countLineBreaks(_ bytes: some Collection<UInt8>) {
        for byte in bytes {
            if byte == 0x0A {
                if !lastWasCR { lineBreaks += 1 }
                lastWasCR = false
            } else if byte == 0x0D {
                lineBreaks += 1
                lastWasCR = true
            } else {
                lastWasCR = false
            }
        }
    }
}

/// Splits a TCP byte stream into HJ 212 frames.
///
/// Frames may arrive split over many reads or several in one read. Bytes before a `##` are
/// skipped; a frame start whose length field is not four digits, or that has no CRC and CRLF
/// before the next `##`, is discarded and decoding resumes at that `##`. When the declared length
/// is wrong but the frame ends with `<4 hex digits>\r\n`, the frame is still delivered with
/// `lengthMatches == false`: the CRC, not the length, decides whether it is intact.
/// The decoder never holds more than `maximumBuffer` bytes: a frame that cannot end within that
/// is `.fatal`, and the caller closes the connection.
///
/// ```swift
/// var decoder = HJ212FrameDecoder()
/// for event in decoder.feed(bytes) {
///     if case .frame(let frame) = event, frame.crcValid { … }
/// }
/// ```
public struct HJ212FrameDecoder: Sendable {
    /// The default bound on buffered bytes, 16 KiB (a frame is at most 9999 + 12 bytes).
    public static let defaultMaximumBuffer = 16 * 1024
    /// The smallest bound accepted: an empty-segment frame is 12 bytes.
    public static let minimumBuffer = 16

    /// The most bytes held while waiting for the end of a frame.
    public let maximumBuffer: Int

    private var buffer: [UInt8] = []
    /// Bytes of the frame at the head of `buffer` already searched for CRLF or `##`.
    private var scanned = 0
    private var failed = false

    /// A decoder that holds at most `maximumBuffer` bytes (at least `minimumBuffer`).
    public init(maximumBuffer: Int = HJ212FrameDecoder.defaultMaximumBuffer) {
        self.maximumBuffer = max(maximumBuffer, Self.minimumBuffer)
    }

    /// Bytes held while waiting for the rest of a frame.
    public var bufferedByteCount: Int { buffer.count }

    /// Whether the decoder has reported `.fatal` and takes no more bytes until `finish()`.
    public var hasFailed: Bool { failed }

    /// Takes the next bytes of the stream and returns what they completed.
    public mutating func feed(_ bytes: some Collection<UInt8>) -> [HJ212FrameEvent] {
        guard !failed else { return [] }
        let incoming = Array(bytes)
        var events: [HJ212FrameEvent] = []
        var offset = 0
        // Append no more than the bound allows, so memory stays bounded whatever the read size.
        while offset < incoming.count {
            let take = min(maximumBuffer - buffer.count, incoming.count - offset)
            buffer.append(contentsOf: incoming[offset..<(offset + take)])
            offset += take
            decodeBuffered(into: &events)
            if buffer.count >= maximumBuffer {
                events.append(.fatal(.frameExceedsBuffer(declaredLength: declaredLength(at: 0), limit: maximumBuffer)))
                failed = true
                buffer = []
                scanned = 0
                break
            }
        }
        return events
    }

    /// Ends the stream: reports what was left over and makes the decoder ready for a new stream.
    public mutating func finish() -> [HJ212FrameEvent] {
        defer {
            buffer = []
            scanned = 0
            failed = false
        }
        guard !failed, !buffer.isEmpty else { return [] }
        if buffer == [Self.hash] { return [.skipped(1)] }
        return [.discarded(.truncated(byteCount: buffer.count))]
    }

    private static let hash = UInt8(ascii: "#")
    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")
    private static let headerSize = 6
    private static let trailerSize = 6

    /// Decodes every complete frame in `buffer`, leaving it empty, a lone `#`, or the start of a
    /// frame that needs more bytes.
    private mutating func decodeBuffered(into events: inout [HJ212FrameEvent]) {
        var start = 0
        while start < buffer.count {
            guard let header = findHashes(from: start) else {
                let keep = buffer.last == Self.hash ? 1 : 0
                let junk = buffer.count - start - keep
                if junk > 0 { events.append(.skipped(junk)) }
                start = buffer.count - keep
                scanned = 0
                break
            }
            if header > start {
                events.append(.skipped(header - start))
                start = header
                scanned = 0
            }
            guard buffer.count - start >= Self.headerSize else { break }
            guard let length = declaredLength(at: start) else {
                let end = resyncPoint(after: start + 1)
                let text = escapedASCII(buffer[(start + 2)..<(start + Self.headerSize)])
                events.append(.discarded(.invalidLength(text: text, byteCount: end - start)))
                start = end
                scanned = 0
                continue
            }
            let segmentStart = start + Self.headerSize
            let expectedEnd = segmentStart + length + Self.trailerSize
            if expectedEnd <= buffer.count, hasTrailer(at: segmentStart + length) {
                events.append(.frame(makeFrame(from: start, segmentEnd: segmentStart + length, declaredLength: length)))
                start = expectedEnd
                scanned = 0
                continue
            }
            // The length does not lead to a trailer (yet): look for the first CRLF or `##`.
            switch scanForEnd(from: max(segmentStart, start + scanned)) {
            case .crlf(let crlf):
                let segmentEnd = crlf - 4
                if segmentEnd >= segmentStart, HJ212CRC.parseHex(buffer[segmentEnd..<crlf]) != nil {
                    events.append(.frame(makeFrame(from: start, segmentEnd: segmentEnd, declaredLength: length)))
                } else {
                    let text = escapedASCII(buffer[max(segmentStart, crlf - 4)..<crlf])
                    events.append(.discarded(.invalidCRC(text: text, byteCount: crlf + 2 - start)))
                }
                start = crlf + 2
                scanned = 0
            case .nextHeader(let next):
                events.append(.discarded(.missingTerminator(declaredLength: length, byteCount: next - start)))
                start = next
                scanned = 0
            case .none(let searchedUpTo):
                scanned = searchedUpTo - start
                compact(from: start)
                return
            }
        }
        compact(from: start)
    }

    private mutating func compact(from start: Int) {
        if start > 0 { buffer.removeSubrange(0..<start) }
    }

    private enum ScanResult {
        case crlf(Int)
        case nextHeader(Int)
        /// Neither; every pair starting before this index was looked at.
        case none(Int)
    }

    private func scanForEnd(from index: Int) -> ScanResult {
        var i = index
        while i + 1 < buffer.count {
            let (a, b) = (buffer[i], buffer[i + 1])
            if a == Self.cr && b == Self.lf { return .crlf(i) }
            if a == Self.hash && b == Self.hash { return .nextHeader(i) }
            i += 1
        }
        return .none(i)
    }

    private func findHashes(from index: Int) -> Int? {
        var i = index
        while i + 1 < buffer.count {
            if buffer[i] == Self.hash && buffer[i + 1] == Self.hash { return i }
            i += 1
        }
        return nil
    }

    /// Where decoding resumes after a bad frame start: the next `##`, else the end of the buffer
    /// (keeping a trailing `#` that may begin one).
    private func resyncPoint(after index: Int) -> Int {
        if let next = findHashes(from: index) { return next }
        return buffer.last == Self.hash ? buffer.count - 1 : buffer.count
    }

    private func declaredLength(at start: Int) -> Int? {
        guard buffer.count - start >= Self.headerSize else { return nil }
        var value = 0
        for byte in buffer[(start + 2)..<(start + Self.headerSize)] {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    private func hasTrailer(at index: Int) -> Bool {
        HJ212CRC.parseHex(buffer[index..<(index + 4)]) != nil
            && buffer[index + 4] == Self.cr && buffer[index + 5] == Self.lf
    }

    private func makeFrame(from start: Int, segmentEnd: Int, declaredLength: Int) -> HJ212Frame {
        let crcBytes = buffer[segmentEnd..<(segmentEnd + 4)]
        return HJ212Frame(
            raw: Array(buffer[start..<(segmentEnd + Self.trailerSize)]),
            segment: Array(buffer[(start + Self.headerSize)..<segmentEnd]),
            declaredLength: declaredLength,
            receivedCRC: HJ212CRC.parseHex(crcBytes) ?? 0
        )
    }
}

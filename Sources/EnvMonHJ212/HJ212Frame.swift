/// One framed packet as it came off the wire: `##` + 4-digit length + segment + 4 hex CRC + CRLF.
public struct HJ212Frame: Sendable, Hashable {
    /// Every byte of the frame, from `##` through CRLF.
    public var raw: [UInt8]
    /// The data segment (what the length counts and the CRC covers).
    public var segment: [UInt8]
    /// The length the frame declared. It differs from `segment.count` when a device sent a wrong
    /// length and the frame was found by its CRLF instead (`lengthMatches` is then false).
    public var declaredLength: Int
    /// The CRC the frame carried.
    public var receivedCRC: UInt16
    /// How `receivedCRC` compares with the segment.
    public var crcCheck: HJ212CRCCheck

    /// Whether the HJ 212 CRC matches the segment.
    public var crcValid: Bool { crcCheck == .valid }
    /// Whether the declared length is the segment's byte count.
    public var lengthMatches: Bool { declaredLength == segment.count }

    /// A frame made from its parts; the CRC check is computed here.
    public init(raw: [UInt8], segment: [UInt8], declaredLength: Int, receivedCRC: UInt16) {
        self.raw = raw
        self.segment = segment
        self.declaredLength = declaredLength
        self.receivedCRC = receivedCRC
        self.crcCheck = HJ212CRCCheck(received: receivedCRC, segment: segment)
    }
}

/// What the frame decoder found in the bytes it was fed.
public enum HJ212FrameEvent: Sendable, Hashable {
    /// A complete frame. Check `crcValid` before trusting it.
    case frame(HJ212Frame)
    /// This many bytes before a `##` were not part of any frame.
    case skipped(Int)
    /// A frame start that could not be completed was dropped; decoding resumed at the next `##`.
    case discarded(HJ212DiscardReason)
    /// The stream cannot be decoded within the buffer bound; the caller closes the connection.
    /// The decoder takes no more bytes until `finish()`.
    case fatal(HJ212FatalReason)
}

/// Why the decoder dropped bytes that started like a frame.
public enum HJ212DiscardReason: Sendable, Hashable, CustomStringConvertible {
    /// The four characters after `##` are not decimal digits.
    case invalidLength(text: String, byteCount: Int)
    /// Another `##` came before the CRC and CRLF that should end the frame.
    case missingTerminator(declaredLength: Int, byteCount: Int)
    /// A CRLF came, but the four bytes before it are not hex digits.
    case invalidCRC(text: String, byteCount: Int)
    /// The stream ended (`finish()`) in the middle of a frame.
    case truncated(byteCount: Int)

    /// How many bytes were dropped.
    public var byteCount: Int {
        switch self {
        case .invalidLength(_, let count), .missingTerminator(_, let count), .invalidCRC(_, let count),
            .truncated(let count):
            count
        }
    }

    public var description: String {
        switch self {
        case .invalidLength(let text, let count):
            "length field \"\(text)\" after ## is not 4 decimal digits (\(count) bytes dropped)"
        case .missingTerminator(let length, let count):
            "frame with declared length \(length) has no CRC and CRLF before the next ## (\(count) bytes dropped)"
        case .invalidCRC(let text, let count):
            "CRC field \"\(text)\" before CRLF is not 4 hex digits (\(count) bytes dropped)"
        case .truncated(let count):
            "stream ended inside a frame (\(count) bytes dropped)"
        }
    }
}

/// Why the decoder gave up on a stream.
public enum HJ212FatalReason: Sendable, Hashable, CustomStringConvertible {
    /// A frame (declared length in the header) did not end within `limit` buffered bytes.
    case frameExceedsBuffer(declaredLength: Int?, limit: Int)

    public var description: String {
        switch self {
        case .frameExceedsBuffer(let length?, let limit):
            "frame with declared length \(length) did not end within the \(limit)-byte buffer"
        case .frameExceedsBuffer(nil, let limit):
            "frame did not end within the \(limit)-byte buffer"
        }
    }
}

/// Printable form of a few wire bytes for messages: ASCII as is, anything else as `\xNN`.
func escapedASCII(_ bytes: some Collection<UInt8>) -> String {
    var text = ""
    for byte in bytes {
        if byte >= 0x20 && byte < 0x7F {
            text.unicodeScalars.append(Unicode.Scalar(byte))
        } else {
            let hex = HJ212CRC.hex(UInt16(byte))
            text += "\\x" + hex.suffix(2)
        }
    }
    return text
}

/// A streaming UTF-8 validator: fed bytes in order, it keeps only the state of the sequence in
/// progress, so a character split across two chunks is judged as one.
struct UTF8Validator: Sendable {
    /// Continuation bytes still expected by the sequence in progress.
    private var needed = 0
    /// Allowed range of the next continuation byte (narrower after E0, ED, F0, F4, which rules
    /// out overlong forms, surrogates and code points above U+10FFFF).
    private var low: UInt8 = 0x80
    private var high: UInt8 = 0xBF
    /// Bytes judged so far.
    private(set) var offset = 0
    /// Offset of the first byte found invalid, if any.
    private(set) var firstInvalidOffset: Int?

    /// Whether everything seen so far is valid (a sequence may still be incomplete).
    var isValidSoFar: Bool { firstInvalidOffset == nil }

    /// Whether the whole stream, ended here, is valid UTF-8.
    var isCompleteAndValid: Bool { firstInvalidOffset == nil && needed == 0 }

    /// Judges the next bytes; returns the index within `bytes` of the first invalid one, if any.
    @discardableResult
    mutating func consume(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard firstInvalidOffset == nil else { return nil }
        for index in 0..<bytes.count where !step(bytes[index]) {
            firstInvalidOffset = offset + index
            offset += bytes.count
            return index
        }
        offset += bytes.count
        return nil
    }

    private mutating func step(_ byte: UInt8) -> Bool {
        if needed > 0 {
            guard byte >= low && byte <= high else { return false }
            needed -= 1
            low = 0x80
            high = 0xBF
            return true
        }
        switch byte {
        case 0x00...0x7F: return true
        case 0xC2...0xDF: needed = 1
        case 0xE0: needed = 2; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: needed = 2
        case 0xED: needed = 2; high = 0x9F
        case 0xF0: needed = 3; low = 0x90
        case 0xF1...0xF3: needed = 3
        case 0xF4: needed = 3; high = 0x8F
        default: return false
        }
        return true
    }
}

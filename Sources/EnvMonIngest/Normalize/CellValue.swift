/// An exact decimal number as read from a cell: digits with a decimal point position.
/// Kept as digits (not Double) so that `0.1` stays `0.1` and unit conversions by powers of ten
/// are exact.
struct DecimalText: Sendable, Equatable {
    var negative: Bool
    /// Significant digits without leading zeros ("" for zero).
    var digits: [UInt8]
    /// Value = digits × 10^exponent.
    var exponent: Int

    /// Parses `12`, `-3.5`, `.5`, `1,234.5`, `1.2E-3`; nil for anything else. One pass over
    /// the bytes: this runs for every numeric cell of every upload.
    init?(parsing raw: String) {
        var negative = false
        var digits: [UInt8] = []
        digits.reserveCapacity(16)
        var fractionDigits = 0
        var seenDot = false, seenComma = false, group = 0
        var inExponent = false, exponentMark = -1, exponentValue = 0, exponentDigits = 0, exponentNegative = false
        var position = 0
        for byte in raw.utf8 {
            defer { position += 1 }
            if inExponent {
                if position == exponentMark + 1, byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+") {
                    exponentNegative = byte == UInt8(ascii: "-")
                    continue
                }
                guard byte >= 48, byte <= 57, exponentDigits < 4 else { return nil }
                exponentValue = exponentValue * 10 + Int(byte - 48)
                exponentDigits += 1
                continue
            }
            switch byte {
            case 48...57:
                digits.append(byte - 48)
                if seenDot { fractionDigits += 1 } else { group += 1 }
            case UInt8(ascii: "-"), UInt8(ascii: "+"):
                guard position == 0 else { return nil }
                negative = byte == UInt8(ascii: "-")
            case UInt8(ascii: "."):
                guard !seenDot, !seenComma || group == 3 else { return nil }
                seenDot = true
            case UInt8(ascii: ","):
                // Thousands separators: 1-3 digits first, then groups of exactly three.
                guard !seenDot, seenComma ? group == 3 : (1...3).contains(group) else { return nil }
                seenComma = true
                group = 0
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                guard !digits.isEmpty, seenDot || !seenComma || group == 3 else { return nil }
                inExponent = true
                exponentMark = position
            default:
                return nil
            }
        }
        guard !digits.isEmpty, !inExponent || exponentDigits > 0 else { return nil }
        guard seenDot || inExponent || !seenComma || group == 3 else { return nil }
        var exponent = -fractionDigits + (exponentNegative ? -exponentValue : exponentValue)
        var start = 0
        while start < digits.count, digits[start] == 0 { start += 1 }
        var end = digits.count
        while end > start, digits[end - 1] == 0 { end -= 1; exponent += 1 }
        if start > 0 || end < digits.count { digits = Array(digits[start..<end]) }
        if digits.isEmpty { exponent = 0; negative = false }
        self.negative = negative
        self.digits = digits
        self.exponent = exponent
    }

    /// This number times 10^power (exact).
    func scaled(by power: Int) -> DecimalText {
        var copy = self
        if !copy.digits.isEmpty { copy.exponent += power }
        return copy
    }

    /// Plain decimal text for PostgreSQL and JSON: no exponent, no separators, no needless zeros.
    var plain: String {
        guard !digits.isEmpty else { return "0" }
        let zero = UInt8(ascii: "0")
        var bytes: [UInt8] = negative ? [UInt8(ascii: "-")] : []
        bytes.reserveCapacity(digits.count + abs(exponent) + 3)
        let characters = digits.map { $0 + zero }
        if exponent >= 0 {
            bytes += characters
            bytes += repeatElement(zero, count: exponent)
        } else {
            let pointAt = characters.count + exponent
            if pointAt > 0 {
                bytes += characters[..<pointAt]
                bytes.append(UInt8(ascii: "."))
                bytes += characters[pointAt...]
            } else {
                bytes += [zero, UInt8(ascii: ".")]
                bytes += repeatElement(zero, count: -pointAt)
                bytes += characters
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The most significant digits a stored value keeps exactly (and the largest and smallest
    /// magnitudes a monitoring value can have): beyond these a cell is a typing or export error,
    /// and PostgreSQL's double precision would refuse or round it.
    static let maximumDigits = 30
    static let magnitudes = -30...15

    /// Why this value cannot be stored, nil when it can: more than 30 significant digits, or a
    /// magnitude outside 1e-30…1e15 (`1e309`, `1e-400`, a 400-digit number).
    var outOfRange: String? {
        guard !digits.isEmpty else { return nil }
        if digits.count > Self.maximumDigits {
            return "too many digits (\(digits.count) significant; at most \(Self.maximumDigits))"
        }
        let magnitude = exponent + digits.count - 1
        if magnitude > Self.magnitudes.upperBound { return "out of range (larger than 1e\(Self.magnitudes.upperBound + 1))" }
        if magnitude < Self.magnitudes.lowerBound { return "out of range (smaller than 1e\(Self.magnitudes.lowerBound))" }
        return nil
    }

    /// The value as a Double, for range checks and comparisons only.
    var double: Double { Double(plain) ?? .nan }

    /// Whether the value is a whole number.
    var isWhole: Bool { exponent >= 0 || digits.isEmpty }
}

/// What one cell holds once the bureau's conventions are applied.
enum CellValue: Sendable, Equatable {
    /// Empty, or a null token (`—`, `-`, `--`, `*`, `/`, `N/A`): no value, never zero.
    case null
    /// `未检出` (not detected): no value, but below the detection limit.
    case notDetected
    /// A number; `belowDetection` for `<0.01` or the `0.01L` laboratory convention.
    case number(DecimalText, belowDetection: Bool)
    /// Not a number.
    case invalid

    /// Tokens that mean "no value"; compared after width folding and lower-casing.
    static let nullTokens: Set<String> = ["", "-", "--", "---", "*", "**", "/", "n/a", "na", "#n/a"]
    /// Tokens that mean "not detected".
    static let notDetectedTokens: Set<String> = ["未检出", "nd"]

    /// Reads a numeric cell.
    init(_ raw: String?) {
        guard let raw else { self = .null; return }
        let text = TextFolding.trimmed(raw)
        // The common case first: a plain number.
        if let first = text.utf8.first, first >= 48 && first <= 57, let value = DecimalText(parsing: text) {
            self = .number(value, belowDetection: false)
            return
        }
        let lower = text.lowercased()
        if CellValue.nullTokens.contains(lower) || lower.allSatisfy({ $0 == "-" }) { self = .null; return }
        if CellValue.notDetectedTokens.contains(lower) { self = .notDetected; return }
        var body = Substring(text)
        var below = false
        if body.hasPrefix("<") {
            below = true
            body = body.dropFirst()
        } else if body.count > 1, let last = body.last, last == "L", body.dropLast().last?.isNumber == true {
            // Chinese laboratory reports write "0.01L" for "below the detection limit 0.01".
            below = true
            body = body.dropLast()
        }
        let number = String(body).trimmingSpaces
        guard let value = DecimalText(parsing: number) else { self = .invalid; return }
        self = .number(value, belowDetection: below)
    }

    /// Whether a cell is blank or a null token (for text columns and blank-row detection).
    static func isNull(_ raw: String?) -> Bool {
        guard let raw else { return true }
        // Fast path: a cell starting with a letter or digit other than n/N, or with a CJK
        // ideograph (UTF-8 lead bytes E4–E9), is never a null token.
        if let first = raw.utf8.first,
           (48...57).contains(first) || (65...90).contains(first) || (97...122).contains(first) || (0xE4...0xE9).contains(first),
           first != UInt8(ascii: "n"), first != UInt8(ascii: "N") {
            return false
        }
        let lower = TextFolding.trimmed(raw).lowercased()
        return nullTokens.contains(lower) || lower.allSatisfy { $0 == "-" }
    }
}

extension String {
    /// Without leading and trailing whitespace.
    var trimmingSpaces: String {
        let utf8 = self.utf8
        // Fast path: no ASCII space or control at either end and no non-ASCII at the ends.
        if let first = utf8.first, let last = utf8.last, first > 0x20, first < 0x80, last > 0x20, last < 0x80 {
            return self
        }
        if let first = unicodeScalars.first, let last = unicodeScalars.last,
           !CharacterClass.isSpace(first), !CharacterClass.isSpace(last) {
            return self
        }
        guard let start = firstIndex(where: { !$0.isWhitespace }),
              let end = lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(self[start...end])
    }
}

enum CharacterClass {
    /// Whitespace, decided cheaply for the common ASCII and CJK scalars.
    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x21...0x7E, 0x4E00...0x9FFF: return false
        case 0x00...0x20: return true
        default: return scalar.properties.isWhitespace
        }
    }
}

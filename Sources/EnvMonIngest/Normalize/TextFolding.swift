/// Folding of header names, codes and tokens so that the spellings Excel users produce
/// (full-width letters, odd spacing, Roman numeral characters) compare equal.
enum TextFolding {
    /// Full-width ASCII and ideographic space to ASCII, Roman numeral characters to letters,
    /// micro sign to Greek mu, superscript digits to digits. Keeps case and spacing.
    static func widthFolded(_ text: String) -> String {
        // Most cells are plain ASCII: nothing to fold.
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let value = scalar.value
            switch value {
            case 0xFF01...0xFF5E:
                out.append(Unicode.Scalar(value - 0xFEE0) ?? scalar)
            case 0x3000:
                out.append(" ")
            case 0x00B5:
                out.append("\u{03BC}")
            case 0x00B2:
                out.append("2")
            case 0x00B3:
                out.append("3")
            case 0x2014, 0x2015, 0x2013, 0x2212:
                // Em dash, horizontal bar, en dash and minus sign: what Excel users type as "-".
                out.append("-")
            case 0x2160...0x216B, 0x2170...0x217B:
                let romans = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]
                let index = Int(value >= 0x2170 ? value - 0x2170 : value - 0x2160)
                out.append(contentsOf: romans[index].unicodeScalars)
            default:
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// The comparison key of a header or code: width-folded, lower-cased, without whitespace,
    /// underscores or hyphens (so `Enterprise ID`, `enterprise_id` and `NH3-N`/`nh3n` match).
    static func key(_ text: String) -> String {
        // ASCII (most codes, units and English headers): one pass over the bytes.
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(text.utf8.count)
            for byte in text.utf8 where !(byte <= 0x20 || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")) {
                bytes.append(byte >= 65 && byte <= 90 ? byte + 32 : byte)
            }
            return String(decoding: bytes, as: UTF8.self)
        }
        var out = String.UnicodeScalarView()
        for scalar in widthFolded(text).unicodeScalars {
            if scalar == "_" || scalar == "-" || CharacterClass.isSpace(scalar) { continue }
            if scalar.value >= 65 && scalar.value <= 90 {
                out.append(Unicode.Scalar(scalar.value + 32) ?? scalar)
            } else if scalar.value >= 0x80, scalar.properties.changesWhenLowercased {
                out.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// Width-folded and trimmed: the form in which cell values are parsed.
    static func trimmed(_ text: String) -> String {
        widthFolded(text).trimmingSpaces
    }

    /// Splits a trailing bracketed unit: `COD(mg/L)` → (`COD`, `mg/L`); `面积（公顷）` → (`面积`, `公顷`).
    static func splitTrailingUnit(_ header: String) -> (name: String, unit: String)? {
        let folded = trimmed(header)
        guard let last = folded.last, last == ")" || last == "]" else { return nil }
        let opener: Character = last == ")" ? "(" : "["
        guard let open = folded.lastIndex(of: opener) else { return nil }
        let name = String(folded[..<open])
        let unit = String(folded[folded.index(after: open)..<folded.index(before: folded.endIndex)])
        guard !trimmed(name).isEmpty else { return nil }
        return (name, trimmed(unit))
    }
}

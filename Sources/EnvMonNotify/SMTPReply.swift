/// One reply of an SMTP server: a three-digit code and its text lines (RFC 5321 §4.2).
struct SMTPReply: Sendable, Equatable {
    var code: Int
    /// The text after the code on each line, in order; one element for a single-line reply.
    var lines: [String]

    /// 2xx and 3xx: the command was accepted (3xx asks for more input).
    var isPositive: Bool { (200..<400).contains(code) }
    /// 4xx: the server may accept the same command later.
    var isTransientFailure: Bool { (400..<500).contains(code) }

    /// The reply as the server sent it, on one line, for error reasons and logs.
    var summary: String {
        let text = lines.joined(separator: " / ").trimmingSpaces
        return text.isEmpty ? "\(code)" : "\(code) \(text)"
    }
}

/// Why bytes from the server are not an SMTP reply.
struct SMTPProtocolViolation: Error, Sendable, Equatable {
    var reason: String
}

/// Assembles replies from the server's lines, including multi-line ones (`250-…` … `250 …`).
///
/// Pure: the connection handler feeds it one line at a time, without the line ending.
struct SMTPReplyParser: Sendable {
    /// A server that never ends a multi-line reply must not grow memory without bound.
    static let maximumLinesPerReply = 256

    private var code: Int?
    private var lines: [String] = []

    init() {}

    /// Takes one line; returns the reply when this line completes it, else nil.
    mutating func feed(line: String) throws(SMTPProtocolViolation) -> SMTPReply? {
        let bytes = Array(line.utf8)
        guard bytes.count >= 3, bytes[0...2].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            throw SMTPProtocolViolation(reason: "not an SMTP reply line: \(line.prefix(80))")
        }
        let lineCode = bytes[0...2].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        guard (200...599).contains(lineCode) else {
            throw SMTPProtocolViolation(reason: "reply code \(lineCode) is outside 200–599")
        }
        let isLast: Bool
        if bytes.count == 3 {
            isLast = true
        } else if bytes[3] == UInt8(ascii: " ") {
            isLast = true
        } else if bytes[3] == UInt8(ascii: "-") {
            isLast = false
        } else {
            throw SMTPProtocolViolation(reason: "reply code not followed by space or hyphen: \(line.prefix(80))")
        }
        if let code, code != lineCode {
            throw SMTPProtocolViolation(reason: "multi-line reply changed its code from \(code) to \(lineCode)")
        }
        code = lineCode
        lines.append(bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : "")
        if isLast {
            let reply = SMTPReply(code: lineCode, lines: lines)
            code = nil
            lines = []
            return reply
        }
        guard lines.count < Self.maximumLinesPerReply else {
            throw SMTPProtocolViolation(reason: "multi-line reply longer than \(Self.maximumLinesPerReply) lines")
        }
        return nil
    }
}

/// What a server offers in its EHLO reply (RFC 5321 §4.1.1.1): the lines after the greeting.
struct SMTPServerCapabilities: Sendable, Equatable {
    var supportsStartTLS = false
    /// SASL mechanisms named by `AUTH` (upper case), e.g. PLAIN, LOGIN, CRAM-MD5.
    var authMechanisms: Set<String> = []

    /// Capabilities of a server that answered HELO, or EHLO with nothing beyond the greeting.
    static let none = SMTPServerCapabilities()

    init() {}

    init(ehloReply: SMTPReply) {
        for line in ehloReply.lines.dropFirst() {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "=" }).map { $0.uppercased() }
            guard let keyword = words.first else { continue }
            switch keyword {
            case "STARTTLS":
                supportsStartTLS = true
            case "AUTH":
                authMechanisms.formUnion(words.dropFirst())
            default:
                continue
            }
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var scalars = Substring(self)
        while scalars.first?.isWhitespace == true { scalars = scalars.dropFirst() }
        while scalars.last?.isWhitespace == true { scalars = scalars.dropLast() }
        return String(scalars)
    }
}

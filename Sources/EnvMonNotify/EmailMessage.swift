public import Foundation

/// A mailbox: an address with an optional display name, e.g. `环境监测 <envmon@example.gov.cn>`.
public struct MailAddress: Sendable, Equatable, CustomStringConvertible {
    public var displayName: String?
    /// `local@domain`, as it goes into MAIL FROM / RCPT TO.
    public var address: String

    /// Parses `addr@domain` or `Name <addr@domain>`; nil when it is not a plain address
    /// (no `@`, spaces, angle brackets or line breaks — which could smuggle SMTP commands).
    public init?(_ text: String) {
        var text = text.trimmingSpaces
        var name: String?
        if text.hasSuffix(">"), let open = text.lastIndex(of: "<") {
            let rawName = String(text[..<open]).trimmingSpaces
            let unquoted = rawName.count >= 2 && rawName.hasPrefix("\"") && rawName.hasSuffix("\"")
                ? String(rawName.dropFirst().dropLast()) : rawName
            name = unquoted.isEmpty ? nil : unquoted
            text = String(text[text.index(after: open)..<text.index(before: text.endIndex)])
        }
        let forbidden: Set<Character> = ["<", ">", "\r", "\n", " ", "\t", ",", ";", "\"", "\0"]
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, !text.contains(where: forbidden.contains),
              text.utf8.count <= 254
        else { return nil }
        if let name, name.contains(where: { $0 == "\r" || $0 == "\n" }) { return nil }
        self.displayName = name
        self.address = text
    }

    /// The mailbox as a header shows it, with a non-ASCII name as RFC 2047 encoded-words.
    var headerText: String {
        guard let displayName else { return address }
        if displayName.allSatisfy({ $0.isASCII }) {
            let escaped = displayName.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return "\"\(escaped)\" <\(address)>"
        }
        return MIMEText.encodedWords(displayName).joined(separator: " ") + " <\(address)>"
    }

    public var description: String { displayName.map { "\($0) <\(address)>" } ?? address }
}

/// An email ready to send: RFC 5322 headers and a multipart/alternative text + HTML body.
public struct EmailMessage: Sendable, Equatable {
    public var from: MailAddress
    public var to: [MailAddress]
    public var subject: String
    public var textBody: String
    public var htmlBody: String
    public var date: Date
    /// `<…@domain>`; unique per message so that mail clients thread and deduplicate correctly.
    public var messageID: String
    /// The zone the Date header is written in (the feed time zone).
    public var timeZone: TimeZone

    public init(
        from: MailAddress, to: [MailAddress], subject: String, textBody: String, htmlBody: String,
        date: Date = Date(), messageID: String? = nil, timeZone: TimeZone = .current
    ) {
        self.from = from
        self.to = to
        self.subject = subject
        self.textBody = textBody
        self.htmlBody = htmlBody
        self.date = date
        let domain = from.address.split(separator: "@").last.map(String.init) ?? "envmon.invalid"
        self.messageID = messageID ?? "<\(UUID().uuidString.lowercased())@\(domain)>"
        self.timeZone = timeZone
    }

    /// The whole message with CRLF line endings, as it goes after DATA (before dot-stuffing).
    public func rendered(boundary: String? = nil) -> String {
        let boundary = boundary ?? "envmon-\(UUID().uuidString.lowercased())"
        var lines: [String] = [
            "From: \(from.headerText)",
            "To: " + to.map(\.headerText).joined(separator: ",\r\n "),
            "Subject: " + MIMEText.headerValue(subject),
            "Date: " + MIMEText.dateHeader(date, timeZone: timeZone),
            "Message-ID: \(messageID)",
            "MIME-Version: 1.0",
            // RFC 3834: tells vacation responders and mailing lists not to answer an automatic mail.
            "Auto-Submitted: auto-generated",
            "Content-Type: multipart/alternative; boundary=\"\(boundary)\"",
            "",
            "This is a MIME message in UTF-8 text and HTML.",
        ]
        for (type, body) in [("text/plain", textBody), ("text/html", htmlBody)] {
            lines += ["--\(boundary)", "Content-Type: \(type); charset=UTF-8", "Content-Transfer-Encoding: base64", ""]
            lines += MIMEText.base64Lines(Array(body.utf8))
        }
        lines.append("--\(boundary)--")
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}

/// The encodings that keep Chinese text intact through 7-bit mail transport.
enum MIMEText {
    /// An encoded-word's longest form (RFC 2047 §2).
    static let maximumEncodedWordLength = 75
    private static let wordPrefix = "=?UTF-8?B?"
    private static let wordSuffix = "?="

    /// A header value: as is when plain ASCII, else RFC 2047 encoded-words folded onto lines.
    static func headerValue(_ text: String) -> String {
        // A header value must stay on its line: line breaks in input become spaces.
        let oneLine = text.map { $0 == "\r" || $0 == "\n" || $0 == "\r\n" ? " " : String($0) }.joined()
        if oneLine.allSatisfy({ $0.isASCII }), oneLine.utf8.count <= 900 { return oneLine }
        return encodedWords(oneLine).joined(separator: "\r\n ")
    }

    /// `=?UTF-8?B?…?=` words of at most 75 characters, each holding whole characters, so that
    /// no mail client shows half a Chinese character at a word boundary.
    static func encodedWords(_ text: String) -> [String] {
        // 75 minus the 12 characters of prefix and suffix leaves 63, i.e. 15 base64 quanta = 45 bytes.
        let capacity = (maximumEncodedWordLength - wordPrefix.count - wordSuffix.count) / 4 * 3
        var words: [String] = []
        var chunk: [UInt8] = []
        func flush() {
            if !chunk.isEmpty { words.append(wordPrefix + Data(chunk).base64EncodedString() + wordSuffix) }
            chunk = []
        }
        for character in text {
            var pieces = [Array(String(character).utf8)]
            if pieces[0].count > capacity {
                // A grapheme longer than a word (long emoji sequences) is split between scalars.
                pieces = character.unicodeScalars.map { Array(String($0).utf8) }
            }
            for piece in pieces {
                if chunk.count + piece.count > capacity { flush() }
                chunk += piece
            }
        }
        flush()
        return words.isEmpty ? [wordPrefix + wordSuffix] : words
    }

    /// Base64 in lines of 76 characters (RFC 2045 §6.8).
    static func base64Lines(_ bytes: [UInt8]) -> [String] {
        let encoded = Array(Data(bytes).base64EncodedString().utf8)
        return stride(from: 0, to: encoded.count, by: 76).map {
            String(decoding: encoded[$0..<min($0 + 76, encoded.count)], as: UTF8.self)
        }
    }

    /// RFC 5322 §3.3 date, e.g. `Mon, 30 Nov 2026 20:15:00 +0800`.
    static func dateHeader(_ date: Date, timeZone: TimeZone) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter.string(from: date)
    }

    /// The DATA payload: CRLF line endings throughout, a leading `.` doubled on every line
    /// (RFC 5321 §4.5.2), ending with the terminating `CRLF.CRLF`.
    static func dataPayload(_ message: String) -> String {
        var lines = message.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        let stuffed = lines.map { $0.hasPrefix(".") ? "." + $0 : String($0) }
        return stuffed.joined(separator: "\r\n") + "\r\n.\r\n"
    }
}

import Foundation
import Testing

/// A message as the SMTP server stored it, taken apart the way a mail client would:
/// unfolded headers, RFC 2047 words decoded, base64 MIME parts decoded as UTF-8.
public struct ReceivedEmail {
    public var headers: [(name: String, value: String)]
    public var parts: [(contentType: String, text: String)]

    public init(raw: String) throws {
        let normalised = raw.replacingOccurrences(of: "\r\n", with: "\n")
        let split = try #require(normalised.range(of: "\n\n"))
        let headerBlock = normalised[..<split.lowerBound].replacingOccurrences(of: "\n ", with: " ")
            .replacingOccurrences(of: "\n\t", with: " ")
        headers = headerBlock.split(separator: "\n").compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
        }
        let body = String(normalised[split.upperBound...])
        let contentType = headers.first { $0.name.lowercased() == "content-type" }?.value ?? ""
        let boundary = try #require(contentType.components(separatedBy: "boundary=\"").dropFirst().first?.split(separator: "\"").first)
        parts = []
        for section in body.components(separatedBy: "--\(boundary)").dropFirst() where !section.hasPrefix("--") {
            let pieces = try #require(section.range(of: "\n\n"))
            let partHeaders = section[..<pieces.lowerBound].lowercased()
            let type = partHeaders.split(separator: "\n").first { $0.hasPrefix("content-type:") }.map(String.init) ?? ""
            #expect(partHeaders.contains("content-transfer-encoding: base64"))
            let lines = section[pieces.upperBound...].split(separator: "\n")
            #expect(lines.allSatisfy { $0.count <= 76 }, "base64 lines of at most 76 characters")
            let data = try #require(Data(base64Encoded: lines.joined()))
            parts.append((type, try #require(String(data: data, encoding: .utf8))))
        }
    }

    /// A message as the SMTP harness records it (`content_base64`: the raw DATA).
    public init(record: [String: Any]) throws {
        let raw = try #require(Data(base64Encoded: record["content_base64"] as? String ?? ""))
        try self.init(raw: String(decoding: raw, as: UTF8.self))
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    public var subject: String { Self.decodeEncodedWords(header("Subject") ?? "") }
    public var text: String { parts.first { $0.contentType.contains("text/plain") }?.text ?? "" }
    public var html: String { parts.first { $0.contentType.contains("text/html") }?.text ?? "" }

    /// Decodes `=?UTF-8?B?…?=` words (RFC 2047), dropping the spaces between adjacent words.
    public static func decodeEncodedWords(_ value: String) -> String {
        var bytes: [UInt8] = []
        var rest = Substring(value)
        while let start = rest.range(of: "=?UTF-8?B?") {
            let between = rest[..<start.lowerBound]
            if !between.allSatisfy({ $0 == " " }) || bytes.isEmpty { bytes += Array(between.utf8) }
            guard let end = rest[start.upperBound...].range(of: "?=") else { break }
            bytes += Data(base64Encoded: String(rest[start.upperBound..<end.lowerBound])).map(Array.init) ?? Array("<bad base64>".utf8)
            rest = rest[end.upperBound...]
        }
        bytes += Array(rest.utf8)
        return String(decoding: bytes, as: UTF8.self)
    }
}

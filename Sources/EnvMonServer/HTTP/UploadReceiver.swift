import Crypto
import EnvMonDomain
import EnvMonIngest
import Foundation
import Hummingbird
import HummingbirdCore
import MultipartKit
import NIOCore

/// A request body written to a temporary file: its SHA-256, size and encoding are computed as
/// it streams past, so no upload is ever held in memory.
struct ReceivedFile {
    var url: URL
    var sha256: String
    var size: Int64
    var detectedEncoding: FeedEncoding
    /// The multipart part's `filename`.
    var fileName: String?
    /// The media type of the file itself (the part's Content-Type for multipart).
    var mediaType: String?
}

/// The media types `POST /v1/uploads` accepts, and the format each implies.
enum UploadMediaType {
    static let formats: [String: FeedFormat] = [
        "text/csv": .csv, "application/csv": .csv, "text/plain": .auto, "application/json": .json,
        "application/x-ndjson": .ndjson, "application/ndjson": .ndjson, "application/jsonl": .ndjson,
        "application/octet-stream": .auto,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": .xlsx,
        // What browsers send for .xls: the content decides (a legacy workbook is refused with advice).
        "application/vnd.ms-excel": .auto,
    ]
    static let multipart = "multipart/form-data"
    static var allowed: [String] { formats.keys.sorted() + [multipart] }

    /// `text/csv; charset=utf-8` → ("text/csv", ["charset": "utf-8"]).
    static func parse(_ header: String) -> (type: String, parameters: [String: String]) {
        let pieces = header.split(separator: ";")
        let type = pieces.first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        var parameters: [String: String] = [:]
        for piece in pieces.dropFirst() {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            let name = piece[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var value = piece[piece.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            parameters[name] = value
        }
        return (type, parameters)
    }
}

/// Streams a request body (raw, or the `file` part of multipart/form-data) into a file.
struct UploadReceiver {
    let directory: URL
    let limit: Int64

    func receive(_ body: RequestBody, mediaType: String, boundary: String?) async throws -> ReceivedFile {
        let url = directory.appendingPathComponent("envmon-upload-\(UUID().uuidString)")
        // 0600: an upload may hold what only the bureau should read, also while it arrives.
        guard FileManager.default.createFile(atPath: url.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw ReceiveFailure(detail: "cannot create a temporary file in \(directory.path)")
        }
        do {
            return try await write(body, to: url, mediaType: mediaType, boundary: boundary)
        } catch {
            try? FileManager.default.removeItem(at: url)
            throw error
        }
    }

    private func write(_ body: RequestBody, to url: URL, mediaType: String, boundary: String?) async throws -> ReceivedFile {
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        var digest = SHA256()
        var sniffer = EncodingSniffer()
        var size: Int64 = 0
        var received: Int64 = 0
        func keep(_ buffer: ByteBuffer) throws {
            try buffer.withUnsafeReadableBytes { bytes in
                digest.update(bufferPointer: bytes)
                sniffer.consume(bytes)
                try handle.write(contentsOf: bytes)
            }
            size += Int64(buffer.readableBytes)
        }
        var part: MultipartFilePart?
        if let boundary {
            guard !boundary.isEmpty, boundary.utf8.count <= 200 else {
                throw APIError.badRequest("multipart/form-data needs a boundary parameter in Content-Type")
            }
            part = MultipartFilePart(boundary: boundary)
        }
        for try await buffer in body {
            received += Int64(buffer.readableBytes)
            if received > limit { throw APIError.tooLarge(limit: limit) }
            if let part {
                for piece in try part.feed(buffer) { try keep(piece) }
            } else {
                try keep(buffer)
            }
        }
        if let part {
            guard part.found else {
                throw APIError.unprocessable("no_file_part", "the multipart body has no complete part named 'file'")
            }
            return ReceivedFile(url: url, sha256: Self.hex(digest.finalize()), size: size, detectedEncoding: sniffer.finish(),
                                fileName: part.fileName, mediaType: part.contentType)
        }
        return ReceivedFile(url: url, sha256: Self.hex(digest.finalize()), size: size, detectedEncoding: sniffer.finish(),
                            fileName: nil, mediaType: mediaType)
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}

/// The body could not be stored.
struct ReceiveFailure: Error, CustomStringConvertible {
    let detail: String
    var description: String { detail }
}

/// Picks the part named `file` out of a multipart/form-data stream, chunk by chunk.
final class MultipartFilePart {
    private let parser: MultipartParser
    private var inFilePart = false
    private var pending: [ByteBuffer] = []
    private var partType: String?
    private(set) var found = false
    private(set) var fileName: String?
    private(set) var contentType: String?

    init(boundary: String) {
        parser = MultipartParser(boundary: boundary)
        parser.onHeader = { [unowned self] name, value in self.header(name, value) }
        parser.onBody = { [unowned self] buffer in
            if self.inFilePart { self.pending.append(buffer.readSlice(length: buffer.readableBytes) ?? ByteBuffer()) }
        }
        parser.onPartComplete = { [unowned self] in
            if self.inFilePart {
                self.found = true
                self.contentType = self.partType
            }
            self.inFilePart = false
            self.partType = nil
        }
    }

    /// Feeds the next chunk of the body; returns the bytes of the file part it contained.
    func feed(_ buffer: ByteBuffer) throws -> [ByteBuffer] {
        do {
            try parser.execute(buffer)
        } catch {
            throw APIError.badRequest("the multipart/form-data body is malformed")
        }
        defer { pending.removeAll(keepingCapacity: true) }
        return pending
    }

    private func header(_ name: String, _ value: String) {
        switch name.lowercased() {
        case "content-disposition":
            let (_, parameters) = UploadMediaType.parse(value)
            // Only the first part named `file` counts.
            if parameters["name"] == "file", !found {
                inFilePart = true
                fileName = parameters["filename"].map { ($0 as NSString).lastPathComponent }
            }
        case "content-type":
            // Headers of a part may come in any order: kept until the part is complete.
            partType = UploadMediaType.parse(value).type
        default:
            break
        }
    }
}

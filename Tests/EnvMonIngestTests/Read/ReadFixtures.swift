import EnvMonDomain
import EnvMonIngest
import Foundation

/// Shared inputs for the reader tests: a small waste feed, and ways to feed it in chunks.
enum ReadFixtures {
    static let header = "district,period,collected_t,harmless_t"
    static let options = IngestOptions(
        kind: .waste, now: Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01
    )

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// Hex text to bytes, for fixtures made with `iconv` in a shell.
    static func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16) ?? 0)
            index = next
        }
        return bytes
    }

    /// UTF-16LE with BOM, as Excel's "Unicode text" writes.
    static func utf16LE(_ text: String) -> [UInt8] {
        [0xFF, 0xFE] + text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
    }

    /// Runs a whole upload through `FeedIngestor` in chunks of `chunkSize` bytes.
    static func ingest(
        _ bytes: [UInt8], chunkSize: Int, encoding: FeedEncoding = .utf8, format: FeedFormat = .auto,
        options: IngestOptions = options
    ) throws(FeedError) -> (output: IngestOutput, counts: IngestCounts, format: FeedFormat?) {
        var ingestor = FeedIngestor(options: options, encoding: encoding, format: format)
        var all = IngestOutput()
        var start = 0
        while start < bytes.count {
            let chunk = Array(bytes[start..<min(start + chunkSize, bytes.count)])
            let part = try chunk.withUnsafeBytes { buffer in
                Result { () throws(FeedError) in try ingestor.consume(buffer) }
            }.get()
            all.records += part.records
            all.rejections += part.rejections
            start += chunkSize
        }
        let rest = try ingestor.finish()
        all.records += rest.records
        all.rejections += rest.rejections
        return (all, ingestor.counts, ingestor.detectedFormat)
    }

    /// The error a failing upload reports, or nil when it succeeds.
    static func failure(
        _ bytes: [UInt8], encoding: FeedEncoding = .utf8, format: FeedFormat = .auto
    ) -> FeedError? {
        do {
            _ = try ingestAll(bytes: bytes, options: options, encoding: encoding, format: format)
            return nil
        } catch {
            return error
        }
    }
}

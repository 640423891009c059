import FuzzSupport
import EnvMonDomain
import EnvMonIngest
import Foundation

/// One input: its first byte picks the feed kind, format and encoding; the second a chunk
/// size; the rest is the file. It goes through FeedIngestor exactly as an upload does (CSV,
/// JSON, NDJSON, GB18030/UTF-8/UTF-16 decoding, normalisation and validation). Thrown FeedErrors
/// are the readers' way of refusing a file; anything else (a trap, a leak, a hang) is a finding.
@_cdecl("FuzzFeeds_main")
public func entry(argc: Int32, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc: argc, argv: argv, fuzz)
}

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    guard size >= 2 else { return 0 }
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let selector = Int(bytes[0])
    let kinds = FeedKind.allCases
    let formats: [FeedFormat] = [.auto, .csv, .json, .ndjson]
    let encodings: [FeedEncoding] = [.utf8, .gb18030, .auto]
    let kind = kinds[selector % kinds.count]
    let format = formats[(selector / kinds.count) % formats.count]
    let encoding = encodings[(selector / (kinds.count * formats.count)) % encodings.count]
    let chunk = max(1, Int(bytes[1]) * 16)
    let body = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[2...])
    var ingestor = FeedIngestor(options: IngestOptions(kind: kind, now: Date(timeIntervalSince1970: 1_767_225_600)),
                                encoding: encoding == .auto ? .utf8 : encoding, format: format)
    do {
        var start = 0
        while start < body.count {
            let end = min(start + chunk, body.count)
            _ = try ingestor.consume(UnsafeRawBufferPointer(rebasing: body[start..<end]))
            start = end
        }
        _ = try ingestor.finish()
    } catch {
        _ = error.description
    }
    return 0
}

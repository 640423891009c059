import Foundation
@testable import EnvMonHJ212

/// The real packets of shared/data/hj212_samples.txt and the code table CSV, copied to Fixtures/.
enum Fixtures {
    struct Sample: Sendable, CustomStringConvertible {
        /// The packet line, without CRLF.
        var line: String
        /// The comment naming its source.
        var source: String
        /// Whether the source says the CRC verifies.
        var verified: Bool

        /// The frame as sent: the line plus CRLF.
        var wire: [UInt8] { Array(line.utf8) + [13, 10] }
        /// The data segment between the length field and the CRC.
        var segment: [UInt8] { Array(line.utf8.dropFirst(6).dropLast(4)) }
        var description: String { String(line.prefix(40)) }
    }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func text(_ name: String) -> String {
        (try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)) ?? ""
    }

    static let samples: [Sample] = {
        var result: [Sample] = []
        var comment = ""
        for line in text("hj212_samples.txt").split(separator: "\n").map(String.init) {
            if line.hasPrefix("# SOURCE:") {
                comment = line
            } else if line.hasPrefix("##") {
                result.append(Sample(line: line, source: comment, verified: !comment.contains("NEGATIVE")))
            }
        }
        return result
    }()

    static var verified: [Sample] { samples.filter(\.verified) }
    static var negative: [Sample] { samples.filter { !$0.verified } }

    static func sample(containing text: String) -> Sample? {
        samples.first { $0.line.contains(text) }
    }

    static let china = TimeZone(secondsFromGMT: 8 * 3600) ?? .gmt

    /// Feeds every chunk and collects the events, then `finish()`.
    static func decode(_ chunks: [[UInt8]], maximumBuffer: Int = HJ212FrameDecoder.defaultMaximumBuffer)
        -> [HJ212FrameEvent]
    {
        var decoder = HJ212FrameDecoder(maximumBuffer: maximumBuffer)
        var events: [HJ212FrameEvent] = []
        for chunk in chunks { events += decoder.feed(chunk) }
        return events + decoder.finish()
    }

    static func frames(_ events: [HJ212FrameEvent]) -> [HJ212Frame] {
        events.compactMap { if case .frame(let frame) = $0 { frame } else { nil } }
    }

    /// A time in China Standard Time.
    static func date(_ text: String) -> Date {
        HJ212Time.parse(text, in: china) ?? .distantPast
    }
}

/// A small seeded PRNG (SplitMix64), so random tests repeat exactly.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

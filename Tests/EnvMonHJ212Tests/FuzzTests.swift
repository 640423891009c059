import Testing
@testable import EnvMonHJ212

/// Random bytes and random split points: the decoder and parser never crash, never exceed their
/// bound, and account for every byte.
@Suite("Random input")
struct FuzzTests {
    /// Bytes biased towards the protocol's own characters so that headers and terminators occur.
    static func randomStream(_ rng: inout SplitMix64, length: Int) -> [UInt8] {
        let alphabet = Array("##0123456789ABCDEFabcdef\r\n;=,&-QNCP".utf8)
        let pieces = Fixtures.samples.map(\.wire)
        var bytes: [UInt8] = []
        while bytes.count < length {
            switch rng.next() % 10 {
            case 0:
                if let piece = pieces.randomElement(using: &rng) {
                    let cut = Int(rng.next() % UInt64(piece.count + 1))
                    bytes += rng.next() % 2 == 0 ? piece : Array(piece[..<cut])
                }
            case 1, 2, 3:
                bytes.append(UInt8(truncatingIfNeeded: rng.next()))
            default:
                bytes.append(alphabet[Int(rng.next() % UInt64(alphabet.count))])
            }
        }
        return bytes
    }

    @Test("3000 random streams with random splits")
    func randomStreams() {
        var rng = SplitMix64(seed: 0x212_2017)
        var framesSeen = 0
        for _ in 0..<3000 {
            let stream = Self.randomStream(&rng, length: Int(rng.next() % 600))
            let limit = [16, 64, 256, 16 * 1024][Int(rng.next() % 4)]
            var decoder = HJ212FrameDecoder(maximumBuffer: limit)
            var events: [HJ212FrameEvent] = []
            var offset = 0
            while offset < stream.count {
                let size = Int(rng.next() % 40) + 1
                let end = min(stream.count, offset + size)
                events += decoder.feed(stream[offset..<end])
                #expect(decoder.bufferedByteCount < decoder.maximumBuffer)
                offset = end
            }
            events += decoder.finish()
            var accounted = 0
            var fatal = false
            for event in events {
                switch event {
                case .frame(let frame):
                    accounted += frame.raw.count
                    framesSeen += 1
                    // The parser must not crash on whatever the frame holds.
                    _ = try? HJ212Packet(parsing: frame.segment).readingSet(in: Fixtures.china)
                case .skipped(let count): accounted += count
                case .discarded(let reason): accounted += reason.byteCount
                case .fatal: fatal = true
                }
            }
            if !fatal { #expect(accounted == stream.count) }
        }
        #expect(framesSeen > 100)
    }

    @Test("random segments never crash the parser")
    func randomSegments() {
        var rng = SplitMix64(seed: 42)
        let base = Fixtures.verified.map(\.segment)
        for _ in 0..<2000 {
            guard var segment = base.randomElement(using: &rng) else { continue }
            for _ in 0..<Int(rng.next() % 4) where !segment.isEmpty {
                let index = Int(rng.next() % UInt64(segment.count))
                switch rng.next() % 3 {
                case 0: segment[index] = UInt8(truncatingIfNeeded: rng.next() % 128)
                case 1: segment.remove(at: index)
                default: segment.insert(Array(";,=&-".utf8)[Int(rng.next() % 5)], at: index)
                }
            }
            if let packet = try? HJ212Packet(parsing: segment) {
                _ = try? packet.readingSet(in: Fixtures.china)
                _ = try? HJ212Encoder.encode(packet)
            }
        }
    }
}

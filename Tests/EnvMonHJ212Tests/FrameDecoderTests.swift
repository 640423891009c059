import Testing
@testable import EnvMonHJ212

@Suite("Frame decoder")
struct FrameDecoderTests {
    static let first = Fixtures.verified.first?.wire ?? []
    static let second = Fixtures.verified.dropFirst().first?.wire ?? []

    @Test("every real sample decodes as one frame with a valid CRC", arguments: Fixtures.verified)
    func realSample(sample: Fixtures.Sample) {
        let events = Fixtures.decode([sample.wire])
        #expect(events.count == 1)
        let frames = Fixtures.frames(events)
        #expect(frames.count == 1)
        #expect(frames.first?.crcValid == true)
        #expect(frames.first?.lengthMatches == true)
        #expect(frames.first?.raw == sample.wire)
        #expect(frames.first?.segment == sample.segment)
    }

    @Test("the negative samples frame but fail the CRC", arguments: Fixtures.negative)
    func negativeSample(sample: Fixtures.Sample) {
        let frames = Fixtures.frames(Fixtures.decode([sample.wire]))
        #expect(frames.count == 1)
        #expect(frames.first?.crcValid == false)
    }

    @Test("a packet fed one byte at a time decodes once")
    func byteByByte() {
        let events = Fixtures.decode(Self.first.map { [$0] })
        #expect(Fixtures.frames(events).count == 1)
        #expect(events.count == 1)
    }

    @Test("all samples in one feed decode in order")
    func allInOneFeed() {
        let stream = Fixtures.samples.flatMap(\.wire)
        let frames = Fixtures.frames(Fixtures.decode([stream]))
        #expect(frames.map(\.raw) == Fixtures.samples.map(\.wire))
        #expect(frames.filter(\.crcValid).count == Fixtures.verified.count)
    }

    @Test("a split across the CRLF and inside the header")
    func awkwardSplits() {
        let wire = Self.first
        for cut in [1, 2, 3, 5, 6, wire.count - 6, wire.count - 2, wire.count - 1] {
            let events = Fixtures.decode([Array(wire[..<cut]), Array(wire[cut...])])
            #expect(events.count == 1 && Fixtures.frames(events).count == 1, "cut at \(cut)")
        }
    }

    @Test("junk before ## is skipped and counted")
    func junkBefore() {
        let events = Fixtures.decode([Array("hello\r\n#x".utf8) + Self.first])
        #expect(events.first == .skipped(9))
        #expect(Fixtures.frames(events).count == 1)
    }

    @Test("a lone # at the end of a feed may start the next header")
    func loneHashKept() {
        let wire = Self.first
        let events = Fixtures.decode([Array("abc#".utf8), Array(wire.dropFirst())])
        #expect(events == [.skipped(3)] + Fixtures.decode([wire]))
    }

    @Test("junk between two packets is skipped")
    func junkBetween() {
        let events = Fixtures.decode([Self.first + Array("\r\n\0\0xyz".utf8) + Self.second])
        #expect(Fixtures.frames(events).count == 2)
        #expect(events.contains(.skipped(7)))
    }

    @Test("a length field that is not digits is discarded and the next packet decodes")
    func badLengthDigits() {
        let bad = Array("##01x1QN=1;CP=&&&&".utf8)
        let events = Fixtures.decode([bad + Self.first])
        guard case .discarded(.invalidLength(let text, let count)) = events.first else {
            Issue.record("expected invalidLength, got \(events)")
            return
        }
        #expect(text == "01x1")
        #expect(count == bad.count)
        #expect(Fixtures.frames(events).count == 1)
    }

    @Test("### before a packet: the extra # is not taken for the header")
    func tripleHash() {
        let events = Fixtures.decode([Array("#".utf8) + Self.first])
        #expect(Fixtures.frames(events).count == 1)
        #expect(events.first == .discarded(.invalidLength(text: "#010", byteCount: 1)))
    }

    @Test("a packet without CRLF is discarded at the next ##")
    func missingCRLF() {
        let cut = Array(Self.first.dropLast(2))
        let events = Fixtures.decode([cut + Self.second])
        #expect(events.first == .discarded(.missingTerminator(declaredLength: 101, byteCount: cut.count)))
        #expect(Fixtures.frames(events).map(\.raw) == [Self.second])
    }

    @Test("a truncated packet followed by another is discarded without waiting for the length")
    func truncatedThenGood() {
        let cut = Array(Self.first.prefix(40))
        let events = Fixtures.decode([cut + Self.second])
        #expect(events.first == .discarded(.missingTerminator(declaredLength: 101, byteCount: 40)))
        #expect(Fixtures.frames(events).count == 1)
    }

    @Test("a wrong length still frames at CRLF, flagged, with the CRC deciding", arguments: ["0099", "0150", "9999"])
    func wrongLength(length: String) throws {
        let sample = try #require(Fixtures.verified.first)
        let wire = Array(("##" + length + sample.line.dropFirst(6)).utf8) + [13, 10]
        var decoder = HJ212FrameDecoder()
        let events = decoder.feed(wire)
        let frame = try #require(Fixtures.frames(events).first)
        #expect(frame.lengthMatches == false)
        #expect(frame.declaredLength == Int(length))
        #expect(frame.crcValid)
        #expect(frame.segment == sample.segment)
    }

    @Test("a CRC of non-hex characters is discarded")
    func badCRCText() {
        let events = Fixtures.decode([Array("##0004ABCDzz!!\r\n".utf8) + Self.first])
        #expect(events.first == .discarded(.invalidCRC(text: "zz!!", byteCount: 16)))
        #expect(Fixtures.frames(events).count == 1)
    }

    @Test("a lower-case CRC is accepted")
    func lowerCaseCRC() throws {
        let sample = try #require(Fixtures.sample(containing: "&&cc01"))
        let frame = try #require(Fixtures.frames(Fixtures.decode([sample.wire])).first)
        #expect(frame.receivedCRC == 0xCC01 && frame.crcValid)
    }

    @Test("an empty segment frames")
    func emptySegment() {
        let wire = Array("##0000FFFF\r\n".utf8)
        let frame = Fixtures.frames(Fixtures.decode([wire])).first
        #expect(frame?.segment == [])
        #expect(frame?.crcValid == true)
    }

    @Test("a frame that cannot end within the bound is fatal, then nothing more is taken")
    func boundedBuffer() {
        var decoder = HJ212FrameDecoder(maximumBuffer: 64)
        let events = decoder.feed(Array("##0100".utf8) + Array(repeating: UInt8(ascii: "a"), count: 100))
        #expect(events == [.fatal(.frameExceedsBuffer(declaredLength: 100, limit: 64))])
        #expect(decoder.hasFailed)
        #expect(decoder.bufferedByteCount == 0)
        #expect(decoder.feed(Self.first).isEmpty)
        #expect(decoder.finish().isEmpty)
        #expect(Fixtures.frames(decoder.feed(Array("##0000FFFF\r\n".utf8))).count == 1, "finish() starts a new stream")
    }

    @Test("many complete frames in one large feed do not trip the bound")
    func largeFeedOfSmallFrames() {
        let stream = Array(repeatElement(Self.first, count: 400).joined())
        #expect(stream.count > 16 * 1024 * 2)
        let events = Fixtures.decode([stream], maximumBuffer: 256)
        #expect(Fixtures.frames(events).count == 400)
        #expect(events.count == 400)
    }

    @Test("the buffer holds no junk: megabytes without ## are skipped")
    func junkIsNotBuffered() {
        var decoder = HJ212FrameDecoder(maximumBuffer: 64)
        var skipped = 0
        for _ in 0..<100 {
            for event in decoder.feed(Array(repeating: UInt8(ascii: "x"), count: 10_000)) {
                if case .skipped(let count) = event { skipped += count }
            }
            #expect(decoder.bufferedByteCount == 0)
        }
        #expect(skipped == 1_000_000)
    }

    @Test("finish reports a truncated frame")
    func finishTruncated() {
        var decoder = HJ212FrameDecoder()
        #expect(decoder.feed(Self.first.prefix(30)).isEmpty)
        #expect(decoder.finish() == [.discarded(.truncated(byteCount: 30))])
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test("discard reasons describe what was dropped")
    func descriptions() {
        #expect(HJ212DiscardReason.invalidLength(text: "01x1", byteCount: 5).description.contains("01x1"))
        #expect(HJ212FatalReason.frameExceedsBuffer(declaredLength: 100, limit: 64).description.contains("64"))
    }
}

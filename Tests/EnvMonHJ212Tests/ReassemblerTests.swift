import Foundation
import Testing
@testable import EnvMonHJ212

@Suite("Split message reassembly")
struct ReassemblerTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func part(_ number: Int, of total: Int, qn: String = "20260101120000000", mn: String = "M1",
                     cp: String? = nil) throws -> HJ212Packet {
        let codes = ["a21026", "a21002", "a34013", "a19001"]
        let data = cp ?? "DataTime=20260101110000;\(codes[(number - 1) % codes.count])-Avg=\(number)"
        return try HJ212Packet(parsing: Array(
            "QN=\(qn);ST=31;CN=2061;PW=1;MN=\(mn);Flag=7;PNUM=\(total);PNO=\(number);CP=&&\(data)&&".utf8))
    }

    static func completed(_ events: [HJ212ReassemblyEvent]) -> [HJ212Packet] {
        events.compactMap { if case .complete(let packet) = $0 { packet } else { nil } }
    }

    @Test("an unsplit packet passes straight through")
    func unsplit() throws {
        var reassembler = HJ212Reassembler()
        let sample = try #require(Fixtures.verified.first)
        let packet = try HJ212Packet(parsing: sample.segment)
        #expect(reassembler.accept(packet, now: Self.t0) == [.complete(packet)])
        #expect(reassembler.pendingCount == 0)
    }

    @Test("three parts out of order join in PNO order with one DataTime")
    func outOfOrder() throws {
        var reassembler = HJ212Reassembler()
        #expect(reassembler.accept(try Self.part(3, of: 3), now: Self.t0).isEmpty)
        #expect(reassembler.accept(try Self.part(1, of: 3), now: Self.t0 + 1).isEmpty)
        #expect(reassembler.pendingCount == 1)
        let events = reassembler.accept(try Self.part(2, of: 3), now: Self.t0 + 2)
        let joined = try #require(Self.completed(events).first)
        #expect(joined.fields.map(\.code) == ["a21026", "a21002", "a34013"])
        #expect(joined.dataItems.filter { $0.key == "DataTime" }.count == 1)
        #expect(joined.pnum == nil && joined.pno == nil)
        #expect(joined.flag == 5 && !joined.isSplit && joined.needsReply)
        #expect(reassembler.pendingCount == 0)
        let readings = try joined.readings(in: Fixtures.china)
        #expect(readings.map(\.pollutant) == ["SO2", "NOx", "PM"])
        #expect(readings.map(\.avg) == [1, 2, 3])
    }

    @Test("messages are keyed by MN, QN and CN")
    func keyed() throws {
        var reassembler = HJ212Reassembler()
        _ = reassembler.accept(try Self.part(1, of: 2, mn: "A"), now: Self.t0)
        _ = reassembler.accept(try Self.part(1, of: 2, mn: "B"), now: Self.t0)
        _ = reassembler.accept(try Self.part(1, of: 2, qn: "20260101120000001", mn: "A"), now: Self.t0)
        #expect(reassembler.pendingCount == 3)
        let done = Self.completed(reassembler.accept(try Self.part(2, of: 2, mn: "B"), now: Self.t0))
        #expect(done.map(\.mn) == ["B"])
        #expect(reassembler.pendingCount == 2)
    }

    @Test("a message not complete within the timeout is given back with its parts")
    func timeout() throws {
        var reassembler = HJ212Reassembler(timeout: 30)
        let first = try Self.part(1, of: 3)
        _ = reassembler.accept(first, now: Self.t0)
        #expect(reassembler.nextDeadline == Self.t0 + 30)
        #expect(reassembler.expire(now: Self.t0 + 29).isEmpty)
        let events = reassembler.expire(now: Self.t0 + 30)
        guard case .failed(let partial, .timedOut) = events.first else {
            Issue.record("expected a timeout, got \(events)")
            return
        }
        #expect(partial.parts == [first])
        #expect(partial.missingPartNumbers == [2, 3])
        #expect(reassembler.pendingCount == 0 && reassembler.nextDeadline == nil)
    }

    @Test("a late part after the timeout starts a new message; accept expires old ones first")
    func lateParts() throws {
        var reassembler = HJ212Reassembler(timeout: 10)
        _ = reassembler.accept(try Self.part(1, of: 2), now: Self.t0)
        let events = reassembler.accept(try Self.part(2, of: 2), now: Self.t0 + 11)
        #expect(events.count == 1)
        if case .failed(_, .timedOut) = events.first {} else { Issue.record("expected timeout, got \(events)") }
        #expect(reassembler.pendingCount == 1)
    }

    @Test("duplicates, wrong PNUM and too many parts are rejected")
    func rejections() throws {
        var reassembler = HJ212Reassembler(maximumParts: 4)
        _ = reassembler.accept(try Self.part(1, of: 3), now: Self.t0)
        let duplicate = try Self.part(1, of: 3)
        #expect(reassembler.accept(duplicate, now: Self.t0) == [.rejected(duplicate, .duplicatePart(1))])
        let mismatch = try Self.part(2, of: 4)
        #expect(reassembler.accept(mismatch, now: Self.t0) == [.rejected(mismatch, .partCountMismatch(expected: 3, received: 4))])
        let huge = try Self.part(1, of: 5, qn: "2")
        #expect(reassembler.accept(huge, now: Self.t0) == [.rejected(huge, .tooManyParts(5, limit: 4))])
        #expect(reassembler.pendingCount == 1)
    }

    @Test("the pending bound evicts the oldest message")
    func eviction() throws {
        var reassembler = HJ212Reassembler(maximumPendingMessages: 2)
        _ = reassembler.accept(try Self.part(1, of: 2, mn: "A"), now: Self.t0)
        _ = reassembler.accept(try Self.part(1, of: 2, mn: "B"), now: Self.t0 + 1)
        let events = reassembler.accept(try Self.part(1, of: 2, mn: "C"), now: Self.t0 + 2)
        guard case .failed(let evicted, .evicted) = events.first else {
            Issue.record("expected an eviction, got \(events)")
            return
        }
        #expect(evicted.key.mn == "A")
        #expect(reassembler.pendingCount == 2)
    }

    @Test("parts with different DataTime fail with their parts given back")
    func conflictingTimes() throws {
        var reassembler = HJ212Reassembler()
        _ = reassembler.accept(try Self.part(1, of: 2, cp: "DataTime=20260101110000;a21026-Avg=1"), now: Self.t0)
        let events = reassembler.accept(try Self.part(2, of: 2, cp: "DataTime=20260101120000;a21002-Avg=1"), now: Self.t0)
        guard case .failed(let partial, .conflictingDataTime("20260101110000", "20260101120000")) = events.first else {
            Issue.record("expected a DataTime conflict, got \(events)")
            return
        }
        #expect(partial.parts.count == 2)
    }

    @Test("PNUM=1 is a whole message")
    func singlePart() throws {
        var reassembler = HJ212Reassembler()
        let done = Self.completed(reassembler.accept(try Self.part(1, of: 1), now: Self.t0))
        #expect(done.count == 1 && done.first?.pnum == nil)
    }
}

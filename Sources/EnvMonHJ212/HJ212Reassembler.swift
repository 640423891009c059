public import Foundation

/// Joins the parts of split messages (Flag bit D, `PNUM`/`PNO`) into one packet.
///
/// Parts share MN, QN and CN and are joined in PNO order: the joined packet has the first part's
/// header without PNUM/PNO and with bit D cleared, and the CP groups of every part in order (a
/// repeated `DataTime` equal to the first is dropped). Bounded in pending messages and parts;
/// time comes only from the caller's `now`, so tests need no clock.
///
/// ```swift
/// var reassembler = HJ212Reassembler()
/// for event in reassembler.accept(packet, now: .now) {
///     if case .complete(let message) = event { store(message) }
/// }
/// ```
public struct HJ212Reassembler: Sendable {
    /// What identifies the parts of one message.
    public struct Key: Sendable, Hashable, CustomStringConvertible {
        public var mn: String
        public var qn: String
        public var cn: String

        public init(mn: String, qn: String, cn: String) {
            self.mn = mn
            self.qn = qn
            self.cn = cn
        }

        public var description: String { "MN=\(mn) QN=\(qn) CN=\(cn)" }
    }

    /// The most messages waiting for parts; a new one beyond this evicts the oldest.
    public let maximumPendingMessages: Int
    /// The largest PNUM accepted.
    public let maximumParts: Int
    /// How long after its first part a message may wait for the rest.
    public let timeout: TimeInterval

    private var pending: [Key: HJ212PartialMessage] = [:]

    public init(maximumPendingMessages: Int = 64, maximumParts: Int = 64, timeout: TimeInterval = 60) {
        self.maximumPendingMessages = Swift.max(1, maximumPendingMessages)
        self.maximumParts = Swift.max(1, maximumParts)
        self.timeout = timeout
    }

    /// Messages waiting for parts.
    public var pendingCount: Int { pending.count }

    /// When the oldest pending message times out; nil when none is pending.
    public var nextDeadline: Date? {
        pending.values.map { $0.firstReceived.addingTimeInterval(timeout) }.min()
    }

    /// Takes one packet. Unsplit packets come straight back as `.complete`; parts are held until
    /// their message is whole. Messages that have timed out by `now` are reported first.
    public mutating func accept(_ packet: HJ212Packet, now: Date) -> [HJ212ReassemblyEvent] {
        var events = expire(now: now)
        guard let total = packet.pnum, let number = packet.pno else {
            events.append(.complete(packet))
            return events
        }
        guard total <= maximumParts else {
            events.append(.rejected(packet, .tooManyParts(total, limit: maximumParts)))
            return events
        }
        guard number >= 1, number <= total else {
            events.append(.rejected(packet, .partNumberOutOfRange(number, total: total)))
            return events
        }
        let key = Key(mn: packet.mn, qn: packet.qn ?? "", cn: packet.cn)
        var message: HJ212PartialMessage
        if let existing = pending[key] {
            message = existing
            guard message.expectedParts == total else {
                events.append(.rejected(packet, .partCountMismatch(expected: message.expectedParts, received: total)))
                return events
            }
            guard !message.parts.contains(where: { $0.pno == number }) else {
                events.append(.rejected(packet, .duplicatePart(number)))
                return events
            }
        } else {
            if pending.count >= maximumPendingMessages, let oldest = oldestKey() {
                if let evicted = pending.removeValue(forKey: oldest) {
                    events.append(.failed(evicted, .evicted))
                }
            }
            message = HJ212PartialMessage(key: key, expectedParts: total, parts: [], firstReceived: now)
        }
        message.parts.append(packet)
        message.parts.sort { ($0.pno ?? 0) < ($1.pno ?? 0) }
        guard message.parts.count == total else {
            pending[key] = message
            return events
        }
        pending[key] = nil
        switch message.joined() {
        case .success(let joined): events.append(.complete(joined))
        case .failure(let failure): events.append(.failed(message, failure))
        }
        return events
    }

    /// Gives back every message whose first part came `timeout` or more before `now`.
    public mutating func expire(now: Date) -> [HJ212ReassemblyEvent] {
        let expired = pending.values
            .filter { now >= $0.firstReceived.addingTimeInterval(timeout) }
            .sorted(by: Self.olderFirst)
        for message in expired { pending[message.key] = nil }
        return expired.map { .failed($0, .timedOut) }
    }

    private func oldestKey() -> Key? {
        pending.values.min(by: Self.olderFirst)?.key
    }

    private static func olderFirst(_ a: HJ212PartialMessage, _ b: HJ212PartialMessage) -> Bool {
        if a.firstReceived != b.firstReceived { return a.firstReceived < b.firstReceived }
        return (a.key.mn, a.key.qn, a.key.cn) < (b.key.mn, b.key.qn, b.key.cn)
    }
}

/// The parts received so far of one split message.
public struct HJ212PartialMessage: Sendable, Hashable {
    public var key: HJ212Reassembler.Key
    /// PNUM.
    public var expectedParts: Int
    /// The parts received, in PNO order.
    public var parts: [HJ212Packet]
    /// When the first part came.
    public var firstReceived: Date

    /// PNO values not received.
    public var missingPartNumbers: [Int] {
        let have = Set(parts.compactMap(\.pno))
        return (1...Swift.max(1, expectedParts)).filter { !have.contains($0) }
    }

    func joined() -> Result<HJ212Packet, HJ212ReassemblyFailure> {
        guard var message = parts.first else { return .failure(.timedOut) }
        let firstTime = message.dataTime
        var groups = message.dataGroups
        for part in parts.dropFirst() {
            if let time = part.dataTime, let firstTime, time != firstTime {
                return .failure(.conflictingDataTime(firstTime, time))
            }
            for group in part.dataGroups {
                let kept = group.filter { !($0.key == "DataTime" && firstTime != nil) }
                if !kept.isEmpty { groups.append(kept) }
            }
        }
        message.dataGroups = groups
        message.pnum = nil
        message.pno = nil
        message.flag = message.flag.map { $0 & ~0b10 }
        return .success(message)
    }
}

/// What the reassembler did with a packet or a pending message.
public enum HJ212ReassemblyEvent: Sendable, Hashable {
    /// A whole message: an unsplit packet, or the parts of a split one joined.
    case complete(HJ212Packet)
    /// A packet that cannot belong to any message; it is given back for the caller to record.
    case rejected(HJ212Packet, HJ212ReassemblyFailure)
    /// A message that will not complete; its parts are given back for the caller to record.
    case failed(HJ212PartialMessage, HJ212ReassemblyFailure)
}

/// Why reassembly did not give a message.
public enum HJ212ReassemblyFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// Not every part came within the timeout.
    case timedOut
    /// Too many messages were pending and this was the oldest.
    case evicted
    /// PNUM above the bound.
    case tooManyParts(Int, limit: Int)
    /// PNO outside 1…PNUM.
    case partNumberOutOfRange(Int, total: Int)
    /// A part with a different PNUM from the message's first part.
    case partCountMismatch(expected: Int, received: Int)
    /// A part number received twice (the first is kept).
    case duplicatePart(Int)
    /// Parts with different DataTime values.
    case conflictingDataTime(String, String)

    public var description: String {
        switch self {
        case .timedOut: "not every part arrived before the timeout"
        case .evicted: "evicted: too many split messages pending"
        case .tooManyParts(let count, let limit): "PNUM=\(count) exceeds the limit of \(limit) parts"
        case .partNumberOutOfRange(let number, let total): "PNO=\(number) is outside 1…PNUM=\(total)"
        case .partCountMismatch(let expected, let received):
            "PNUM=\(received) differs from PNUM=\(expected) of the message's first part"
        case .duplicatePart(let number): "part PNO=\(number) received twice"
        case .conflictingDataTime(let first, let other): "parts carry DataTime \(first) and \(other)"
        }
    }
}

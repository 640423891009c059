import EnvMonDomain
import EnvMonHJ212
import EnvMonStore
import Foundation

/// What the listener makes of one frame before the database sees it: the archive record (with
/// the values to store, or why it is refused) and the packet when it could be read.
struct InspectedFrame: Sendable {
    var record: PacketRecord
    /// The parsed packet of a frame whose CRC matched; nil otherwise.
    var packet: HJ212Packet?
}

/// Frame → archive record, as pure functions: CRC, parse, command, readings → envmon values.
enum PacketIntake {
    /// Pollutants whose concentration is corrected to a reference O2 (the O2 of the packet goes
    /// with them).
    static let flueGasConcentrations: Set<String> = ["SO2", "NOx", "PM"]
    /// Data flags the fact table takes (HJ 212-2017).
    static let knownFlags: Set<String> = ["N", "F", "M", "S", "D", "C", "T", "B"]

    static func inspect(_ frame: HJ212Frame, peer: String, receivedAt: Date, zone: TimeZone) -> InspectedFrame {
        var record = PacketRecord(receivedAt: receivedAt, peer: peer, raw: frame.raw, handling: .rejected(.malformed))
        let parsed = Result { () throws(HJ212ParseError) -> HJ212Packet in try HJ212Packet(parsing: frame.segment) }
        if case .success(let packet) = parsed { fillHeader(&record, from: packet) }
        guard frame.crcValid else {
            record.handling = .rejected(.badCRC)
            let computed = HJ212CRC.hex(HJ212CRC.checksum(frame.segment))
            record.detail = "CRC \(HJ212CRC.hex(frame.receivedCRC)) received, \(computed) computed over the data segment"
                + (frame.crcCheck == .modbusByteSwapped ? " (the packet carries a byte-swapped CRC-16/MODBUS)" : "")
            return InspectedFrame(record: record, packet: nil)
        }
        switch parsed {
        case .failure(let error):
            record.detail = error.description
            return InspectedFrame(record: record, packet: nil)
        case .success(let packet):
            var inspected = InspectedFrame(record: record, packet: packet)
            if packet.pnum != nil {
                // A part of a split message: its values come with the whole message.
                inspected.record.handling = .data
                inspected.record.table = table(for: packet.cn) ?? .hourly
                if table(for: packet.cn) == nil { inspected.record.handling = .unsupported }
            } else {
                inspected.record = message(packet, record: record, zone: zone, lengthMatches: frame.lengthMatches,
                                           declaredLength: frame.declaredLength, segmentLength: frame.segment.count)
            }
            return inspected
        }
    }

    /// The record of a whole message (an unsplit packet, or a split one joined): command,
    /// device check, values.
    static func message(_ packet: HJ212Packet, record base: PacketRecord, zone: TimeZone, lengthMatches: Bool = true,
                        declaredLength: Int = 0, segmentLength: Int = 0) -> PacketRecord {
        var record = base
        fillHeader(&record, from: packet)
        var notes: [String] = []
        if !lengthMatches {
            notes.append("declared length \(declaredLength), data segment \(segmentLength) bytes")
        }
        guard let table = table(for: packet.cn) else {
            record.handling = .unsupported
            record.detail = (["CN \(packet.cn) is not a data upload envmon stores"] + notes).joined(separator: "; ")
            return record
        }
        record.table = table
        let set: HJ212ReadingSet
        do {
            set = try packet.readingSet(in: zone)
        } catch {
            record.handling = .rejected(.malformed)
            record.detail = error.description
            return record
        }
        record.handling = .data
        let oxygen = set.readings.first { $0.pollutant == "O2" }.flatMap { $0.value }.flatMap { $0 >= 0 && $0 < 21 ? $0 : nil }
        var seen: Set<String> = []
        var values: [PacketValue] = []
        var repeated: [String] = []
        var badFlags: [String] = []
        for reading in set.readings {
            guard seen.insert(reading.pollutant).inserted else {
                repeated.append(reading.code)
                continue
            }
            if let flag = reading.flag, !knownFlags.contains(flag) {
                badFlags.append("\(reading.code)-Flag=\(flag)")
                continue
            }
            let unit = HJ212CodeTable.standard.entry(for: reading.code)?.unit
            values.append(PacketValue(
                pollutant: reading.pollutant, measuredAt: reading.timestamp, value: reading.value,
                corrected: reading.zsAvg ?? reading.zsRtd,
                o2: flueGasConcentrations.contains(reading.pollutant) ? oxygen : nil,
                flag: reading.flag, unit: unit, min: reading.min, max: reading.max, cou: reading.cou, code: reading.code))
        }
        if !set.unmappedCodes.isEmpty {
            notes.append("codes envmon does not store: " + set.unmappedCodes.joined(separator: ","))
        }
        if !repeated.isEmpty { notes.append("second code for the same pollutant left out: " + repeated.joined(separator: ",")) }
        if !badFlags.isEmpty { notes.append("values with a flag HJ 212 does not define left out: " + badFlags.joined(separator: ",")) }
        if values.isEmpty { notes.append("no value envmon stores") }
        record.values = values
        record.detail = notes.isEmpty ? nil : notes.joined(separator: "; ")
        return record
    }

    /// Where a command's values go; nil for commands that are not data uploads.
    static func table(for cn: String) -> PacketRecord.Table? {
        switch cn {
        case "2061": .hourly
        case "2031": .daily
        case "2051", "2011": .minute
        default: nil
        }
    }

    /// Whether a packet gets a CN 9014 answer once committed with `outcome`: it asked (Flag bit
    /// A), its device passed, and it is not itself an answer.
    static func wantsReply(_ packet: HJ212Packet, outcome: PacketOutcome) -> Bool {
        packet.needsReply && outcome.isAnswered && !packet.cn.hasPrefix("90")
    }

    private static func fillHeader(_ record: inout PacketRecord, from packet: HJ212Packet) {
        record.mn = packet.mn
        record.cn = packet.cn
        record.qn = packet.qn
        record.password = packet.pw
        record.dataTime = packet.dataTime
    }
}

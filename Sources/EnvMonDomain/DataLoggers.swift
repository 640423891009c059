public import Foundation

/// A registered HJ 212 data logger (数采仪): the MN it sends, and the outlet its data belong to.
public struct DataLogger: Sendable, Equatable, Codable {
    public var mn: String
    public var enterpriseID: String
    public var outletID: String
    public var name: String?
    public var createdBy: String
    public var createdAt: Date
    public var retiredAt: Date?

    public init(mn: String, enterpriseID: String, outletID: String, name: String?, createdBy: String, createdAt: Date,
                retiredAt: Date?) {
        self.mn = mn
        self.enterpriseID = enterpriseID
        self.outletID = outletID
        self.name = name
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.retiredAt = retiredAt
    }

    /// Whether packets with this MN are accepted.
    public var isActive: Bool { retiredAt == nil }

    /// Letters, digits, `_`, `.` and `-`, 1 to 64 characters (what the database accepts).
    public static func validMN(_ mn: String) -> Bool {
        (1...64).contains(mn.utf8.count) && mn.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
        }
    }

    /// Why a password cannot be an HJ 212 `PW`, or nil: 1 to 64 printable ASCII characters other
    /// than `;` (the field separator).
    public static func passwordProblem(_ password: String) -> String? {
        guard (1...64).contains(password.utf8.count) else { return "a device password is 1 to 64 characters" }
        guard password.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ";") }) else {
            return "a device password is printable ASCII without spaces or ';'"
        }
        return nil
    }
}

/// What became of one HJ 212 packet (`envmon.hj212_packet.outcome`).
public enum PacketOutcome: String, Sendable, Codable, CaseIterable, Hashable {
    /// Taken: its values are stored (or it carried none envmon keeps).
    case stored
    /// A retransmission: every value it carries was stored already.
    case duplicate
    /// The CRC does not match the data segment.
    case badCRC = "bad_crc"
    /// No registered, active device has its MN.
    case unknownDevice = "unknown_device"
    /// The MN is known but PW is not its password.
    case badPassword = "bad_password"
    /// The frame or its data segment could not be read.
    case malformed
    /// A well-formed packet of a command envmon does not take (e.g. CN 1062, 9011).
    case unsupported

    /// Whether the device passed its check and the packet was archived as received: such a
    /// packet is answered (CN 9014) when it asks for an answer.
    public var isAnswered: Bool { self == .stored || self == .duplicate || self == .unsupported }
}

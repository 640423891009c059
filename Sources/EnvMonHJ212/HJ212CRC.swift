/// The CRC of HJ 212-2017 Appendix A, computed over the data segment only.
///
/// The register starts at `0xFFFF`; for each byte `reg = (reg >> 8) ^ byte`, then eight times a
/// shift right that XORs `0xA001` when the bit shifted out was 1. This is not CRC-16/MODBUS
/// (which does `reg ^= byte`): for "123456789" HJ 212 gives `0x2F80`, MODBUS `0x4B37`.
///
/// ```swift
/// let crc = HJ212CRC.checksum(Array("123456789".utf8))   // 0x2F80
/// HJ212CRC.hex(crc)                                     // "2F80"
/// ```
public enum HJ212CRC {
    /// The HJ 212 checksum of `bytes`.
    public static func checksum(_ bytes: some Collection<UInt8>) -> UInt16 {
        var register: UInt16 = 0xFFFF
        for byte in bytes {
            register = (register >> 8) ^ UInt16(byte)
            for _ in 0..<8 {
                let carry = register & 1
                register >>= 1
                if carry == 1 { register ^= 0xA001 }
            }
        }
        return register
    }

    /// CRC-16/MODBUS of `bytes`. Some devices send this (byte-swapped) instead of the HJ 212 CRC;
    /// it is here so a receiver can tell that mistake from line noise.
    public static func modbus(_ bytes: some Collection<UInt8>) -> UInt16 {
        var register: UInt16 = 0xFFFF
        for byte in bytes {
            register ^= UInt16(byte)
            for _ in 0..<8 {
                let carry = register & 1
                register >>= 1
                if carry == 1 { register ^= 0xA001 }
            }
        }
        return register
    }

    /// `crc` as the four upper-case hex digits a packet carries.
    public static func hex(_ crc: UInt16) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        let bytes = [12, 8, 4, 0].map { digits[Int((crc >> UInt16($0)) & 0xF)] }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The value of exactly four hex digits in either case; nil for anything else.
    public static func parseHex(_ digits: some Collection<UInt8>) -> UInt16? {
        guard digits.count == 4 else { return nil }
        var value: UInt16 = 0
        for byte in digits {
            guard let nibble = hexValue(byte) else { return nil }
            value = value << 4 | UInt16(nibble)
        }
        return value
    }

    /// Whether `text` (four hex digits, either case) is the HJ 212 CRC of `segment`.
    public static func matches(_ text: String, segment: some Collection<UInt8>) -> Bool {
        guard let received = parseHex(Array(text.utf8)) else { return false }
        return received == checksum(segment)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}

/// How a frame's CRC compares with its segment.
public enum HJ212CRCCheck: Sendable, Hashable {
    /// The HJ 212 Appendix A CRC matches.
    case valid
    /// It does not, but it is the CRC-16/MODBUS of the segment with its two bytes swapped, which
    /// some devices send. Whether to accept such frames is the receiver's policy.
    case modbusByteSwapped
    /// Neither.
    case mismatch

    /// Compares `received` with the CRCs of `segment`.
    public init(received: UInt16, segment: some Collection<UInt8>) {
        if received == HJ212CRC.checksum(segment) {
            self = .valid
        } else if received == HJ212CRC.modbus(segment).byteSwapped {
            self = .modbusByteSwapped
        } else {
            self = .mismatch
        }
    }
}

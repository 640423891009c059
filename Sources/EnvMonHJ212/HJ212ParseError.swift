/// Why a data segment, or the readings in it, could not be taken.
///
/// Every description names the field, the value (shortened when long) and the reason.
public enum HJ212ParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The segment is empty.
    case emptySegment
    /// A byte at `offset` is not ASCII (HJ 212 segments are ASCII only).
    case nonASCII(offset: Int, byte: UInt8)
    /// A control byte (below 0x20, or DEL) at `offset`.
    case controlCharacter(offset: Int, byte: UInt8)
    /// A header item without `=`.
    case malformedHeaderItem(String)
    /// A header field given twice.
    case duplicateField(String)
    /// A field the packet must have.
    case missingField(String)
    /// A field whose value breaks its rule.
    case invalidField(name: String, value: String, reason: String)
    /// No `CP=` item.
    case missingCP
    /// `CP=` is not `&&…&&`.
    case malformedCP(String)
    /// An item inside CP that is not `key=value`, or whose key is `-Suffix` / `code-`.
    case malformedCPItem(String)
    /// The same CP key twice for one pollutant.
    case duplicateCPField(String)
    /// Data fields but no `DataTime`.
    case missingDataTime
    /// `DataTime` is not a valid `yyyyMMddHHmmss[SSS]` local time.
    case invalidDataTime(String)
    /// A value field (`-Rtd`, `-Avg`, …) that is not a finite decimal number.
    case invalidNumber(field: String, value: String)

    public var description: String {
        switch self {
        case .emptySegment:
            "data segment is empty"
        case .nonASCII(let offset, let byte):
            "data segment byte \(offset) is 0x\(HJ212CRC.hex(UInt16(byte)).suffix(2)), not ASCII"
        case .controlCharacter(let offset, let byte):
            "data segment byte \(offset) is control character 0x\(HJ212CRC.hex(UInt16(byte)).suffix(2))"
        case .malformedHeaderItem(let item):
            "header item \"\(Self.shortened(item))\" is not key=value"
        case .duplicateField(let name):
            "header field \(name) appears more than once"
        case .missingField(let name):
            "required field \(name) is missing"
        case .invalidField(let name, let value, let reason):
            "field \(name)=\"\(Self.shortened(value))\": \(reason)"
        case .missingCP:
            "no CP=&&…&& data area"
        case .malformedCP(let text):
            "CP=\"\(Self.shortened(text))\" is not wrapped in && … &&"
        case .malformedCPItem(let item):
            "CP item \"\(Self.shortened(item))\" is not key=value with a key like a21026-Rtd"
        case .duplicateCPField(let key):
            "CP field \(key) appears more than once"
        case .missingDataTime:
            "CP has data fields but no DataTime"
        case .invalidDataTime(let value):
            "DataTime=\"\(Self.shortened(value))\" is not a valid yyyyMMddHHmmss time"
        case .invalidNumber(let field, let value):
            "field \(field)=\"\(Self.shortened(value))\" is not a finite decimal number"
        }
    }

    static func shortened(_ text: String) -> String {
        text.count <= 60 ? text : String(text.prefix(57)) + "…"
    }
}

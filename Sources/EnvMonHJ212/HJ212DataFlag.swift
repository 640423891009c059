/// The data flag a device sends with a value (`a21026-Flag=N`).
///
/// Only `N` is valid data (HJ 75-2017 / HJ 76-2017); manual values (`S`) are accepted by some
/// platforms, which is why `isValid(acceptingManual:)` exists.
public enum HJ212DataFlag: Sendable, Hashable, CustomStringConvertible {
    /// `N` normal.
    case normal
    /// `F` monitoring stopped.
    case stopped
    /// `M` maintenance.
    case maintenance
    /// `S` value entered by hand.
    case manual
    /// `D` instrument fault.
    case fault
    /// `C` calibration.
    case calibration
    /// `T` over the instrument's range.
    case overRange
    /// `B` communication fault.
    case commsFault
    /// Any other flag, as sent.
    case other(String)

    /// The flag for a code as sent (case-sensitive, as the standard's letters are upper case).
    public init(code: String) {
        switch code {
        case "N": self = .normal
        case "F": self = .stopped
        case "M": self = .maintenance
        case "S": self = .manual
        case "D": self = .fault
        case "C": self = .calibration
        case "T": self = .overRange
        case "B": self = .commsFault
        default: self = .other(code)
        }
    }

    /// The letter sent on the wire.
    public var code: String {
        switch self {
        case .normal: "N"
        case .stopped: "F"
        case .maintenance: "M"
        case .manual: "S"
        case .fault: "D"
        case .calibration: "C"
        case .overRange: "T"
        case .commsFault: "B"
        case .other(let code): code
        }
    }

    /// Whether the value counts as valid data: `N` only.
    public var isValid: Bool { self == .normal }

    /// Whether the value counts as valid data on a platform that may accept manual (`S`) values.
    public func isValid(acceptingManual: Bool) -> Bool {
        isValid || (acceptingManual && self == .manual)
    }

    public var description: String { code }
}

/// An expected failure of an operation, said in words fit for the person who asked: no SQL, no
/// server internals. The HTTP API maps `kind` to a status, the CLI to its `detail` word.
///
/// ```swift
/// throw EnvMonError.notFound("no upload with id \(id)")
/// ```
public struct EnvMonError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// No such upload, alert, token, user, device…
        case notFound = "not_found"
        /// The thing exists but its state does not allow the operation (revert a failed upload…).
        case conflict
        /// The request itself is wrong (an unknown scope, an empty password…).
        case invalid
    }

    public let kind: Kind
    /// One sentence for a person.
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    public static func notFound(_ message: String) -> EnvMonError { EnvMonError(.notFound, message) }
    public static func conflict(_ message: String) -> EnvMonError { EnvMonError(.conflict, message) }
    public static func invalid(_ message: String) -> EnvMonError { EnvMonError(.invalid, message) }
}

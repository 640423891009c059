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

/// Names and notes people type (file names, uploaders, acknowledgement notes, silence reasons):
/// checked once where they enter, so that a NUL byte (which PostgreSQL text cannot hold) or a
/// novel-length value is the sender's clear error, never a database failure.
public enum FreeText {
    /// `text` unchanged when it can be stored; otherwise an `.invalid` error naming `field`.
    @discardableResult
    public static func checked(_ text: String, field: String, maximumLength: Int = 1_000) throws(EnvMonError) -> String {
        if text.utf8.contains(0) {
            throw .invalid("\(field) contains a NUL character (byte 0), which cannot be stored")
        }
        if text.count > maximumLength {
            throw .invalid("\(field) is longer than \(maximumLength) characters")
        }
        return text
    }
}

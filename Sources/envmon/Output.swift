import EmbeddedPostgres
import EnvMonStore
import EnvMonServer
import Foundation

/// Printing results and errors the same way in every command.
enum Output {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// One JSON object on stdout.
    static func json(_ value: some Encodable) throws {
        var data = try encoder.encode(value)
        data.append(contentsOf: Array("\n".utf8))
        FileHandle.standardOutput.write(data)
    }

    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func note(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    static func fail(message: String, detail: String, json: Bool) {
        if json {
            let object = ["error": message, "detail": detail]
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
                FileHandle.standardError.write(data + Data("\n".utf8))
                return
            }
        }
        note("envmon: error: \(message)")
    }

    /// One line, never a stack trace or SQL.
    static func describe(_ error: any Error) -> String {
        let error = Database.unwrap(error)
        switch error {
        case let error as CommandFailure: return error.message
        case let error as DatabaseUnavailable: return error.description
        case let error as DatabaseSettingsError: return error.description
        case let error as EmbeddedPostgresError: return error.description
        case let error as MigrationError: return error.description
        case let error as SchemaNotCurrent: return error.description
        case let error as UploadNotFound: return error.description
        case let error as RevertRefused: return error.description
        case let error as IngestFileError: return error.description
        case let error as DecodingError: return "cannot decode: \(error.localizedDescription)"
        default:
            let text = Database.describe(error)
            return text.split(separator: "\n").first.map(String.init) ?? text
        }
    }

    /// A short machine-readable kind for `{"detail": …}`.
    static func kind(of error: any Error) -> String {
        switch Database.unwrap(error) {
        case is DatabaseUnavailable: return "database_unavailable"
        case is DatabaseSettingsError: return "bad_database_settings"
        case is EmbeddedPostgresError: return "embedded_postgres"
        case is MigrationError, is SchemaNotCurrent: return "migration"
        case is UploadNotFound: return "not_found"
        default: return "failed"
        }
    }
}

/// A failure a command reports as is.
struct CommandFailure: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

extension Date {
    /// `2026-04-02T01:00:00Z`, for text output.
    var iso8601Text: String { ISO8601DateFormatter().string(from: self) }
}

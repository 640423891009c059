import EnvMonDomain
import EmbeddedPostgres
import EnvMonAlerting
import EnvMonStore
import Foundation

/// An error as the command line reports it: one line for a person (never a stack trace or
/// SQL) and a short machine-readable kind for `{"detail": …}` with `--json`.
public struct ErrorReport: Sendable, Equatable {
    public var message: String
    /// `database_unavailable`, `bad_database_settings`, `embedded_postgres`, `migration`,
    /// `not_found`, `conflict`, `invalid`, or `failed`.
    public var kind: String

    public init(_ error: any Error) {
        let error = Database.unwrap(error)
        switch error {
        case let error as EnvMonError:
            (message, kind) = (error.message, error.kind.rawValue)
        case let error as DatabaseUnavailable:
            (message, kind) = (error.description, "database_unavailable")
        case let error as DatabaseSettingsError:
            (message, kind) = (error.description, "bad_database_settings")
        case let error as EmbeddedPostgresError:
            (message, kind) = (error.description, "embedded_postgres")
        case let error as MigrationError:
            (message, kind) = (error.description, "migration")
        case let error as SchemaNotCurrent:
            (message, kind) = (error.description, "migration")
        case let error as AlertFileError:
            (message, kind) = (error.description.replacingOccurrences(of: "\n", with: "; "), "failed")
        case let error as OperationFailure:
            (message, kind) = (error.message, "failed")
        case let error as IngestFileError:
            (message, kind) = (error.description, "failed")
        case let error as FeedZoneUnknown:
            (message, kind) = (error.description, "failed")
        case let error as DecodingError:
            (message, kind) = ("cannot decode: \(error.localizedDescription)", "failed")
        default:
            switch DatabaseFailure.of(error) {
            case .unavailable?:
                (message, kind) = ("the database went away: \(Self.firstLine(Database.describe(error)))", "database_unavailable")
            case .missingRelation?:
                (message, kind) = ("the analytics views are missing; run `envmon migrate`", "migration")
            case .transient?, .permanent?:
                (message, kind) = ("the database refused: \(Self.firstLine(Database.describe(error)))", "failed")
            case nil:
                (message, kind) = (Self.firstLine("\(error)"), "failed")
            }
        }
    }

    static func firstLine(_ text: String) -> String {
        text.split(separator: "\n").first.map(String.init) ?? text
    }
}

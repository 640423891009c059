import Foundation
import Logging
import PostgresNIO

extension Database {
    /// The channel on which PostgreSQL announces a finished upload (migration 0005: a trigger on
    /// `envmon.upload` notifies when an upload becomes loaded, failed or reverted, in the same
    /// transaction, so the notification arrives exactly when the change is visible).
    public static let uploadFinishedChannel = "envmon_upload_finished"

    /// Calls `onFinished` with the upload id for every finished upload, on a connection of its
    /// own, until the task is cancelled or the connection is lost (then it throws, and the caller
    /// listens again).
    public func listenForFinishedUploads(_ onFinished: @escaping @Sendable (Int64?) -> Void) async throws {
        try await client.withConnection { connection in
            try await connection.listen(on: Self.uploadFinishedChannel) { notifications in
                for try await notification in notifications {
                    onFinished(Int64(notification.payload))
                }
            }
        }
    }
}

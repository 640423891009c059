import EnvMonDomain
import Foundation

/// The log channel: one JSON line per notification (receiver, status, group labels, alerts),
/// written wherever the closure puts it — stdout, a file, or a test's buffer.
public struct NotificationLog: Sendable {
    private let writeLine: @Sendable (String) throws -> Void

    /// - Parameter writeLine: receives each line, ending in `\n`.
    public init(_ writeLine: @escaping @Sendable (String) throws -> Void) {
        self.writeLine = writeLine
    }

    /// Lines on the process's standard output.
    public static let standardOutput = NotificationLog { line in
        try FileHandle.standardOutput.write(contentsOf: Data(line.utf8))
    }

    /// Lines appended to the file at `path`, created when missing.
    public static func file(atPath path: String) -> NotificationLog {
        let lock = NSLock()
        return NotificationLog { line in
            // One writer at a time keeps concurrent deliveries from interleaving inside a line.
            try lock.withLock {
                if !FileManager.default.fileExists(atPath: path) {
                    guard FileManager.default.createFile(atPath: path, contents: nil) else {
                        throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
                    }
                }
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
                defer { try? handle.close() }
                try handle.seekToEnd()
                try handle.write(contentsOf: Data(line.utf8))
            }
        }
    }

    /// Writes the notification's line; a failure to write is retryable (a full disk empties).
    func record(_ group: NotificationGroup, facts: AlertFacts, at time: Date) throws(NotificationError) {
        let json = try GroupRecord(group: group, facts: facts, loggedAt: time).json()
        do {
            try writeLine(String(decoding: json, as: UTF8.self) + "\n")
        } catch {
            throw .retryable("log: cannot write the notification: \(error)")
        }
    }
}

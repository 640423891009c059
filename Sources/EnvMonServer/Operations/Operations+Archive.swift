import EmbeddedPostgres
import EnvMonDomain
import EnvMonStore
import Foundation

/// What `envmon db archive` moved out or `envmon db restore-archive` brought back.
public struct ArchiveReport: Sendable, Encodable {
    public var file: String
    public var sha256: String
    public var bytes: Int64
    /// The first month kept (`YYYY-MM`).
    public var before: String
    /// The month partitions moved, e.g. `emission_reading_202501`.
    public var months: [String]
    public var readings: Int64
    public var historyRows: Int64
    /// Uploads whose raw bytes moved.
    public var uploads: [Int64]
    public var chunkBytes: Int64
}

extension Operations {
    // MARK: Retention

    /// Moves the readings of every month before `before` (`YYYY-MM`, UTC months as the
    /// partitions are cut), their superseded values, and the raw bytes of the uploads received
    /// before it into a new dump file at `path` (pg_dump custom format), then removes them from
    /// the database. The daily aggregates stay, so every view's history is unchanged. The rows
    /// are counted under lock before they are dropped: data that changed while the dump was
    /// written stops the archive, with nothing removed.
    public func archive(before month: String, to path: String) async throws -> ArchiveReport {
        guard let cutoff = CivilDate(month + "-01"), month.count == 7 else {
            throw OperationFailure("--before '\(month)' must be a month, YYYY-MM")
        }
        let suffix = String(format: "%04d%02d", cutoff.year, cutoff.month)
        let target = URL(fileURLWithPath: path).standardizedFileURL
        if FileManager.default.fileExists(atPath: target.path) {
            throw OperationFailure("\(target.path) exists; choose a new file name (an archive never overwrites one)")
        }
        // 1. What goes, copied where pg_dump can take it (staging tables in schema envmon).
        let (address, plan) = try await withDatabase { db -> (ServerAddress, ArchivePlan) in
            let plan = try await ArchivePlan.make(db, cutoff: cutoff, suffix: suffix)
            return (db.address, plan)
        }
        guard !plan.months.isEmpty || !plan.uploads.isEmpty || plan.historyRows > 0 else {
            throw OperationFailure("nothing before \(month) to archive: no month partitions, old history or old uploads' bytes")
        }
        // 2. The dump, under its name only when complete.
        let partial = target.deletingLastPathComponent()
            .appendingPathComponent(".\(target.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).partial")
        guard FileManager.default.createFile(atPath: partial.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw OperationFailure("cannot write in \(target.deletingLastPathComponent().path)")
        }
        defer { try? FileManager.default.removeItem(at: partial) }
        let tables = ["envmon.archive_reading", "envmon.archive_chunk", "envmon.archive_history"]
        let dumped = try await Shell.run(try Self.postgresTool("pg_dump"),
                                         ["--format=custom", "--compress=6", "--no-password", "--no-owner", "--file", partial.path]
                                             + tables.flatMap { ["--table", $0] } + Self.connectionArguments(address),
                                         environment: Self.connectionEnvironment(address), unsetting: EmbeddedPostgres.libpqVariables)
        guard dumped.status == 0 else {
            try? await withDatabase { try await ArchivePlan.dropStaging($0) }
            throw OperationFailure("pg_dump failed, nothing was removed: \(Self.lastLine(dumped.stderr))")
        }
        let sha256 = try SurveyedFile.survey(partial).sha256
        do {
            try FileManager.default.moveItem(at: partial, to: target)
        } catch {
            throw OperationFailure("cannot name the archive \(target.path): \(FileErrors.describe(error))")
        }
        // 3. Out of the database, after checking nothing changed since the copy.
        try await withDatabase { db in
            try await plan.remove(db, file: target.path, sha256: sha256, cutoff: cutoff)
            try await AuditLog(database: db).record(
                .localCommand, "data.archive", subject: "before \(month)",
                summary: "\(plan.months.count) months, \(plan.readings) readings, \(plan.historyRows) history rows, "
                    + "raw bytes of \(plan.uploads.count) uploads to \(target.path) (sha256 \(sha256))")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: target.path)[.size] as? NSNumber)?.int64Value ?? 0
        return ArchiveReport(file: target.path, sha256: sha256, bytes: size, before: month, months: plan.months,
                             readings: plan.readings, historyRows: plan.historyRows, uploads: plan.uploads, chunkBytes: plan.chunkBytes)
    }

    /// Brings an archive of `envmon db archive` back: its month partitions attached again, the
    /// history and the uploads' bytes where they were. All or nothing; an archive is restored
    /// once, and only into the database it came from.
    public func restoreArchive(from path: String) async throws -> ArchiveReport {
        let source = URL(fileURLWithPath: path).standardizedFileURL
        guard FileManager.default.isReadableFile(atPath: source.path) else { throw OperationFailure("cannot read \(source.path)") }
        let sha256 = try SurveyedFile.survey(source).sha256
        let (address, record) = try await withDatabase { db -> (ServerAddress, ArchiveRecord) in
            guard let record = try await ArchiveRecord.open(db, sha256: sha256) else {
                throw OperationFailure("\(source.path) is not an archive of this database that is still out "
                                       + "(envmon db archive records each one; a restored archive is not restored twice)")
            }
            try await ArchivePlan.dropStaging(db)
            return (db.address, record)
        }
        let restored = try await Shell.run(try Self.postgresTool("pg_restore"),
                                           ["--no-owner", "--single-transaction", "--exit-on-error", "--no-password",
                                            "--dbname", address.database] + Self.connectionArguments(address) + [source.path],
                                           environment: Self.connectionEnvironment(address), unsetting: EmbeddedPostgres.libpqVariables)
        guard restored.status == 0 else {
            throw OperationFailure("pg_restore of \(source.path) failed, nothing was restored: \(Self.lastLine(restored.stderr))")
        }
        try await withDatabase { db in
            try await record.putBack(db)
            try await AuditLog(database: db).record(
                .localCommand, "data.restore_archive", subject: "archive \(record.id)",
                summary: "\(record.months.count) months, \(record.readings) readings, raw bytes of \(record.uploads.count) uploads from \(source.path)")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: source.path)[.size] as? NSNumber)?.int64Value ?? 0
        return ArchiveReport(file: source.path, sha256: sha256, bytes: size, before: record.before, months: record.months,
                             readings: record.readings, historyRows: record.historyRows, uploads: record.uploads,
                             chunkBytes: record.chunkBytes)
    }
}


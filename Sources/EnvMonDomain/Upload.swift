public import Foundation

/// Where an upload stands in the archive (`envmon.upload.status`).
public enum UploadStatus: String, Sendable, Codable, CaseIterable, Hashable {
    /// Archived by a command that loads it itself (older rows; today every upload is queued).
    case received
    /// Archived with an ingest job; a worker (or the command that sent it) will load it.
    case queued
    /// A worker holds its job and is loading it.
    case processing
    case loaded
    case failed
    /// The same bytes of the same kind as an earlier original: recorded, nothing loaded.
    case duplicate
    /// Its rows were removed and the values it superseded restored.
    case reverted

    /// Loaded, failed or reverted: the upload has its outcome.
    public var isFinal: Bool { self == .loaded || self == .failed || self == .reverted }
}

/// How an upload arrived.
public enum UploadSource: String, Sendable, Codable, CaseIterable, Hashable {
    case cli, http, inbox
}

/// One upload as the archive shows it.
public struct UploadRecord: Sendable, Codable, Equatable {
    public var id: Int64
    public var kind: FeedKind
    public var fileName: String?
    public var uploader: String
    public var source: UploadSource
    public var receivedAt: Date
    public var sha256: String
    public var sizeBytes: Int64
    public var format: String?
    public var encoding: String?
    public var status: UploadStatus
    public var duplicateOf: Int64?
    public var rowsTotal: Int?
    public var rowsLoaded: Int?
    public var rowsUnchanged: Int?
    public var rowsRejected: Int?
    public var rowsSkipped: Int?
    public var rowsSuperseded: Int?
    /// Why it failed, in words for the person who sent it (never server internals).
    public var error: String?
    public var finishedAt: Date?
    public var revertedAt: Date?

    public init(
        id: Int64, kind: FeedKind, fileName: String?, uploader: String, source: UploadSource, receivedAt: Date,
        sha256: String, sizeBytes: Int64, format: String?, encoding: String?, status: UploadStatus,
        duplicateOf: Int64?, rowsTotal: Int?, rowsLoaded: Int?, rowsUnchanged: Int?, rowsRejected: Int?,
        rowsSkipped: Int?, rowsSuperseded: Int?, error: String?, finishedAt: Date?, revertedAt: Date?
    ) {
        self.id = id
        self.kind = kind
        self.fileName = fileName
        self.uploader = uploader
        self.source = source
        self.receivedAt = receivedAt
        self.sha256 = sha256
        self.sizeBytes = sizeBytes
        self.format = format
        self.encoding = encoding
        self.status = status
        self.duplicateOf = duplicateOf
        self.rowsTotal = rowsTotal
        self.rowsLoaded = rowsLoaded
        self.rowsUnchanged = rowsUnchanged
        self.rowsRejected = rowsRejected
        self.rowsSkipped = rowsSkipped
        self.rowsSuperseded = rowsSuperseded
        self.error = error
        self.finishedAt = finishedAt
        self.revertedAt = revertedAt
    }
}

/// One rejected row (or cell) of an upload, as stored and listed: the same fields as the
/// `Rejection` the normaliser made.
public typealias RejectionRecord = Rejection

/// What reverting an upload changed.
public struct RevertResult: Sendable, Equatable, Codable {
    public var uploadID: Int64
    public var rowsRemoved: Int
    public var rowsRestored: Int

    public init(uploadID: Int64, rowsRemoved: Int, rowsRestored: Int) {
        self.uploadID = uploadID
        self.rowsRemoved = rowsRemoved
        self.rowsRestored = rowsRestored
    }
}

/// An upload's ingest job as `envmon.ingest_job` holds it.
public struct JobState: Sendable, Equatable, Codable {
    /// queued, running, done or failed.
    public var status: String
    public var attempts: Int
    public var maxAttempts: Int
    /// Who holds (or last held) it: `host:pid:n` for `serve`, `cli:host:pid` for a command.
    public var worker: String?
    public var leaseUntil: Date?
    /// A running job whose holder stopped renewing it: the next claim takes it over.
    public var leaseExpired: Bool
    public var lastError: String?

    public init(status: String, attempts: Int, maxAttempts: Int, worker: String?, leaseUntil: Date?,
                leaseExpired: Bool, lastError: String?) {
        self.status = status
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.worker = worker
        self.leaseUntil = leaseUntil
        self.leaseExpired = leaseExpired
        self.lastError = lastError
    }

    /// Whether nobody is working on it now and it may be taken over.
    public var isClaimable: Bool {
        attempts < maxAttempts && ((status == "queued" && (leaseUntil == nil || leaseExpired))
                                   || (status == "running" && leaseExpired))
    }
}


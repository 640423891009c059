public import Foundation

/// One migration of the schema and where it stands in a database (`envmon migrate --status`).
public struct MigrationStatus: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable { case applied, pending, changed }
    public var name: String
    public var state: State
    public var appliedAt: Date?

    public init(name: String, state: State, appliedAt: Date?) {
        self.name = name
        self.state = state
        self.appliedAt = appliedAt
    }
}

/// What `envmon migrate` did.
public struct MigrationReport: Sendable, Equatable, Codable {
    public var applied: [String]
    public var viewsRecreated: Bool

    public init(applied: [String], viewsRecreated: Bool) {
        self.applied = applied
        self.viewsRecreated = viewsRecreated
    }
}

/// The notification outbox at a glance (`envmon notify --status`).
public struct OutboxStatus: Sendable, Codable, Equatable {
    /// A notification that is failing (will be retried) or failed for good.
    public struct Problem: Sendable, Codable, Equatable {
        public var id: Int64
        public var receiver: String
        public var status: String
        public var attempts: Int
        public var lastError: String?
        public var nextAttemptAt: Date
        public var createdAt: Date

        public init(id: Int64, receiver: String, status: String, attempts: Int, lastError: String?, nextAttemptAt: Date,
                    createdAt: Date) {
            self.id = id
            self.receiver = receiver
            self.status = status
            self.attempts = attempts
            self.lastError = lastError
            self.nextAttemptAt = nextAttemptAt
            self.createdAt = createdAt
        }
    }

    public var pending: Int
    public var delivered: Int
    public var failed: Int
    public var problems: [Problem]

    public init(pending: Int, delivered: Int, failed: Int, problems: [Problem]) {
        self.pending = pending
        self.delivered = delivered
        self.failed = failed
        self.problems = problems
    }
}

/// How long an analyst's session may hold the database: PostgreSQL's defaults are "forever",
/// and a forgotten `BEGIN` in psql or a runaway Grafana query would then hold locks and
/// connections that loads need.
public struct AnalystLimits: Sendable, Equatable {
    /// One statement at most this long (`statement_timeout`).
    public var statementTimeout: Duration = .seconds(300)
    /// An open transaction left idle at most this long (`idle_in_transaction_session_timeout`).
    public var idleInTransactionTimeout: Duration = .seconds(600)
    /// A lock waited for at most this long (`lock_timeout`).
    public var lockTimeout: Duration = .seconds(30)

    public init() {}
}

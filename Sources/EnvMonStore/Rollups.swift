import Logging
import PostgresNIO

/// Brings the plan's rollups (`envmon.enterprise_month`, `envmon.section_period`, migration
/// 0013) up to date for the enterprises and sections marked stale.
///
/// The views never depend on this having run: they read a stale enterprise or section live from
/// the facts (`analytics.enterprise_month_live`, `analytics.section_period_live`). A refresh
/// only makes them fast again. It runs after each load, before each alert evaluation and after
/// `envmon migrate`.
///
/// Why a refresh racing a load loses nothing: see `envmon.refresh_rollups()` in the migration.
public struct Rollups: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// What one refresh recomputed: ids (nil when every id was stale) and rows written.
    public struct Refreshed: Sendable, Equatable {
        public var enterprises: Int?
        public var enterpriseMonths: Int
        public var sections: Int?
        public var sectionPeriods: Int
    }

    /// Whether anything is marked stale.
    public func isStale() async throws -> Bool {
        var stale = false
        let rows = try await database.client.query("""
            SELECT EXISTS (SELECT 1 FROM envmon.enterprise_month_stale) OR EXISTS (SELECT 1 FROM envmon.section_period_stale)
            """, logger: database.logger)
        for try await value in rows.decode(Bool.self) { stale = value }
        return stale
    }

    /// Recomputes the rollups of every stale enterprise and section, in one transaction
    /// (`envmon.refresh_rollups()`, migration 0013).
    @discardableResult
    public func refresh() async throws -> Refreshed {
        var refreshed = Refreshed(enterprises: nil, enterpriseMonths: 0, sections: nil, sectionPeriods: 0)
        let rows = try await database.client.query("""
            SELECT enterprises, enterprise_months, sections, section_periods FROM envmon.refresh_rollups()
            """, logger: database.logger)
        for try await (enterprises, months, sections, periods) in rows.decode((Int?, Int, Int?, Int).self) {
            refreshed = Refreshed(enterprises: enterprises, enterpriseMonths: months, sections: sections, sectionPeriods: periods)
        }
        return refreshed
    }

    /// Refreshes when anything is stale; a failure is logged, not thrown (the views stay right,
    /// only slower). For the end of a load and the evaluator's rounds.
    public func refreshIfStale() async {
        do {
            guard try await isStale() else { return }
            let refreshed = try await refresh()
            database.logger.debug("rollups refreshed", metadata: [
                "envmon.rollups.enterprise_months": "\(refreshed.enterpriseMonths)",
                "envmon.rollups.section_periods": "\(refreshed.sectionPeriods)",
            ])
        } catch {
            database.logger.warning("rollups not refreshed; the views read the facts until the next refresh",
                                    metadata: ["envmon.error": "\(Database.describe(error))"])
        }
    }
}

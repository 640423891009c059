public import EnvMonDomain
import PostgresNIO

/// What the console's pages read: the same typed view rows as alerts and analysts.
public struct ConsoleQueries: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Every reporting place but outlets, those without data first, then the longest silent.
    public func siteFreshness() async throws -> [SiteFreshnessRow] {
        try await database.viewRows(
            SiteFreshnessRow.self,
            "WHERE site_kind <> 'outlet' ORDER BY last_data_at ASC NULLS FIRST, feed_kind, site_id LIMIT 2000")
    }

    /// Each section's monthly classes from `firstMonth` on.
    public func monthlySectionClasses(from firstMonth: CivilDate) async throws -> [SectionClassRow] {
        var binds = PostgresBindings()
        binds.append(firstMonth.description)
        return try await database.viewRows(
            SectionClassRow.self,
            "WHERE granularity = 'month' AND period_start >= $1::date ORDER BY section_id, period_start LIMIT 20000",
            binds: binds)
    }

    /// Each enterprise's monthly compliance from `firstMonth` on.
    public func monthlyCompliance(from firstMonth: CivilDate) async throws -> [EnterpriseComplianceRow] {
        var binds = PostgresBindings()
        binds.append(firstMonth.description)
        return try await database.viewRows(
            EnterpriseComplianceRow.self,
            "WHERE period ~ '^[0-9]{4}-[0-9]{2}$' AND period_start >= $1::date ORDER BY enterprise_id, period_start LIMIT 20000",
            binds: binds)
    }
}

import EnvMonDomain
import Logging
import PostgresNIO

/// Registers the places a feed names for the first time, and keeps the latest name, district,
/// river and level given for each (so a later feed can leave them out). Rows are upserted in key
/// order, so concurrent loads that name the same places lock them in the same order and never
/// deadlock.
enum SiteRegistry {
    static func register(kind: FeedKind, uploadID: Int64, on tx: PostgresConnection, logger: Logger) async throws {
        for statement in statements(for: kind) {
            try await tx.query(PostgresQuery(unsafeSQL: statement, binds: FactLoader.binds(uploadID)), logger: logger)
        }
    }

    /// The latest non-null value of a staging column within a group.
    private static func latest(_ column: String) -> String {
        "(array_agg(\(column) ORDER BY line DESC) FILTER (WHERE \(column) IS NOT NULL))[1]"
    }

    private static let upsertTail = """
        ON CONFLICT (kind, parent_id, site_id) DO UPDATE SET
            name = coalesce(EXCLUDED.name, site.name),
            district = coalesce(EXCLUDED.district, site.district),
            river = coalesce(EXCLUDED.river, site.river),
            river_level = coalesce(EXCLUDED.river_level, site.river_level),
            water_body = coalesce(EXCLUDED.water_body, site.water_body)
        """

    private static let districts = """
        INSERT INTO envmon.site (kind, site_id, first_upload_id)
        SELECT DISTINCT 'district', district, $1 FROM stage WHERE district IS NOT NULL AND district <> '' ORDER BY 2
        ON CONFLICT (kind, parent_id, site_id) DO NOTHING
        """

    static func statements(for kind: FeedKind) -> [String] {
        switch kind {
        case .emissions:
            return [
                """
                INSERT INTO envmon.site (kind, site_id, name, district, first_upload_id)
                SELECT 'enterprise', enterprise_id, \(latest("enterprise_name")), \(latest("district")), $1
                FROM stage GROUP BY enterprise_id ORDER BY enterprise_id
                \(upsertTail)
                """,
                """
                INSERT INTO envmon.site (kind, parent_id, site_id, first_upload_id)
                SELECT DISTINCT 'outlet', enterprise_id, outlet_id, $1 FROM stage ORDER BY 2, 3
                ON CONFLICT (kind, parent_id, site_id) DO NOTHING
                """,
                districts,
            ]
        case .sewage:
            return [
                """
                INSERT INTO envmon.site (kind, site_id, name, district, first_upload_id)
                SELECT 'plant', plant_id, \(latest("plant_name")), \(latest("district")), $1
                FROM stage GROUP BY plant_id ORDER BY plant_id
                \(upsertTail)
                """,
                districts,
            ]
        case .water:
            return [
                """
                INSERT INTO envmon.site (kind, site_id, name, district, river, river_level, water_body, first_upload_id)
                SELECT 'section', section_id, \(latest("section_name")), \(latest("district")), \(latest("river")),
                       \(latest("river_level")), \(latest("water_body")), $1
                FROM stage GROUP BY section_id ORDER BY section_id
                \(upsertTail)
                """,
                districts,
            ]
        case .green, .waste:
            return [districts]
        case .permits:
            // A permitted enterprise and outlet are key sources whether or not data came yet.
            return [
                """
                INSERT INTO envmon.site (kind, site_id, name, first_upload_id)
                SELECT 'enterprise', enterprise_id, \(latest("enterprise_name")), $1
                FROM stage GROUP BY enterprise_id ORDER BY enterprise_id
                \(upsertTail)
                """,
                """
                INSERT INTO envmon.site (kind, parent_id, site_id, first_upload_id)
                SELECT DISTINCT 'outlet', enterprise_id, outlet_id, $1 FROM stage ORDER BY 2, 3
                ON CONFLICT (kind, parent_id, site_id) DO NOTHING
                """,
            ]
        }
    }
}

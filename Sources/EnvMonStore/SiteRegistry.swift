import EnvMonDomain
import Logging
import PostgresNIO

/// Registers the places a feed names for the first time, and keeps the latest name, district,
/// river and level given for each (so a later feed can leave them out). Rows are upserted in key
/// order, so concurrent loads that name the same places lock them in the same order and never
/// deadlock.
enum SiteRegistry {
    /// Registers the sites named in `stage`. A staged file of a million readings names a few
    /// hundred distinct sites: with `condensed`, one hash aggregate first reduces the stage to its
    /// distinct site columns with each combination's last line (`stage_site`), and the upserts
    /// read that instead of scanning and sorting the whole stage three times. Reading the latest
    /// non-null value from the condensed rows gives the same answer: the combination holding a
    /// column's last non-null value has that line as its greatest.
    static func register(kind: FeedKind, uploadID: Int64, condensed: Bool = false,
                         on tx: PostgresConnection, logger: Logger) async throws {
        var source = "stage"
        if condensed {
            let columns = siteColumns(for: kind).joined(separator: ", ")
            try await tx.query(PostgresQuery(unsafeSQL: """
                CREATE TEMP TABLE stage_site ON COMMIT DROP AS
                SELECT \(columns), max(line) AS line FROM stage GROUP BY \(columns)
                """), logger: logger)
            source = "stage_site"
        }
        for statement in statements(for: kind, from: source) {
            try await tx.query(PostgresQuery(unsafeSQL: statement, binds: FactLoader.binds(uploadID)), logger: logger)
        }
    }

    /// The staging columns `statements(for:from:)` reads for a kind.
    static func siteColumns(for kind: FeedKind) -> [String] {
        switch kind {
        case .emissions: return ["enterprise_id", "outlet_id", "enterprise_name", "district"]
        case .sewage: return ["plant_id", "plant_name", "district"]
        case .water: return ["section_id", "section_name", "district", "river", "river_level", "water_body"]
        case .green, .waste: return ["district"]
        case .permits: return ["enterprise_id", "outlet_id", "enterprise_name"]
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

    static func statements(for kind: FeedKind, from stage: String = "stage") -> [String] {
        let districts = """
            INSERT INTO envmon.site (kind, site_id, first_upload_id)
            SELECT DISTINCT 'district', district, $1 FROM \(stage) WHERE district IS NOT NULL AND district <> '' ORDER BY 2
            ON CONFLICT (kind, parent_id, site_id) DO NOTHING
            """
        switch kind {
        case .emissions:
            return [
                """
                INSERT INTO envmon.site (kind, site_id, name, district, first_upload_id)
                SELECT 'enterprise', enterprise_id, \(latest("enterprise_name")), \(latest("district")), $1
                FROM \(stage) GROUP BY enterprise_id ORDER BY enterprise_id
                \(upsertTail)
                """,
                """
                INSERT INTO envmon.site (kind, parent_id, site_id, first_upload_id)
                SELECT DISTINCT 'outlet', enterprise_id, outlet_id, $1 FROM \(stage) ORDER BY 2, 3
                ON CONFLICT (kind, parent_id, site_id) DO NOTHING
                """,
                districts,
            ]
        case .sewage:
            return [
                """
                INSERT INTO envmon.site (kind, site_id, name, district, first_upload_id)
                SELECT 'plant', plant_id, \(latest("plant_name")), \(latest("district")), $1
                FROM \(stage) GROUP BY plant_id ORDER BY plant_id
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
                FROM \(stage) GROUP BY section_id ORDER BY section_id
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
                FROM \(stage) GROUP BY enterprise_id ORDER BY enterprise_id
                \(upsertTail)
                """,
                """
                INSERT INTO envmon.site (kind, parent_id, site_id, first_upload_id)
                SELECT DISTINCT 'outlet', enterprise_id, outlet_id, $1 FROM \(stage) ORDER BY 2, 3
                ON CONFLICT (kind, parent_id, site_id) DO NOTHING
                """,
            ]
        }
    }
}

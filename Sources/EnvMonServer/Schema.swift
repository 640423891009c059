import EnvMonAlerting
import EnvMonStore
import Foundation

/// Getting a database's schema ready before anything else touches it.
enum Schema {
    /// The embedded cluster is migrated on demand (and a new database gets the plan's default
    /// targets); a configured server must have been migrated with `envmon migrate`.
    static func prepare(_ database: Database, embedded: Bool, targets: TargetFile) async throws {
        let migrator = Migrator(database: database)
        if embedded {
            try await migrator.migrate()
            try await PlanStore(database: database).seedTargetsIfEmpty(targets.targets)
        } else if try await !migrator.isCurrent() {
            throw SchemaNotCurrent(location: database.address.displayLocation)
        }
    }
}

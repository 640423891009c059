public import Logging
import PostgresNIO

extension Database {
    /// A database whose pool is not yet running: a long-running process runs `client` (a
    /// swift-service-lifecycle `Service`) first in its ServiceGroup, so that it stops last.
    public static func unstarted(_ address: ServerAddress, logger: Logger, maximumConnections: Int) throws -> Database {
        var configuration = try clientConfiguration(address)
        configuration.options.maximumConnections = maximumConnections
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        return Database(client: client, address: address, logger: logger)
    }
}

public import Logging
import PostgresNIO

extension Database {
    /// A database whose pool is not yet running: a long-running process runs `client` (a
    /// swift-service-lifecycle `Service`) first in its ServiceGroup, so that it stops last.
    public static func unstarted(_ address: ServerAddress, logger: Logger, backgroundLogger: Logger? = nil,
                                 maximumConnections: Int) throws -> Database {
        var configuration = try clientConfiguration(address)
        configuration.options.maximumConnections = maximumConnections
        let client = PostgresClient(configuration: configuration, backgroundLogger: backgroundLogger ?? logger)
        return Database(client: client, address: address, logger: logger)
    }
}

extension Database {
    /// Whether both use the one pool (the same server, e.g. the primary).
    public func sharesPool(with other: Database) -> Bool {
        client === other.client
    }
}

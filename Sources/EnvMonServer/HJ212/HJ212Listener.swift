import EnvMonHJ212
import EnvMonStore
import Foundation
import Logging
import NIOCore
import NIOPosix
public import ServiceLifecycle
import Synchronization

/// The HJ 212 listener's settings (`envmon serve --hj212 HOST:PORT`, docs/hj212.md).
public struct HJ212Configuration: Sendable {
    public var host: String
    public var port: Int
    /// A connection that sends nothing for this long is closed (default 10 min; loggers send
    /// real-time data every few seconds to minutes, hourly data at least every hour).
    public var idleTimeout: Duration = .seconds(600)
    /// Open logger connections at most; one more is closed at once (default 5000).
    public var maxConnections = 5_000
    /// Bytes held while waiting for the end of a frame; a frame that does not end within them
    /// closes the connection (default 16384: a frame is at most 9999 + 12 bytes).
    public var maxFrameBytes = HJ212FrameDecoder.defaultMaximumBuffer
    /// The group commit window: packets arriving within it share one transaction (default 50 ms).
    public var commitInterval: Duration = .milliseconds(50)
    /// Packets in one transaction at most (default 2000).
    public var maxBatch = 2_000
    /// Group commits running at once, each on its own connection (default 2): the next batch is
    /// written while one waits for its commit.
    public var committers = 2
    /// Submissions one connection may have waiting for a commit before it stops reading (default 8).
    public var maxInFlight = 8
    /// A group commit that has not finished by then is abandoned and its packets not answered
    /// (default 30 s).
    public var commitLimit: Duration = .seconds(30)
    /// How often partitions are made ahead, expired ones dropped and hourly values derived from
    /// minute data (default 10 min).
    public var maintenanceInterval: Duration = .seconds(600)
    /// Called with the bound port once the listener accepts connections (tests, port 0).
    public var onListening: (@Sendable (Int) -> Void)?

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `HOST:PORT` (`[v6]:PORT` for an IPv6 address); the port may be 0 (any free port).
    public init?(listen text: String) {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else { return nil }
        self.init(host: host, port: port)
    }
}

/// The HJ 212-2017 TCP listener: one more service of `envmon serve`'s ServiceGroup. Accepts
/// data loggers' connections (SwiftNIO), frames and checks their packets, commits them in groups
/// and answers after the commit; also keeps the archive's day partitions and retention.
///
/// On graceful shutdown it stops accepting, closes the connections, commits what was received
/// and stops.
public struct HJ212Listener: Service {
    let configuration: HJ212Configuration
    let database: Database
    let logger: Logger
    let gate: StartupGate?

    init(configuration: HJ212Configuration, database: Database, logger: Logger, gate: StartupGate?) {
        self.configuration = configuration
        self.database = database
        self.logger = logger
        self.gate = gate
    }

    public func run() async throws {
        if let gate { try await cancelWhenGracefulShutdown { try await gate.wait() } }
        let archive = PacketArchive(database: database)
        try await archive.ensurePartitions()
        let zone = try await FeedZone.read(database)
        let configuration = self.configuration
        let logger = self.logger
        let committer = PacketCommitter(archive: archive, interval: configuration.commitInterval,
                                        maximumBatch: configuration.maxBatch, committers: configuration.committers,
                                        commitLimit: configuration.commitLimit,
                                        logger: logger)
        let connections = OpenConnections(maximum: configuration.maxConnections)
        let idle = TimeAmount.nanoseconds(Self.nanoseconds(configuration.idleTimeout))
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.backlog, value: 1024)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                guard connections.open(channel) else {
                    logger.info("HJ 212 connection refused: too many open", metadata: [
                        "envmon.hj212.max_connections": "\(configuration.maxConnections)"])
                    return channel.close()
                }
                channel.closeFuture.whenComplete { _ in connections.closed(channel) }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idle))
                    try channel.pipeline.syncOperations.addHandler(HJ212ConnectionHandler(
                        committer: committer, zone: zone, maximumFrameBytes: configuration.maxFrameBytes,
                        maximumInFlight: configuration.maxInFlight, logger: logger))
                }
            }
            .bind(host: configuration.host, port: configuration.port).get()
        let port = server.localAddress?.port ?? configuration.port
        logger.info("HJ 212 listener accepting data loggers", metadata: [
            "envmon.hj212.listen": "\(configuration.host):\(port)"])
        configuration.onListening?(port)

        await withDiscardingTaskGroup { group in
            group.addTask {
                await Self.maintain(archive, every: configuration.maintenanceInterval, logger: logger)
            }
            group.addTask {
                // Returns when graceful shutdown begins (or the group is cancelled): stop taking
                // connections and packets; the committer then commits what was received.
                try? await gracefulShutdown()
                try? await server.close()
                for channel in connections.all() { try? await channel.close() }
                committer.finish()
            }
            await committer.run()
            group.cancelAll()
        }
    }

    /// Makes partitions ahead, drops expired ones and derives hours from minutes, now and every
    /// `interval`, until cancelled.
    static func maintain(_ archive: PacketArchive, every interval: Duration, logger: Logger) async {
        while !Task.isCancelled {
            do {
                try await archive.ensurePartitions()
                let dropped = try await archive.dropExpired()
                if dropped > 0 { logger.info("expired HJ 212 partitions dropped", metadata: ["envmon.hj212.partitions": "\(dropped)"]) }
                let derived = try await archive.deriveHours()
                if derived > 0 { logger.info("hourly values derived from minutes", metadata: ["envmon.hj212.readings": "\(derived)"]) }
            } catch {
                logger.warning("HJ 212 partition maintenance failed", metadata: ["envmon.error": "\(Database.describe(error))"])
            }
            try? await Task.sleep(for: interval)
        }
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        Int64(duration.components.seconds) * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }
}

/// The open logger connections, bounded.
final class OpenConnections: Sendable {
    private let maximum: Int
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

    init(maximum: Int) {
        self.maximum = max(1, maximum)
    }

    func open(_ channel: any Channel) -> Bool {
        channels.withLock { open in
            guard open.count < maximum else { return false }
            open[ObjectIdentifier(channel)] = channel
            return true
        }
    }

    func closed(_ channel: any Channel) {
        _ = channels.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    func all() -> [any Channel] {
        channels.withLock { Array($0.values) }
    }
}

public import EnvMonStore
import Foundation

/// A PostgreSQL streaming standby that serves the console's and the API's reads and
/// `envmon report` (`--read-url`, `ENVMON_READ_URL`). Writes, ingest jobs, alert evaluation,
/// notifications and sessions stay on the primary.
///
/// The standby is used only while it answers, is in recovery (a primary given by mistake is
/// refused) and lags the primary by at most `maxLag`; otherwise reads go to the primary.
///
/// ```swift
/// let settings = try ReadReplicaSettings.resolve(url: "postgres://envmon@standby:5432/envmon",
///                                                maxLagSeconds: 10, environment: [:])
/// ```
public struct ReadReplicaSettings: Sendable, Equatable {
    /// The standby's address (its password is never logged).
    public var address: ServerAddress
    /// A standby further behind than this is not read from (`--read-max-lag`, default 30 s).
    public var maxLag: Duration
    /// How often the standby's lag is measured.
    public var checkInterval: Duration = .seconds(2)
    /// A read on the standby that has no answer after this long is asked of the primary
    /// instead, and the standby is not used until the next check finds it answering.
    public var readTimeout: Duration = .seconds(5)
    /// How long a lag check waits for the standby to accept a connection.
    public var connectTimeout: Duration = .seconds(3)
    /// Connections to the standby at most.
    public var maximumConnections = 8

    public static let defaultMaxLag: Duration = .seconds(30)

    public init(address: ServerAddress, maxLag: Duration = Self.defaultMaxLag) {
        self.address = address
        self.maxLag = maxLag
    }

    /// `--read-url` over `ENVMON_READ_URL`, `--read-max-lag` over `ENVMON_READ_MAX_LAG` (seconds,
    /// fractions allowed); nil when no URL is given.
    public static func resolve(url flag: String?, maxLagSeconds flagLag: Double?,
                               environment: [String: String]) throws(DatabaseSettingsError) -> ReadReplicaSettings? {
        func env(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        var lag: Double?
        if let flagLag {
            lag = flagLag
        } else if let text = env("ENVMON_READ_MAX_LAG") {
            guard let value = Double(text) else {
                throw .init("ENVMON_READ_MAX_LAG='\(text)' must be a number of seconds")
            }
            lag = value
        }
        let source = flagLag != nil ? "--read-max-lag" : "ENVMON_READ_MAX_LAG"
        if let lag, !(lag > 0 && lag <= 86_400) {
            throw .init("\(source) must be more than 0 and at most 86400 seconds")
        }
        let address: ServerAddress
        if let flag, !flag.isEmpty {
            address = try ServerAddress(url: flag, source: "--read-url")
        } else if let text = env("ENVMON_READ_URL") {
            address = try ServerAddress(url: text, source: "ENVMON_READ_URL")
        } else {
            if lag != nil { throw .init("\(source) needs a read replica (--read-url or ENVMON_READ_URL)") }
            return nil
        }
        var settings = ReadReplicaSettings(address: address)
        if let lag { settings.maxLag = .milliseconds(Int64((lag * 1000).rounded())) }
        return settings
    }

    /// The standby for messages: where and as whom, never the password.
    public var displayName: String {
        "\(address.displayLocation) as \(address.user), database \(address.database)"
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

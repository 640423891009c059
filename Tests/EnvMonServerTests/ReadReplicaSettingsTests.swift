import ArgumentParser
@testable import envmon
@testable import EnvMonServer
import EnvMonStore
import Foundation
import Testing

/// The read replica's settings, its lag arithmetic and what `/readyz` says — no database.
@Suite("read replica: settings, lag, readiness")
struct ReadReplicaSettingsTests {
    @Test("--read-url and --read-max-lag win over ENVMON_READ_URL and ENVMON_READ_MAX_LAG; none means no replica")
    func flagsOverEnvironment() throws {
        let environment = ["ENVMON_READ_URL": "postgres://reader:secret@standby-a:5433/envmon", "ENVMON_READ_MAX_LAG": "12"]
        let fromEnvironment = try #require(try Serve.parse([]).serverConfiguration(environment: environment).readReplica)
        #expect(fromEnvironment.address.host == "standby-a" && fromEnvironment.address.port == 5433)
        #expect(fromEnvironment.maxLag == .seconds(12))
        let flags = try #require(try Serve.parse(["--read-url", "postgres://reader@standby-b/envmon", "--read-max-lag", "2.5"])
            .serverConfiguration(environment: environment).readReplica)
        #expect(flags.address.host == "standby-b" && flags.maxLag == .milliseconds(2500))
        let defaults = try #require(try Serve.parse(["--read-url", "postgres://reader@standby-b/envmon"])
            .serverConfiguration(environment: [:]).readReplica)
        #expect(defaults.maxLag == .seconds(30))
        #expect(try Serve.parse([]).serverConfiguration(environment: [:]).readReplica == nil)
        // The report takes the same options.
        let report = try Report.parse(["--read-url", "postgres://reader@standby-b/envmon", "--read-max-lag", "5"])
        #expect(try report.readReplica.settings(environment: [:])?.maxLag == .seconds(5))
    }

    @Test("bad read replica settings are usage errors that do not show the password", arguments: [
        (["--read-url", "mysql://reader:hunter2@standby/envmon"], [String: String]()),
        (["--read-url", "postgres://reader:hunter2@standby/envmon", "--read-max-lag", "0"], [:]),
        (["--read-url", "postgres://reader:hunter2@standby/envmon", "--read-max-lag", "-3"], [:]),
        ([], ["ENVMON_READ_URL": "postgres://reader:hunter2@standby/envmon", "ENVMON_READ_MAX_LAG": "soon"]),
        (["--read-max-lag", "10"], [:]),
    ])
    func badSettings(_ arguments: [String], _ environment: [String: String]) throws {
        do {
            _ = try Serve.parse(arguments).serverConfiguration(environment: environment)
            Issue.record("accepted \(arguments) \(environment)")
        } catch {
            #expect(!"\(error)".contains("hunter2"), "\(error)")
        }
    }

    @Test("the password of the replica's URL is not in its display name")
    func displayName() throws {
        let settings = try #require(try ReadReplicaSettings.resolve(
            url: "postgres://reader:hunter2@standby:5433/envmon", maxLagSeconds: nil, environment: [:]))
        #expect(settings.displayName == "standby:5433 as reader, database envmon")
    }

    static func standby(replay: UInt64?, since: Double?, recovery: Bool = true, identifier: Int64? = 7) -> StandbyReport {
        StandbyReport(inRecovery: recovery, replayPosition: replay, secondsSinceReplayedCommit: since, replayPaused: false,
                      systemIdentifier: identifier)
    }

    @Test("caught up is 0; behind is the smaller of the replay timestamp's age and the age of the last primary position passed")
    func lag() {
        var lag = ReplicaLag()
        let start = ContinuousClock.now
        // Caught up (or ahead: the primary was asked first).
        #expect(lag.measure(primary: 100, primaryAt: start, standby: Self.standby(replay: 100, since: 900)) == 0)
        #expect(lag.measure(primary: 100, primaryAt: start + .seconds(2), standby: Self.standby(replay: 120, since: 900)) == 0)
        // Behind, with the last commit it replayed an hour old (an idle primary's first new
        // commit): the position seen 2 s ago has been passed, so the lag is at most 2 s.
        #expect(lag.measure(primary: 200, primaryAt: start + .seconds(4), standby: Self.standby(replay: 150, since: 3600)) == 2)
        // Replay stalls at 150: the bound is the 200 seen at 4 s, not yet passed; 100 (2 s) was.
        let stalled = lag.measure(primary: 300, primaryAt: start + .seconds(14), standby: Self.standby(replay: 150, since: 30))
        #expect(stalled == 12)
        // The replay timestamp is the tighter bound when it is younger.
        #expect(lag.measure(primary: 300, primaryAt: start + .seconds(16), standby: Self.standby(replay: 150, since: 5)) == 5)
        // Behind with no commit replayed and no position passed: cannot be told.
        var fresh = ReplicaLag()
        #expect(fresh.measure(primary: 50, primaryAt: start, standby: Self.standby(replay: 10, since: nil)) == nil)
        #expect(fresh.measure(primary: nil, primaryAt: start, standby: Self.standby(replay: nil, since: nil)) == nil)
    }

    @Test("a primary, another cluster's standby, or too much lag is not used")
    func judge() {
        let limit = Duration.seconds(30)
        #expect(ReplicaState.judge(standby: Self.standby(replay: 1, since: 0), primaryIdentifier: 7, lag: 3, maxLag: limit) == .inUse(lag: 3))
        #expect(ReplicaState.judge(standby: Self.standby(replay: 1, since: 0), primaryIdentifier: 7, lag: 31, maxLag: limit) == .lagging(lag: 31))
        #expect(ReplicaState.judge(standby: Self.standby(replay: 1, since: 0), primaryIdentifier: 7, lag: nil, maxLag: limit) == .lagging(lag: nil))
        #expect(ReplicaState.judge(standby: Self.standby(replay: nil, since: nil, recovery: false), primaryIdentifier: 7, lag: 0,
                                   maxLag: limit) == .notStandby)
        #expect(ReplicaState.judge(standby: Self.standby(replay: 1, since: 0, identifier: 8), primaryIdentifier: 7, lag: 0,
                                   maxLag: limit) == .otherCluster)
        // An identifier the role may not read does not count against the standby.
        #expect(ReplicaState.judge(standby: Self.standby(replay: 1, since: 0, identifier: nil), primaryIdentifier: 7, lag: 0,
                                   maxLag: limit).isInUse)
    }

    @Test("/readyz names the replica's state and lag only when one is configured")
    func readiness() throws {
        #expect(String(decoding: HealthController.readiness(replica: nil), as: UTF8.self) == #"{"status":"ready"}"#)
        let inUse = try JSONSerialization.jsonObject(with: Data(HealthController.readiness(replica: .inUse(lag: 1.25)))) as? [String: Any]
        #expect(inUse?["read_replica"] as? String == "in_use")
        #expect(inUse?["read_replica_lag_seconds"] as? Double == 1.25)
        #expect(inUse?["status"] as? String == "ready")
        let down = try JSONSerialization.jsonObject(with: Data(HealthController.readiness(replica: .unreachable))) as? [String: Any]
        #expect(down?["read_replica"] as? String == "unreachable" && down?["read_replica_lag_seconds"] == nil)
    }
}

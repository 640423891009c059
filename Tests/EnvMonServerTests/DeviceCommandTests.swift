import EmbeddedPostgres
import EnvMonDomain
import EnvMonTestSupport
import Foundation
import Testing

/// `envmon devices add|list|retire` as a user runs them: the built binary, a real database.
@Suite("Device commands (envmon devices)", .timeLimit(.minutes(10)), .temporaryDatabases)
struct DeviceCommandTests {
    @Test("add, list --json, retire; a second add of the MN is refused; both changes are audited")
    func addListRetire() async throws {
        let db = try await TestDatabase.make()
        let url = CLIProcessTests.url(db.address)
        let envmon = try CLIProcessTests.executable()
        let added = try await Shell.run(envmon, ["devices", "add", "MN-01", "--password", "s3cret", "--enterprise", "E01",
                                                 "--outlet", "DA001", "--name", "1号锅炉", "--database-url", url])
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.stdout.contains("device MN-01 added for E01/DA001"))
        let again = try await Shell.run(envmon, ["devices", "add", "MN-01", "--password", "x", "--enterprise", "E01",
                                                 "--outlet", "DA002", "--database-url", url])
        #expect(again.status == 1)
        #expect(again.stderr.contains("registered already"), "\(again.stderr)")
        let listed = try await Shell.run(envmon, ["devices", "list", "--json", "--database-url", url])
        #expect(listed.status == 0, "\(listed.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any]
        let devices = try #require(object?["devices"] as? [[String: Any]])
        #expect(devices.count == 1)
        #expect(devices.first?["mn"] as? String == "MN-01")
        #expect(devices.first?["enterprise_id"] as? String == "E01")
        #expect(devices.first?["name"] as? String == "1号锅炉")
        #expect(!listed.stdout.contains("s3cret"))
        // Only the SHA-256 of the password is stored.
        #expect(try await db.value("SELECT password_sha256 = sha256('s3cret') FROM envmon.hj212_device") == "true")
        let retired = try await Shell.run(envmon, ["devices", "retire", "MN-01", "--database-url", url])
        #expect(retired.status == 0, "\(retired.stderr)")
        let twice = try await Shell.run(envmon, ["devices", "retire", "MN-01", "--database-url", url])
        #expect(twice.status == 1)
        let missing = try await Shell.run(envmon, ["devices", "retire", "NOPE", "--database-url", url])
        #expect(missing.stderr.contains("no device with MN NOPE"), "\(missing.stderr)")
        let text = try await Shell.run(envmon, ["devices", "list", "--database-url", url])
        #expect(text.stdout.contains("MN-01"))
        let audit = try await Shell.run(envmon, ["audit", "--since", "1h", "--json", "--database-url", url])
        let events = try #require((try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [String: Any])?["events"]
            as? [[String: Any]])
        #expect(events.compactMap { $0["action"] as? String } == ["device.retire", "device.add"])
        #expect(!audit.stdout.contains("s3cret"))
    }

    @Test("bad arguments are usage errors (status 2) before any database work; --help explains the command")
    func usage() async throws {
        let envmon = try CLIProcessTests.executable()
        for arguments in [["devices", "add", "MN 1", "--password", "p", "--enterprise", "E", "--outlet", "O"],
                          ["devices", "add", "MN1", "--password", "a;b", "--enterprise", "E", "--outlet", "O"],
                          ["devices", "add", "MN1", "--enterprise", "E", "--outlet", "O"]] {
            let result = try await Shell.run(envmon, arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
        }
        let help = try await Shell.run(envmon, ["devices", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("HJ 212"))
        #expect(help.stdout.contains("retire"))
        let serve = try await Shell.run(envmon, ["serve", "--help"])
        #expect(serve.stdout.contains("--hj212"))
        let badListen = try await Shell.run(envmon, ["serve", "--hj212", "nowhere"])
        #expect(badListen.status == 2)
        #expect(badListen.stderr.contains("HOST:PORT"))
    }
}

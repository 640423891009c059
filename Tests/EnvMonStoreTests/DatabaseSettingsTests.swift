@testable import EnvMonStore
import Testing

@Suite struct DatabaseSettingsTests {
    @Test func flagWinsOverEnvironment() throws {
        let settings = try DatabaseSettings.resolve(
            flag: "postgres://a:b@flaghost:6000/flagdb",
            environment: ["DATABASE_URL": "postgres://x@envhost/envdb", "PGHOST": "pghost"])
        guard case .server(let address) = settings else { Issue.record("expected a server"); return }
        #expect(address.host == "flaghost")
        #expect(address.port == 6000)
        #expect(address.database == "flagdb")
        #expect(address.user == "a")
        #expect(address.password == "b")
    }

    @Test func databaseURLWinsOverLibpqVariables() throws {
        let settings = try DatabaseSettings.resolve(
            flag: nil, environment: ["DATABASE_URL": "postgresql://u%40x:p%2Fw@db.example:5433/env?sslmode=require", "PGHOST": "pghost"])
        #expect(settings == .server(ServerAddress(host: "db.example", port: 5433, user: "u@x", password: "p/w",
                                                   database: "env", sslMode: .require)))
    }

    @Test func libpqVariables() throws {
        let settings = try DatabaseSettings.resolve(
            flag: nil, environment: ["PGHOST": "10.1.2.3", "PGPORT": "6432", "PGUSER": "bureau", "PGPASSWORD": "s",
                                     "PGDATABASE": "envmon", "PGSSLMODE": "verify-full"])
        #expect(settings == .server(ServerAddress(host: "10.1.2.3", port: 6432, user: "bureau", password: "s",
                                                   database: "envmon", sslMode: .verifyFull)))
    }

    @Test func libpqSocketHost() throws {
        let settings = try DatabaseSettings.resolve(flag: nil, environment: ["PGHOST": "/var/run/postgresql", "PGUSER": "me"])
        guard case .server(let address) = settings else { Issue.record("expected a server"); return }
        #expect(address.socketDirectory == "/var/run/postgresql")
        #expect(address.database == "me")
        #expect(address.displayLocation == "/var/run/postgresql/.s.PGSQL.5432")
    }

    @Test func nothingSetMeansEmbedded() throws {
        #expect(try DatabaseSettings.resolve(flag: nil, environment: ["HOME": "/root", "DATABASE_URL": ""]) == .embedded)
    }

    @Test(arguments: [
        ("mysql://x@h/db", "must start with postgres://"),
        ("postgres://u@h:99999/db", "port"),
        ("postgres://u@h/db?sslmode=sometimes", "unknown sslmode 'sometimes'"),
        ("postgres:///db", "names no host"),
    ])
    func badURLsSayWhy(url: String, expected: String) {
        #expect {
            _ = try DatabaseSettings.resolve(flag: url, environment: [:])
        } throws: { error in
            "\(error)".contains(expected)
        }
    }

    @Test func passwordIsHiddenInMessages() {
        #expect(ServerAddress.redacted("mysql://u:secret@h/db").contains("secret") == false)
    }
}

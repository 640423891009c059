import EnvMonNotify
import Testing

@Suite("ENVMON_SMTP_URL")
struct SMTPConfigurationTests {
    @Test func submissionPortRequiresSTARTTLS() throws {
        let config = try SMTPConfiguration(url: "smtp://alerts%40bureau:p%40ss%3Aw0rd@mail.example.gov.cn")
        #expect(config.host == "mail.example.gov.cn")
        #expect(config.port == 587)
        #expect(config.security == .startTLSRequired)
        #expect(config.username == "alerts@bureau")
        #expect(config.password == "p@ss:w0rd")
        #expect(config.verifiesCertificates)
        #expect(config.trustRootsPath == nil)
    }

    @Test(arguments: [
        ("smtp://relay:25", SMTPConfiguration.Security.startTLSOpportunistic, 25),
        ("smtp://relay:2525", .startTLSRequired, 2525),
        ("smtp://relay:25?starttls=required", .startTLSRequired, 25),
        ("smtp://relay:587?starttls=opportunistic", .startTLSOpportunistic, 587),
        ("smtp://127.0.0.1:1025?starttls=never", .plaintext, 1025),
        ("smtps://u:p@mail.example.gov.cn", .implicitTLS, 465),
        ("SMTPS://mail.example.gov.cn:4650", .implicitTLS, 4650),
    ])
    func securityAndPort(url: String, security: SMTPConfiguration.Security, port: Int) throws {
        let config = try SMTPConfiguration(url: url)
        #expect(config.security == security)
        #expect(config.port == port)
    }

    @Test func privateCAAndTimeouts() throws {
        let config = try SMTPConfiguration(url: "smtp://u:p@127.0.0.1:2525?ca=/tmp/ca.pem&timeout=2.5&connect_timeout=3&helo=envmon.test")
        #expect(config.trustRootsPath == "/tmp/ca.pem")
        #expect(config.replyTimeout == .milliseconds(2500))
        #expect(config.connectTimeout == .seconds(3))
        #expect(config.clientName == "envmon.test")
        #expect(config.verifiesCertificates)
    }

    @Test func verificationIsOffOnlyWhenAskedFor() throws {
        #expect(try SMTPConfiguration(url: "smtps://lab:465?tls_verify=none").verifiesCertificates == false)
        #expect(try SMTPConfiguration(url: "smtps://lab:465?tls_verify=full").verifiesCertificates)
    }

    @Test(arguments: [
        "http://mail.example.gov.cn", "smtp://", "smtp://mail:0", "smtp://mail?starttls=maybe", "smtps://mail?starttls=required",
        "smtp://mail?tls_verify=off", "smtp://mail?startls=required", "smtp://mail?timeout=-1", "smtp://mail?ca=",
        "smtp://:secret@mail", "not a url at all",
    ])
    func badURLsAreRefused(url: String) {
        #expect(throws: SMTPConfigurationError.self) { try SMTPConfiguration(url: url) }
    }

    @Test func descriptionHidesThePassword() throws {
        let config = try SMTPConfiguration(url: "smtp://envmon:hunter2@mail.example.gov.cn:587")
        #expect(!config.description.contains("hunter2"))
        #expect(config.description == "smtp://envmon:***@mail.example.gov.cn:587?starttls=required")
        let error = #expect(throws: SMTPConfigurationError.self) { try SMTPConfiguration(url: "smtp://u:hunter2@mail?x=1") }
        #expect(error?.description.contains("hunter2") == false)
    }
}

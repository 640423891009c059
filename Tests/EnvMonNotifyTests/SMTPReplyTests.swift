@testable import EnvMonNotify
import Testing

@Suite("SMTP reply parsing")
struct SMTPReplyTests {
    private func replies(_ lines: [String]) throws -> [SMTPReply] {
        var parser = SMTPReplyParser()
        return try lines.compactMap { try parser.feed(line: $0) }
    }

    @Test func singleLineReply() throws {
        #expect(try replies(["220 mail.example.gov.cn ESMTP ready"]) == [SMTPReply(code: 220, lines: ["mail.example.gov.cn ESMTP ready"])])
    }

    @Test func multiLineReplyEndsAtTheLineWithASpace() throws {
        let parsed = try replies(["250-mail.example.gov.cn", "250-STARTTLS", "250-AUTH PLAIN LOGIN", "250 SIZE 1000000", "354 go on"])
        #expect(parsed.count == 2)
        #expect(parsed.first?.lines == ["mail.example.gov.cn", "STARTTLS", "AUTH PLAIN LOGIN", "SIZE 1000000"])
        #expect(parsed.last?.code == 354)
    }

    @Test func bareCodeIsAWholeReply() throws {
        #expect(try replies(["250"]) == [SMTPReply(code: 250, lines: [""])])
    }

    @Test(arguments: ["hello", "25", "2x0 ok", "250_ok", "999 odd", "099 low", ""])
    func malformedLinesAreRejected(_ line: String) {
        var parser = SMTPReplyParser()
        #expect(throws: SMTPProtocolViolation.self) { try parser.feed(line: line) }
    }

    @Test func codeMustNotChangeInsideAMultiLineReply() {
        var parser = SMTPReplyParser()
        #expect(throws: SMTPProtocolViolation.self) {
            _ = try parser.feed(line: "250-first")
            _ = try parser.feed(line: "251 second")
        }
    }

    @Test func endlessMultiLineReplyIsCutOff() {
        var parser = SMTPReplyParser()
        #expect(throws: SMTPProtocolViolation.self) {
            for _ in 0...SMTPReplyParser.maximumLinesPerReply { _ = try parser.feed(line: "250-again") }
        }
    }

    @Test func replyClasses() {
        #expect(SMTPReply(code: 354, lines: [""]).isPositive)
        #expect(SMTPReply(code: 451, lines: [""]).isTransientFailure)
        #expect(!SMTPReply(code: 550, lines: [""]).isTransientFailure)
        #expect(SMTPReply(code: 550, lines: ["5.1.1 no such", "mailbox"]).summary == "550 5.1.1 no such / mailbox")
    }

    @Test func capabilitiesFromEHLO() {
        let ehlo = SMTPReply(code: 250, lines: ["mx.example", "PIPELINING", "starttls", "AUTH LOGIN plain", "AUTH=CRAM-MD5", "8BITMIME"])
        let capabilities = SMTPServerCapabilities(ehloReply: ehlo)
        #expect(capabilities.supportsStartTLS)
        #expect(capabilities.authMechanisms == ["LOGIN", "PLAIN", "CRAM-MD5"])
        // The greeting line is the server's name, not an extension, even if it reads like one.
        #expect(!SMTPServerCapabilities(ehloReply: SMTPReply(code: 250, lines: ["STARTTLS"])).supportsStartTLS)
    }

    @Test func failuresAreClassified() {
        let config = SMTPConfiguration(host: "mx", port: 25, security: .plaintext)
        #expect(SMTPConversation.refusal("MAIL FROM", SMTPReply(code: 451, lines: ["try later"])).isRetryable)
        #expect(!SMTPConversation.refusal("MAIL FROM", SMTPReply(code: 553, lines: ["no"])).isRetryable)
        #expect(SMTPClient.classify(SMTPReplyTimeout(), config: config).isRetryable)
        #expect(SMTPClient.classify(SMTPConnectionClosed(), config: config).isRetryable)
        #expect(!SMTPClient.classify(SMTPProtocolViolation(reason: "x"), config: config).isRetryable)
    }
}

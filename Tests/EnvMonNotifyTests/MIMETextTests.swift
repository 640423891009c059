import EnvMonTestSupport
@testable import EnvMonNotify
import Foundation
import Testing

@Suite("Email encoding")
struct MIMETextTests {
    @Test(arguments: [
        "[envmon][FIRING:2] 污水集中处理率 sewage_treatment_rate — 污水集中处理率 91.2%，低于计划目标 95%",
        "断面水质劣Ⅴ类：𠀀𠀁 河道 👩‍👩‍👧‍👦 family",
        "é",
        String(repeating: "长", count: 200),
    ])
    func encodedWordsDecodeBackAndStayShort(subject: String) {
        let words = MIMEText.encodedWords(subject)
        #expect(words.allSatisfy { $0.count <= 75 && $0.hasPrefix("=?UTF-8?B?") && $0.hasSuffix("?=") })
        // Every word decodes to valid UTF-8 on its own: no character is split across words.
        for word in words {
            let payload = String(word.dropFirst(10).dropLast(2))
            let bytes = Data(base64Encoded: payload)
            #expect(bytes.flatMap { String(data: $0, encoding: .utf8) } != nil, "word \(word) holds whole characters")
        }
        let header = MIMEText.headerValue(subject)
        #expect(header.split(separator: "\r\n").allSatisfy { $0.count <= 76 })
        #expect(ReceivedEmail.decodeEncodedWords(header.replacingOccurrences(of: "\r\n", with: "")) == subject)
    }

    @Test func asciiSubjectStaysReadable() {
        #expect(MIMEText.headerValue("[envmon][RESOLVED:1] water") == "[envmon][RESOLVED:1] water")
    }

    @Test func headerValueCannotInjectHeaders() {
        let value = MIMEText.headerValue("subject\r\nBcc: victim@example.com")
        #expect(!value.contains("\r\nBcc"))
        #expect(!value.contains("\n"))
    }

    @Test func base64LinesAreAtMost76AndDecodeBack() throws {
        let text = String(repeating: "污水处理率 sewage 95% ", count: 40)
        let lines = MIMEText.base64Lines(Array(text.utf8))
        #expect(lines.count > 1)
        #expect(lines.dropLast().allSatisfy { $0.count == 76 })
        #expect((lines.last?.count ?? 0) <= 76)
        let decoded = try #require(Data(base64Encoded: lines.joined()))
        #expect(String(decoding: decoded, as: UTF8.self) == text)
        #expect(MIMEText.base64Lines([]).isEmpty)
    }

    @Test func dotStuffingDoublesLeadingDotsAndEndsTheData() {
        let payload = MIMEText.dataPayload("first\r\n.hidden\n..two\r\n.\r\nlast\r\n")
        #expect(payload == "first\r\n..hidden\r\n...two\r\n..\r\nlast\r\n.\r\n")
        #expect(MIMEText.dataPayload("no final newline") == "no final newline\r\n.\r\n")
    }

    @Test func dateHeaderUsesTheFeedZone() {
        #expect(MIMEText.dateHeader(SampleAlerts.startsAt, timeZone: SampleAlerts.shanghai) == "Mon, 30 Nov 2026 20:00:00 +0800")
    }

    @Test(arguments: [
        ("envmon@example.gov.cn", nil as String?, "envmon@example.gov.cn"),
        ("环境监测预警 <envmon@example.gov.cn>", "环境监测预警", "envmon@example.gov.cn"),
        ("\"Env, Mon\" <a@b.cn>", "Env, Mon", "a@b.cn"),
    ])
    func addressesParse(text: String, name: String?, address: String) throws {
        let parsed = try #require(MailAddress(text))
        #expect(parsed.displayName == name)
        #expect(parsed.address == address)
    }

    @Test(arguments: ["", "nobody", "a@b@c", "a b@c.cn", "x@y.cn>\r\nRCPT TO:<z@y.cn", "<>", "@example.cn", "a@"])
    func nonAddressesAreRefused(text: String) {
        #expect(MailAddress(text) == nil)
    }

    @Test func renderedMessageHasTheHeadersAndBothParts() throws {
        let from = try #require(MailAddress("环境监测预警 <envmon@example.gov.cn>"))
        let to = try ["a@example.gov.cn", "b@example.gov.cn"].map { try #require(MailAddress($0)) }
        let message = EmailMessage(
            from: from, to: to, subject: "污水处理率告警", textBody: "正文 text\n.dot line\n", htmlBody: "<p>正文</p>",
            date: SampleAlerts.startsAt, timeZone: SampleAlerts.shanghai)
        let raw = message.rendered(boundary: "BOUNDARY")
        #expect(raw.components(separatedBy: "\r\n").allSatisfy { !$0.contains("\n") && !$0.contains("\r") })
        #expect(raw.utf8.allSatisfy { $0 < 128 }, "7-bit clean: everything non-ASCII is encoded")
        let email = try ReceivedEmail(raw: raw)
        #expect(email.subject == "污水处理率告警")
        #expect(ReceivedEmail.decodeEncodedWords(email.header("From") ?? "") == "环境监测预警 <envmon@example.gov.cn>")
        #expect(email.header("To") == "a@example.gov.cn, b@example.gov.cn")
        #expect(email.header("MIME-Version") == "1.0")
        #expect(email.header("Date") == "Mon, 30 Nov 2026 20:00:00 +0800")
        #expect(email.header("Message-ID")?.hasSuffix("@example.gov.cn>") == true)
        #expect(email.text == "正文 text\n.dot line\n")
        #expect(email.html == "<p>正文</p>")
    }
}

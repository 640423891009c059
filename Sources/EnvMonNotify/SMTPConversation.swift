import Foundation
import Logging
import NIOCore
import NIOSSL

/// The SMTP dialogue on one open connection (RFC 5321 §3, RFC 3207 STARTTLS, RFC 4954 AUTH).
struct SMTPConversation {
    let channel: any Channel
    let config: SMTPConfiguration
    let tls: NIOSSLContext?
    let connectionFailure: SMTPConnectionFailure
    let logger: Logger

    /// SNI and certificate name for a host; nil for an IP address (checked against IP SANs).
    static func serverName(for host: String) -> String? {
        (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
    }

    func deliver(_ message: EmailMessage) async throws -> SMTPDeliveryReport {
        let greeting = try await exchange(nil)
        guard greeting.code == 220 else { throw Self.refusal("greeting", greeting) }
        var capabilities = try await hello()
        var isEncrypted = config.security == .implicitTLS

        if config.security == .startTLSRequired || config.security == .startTLSOpportunistic {
            if capabilities.supportsStartTLS, let tls {
                let serverName = Self.serverName(for: config.host)
                let reply = try await exchange("STARTTLS", startTLS: .init(context: tls, serverName: serverName))
                guard reply.code == 220 else { throw Self.refusal("STARTTLS", reply) }
                logger.debug("SMTP connection upgraded to TLS")
                isEncrypted = true
                // RFC 3207 §4.2: forget what the server said in clear text and ask again.
                capabilities = try await hello()
            } else if config.security == .startTLSRequired {
                throw NotificationError.permanent(
                    "SMTP: \(config.host):\(config.port) does not offer STARTTLS, which the URL requires (starttls=required)")
            }
        }

        if let username = config.username {
            // A relay that skipped STARTTLS must not see the password; only an explicit
            // starttls=never says the operator accepts that (a loopback relay).
            guard isEncrypted || config.security == .plaintext else {
                throw NotificationError.permanent(
                    "SMTP: \(config.host):\(config.port) offers no STARTTLS; refusing to send credentials in clear text")
            }
            try await authenticate(username: username, password: config.password ?? "", capabilities: capabilities)
        }

        let mailFrom = try await exchange("MAIL FROM:<\(message.from.address)>")
        guard mailFrom.code == 250 else { throw Self.refusal("MAIL FROM", mailFrom) }

        var accepted: [String] = []
        var refused: [String: String] = [:]
        var anyTransient = false
        for recipient in message.to {
            let reply = try await exchange("RCPT TO:<\(recipient.address)>")
            if reply.code == 250 || reply.code == 251 {
                accepted.append(recipient.address)
            } else {
                refused[recipient.address] = reply.summary
                anyTransient = anyTransient || reply.isTransientFailure
                logger.info("SMTP recipient refused", metadata: [
                    "envmon.smtp.recipient": "\(recipient.address)", "envmon.smtp.reply": "\(reply.summary)",
                ])
            }
        }
        guard !accepted.isEmpty else {
            let reasons = refused.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
            throw NotificationError(isRetryable: anyTransient, reason: "SMTP: every recipient refused: \(reasons)")
        }

        let data = try await exchange("DATA")
        guard data.code == 354 else { throw Self.refusal("DATA", data) }
        let payload = MIMEText.dataPayload(message.rendered())
        let stored = try await exchange(raw: channel.allocator.buffer(string: payload), description: "message (\(payload.utf8.count) bytes)")
        guard stored.code == 250 else { throw Self.refusal("message", stored) }
        logger.debug("SMTP message accepted", metadata: ["envmon.smtp.reply": "\(stored.summary)"])
        return SMTPDeliveryReport(accepted: accepted, refused: refused)
    }

    /// Says goodbye politely; the message is already stored, so failures here do not matter.
    func quit() async {
        _ = try? await exchange("QUIT", timeout: .seconds(5))
        try? await channel.close()
    }

    private func hello() async throws -> SMTPServerCapabilities {
        let ehlo = try await exchange("EHLO \(config.clientName)")
        if ehlo.code == 250 { return SMTPServerCapabilities(ehloReply: ehlo) }
        // 500–504: a server that predates ESMTP; it still understands HELO (RFC 5321 §3.2).
        guard (500...504).contains(ehlo.code) else { throw Self.refusal("EHLO", ehlo) }
        let helo = try await exchange("HELO \(config.clientName)")
        guard helo.code == 250 else { throw Self.refusal("HELO", helo) }
        return .none
    }

    private func authenticate(username: String, password: String, capabilities: SMTPServerCapabilities) async throws {
        func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
        let reply: SMTPReply
        if capabilities.authMechanisms.contains("PLAIN") {
            reply = try await exchange("AUTH PLAIN " + base64("\0\(username)\0\(password)"), description: "AUTH PLAIN ***")
        } else if capabilities.authMechanisms.contains("LOGIN") {
            let start = try await exchange("AUTH LOGIN")
            guard start.code == 334 else { throw Self.refusal("AUTH LOGIN", start) }
            let user = try await exchange(base64(username), description: "*** (user name)")
            guard user.code == 334 else { throw Self.refusal("AUTH LOGIN user name", user) }
            reply = try await exchange(base64(password), description: "*** (password)")
        } else {
            let offered = capabilities.authMechanisms.sorted().joined(separator: " ")
            throw NotificationError.permanent(
                "SMTP: \(config.host):\(config.port) offers no AUTH PLAIN or LOGIN (offers: \(offered.isEmpty ? "none" : offered))")
        }
        guard reply.code == 235 else { throw Self.refusal("authentication as \(username)", reply) }
        logger.debug("SMTP authenticated")
    }

    private func exchange(
        _ command: String?, timeout: Duration? = nil, startTLS: SMTPExchange.StartTLS? = nil, description: String? = nil
    ) async throws -> SMTPReply {
        try await exchange(
            raw: command.map { channel.allocator.buffer(string: $0 + "\r\n") }, timeout: timeout, startTLS: startTLS,
            description: description ?? command ?? "(greeting)")
    }

    private func exchange(
        raw: ByteBuffer?, timeout: Duration? = nil, startTLS: SMTPExchange.StartTLS? = nil, description: String
    ) async throws -> SMTPReply {
        let promise = channel.eventLoop.makePromise(of: SMTPReply.self)
        let step = SMTPExchange(command: raw, reply: promise, timeout: TimeAmount(timeout ?? config.replyTimeout), startTLS: startTLS)
        // A write that never reaches the handler (the channel closed first) must still end the wait.
        channel.writeAndFlush(step).whenFailure { promise.fail($0) }
        let reply: SMTPReply
        do {
            reply = try await promise.futureResult.get()
        } catch {
            // The cause (a refused certificate, a timeout) beats its echo ("closed channel").
            throw connectionFailure.error ?? error
        }
        logger.trace("SMTP exchange", metadata: ["envmon.smtp.sent": "\(description)", "envmon.smtp.reply": "\(reply.summary)"])
        return reply
    }

    /// A negative reply as an error: 4xx may pass later, 5xx will not.
    static func refusal(_ step: String, _ reply: SMTPReply) -> NotificationError {
        NotificationError(isRetryable: reply.isTransientFailure, reason: "SMTP: \(step) refused: \(reply.summary)")
    }
}

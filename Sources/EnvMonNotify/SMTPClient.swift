public import Logging
public import NIOCore
import Foundation
public import NIOPosix
import NIOSSL

/// What the server made of the recipients of one message.
public struct SMTPDeliveryReport: Sendable, Equatable {
    /// Recipients the server accepted; the message went to them.
    public var accepted: [String]
    /// Recipients the server refused, with its reply, e.g. `550 5.1.1 no such mailbox`.
    public var refused: [String: String]
}

/// Sends email over SMTP (RFC 5321) on SwiftNIO: STARTTLS or implicit TLS through NIOSSL,
/// AUTH PLAIN or LOGIN, several recipients, one message per connection.
///
/// ```swift
/// let config = try SMTPConfiguration(url: "smtp://envmon:secret@mail.example.gov.cn:587")
/// try await SMTPClient().send(message, config: config, logger: logger)
/// ```
public struct SMTPClient: Sendable {
    private let eventLoopGroup: any EventLoopGroup

    /// - Parameter eventLoopGroup: where connections run; the process-wide NIO group by default.
    public init(eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.eventLoopGroup = eventLoopGroup
    }

    /// Delivers one message, or throws a `NotificationError` that says whether a later attempt
    /// may succeed (4xx replies, connection failures, timeouts) or not (5xx replies, TLS or
    /// authentication refused). When only some recipients are refused, the message goes to the
    /// others and the report names the refused ones.
    @discardableResult
    public func send(_ message: EmailMessage, config: SMTPConfiguration, logger: Logger) async throws(NotificationError) -> SMTPDeliveryReport {
        var logger = logger
        logger[metadataKey: "envmon.smtp.server"] = "\(config.host):\(config.port)"
        let tls = try Self.makeTLSContext(config)
        let connectionFailure = SMTPConnectionFailure()
        let channel = try await connect(config: config, tls: tls, connectionFailure: connectionFailure, logger: logger)
        let conversation = SMTPConversation(
            channel: channel, config: config, tls: tls, connectionFailure: connectionFailure, logger: logger)
        do {
            let report = try await conversation.deliver(message)
            await conversation.quit()
            return report
        } catch {
            try? await channel.close()
            throw Self.classify(error, config: config)
        }
    }

    private static func makeTLSContext(_ config: SMTPConfiguration) throws(NotificationError) -> NIOSSLContext? {
        guard config.security != .plaintext else { return nil }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let path = config.trustRootsPath {
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw .permanent("SMTP: the CA file \(path) cannot be read")
            }
            tls.trustRoots = .file(path)
        }
        if !config.verifiesCertificates { tls.certificateVerification = .none }
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw .permanent("SMTP: cannot set up TLS: \(error)")
        }
    }

    private func connect(
        config: SMTPConfiguration, tls: NIOSSLContext?, connectionFailure: SMTPConnectionFailure, logger: Logger
    ) async throws(NotificationError) -> any Channel {
        let implicitTLS = config.security == .implicitTLS ? tls : nil
        let serverName = SMTPConversation.serverName(for: config.host)
        let bootstrap = ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(TimeAmount(config.connectTimeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let implicitTLS {
                        let handler = try NIOSSLClientHandler(context: implicitTLS, serverHostname: serverName)
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                    try channel.pipeline.syncOperations.addHandler(SMTPConnectionHandler(connectionFailure: connectionFailure))
                }
            }
        do {
            let channel = try await bootstrap.connect(host: config.host, port: config.port).get()
            logger.debug("SMTP connection open")
            return channel
        } catch {
            throw .retryable("SMTP: cannot connect to \(config.host):\(config.port): \(Self.describe(error))")
        }
    }

    /// Sorts a failure into retry-later or give-up, with a reason that names the step.
    static func classify(_ error: any Error, config: SMTPConfiguration) -> NotificationError {
        switch error {
        case let error as NotificationError:
            return error
        case is SMTPReplyTimeout:
            return .retryable("SMTP: no reply from \(config.host):\(config.port) within \(config.replyTimeout)")
        case is SMTPConnectionClosed:
            return .retryable("SMTP: \(config.host):\(config.port) closed the connection")
        case let error as SMTPProtocolViolation:
            return .permanent("SMTP: \(config.host):\(config.port) does not speak SMTP: \(error.reason)")
        case let error as NIOSSLError:
            // A certificate that does not verify stays that way until someone changes it.
            return .permanent("SMTP: TLS with \(config.host):\(config.port) failed: \(describe(error))")
        case let error as NIOSSLExtraError:
            return .permanent("SMTP: TLS with \(config.host):\(config.port) failed: \(describe(error))")
        default:
            return .retryable("SMTP: connection to \(config.host):\(config.port) failed: \(describe(error))")
        }
    }

    static func describe(_ error: any Error) -> String {
        String(describing: error).prefix(300).description
    }
}

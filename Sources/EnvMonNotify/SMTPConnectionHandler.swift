import Foundation
import NIOCore
import NIOSSL

/// One step of the conversation: send a command (or nothing, for the greeting) and wait for
/// the server's reply, at most `timeout`.
struct SMTPExchange: Sendable {
    var command: ByteBuffer?
    var reply: EventLoopPromise<SMTPReply>
    var timeout: TimeAmount
    /// Set for STARTTLS: on its 220 reply, TLS goes into the pipeline before another byte is read.
    var startTLS: StartTLS?

    struct StartTLS: Sendable {
        var context: NIOSSLContext
        /// The name to send in SNI and verify the certificate against; nil for an IP address,
        /// which is then checked against the certificate's IP addresses.
        var serverName: String?
    }
}

/// The reply did not come in time.
struct SMTPReplyTimeout: Error, Sendable {}

/// The server closed the connection while a reply was awaited.
struct SMTPConnectionClosed: Error, Sendable {}

/// The first failure of a connection, kept beyond the handler's life: once the channel has
/// closed, a late write only learns "I/O on closed channel", not that the certificate was refused.
final class SMTPConnectionFailure: @unchecked Sendable {
    private let lock = NSLock()
    private var first: (any Error)?

    func record(_ error: any Error) {
        lock.withLock { if first == nil { first = error } }
    }

    var error: (any Error)? { lock.withLock { first } }
}

/// Frames the server's bytes into lines, lines into replies, and hands each reply to the
/// exchange waiting for it. The protocol decisions live in `SMTPClient`; this only moves bytes.
final class SMTPConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = SMTPExchange
    typealias OutboundOut = ByteBuffer

    /// RFC 5321 allows 512 octets per reply line; a little slack, then it is not SMTP.
    static let maximumLineLength = 4096

    private struct Waiter {
        var reply: EventLoopPromise<SMTPReply>
        var timeout: Scheduled<Void>
        var startTLS: SMTPExchange.StartTLS?
    }

    private var pendingBytes: [UInt8] = []
    private var parser = SMTPReplyParser()
    private var waiters = CircularBuffer<Waiter>()
    /// Replies that arrived before anyone asked (the greeting can beat the first exchange).
    private var unclaimed = CircularBuffer<SMTPReply>()
    private var failure: (any Error)?
    private let connectionFailure: SMTPConnectionFailure

    init(connectionFailure: SMTPConnectionFailure) {
        self.connectionFailure = connectionFailure
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        if let failure {
            exchange.reply.fail(failure)
            promise?.fail(failure)
            return
        }
        let timeout = context.eventLoop.assumeIsolated().scheduleTask(in: exchange.timeout) {
            self.fail(SMTPReplyTimeout(), context: context)
        }
        waiters.append(Waiter(reply: exchange.reply, timeout: timeout, startTLS: exchange.startTLS))
        // The exchange is registered: from here its reply promise ends by a reply, a timeout or
        // the connection's first failure (errorCaught/channelInactive), never by a later
        // write error that would hide the real cause, such as a refused certificate.
        promise?.succeed(())
        if let command = exchange.command {
            context.writeAndFlush(wrapOutboundOut(command), promise: nil)
        }
        if let early = unclaimed.popFirst() {
            do { try deliver(early, context: context) } catch { fail(error, context: context) }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        guard failure == nil, let bytes = buffer.readBytes(length: buffer.readableBytes) else { return }
        pendingBytes += bytes
        while let newline = pendingBytes.firstIndex(of: UInt8(ascii: "\n")) {
            var line = pendingBytes[..<newline]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            pendingBytes.removeSubrange(...newline)
            do {
                if let reply = try parser.feed(line: String(decoding: line, as: UTF8.self)) { try deliver(reply, context: context) }
            } catch {
                fail(error, context: context)
                return
            }
        }
        if pendingBytes.count > Self.maximumLineLength {
            fail(SMTPProtocolViolation(reason: "reply line longer than \(Self.maximumLineLength) bytes"), context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failWaiters(SMTPConnectionClosed())
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error, context: context)
    }

    private func deliver(_ reply: SMTPReply, context: ChannelHandlerContext) throws {
        guard let waiter = waiters.popFirst() else {
            // Only the greeting arrives unasked; a server that keeps talking is not waited for.
            if unclaimed.count < 8 { unclaimed.append(reply) }
            return
        }
        waiter.timeout.cancel()
        if let startTLS = waiter.startTLS, reply.code == 220 {
            // Anything already received after the 220 came in clear text and could be forged
            // by a man in the middle (the STARTTLS injection attacks); the server must wait.
            do {
                guard pendingBytes.isEmpty, unclaimed.isEmpty else {
                    throw SMTPProtocolViolation(reason: "data after the STARTTLS reply, before TLS began")
                }
                let tls = try NIOSSLClientHandler(context: startTLS.context, serverHostname: startTLS.serverName)
                try context.pipeline.syncOperations.addHandler(tls, position: .first)
            } catch {
                waiter.reply.fail(error)
                throw error
            }
        }
        waiter.reply.succeed(reply)
    }

    /// After a timeout, a protocol violation or a transport error the conversation cannot go
    /// on: every waiter learns why, and the connection closes.
    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        failWaiters(error)
        context.close(promise: nil)
    }

    private func failWaiters(_ error: any Error) {
        if failure == nil { failure = error }
        connectionFailure.record(error)
        while let waiter = waiters.popFirst() {
            waiter.timeout.cancel()
            waiter.reply.fail(failure ?? error)
        }
    }
}

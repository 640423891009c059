import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A data logger on loopback TCP for the listener's tests: sends bytes as given (split or
/// joined as the test wants) and collects what the server sends back, and whether it closed.
final class LoggerClient: Sendable {
    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let state = Mutex<(bytes: [UInt8], closed: Bool)>(([], false))

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            state.withLock { $0.bytes += Array(buffer.readableBytesView) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            state.withLock { $0.closed = true }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }

    private let channel: any Channel
    private let collector: Collector

    private init(channel: any Channel, collector: Collector) {
        self.channel = channel
        self.collector = collector
    }

    static func connect(port: Int) async throws -> LoggerClient {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return LoggerClient(channel: channel, collector: collector)
    }

    /// Writes `bytes` in one write.
    func send(_ bytes: [UInt8]) async throws {
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        try await channel.writeAndFlush(buffer)
    }

    /// What the server sent so far.
    var received: [UInt8] { collector.state.withLock { $0.bytes } }
    /// Whether the server closed the connection.
    var isClosed: Bool { collector.state.withLock { $0.closed } }

    /// The received bytes split into lines ending in CRLF (complete frames).
    var replies: [String] {
        let text = String(decoding: received, as: UTF8.self)
        return text.components(separatedBy: "\r\n").dropLast().map { $0 }
    }

    func close() async {
        try? await channel.close()
    }

    /// Waits until `condition` holds (checked every 20 ms), at most `timeout`; returns whether it held.
    @discardableResult
    static func eventually(_ timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await condition()
    }
}

/// The HJ 212-2017 Appendix A CRC, written again from the standard's description (a
/// table-driven reflected CRC whose byte step is `reg = (reg >> 8) ^ byte` followed by 8 shifts),
/// to check the server's answers independently of EnvMonHJ212.
enum IndependentCRC {
    static let table: [UInt16] = (0..<256).map { index in
        var value = UInt16(index)
        for _ in 0..<8 { value = value & 1 == 1 ? (value >> 1) ^ 0xA001 : value >> 1 }
        return value
    }

    static func checksum(_ text: String) -> UInt16 {
        var register: UInt16 = 0xFFFF
        for byte in text.utf8 {
            // (reg >> 8) ^ byte is below 256: its eight shifts are one table entry.
            register = table[Int((register >> 8) ^ UInt16(byte))]
        }
        return register
    }

    /// Checks a framed line (without CRLF): length field, CRC; returns the data segment.
    static func verifiedSegment(_ line: String) -> String? {
        let bytes = Array(line.utf8)
        guard bytes.count >= 10, line.hasPrefix("##"), let length = Int(String(decoding: bytes[2..<6], as: UTF8.self)),
              length == bytes.count - 10 else { return nil }
        let segment = String(decoding: bytes[6..<(bytes.count - 4)], as: UTF8.self)
        guard let crc = UInt16(String(decoding: bytes[(bytes.count - 4)...], as: UTF8.self), radix: 16),
              crc == checksum(segment) else { return nil }
        return segment
    }
}

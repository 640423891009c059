import EnvMonDomain
import EnvMonHJ212
import EnvMonStore
import Foundation
import Logging
import NIOCore

/// One data logger's TCP connection: frames (resync, bounds), packets, split messages, group
/// commit, and the CN 9014 answers once their packets are committed.
///
/// Runs on the channel's event loop. At most `maximumInFlight` submissions wait for the
/// committer; beyond that the connection stops reading (TCP back-pressure on the logger).
final class HJ212ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let committer: PacketCommitter
    private let zone: TimeZone
    private let maximumInFlight: Int
    private let logger: Logger
    private var decoder: HJ212FrameDecoder
    private var reassembler = HJ212Reassembler()
    /// Records of the parts of split messages received so far, by message.
    private var parts: [HJ212Reassembler.Key: [(pno: Int, inspected: InspectedFrame)]] = [:]
    private var inFlight = 0
    private var peer = "?"
    private var closed = false

    init(committer: PacketCommitter, zone: TimeZone, maximumFrameBytes: Int, maximumInFlight: Int, logger: Logger) {
        self.committer = committer
        self.zone = zone
        self.decoder = HJ212FrameDecoder(maximumBuffer: maximumFrameBytes)
        self.maximumInFlight = max(1, maximumInFlight)
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        if let address = context.channel.remoteAddress {
            peer = address.ipAddress.map { "\($0):\(address.port ?? 0)" } ?? "\(address)"
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let now = Date()
        var submission: [InspectedFrame] = []
        var keys: Set<String> = []
        for event in decoder.feed(buffer.readableBytesView) {
            switch event {
            case .frame(let frame):
                for inspected in accept(PacketIntake.inspect(frame, peer: peer, receivedAt: now, zone: zone), now: now) {
                    if let key = PacketCommitter.key(of: inspected.record), !keys.insert(key).inserted {
                        // The same device, command and data time twice in one read (a value sent
                        // again, perhaps changed): the later one goes in a submission of its own,
                        // which the committer commits after this one.
                        submit(submission, context: context)
                        submission = []
                        keys = [key]
                    }
                    submission.append(inspected)
                }
            case .skipped(let count):
                logger.debug("bytes outside any HJ 212 frame skipped", metadata: ["envmon.hj212.bytes": "\(count)"])
            case .discarded(let reason):
                logger.debug("broken HJ 212 frame dropped", metadata: ["envmon.hj212.reason": "\(reason)"])
            case .fatal(let reason):
                logger.info("HJ 212 connection closed: frame over the bound", metadata: [
                    "envmon.hj212.peer": "\(peer)", "envmon.hj212.reason": "\(reason)"])
                submit(submission, context: context)
                close(context: context)
                return
            }
        }
        submit(submission, context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            logger.debug("HJ 212 connection idle; closed", metadata: ["envmon.hj212.peer": "\(peer)"])
            close(context: context)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        // Parts of messages that can no longer complete are archived as such.
        var leftovers: [InspectedFrame] = []
        for (_, list) in parts {
            for (_, inspected) in list {
                var record = inspected.record
                record.handling = .rejected(.malformed)
                record.detail = "split message: the connection closed before every part arrived"
                leftovers.append(InspectedFrame(record: record, packet: nil))
            }
        }
        parts = [:]
        if !leftovers.isEmpty { committer.submit(.init(origin: ObjectIdentifier(self), records: leftovers.map(\.record), completion: { _ in })) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("HJ 212 connection error", metadata: ["envmon.hj212.peer": "\(peer)", "envmon.error": "\(error)"])
        close(context: context)
    }

    private func close(context: ChannelHandlerContext) {
        guard !closed else { return }
        closed = true
        context.close(promise: nil)
    }

    /// What a frame adds to the next submission: itself, or — for the last part of a split
    /// message — every part, the values of the whole message on the last.
    private func accept(_ inspected: InspectedFrame, now: Date) -> [InspectedFrame] {
        guard let packet = inspected.packet, let number = packet.pno else { return [inspected] }
        var out: [InspectedFrame] = []
        let key = HJ212Reassembler.Key(mn: packet.mn, qn: packet.qn ?? "", cn: packet.cn)
        parts[key, default: []].append((number, inspected))
        for event in reassembler.accept(packet, now: now) {
            switch event {
            case .complete(let message):
                let messageKey = HJ212Reassembler.Key(mn: message.mn, qn: message.qn ?? "", cn: message.cn)
                guard var list = parts.removeValue(forKey: messageKey), !list.isEmpty else { continue }
                list.sort { $0.pno < $1.pno }
                let last = list.count - 1
                list[last].inspected.record = PacketIntake.message(message, record: list[last].inspected.record, zone: zone)
                for index in 0..<last {
                    list[index].inspected.record.handling = list[last].inspected.record.handling
                    list[index].inspected.record.detail = "part \(list[index].pno) of \(list.count); values with part \(list[last].pno)"
                }
                out += list.map(\.inspected)
            case .rejected(let rejected, let failure):
                let rejectedKey = HJ212Reassembler.Key(mn: rejected.mn, qn: rejected.qn ?? "", cn: rejected.cn)
                if var list = parts[rejectedKey], let index = list.lastIndex(where: { $0.inspected.packet == rejected }) {
                    var part = list.remove(at: index).inspected
                    parts[rejectedKey] = list.isEmpty ? nil : list
                    part.record.handling = .rejected(.malformed)
                    part.record.detail = "split message: \(failure)"
                    part.packet = nil
                    out.append(part)
                }
            case .failed(let partial, let failure):
                for (_, part) in parts.removeValue(forKey: partial.key) ?? [] {
                    var record = part.record
                    record.handling = .rejected(.malformed)
                    record.detail = "split message: \(failure)"
                    out.append(InspectedFrame(record: record, packet: nil))
                }
            }
        }
        return out
    }

    private func submit(_ frames: [InspectedFrame], context: ChannelHandlerContext) {
        guard !frames.isEmpty else { return }
        inFlight += 1
        if inFlight >= maximumInFlight { context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in } }
        let packets = frames.map(\.packet)
        let channel = context.channel
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        committer.submit(.init(origin: ObjectIdentifier(self), records: frames.map(\.record)) { result in
            channel.eventLoop.execute {
                bound.value.completed(result, packets: packets, channel: channel)
            }
        })
    }

    /// On the event loop: answers the committed packets that asked, in order, and reads again.
    private func completed(_ result: Result<[PacketResult], any Error>, packets: [HJ212Packet?], channel: any Channel) {
        inFlight -= 1
        if case .success(let results) = result, !closed {
            var answer = channel.allocator.buffer(capacity: 0)
            for (packet, outcome) in zip(packets, results) {
                guard let packet, PacketIntake.wantsReply(packet, outcome: outcome.outcome),
                      let reply = try? HJ212Encoder.dataResponse(to: packet, now: Date()) else { continue }
                answer.writeBytes(reply)
            }
            if answer.readableBytes > 0 { channel.writeAndFlush(answer, promise: nil) }
        }
        if inFlight < maximumInFlight, !closed {
            channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
        }
    }
}

import FuzzSupport
import EnvMonHJ212
import Foundation

/// A TCP stream from a data logger: arbitrary bytes in pieces of the first byte's size,
/// through the frame decoder; every complete frame is parsed as a packet and its readings read.
@_cdecl("FuzzHJ212_main")
public func entry(argc: Int32, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc: argc, argv: argv, fuzz)
}

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    guard size >= 1 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let chunk = max(1, Int(bytes[0]))
    var decoder = HJ212FrameDecoder()
    var events: [HJ212FrameEvent] = []
    var start = 1
    while start < bytes.count {
        let end = min(start + chunk, bytes.count)
        events += decoder.feed(bytes[start..<end])
        start = end
    }
    events += decoder.finish()
    for case .frame(let frame) in events {
        guard let packet = try? HJ212Packet(parsing: frame.segment) else { continue }
        _ = try? packet.readings(in: TimeZone(identifier: "Asia/Shanghai") ?? .gmt)
    }
    return 0
}

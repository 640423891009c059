import FuzzSupport
import EnvMonIngest

/// The encoding sniffer over arbitrary bytes in arbitrary pieces; its verdict is one of the
/// encodings, whatever the bytes.
@_cdecl("FuzzSniffer_main")
public func entry(argc: Int32, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc: argc, argv: argv, fuzz)
}

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    guard size >= 1 else { return 0 }
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let chunk = max(1, Int(bytes[0]))
    var sniffer = EncodingSniffer()
    var start = 1
    while start < size {
        let end = min(start + chunk, size)
        sniffer.consume(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start..<end]))
        start = end
    }
    _ = sniffer.finish()
    return 0
}

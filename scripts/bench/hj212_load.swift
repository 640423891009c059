// A native load client for scripts/bench/hj212.sh: LOGGERS simulated HJ 212 data loggers on
// one thread (non-blocking sockets, poll), each sending CN 2061 hourly packets with 8
// pollutants (Flag=5, so each asks for a reply) as fast as it is answered, for SECONDS seconds.
// The Python asyncio client it replaces took ~70 % of a core at ~1,800 packets/s on a 2-core
// machine, so it measured itself as much as the server.
//
// Build (the checksum is the receiver's own, Sources/EnvMonHJ212/HJ212CRC.swift; top-level code
// must be in main.swift when swiftc is given two files):
//   cp scripts/bench/hj212_load.swift /tmp/main.swift
//   swiftc -O -o hj212-load /tmp/main.swift Sources/EnvMonHJ212/HJ212CRC.swift
// Usage: hj212-load PORT LOGGERS SECONDS OUTFILE
// Prints: loggers= packets_answered= seconds= packets_per_s= p50_ms= p99_ms= (latency from the
// packet's last byte written to its CN 9014 read, client side); writes the count to OUTFILE.
import Glibc

func fail(_ message: String) -> Never {
    fputs("hj212-load: \(message)\n", stderr)
    exit(1)
}

let arguments = CommandLine.arguments
guard arguments.count == 5, let port = UInt16(arguments[1]), let loggers = Int(arguments[2]),
      let seconds = Double(arguments[3]) else {
    fail("usage: hj212-load PORT LOGGERS SECONDS OUTFILE")
}
let outFile = arguments[4]

func monotonicNanos() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

func digits(_ value: Int, _ width: Int) -> String {
    let text = String(value)
    return String(repeating: "0", count: max(0, width - text.count)) + text
}

/// yyyyMMddHHmmss of `epoch` seconds, in China Standard Time.
func chinaTime(_ epoch: Int) -> String {
    var seconds = time_t(epoch + 8 * 3600)
    var parts = tm()
    gmtime_r(&seconds, &parts)
    return digits(Int(parts.tm_year) + 1900, 4) + digits(Int(parts.tm_mon) + 1, 2) + digits(Int(parts.tm_mday), 2)
        + digits(Int(parts.tm_hour), 2) + digits(Int(parts.tm_min), 2) + digits(Int(parts.tm_sec), 2)
}

let codes = ["a21026", "a21002", "a34013", "a19001", "a00000", "a01012", "a01014", "a21005"]
let baseHour = (Int(time(nil)) / 3600) * 3600 - 40 * 86_400

/// Packet `n` of logger `mn`: each one a new hour, so every packet stores 8 readings.
func packet(mn: String, n: Int) -> [UInt8] {
    let qn = chinaTime(Int(time(nil))) + digits(n % 1000, 3)
    var cp = ""
    for (index, code) in codes.enumerated() {
        if index > 0 { cp += ";" }
        cp += "\(code)-Avg=\((n % 97) + index + 1).5,\(code)-Flag=N"
    }
    let segment = Array("QN=\(qn);ST=31;CN=2061;PW=pw;MN=\(mn);Flag=5;CP=&&DataTime=\(chinaTime(baseHour - n * 3600));\(cp)&&".utf8)
    let crc = HJ212CRC.hex(HJ212CRC.checksum(segment))
    return Array("##\(digits(segment.count, 4))".utf8) + segment + Array("\(crc)\r\n".utf8)
}

final class Logger {
    let fd: Int32
    let mn: String
    var n = 0
    var sentAt: UInt64 = 0
    var pending: [UInt8] = []
    var pendingOffset = 0
    var input: [UInt8] = []
    var open = true

    init(fd: Int32, mn: String) {
        self.fd = fd
        self.mn = mn
    }
}

func connectLogger(_ index: Int) -> Logger {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { fail("socket: \(String(cString: strerror(errno)))") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { fail("connect \(index): \(String(cString: strerror(errno)))") }
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    return Logger(fd: fd, mn: "BENCH" + digits(index + 1, 6))
}

var all: [Logger] = (0..<loggers).map(connectLogger)

/// Writes what is pending; true when all of it went (the packet's last byte is then sent).
func flush(_ logger: Logger) -> Bool {
    while logger.pendingOffset < logger.pending.count {
        let written = logger.pending.withUnsafeBytes { bytes -> Int in
            guard let base = bytes.baseAddress else { return 0 }
            return write(logger.fd, base + logger.pendingOffset, bytes.count - logger.pendingOffset)
        }
        if written < 0 {
            if errno == EAGAIN || errno == EINTR { return false }
            fail("write: \(String(cString: strerror(errno)))")
        }
        logger.pendingOffset += written
    }
    logger.sentAt = monotonicNanos()
    return true
}

func send(_ logger: Logger) {
    logger.n += 1
    logger.pending = packet(mn: logger.mn, n: logger.n)
    logger.pendingOffset = 0
    _ = flush(logger)
}

/// "CN=9014", the reply a logger waits for.
let marker = Array("CN=9014".utf8)

func contains(_ line: ArraySlice<UInt8>, _ needle: [UInt8]) -> Bool {
    guard line.count >= needle.count else { return false }
    var position = line.startIndex
    while position + needle.count <= line.endIndex {
        var index = 0
        while index < needle.count && line[position + index] == needle[index] { index += 1 }
        if index == needle.count { return true }
        position += 1
    }
    return false
}

let start = monotonicNanos()
let deadline = start + UInt64(seconds * 1e9)
var latencies: [UInt32] = []  // microseconds
latencies.reserveCapacity(1 << 20)
var answered = 0
var openCount = loggers
for logger in all { send(logger) }

var buffer = [UInt8](repeating: 0, count: 65_536)
let giveUp = deadline + 30_000_000_000
var fds = [pollfd](repeating: pollfd(), count: loggers)
while openCount > 0 && monotonicNanos() < giveUp {
    for (index, logger) in all.enumerated() {
        let wantsOut = logger.pendingOffset < logger.pending.count
        fds[index] = pollfd(fd: logger.open ? logger.fd : -1,
                            events: Int16(POLLIN) | (wantsOut ? Int16(POLLOUT) : 0), revents: 0)
    }
    let ready = poll(&fds, nfds_t(fds.count), 1000)
    if ready < 0 {
        if errno == EINTR { continue }
        fail("poll")
    }
    for index in fds.indices where fds[index].revents != 0 {
        let logger = all[index]
        guard logger.open else { continue }
        let revents = Int32(fds[index].revents)
        if revents & Int32(POLLOUT) != 0, logger.pendingOffset < logger.pending.count { _ = flush(logger) }
        guard revents & (Int32(POLLIN) | Int32(POLLHUP) | Int32(POLLERR)) != 0 else { continue }
        let count = buffer.withUnsafeMutableBytes { bytes -> Int in
            guard let base = bytes.baseAddress else { return 0 }
            return read(logger.fd, base, bytes.count)
        }
        if count < 0 && (errno == EAGAIN || errno == EINTR) { continue }
        if count <= 0 {
            logger.open = false
            openCount -= 1
            close(logger.fd)
            continue
        }
        logger.input += buffer[0..<count]
        while let end = logger.input.indices.dropLast().first(where: { logger.input[$0] == 13 && logger.input[$0 + 1] == 10 }) {
            let line = logger.input[...end]
            logger.input.removeFirst(end + 2)
            let now = monotonicNanos()
            latencies.append(UInt32(min((now - logger.sentAt) / 1000, UInt64(UInt32.max))))
            if contains(line, marker) { answered += 1 }
            if now < deadline {
                send(logger)
            } else {
                logger.open = false
                openCount -= 1
                close(logger.fd)
                break
            }
        }
    }
}
let elapsed = Double(monotonicNanos() - start) / 1e9
latencies.sort()
func percentile(_ p: Double) -> Double {
    latencies.isEmpty ? .nan : Double(latencies[min(latencies.count - 1, Int(p * Double(latencies.count)))]) / 1000
}
let rate = Double(answered) / elapsed
print("loggers=\(loggers) packets_answered=\(answered) seconds=\(Int(elapsed * 10) / 10) "
      + "packets_per_s=\(Int(rate)) p50_ms=\(Int(percentile(0.50))) p99_ms=\(Int(percentile(0.99)))")
if let file = fopen(outFile, "w") {
    fputs("\(answered)", file)
    fclose(file)
}

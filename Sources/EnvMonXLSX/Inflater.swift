import Foundation

/// A pull-based raw DEFLATE (RFC 1951) decoder: each `read` call produces the next stretch of
/// output, so a caller can stop at any point and memory stays at the 32 KiB window plus one chunk.
/// Truncated or corrupt input is an error, never a hang.
struct Inflater {
    enum Failure: Error { case corrupt(String), truncated }

    private struct Huffman {
        /// Indexed by the next `bits` input bits: symbol << 4 | code length, 0 for no code.
        var table: [UInt32]
        var bits: Int

        init(lengths: [Int]) throws(Failure) {
            var counts = [Int](repeating: 0, count: 16)
            for length in lengths { counts[length] += 1 }
            counts[0] = 0
            var left = 1
            for length in 1...15 {
                left = (left << 1) - counts[length]
                if left < 0 { throw .corrupt("over-subscribed Huffman code") }
            }
            var nextCode = [Int](repeating: 0, count: 16)
            var code = 0
            for length in 1...15 {
                code = (code + counts[length - 1]) << 1
                nextCode[length] = code
            }
            let maxBits = max(1, lengths.max() ?? 1)
            bits = maxBits
            table = [UInt32](repeating: 0, count: 1 << maxBits)
            for (symbol, length) in lengths.enumerated() where length > 0 {
                let code = nextCode[length]
                nextCode[length] += 1
                var reversed = 0
                for bit in 0..<length where code & (1 << bit) != 0 { reversed |= 1 << (length - 1 - bit) }
                let entry = UInt32(symbol) << 4 | UInt32(length)
                var slot = reversed
                while slot < table.count {
                    table[slot] = entry
                    slot += 1 << length
                }
            }
        }
    }

    private enum State {
        case blockHeader
        case stored(remaining: Int)
        case codes(Huffman, Huffman)
        case done
    }

    private static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99,
                                     115, 131, 163, 195, 227, 258]
    private static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
                                       1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    private static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11,
                                        12, 12, 13, 13]
    private static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    private let source: Data
    private var sourceOffset: Int
    private let sourceEnd: Int
    private var chunk: [UInt8] = []
    private var chunkIndex = 0
    private var bitBuffer: UInt64 = 0
    private var bitCount = 0
    private var window = [UInt8](repeating: 0, count: 32768)
    private var written = 0
    private var state = State.blockHeader
    private var lastBlock = false

    init(source: Data, range: Range<Int>) {
        self.source = source
        self.sourceOffset = range.lowerBound
        self.sourceEnd = range.upperBound
    }

    private mutating func nextInputByte() -> UInt8? {
        if chunkIndex == chunk.count {
            guard sourceOffset < sourceEnd else { return nil }
            let end = min(sourceEnd, sourceOffset + 65536)
            chunk = [UInt8](source[source.startIndex + sourceOffset..<source.startIndex + end])
            chunkIndex = 0
            sourceOffset = end
        }
        let byte = chunk[chunkIndex]
        chunkIndex += 1
        return byte
    }

    /// Tries to hold `count` bits; at the end of input it may hold fewer.
    private mutating func fill(_ count: Int) {
        while bitCount < count, let byte = nextInputByte() {
            bitBuffer |= UInt64(byte) << UInt64(bitCount)
            bitCount += 8
        }
    }

    private mutating func bits(_ count: Int) throws(Failure) -> Int {
        if count == 0 { return 0 }
        fill(count)
        guard bitCount >= count else { throw .truncated }
        let value = Int(bitBuffer & ((1 << UInt64(count)) - 1))
        bitBuffer >>= UInt64(count)
        bitCount -= count
        return value
    }

    private mutating func decode(_ huffman: Huffman) throws(Failure) -> Int {
        fill(huffman.bits)
        let entry = huffman.table[Int(bitBuffer & ((1 << UInt64(huffman.bits)) - 1))]
        let length = Int(entry & 15)
        guard length > 0 else { throw bitCount < huffman.bits ? .truncated : .corrupt("invalid Huffman code") }
        guard length <= bitCount else { throw .truncated }
        bitBuffer >>= UInt64(length)
        bitCount -= length
        return Int(entry >> 4)
    }

    private mutating func emit(_ byte: UInt8, into output: inout [UInt8]) {
        output.append(byte)
        window[written & 32767] = byte
        written += 1
    }

    /// Appends roughly `wanted` more bytes (a little more after a back-reference) to `output`.
    /// Returns false once the stream has ended and nothing more was appended.
    mutating func read(into output: inout [UInt8], wanted: Int) throws(Failure) -> Bool {
        let start = output.count
        while output.count - start < wanted {
            switch state {
            case .done:
                return output.count > start
            case .blockHeader:
                if lastBlock {
                    state = .done
                    continue
                }
                lastBlock = try bits(1) == 1
                switch try bits(2) {
                case 0:
                    let drop = bitCount % 8
                    bitBuffer >>= UInt64(drop)
                    bitCount -= drop
                    let length = try bits(16)
                    let complement = try bits(16)
                    guard length == complement ^ 0xFFFF else { throw .corrupt("stored block length mismatch") }
                    state = .stored(remaining: length)
                case 1:
                    var lengths = [Int](repeating: 8, count: 288)
                    for index in 144..<256 { lengths[index] = 9 }
                    for index in 256..<280 { lengths[index] = 7 }
                    state = .codes(try Huffman(lengths: lengths), try Huffman(lengths: [Int](repeating: 5, count: 30)))
                case 2:
                    state = try dynamicTables()
                default:
                    throw .corrupt("invalid block type")
                }
            case .stored(let remaining):
                if remaining == 0 {
                    state = .blockHeader
                    continue
                }
                let count = min(remaining, wanted - (output.count - start))
                for _ in 0..<count { emit(UInt8(try bits(8)), into: &output) }
                state = .stored(remaining: remaining - count)
            case .codes(let literals, let distances):
                let symbol = try decode(literals)
                if symbol < 256 {
                    emit(UInt8(symbol), into: &output)
                } else if symbol == 256 {
                    state = .blockHeader
                } else {
                    let index = symbol - 257
                    guard index < 29 else { throw .corrupt("invalid length symbol") }
                    let length = Self.lengthBase[index] + (try bits(Self.lengthExtra[index]))
                    let distanceSymbol = try decode(distances)
                    guard distanceSymbol < 30 else { throw .corrupt("invalid distance symbol") }
                    let distance = Self.distanceBase[distanceSymbol] + (try bits(Self.distanceExtra[distanceSymbol]))
                    guard distance <= written else { throw .corrupt("distance too far back") }
                    for _ in 0..<length { emit(window[(written - distance) & 32767], into: &output) }
                }
            }
        }
        return true
    }

    private mutating func dynamicTables() throws(Failure) -> State {
        let literalCount = try bits(5) + 257
        let distanceCount = try bits(5) + 1
        let codeLengthCount = try bits(4) + 4
        guard literalCount <= 286, distanceCount <= 30 else { throw .corrupt("bad dynamic table counts") }
        var codeLengthLengths = [Int](repeating: 0, count: 19)
        for index in 0..<codeLengthCount { codeLengthLengths[Self.codeLengthOrder[index]] = try bits(3) }
        let codeLengths = try Huffman(lengths: codeLengthLengths)
        var lengths: [Int] = []
        lengths.reserveCapacity(literalCount + distanceCount)
        while lengths.count < literalCount + distanceCount {
            let symbol = try decode(codeLengths)
            switch symbol {
            case 0..<16:
                lengths.append(symbol)
            case 16:
                guard let previous = lengths.last else { throw .corrupt("repeat with no previous length") }
                lengths.append(contentsOf: repeatElement(previous, count: 3 + (try bits(2))))
            case 17:
                lengths.append(contentsOf: repeatElement(0, count: 3 + (try bits(3))))
            default:
                lengths.append(contentsOf: repeatElement(0, count: 11 + (try bits(7))))
            }
        }
        guard lengths.count == literalCount + distanceCount else { throw .corrupt("code lengths overflow") }
        guard lengths[256] > 0 else { throw .corrupt("no end-of-block code") }
        return .codes(
            try Huffman(lengths: Array(lengths[0..<literalCount])),
            try Huffman(lengths: Array(lengths[literalCount...])))
    }
}

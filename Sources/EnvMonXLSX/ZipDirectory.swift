import Foundation

/// The entries of a zip archive, read from its central directory, and bounded streaming readers
/// for their content. Only what .xlsx needs: stored and deflate entries, ZIP64 sizes, no encryption.
struct ZipDirectory: Sendable {
    struct Entry: Sendable {
        let name: String
        let method: UInt16
        let flags: UInt16
        let compressedSize: Int
        let uncompressedSize: Int
        let localHeaderOffset: Int
    }

    let data: Data
    /// Entries by lower-cased name without a leading slash (OPC part names ignore case).
    private let entries: [String: Entry]

    init(data: Data, limits: XLSXLimits) throws(XLSXError) {
        self.data = data
        let bytes = ByteView(data: data)
        guard data.count >= 22 else { throw XLSXError.notXLSX("too short to be a zip archive") }
        // The end-of-central-directory record sits in the last 22 + 65535 bytes.
        var eocd = -1
        var position = data.count - 22
        let lowest = max(0, data.count - 22 - 65535)
        while position >= lowest {
            if bytes.u32(position) == 0x0605_4B50 {
                eocd = position
                break
            }
            position -= 1
        }
        guard eocd >= 0 else {
            if XLSXError.sniff(data.prefix(8)) == .xlsx {
                throw XLSXError.corrupt("the zip directory at the end of the file is missing; it may be truncated")
            }
            throw XLSXError.notXLSX("no zip directory found")
        }
        var count = Int(bytes.u16(eocd + 10))
        var directorySize = Int(bytes.u32(eocd + 12))
        var directoryOffset = Int(bytes.u32(eocd + 16))
        if count == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF,
           eocd >= 20, bytes.u32(eocd - 20) == 0x0706_4B50 {
            let record = Int(clamping: bytes.u64(eocd - 20 + 8))
            guard record >= 0, record <= data.count - 56, bytes.u32(record) == 0x0606_4B50 else {
                throw XLSXError.corrupt("bad ZIP64 directory record")
            }
            count = Int(clamping: bytes.u64(record + 32))
            directorySize = Int(clamping: bytes.u64(record + 40))
            directoryOffset = Int(clamping: bytes.u64(record + 48))
        }
        guard count <= limits.maxZipEntries else {
            throw XLSXError.limit(.zipEntries, "\(count) entries, at most \(limits.maxZipEntries) allowed")
        }
        guard directoryOffset >= 0, directorySize >= 0, directoryOffset <= data.count - directorySize else {
            throw XLSXError.corrupt("the zip directory points outside the file")
        }
        var found: [String: Entry] = [:]
        var offset = directoryOffset
        for _ in 0..<count {
            guard offset + 46 <= data.count, bytes.u32(offset) == 0x0201_4B50 else {
                throw XLSXError.corrupt("bad zip directory entry")
            }
            let flags = bytes.u16(offset + 8)
            let method = bytes.u16(offset + 10)
            var compressed = Int(bytes.u32(offset + 20))
            var uncompressed = Int(bytes.u32(offset + 24))
            let nameLength = Int(bytes.u16(offset + 28))
            let extraLength = Int(bytes.u16(offset + 30))
            let commentLength = Int(bytes.u16(offset + 32))
            var localOffset = Int(bytes.u32(offset + 42))
            let nameStart = offset + 46
            let extraStart = nameStart + nameLength
            let next = extraStart + extraLength + commentLength
            guard next <= data.count else { throw XLSXError.corrupt("bad zip directory entry") }
            // ZIP64 extended information: only the fields that are 0xFFFFFFFF above are present.
            var extra = extraStart
            while extra + 4 <= extraStart + extraLength {
                let id = bytes.u16(extra)
                let size = Int(bytes.u16(extra + 2))
                if id == 1 {
                    var field = extra + 4
                    let fieldEnd = min(field + size, extraStart + extraLength)
                    if uncompressed == 0xFFFF_FFFF, field + 8 <= fieldEnd {
                        uncompressed = Int(clamping: bytes.u64(field))
                        field += 8
                    }
                    if compressed == 0xFFFF_FFFF, field + 8 <= fieldEnd {
                        compressed = Int(clamping: bytes.u64(field))
                        field += 8
                    }
                    if localOffset == 0xFFFF_FFFF, field + 8 <= fieldEnd {
                        localOffset = Int(clamping: bytes.u64(field))
                    }
                }
                extra += 4 + size
            }
            let nameBytes = data[data.startIndex + nameStart..<data.startIndex + extraStart]
            var name = String(decoding: nameBytes, as: UTF8.self).replacingOccurrences(of: "\\", with: "/")
            while name.hasPrefix("/") { name.removeFirst() }
            found[name.lowercased()] = Entry(
                name: name, method: method, flags: flags, compressedSize: compressed,
                uncompressedSize: uncompressed, localHeaderOffset: localOffset)
            offset = next
        }
        self.entries = found
    }

    func entry(_ path: String) -> Entry? {
        var key = path.lowercased()
        while key.hasPrefix("/") { key.removeFirst() }
        return entries[key]
    }

    /// A bounded reader of one entry's uncompressed content.
    func reader(for entry: Entry, limits: XLSXLimits) throws(XLSXError) -> PartReader {
        let part = entry.name
        guard entry.flags & 1 == 0 else {
            throw XLSXError(.encrypted, "The workbook part \(part) is encrypted; \(XLSXError.saveAsAdvice) without a password.", part: part)
        }
        guard entry.method == 0 || entry.method == 8 else {
            throw XLSXError(
                .unsupportedCompression,
                "The workbook part \(part) uses zip compression method \(entry.method), which is not supported; "
                    + "\(XLSXError.saveAsAdvice).", part: part)
        }
        guard entry.uncompressedSize <= limits.maxPartSize else {
            throw XLSXError.limit(
                .partSize, "\(part) is \(entry.uncompressedSize) bytes uncompressed, at most \(limits.maxPartSize) allowed",
                part: part)
        }
        let bytes = ByteView(data: data)
        let header = entry.localHeaderOffset
        guard header >= 0, header <= data.count - 30, bytes.u32(header) == 0x0403_4B50 else {
            throw XLSXError.corrupt("bad local header", part: part)
        }
        let start = header + 30 + Int(bytes.u16(header + 26)) + Int(bytes.u16(header + 28))
        guard entry.compressedSize >= 0, start <= data.count, entry.compressedSize <= data.count - start else {
            throw XLSXError.corrupt("the entry runs past the end of the file", part: part)
        }
        return PartReader(
            data: data, range: start..<start + entry.compressedSize, stored: entry.method == 0, part: part,
            limits: limits)
    }
}

/// Little-endian reads from Data at offsets from its start; callers check bounds.
private struct ByteView {
    let data: Data

    func u16(_ offset: Int) -> UInt16 {
        guard offset >= 0, offset + 2 <= data.count else { return 0 }
        let base = data.startIndex + offset
        return UInt16(data[base]) | UInt16(data[base + 1]) << 8
    }

    func u32(_ offset: Int) -> UInt32 {
        UInt32(u16(offset)) | UInt32(u16(offset + 2)) << 16
    }

    func u64(_ offset: Int) -> UInt64 {
        UInt64(u32(offset)) | UInt64(u32(offset + 4)) << 32
    }
}

/// Streams one part's uncompressed bytes in chunks, enforcing the size and ratio limits as it goes,
/// so a zip bomb is refused after at most a few chunks whatever its headers claim.
struct PartReader {
    let part: String
    private let limits: XLSXLimits
    private let compressedSize: Int
    /// Uncompressed bytes handed out so far.
    private(set) var produced = 0
    private var inflater: Inflater?
    private let data: Data
    private var storedOffset: Int
    private let storedEnd: Int

    init(data: Data, range: Range<Int>, stored: Bool, part: String, limits: XLSXLimits) {
        self.part = part
        self.limits = limits
        self.data = data
        self.compressedSize = range.count
        self.storedOffset = range.lowerBound
        self.storedEnd = range.upperBound
        self.inflater = stored ? nil : Inflater(source: data, range: range)
    }

    static let chunkSize = 64 * 1024

    /// Appends the next chunk to `buffer`; false at the end of the part.
    mutating func read(into buffer: inout [UInt8]) throws(XLSXError) -> Bool {
        let before = buffer.count
        if var inflater {
            defer { self.inflater = inflater }
            do throws(Inflater.Failure) {
                guard try inflater.read(into: &buffer, wanted: Self.chunkSize) else { return false }
            } catch .truncated {
                throw XLSXError.corrupt("compressed data ends early", part: part)
            } catch {
                guard case .corrupt(let why) = error else { throw XLSXError.corrupt("unreadable data", part: part) }
                throw XLSXError.corrupt("compressed data is invalid: \(why)", part: part)
            }
        } else {
            guard storedOffset < storedEnd else { return false }
            let end = min(storedEnd, storedOffset + Self.chunkSize)
            buffer.append(contentsOf: data[data.startIndex + storedOffset..<data.startIndex + end])
            storedOffset = end
        }
        produced += buffer.count - before
        if produced > limits.maxPartSize {
            throw XLSXError.limit(.partSize, "\(part) is over \(limits.maxPartSize) bytes uncompressed", part: part)
        }
        if produced > limits.compressionRatioFloor && produced / max(compressedSize, 1) > limits.maxCompressionRatio {
            throw XLSXError.limit(
                .compressionRatio,
                "\(part) expands more than \(limits.maxCompressionRatio):1, which looks like a zip bomb", part: part)
        }
        return true
    }

    /// The whole part, for the small parts read at open time.
    mutating func readAll() throws(XLSXError) -> [UInt8] {
        var all: [UInt8] = []
        while try read(into: &all) {}
        return all
    }
}

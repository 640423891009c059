/// Bounds on what a workbook may make the reader do, so that a hostile or broken upload cannot
/// exhaust memory. Exceeding one throws `XLSXError` with code `.limitExceeded`.
public struct XLSXLimits: Sendable, Hashable {
    /// Names of the limits, as reported in `XLSXError.limit`.
    public enum Limit: String, Sendable, Hashable {
        case partSize = "uncompressed part size"
        case compressionRatio = "compression ratio"
        case sharedStringCount = "shared string count"
        case sharedStringBytes = "shared string bytes"
        case cellsPerRow = "cells per row"
        case cellTextLength = "cell text length"
        case mergedRanges = "merged ranges"
        case zipEntries = "zip entries"
    }

    /// Largest uncompressed size of any one part (sheet, shared strings, ...), in bytes.
    public var maxPartSize: Int
    /// Largest uncompressed:compressed ratio allowed for a part bigger than `compressionRatioFloor`.
    public var maxCompressionRatio: Int
    /// Parts at most this big (uncompressed) are never refused for their ratio.
    public var compressionRatioFloor: Int
    /// Most shared strings in a workbook.
    public var maxSharedStrings: Int
    /// Most UTF-8 bytes of all shared strings together.
    public var maxSharedStringBytes: Int
    /// Most cells in one row (Excel's own maximum is 16384 columns).
    public var maxCellsPerRow: Int
    /// Longest text in one cell, in UTF-16 units (Excel's own maximum is 32767).
    public var maxCellTextLength: Int
    /// Most merged ranges in one sheet.
    public var maxMergedRanges: Int
    /// Most entries in the zip archive.
    public var maxZipEntries: Int

    public init(
        maxPartSize: Int = 512 << 20, maxCompressionRatio: Int = 200, compressionRatioFloor: Int = 1 << 20,
        maxSharedStrings: Int = 5_000_000, maxSharedStringBytes: Int = 256 << 20, maxCellsPerRow: Int = 16384,
        maxCellTextLength: Int = 32767, maxMergedRanges: Int = 100_000, maxZipEntries: Int = 10_000
    ) {
        self.maxPartSize = maxPartSize
        self.maxCompressionRatio = maxCompressionRatio
        self.compressionRatioFloor = compressionRatioFloor
        self.maxSharedStrings = maxSharedStrings
        self.maxSharedStringBytes = maxSharedStringBytes
        self.maxCellsPerRow = maxCellsPerRow
        self.maxCellTextLength = maxCellTextLength
        self.maxMergedRanges = maxMergedRanges
        self.maxZipEntries = maxZipEntries
    }

    /// The defaults: 512 MiB per part, 200:1 over 1 MiB, 5 M shared strings in 256 MiB,
    /// 16384 cells per row, 32767 characters per cell.
    public static let `default` = XLSXLimits()
}

public import Foundation

/// A sheet of a workbook, in workbook order.
public struct XLSXSheetInfo: Sendable, Hashable {
    /// The tab name, e.g. `小时数据`.
    public let name: String
    /// 0-based position in the workbook.
    public let index: Int
    /// Whether the sheet is hidden (`state="hidden"` or `"veryHidden"`).
    public let isHidden: Bool
    /// The zip part holding the sheet, e.g. `xl/worksheets/sheet1.xml`.
    public let part: String
}

/// An opened .xlsx workbook: its sheets, shared strings and styles, read at open time; sheet rows
/// are streamed on demand by `rows(sheet:)` without holding the sheet in memory.
///
/// ```swift
/// let workbook = try XLSXWorkbook(url: upload)
/// guard let sheet = workbook.sheets.first(where: { $0.name == "小时数据" }) else { return }
/// var rows = try workbook.rows(sheet: sheet, fillMergedHeaders: true)
/// while let row = try rows.next() {
///     for cell in row.cells where !cell.value.isNull { print(cell.reference, cell.value) }
/// }
/// ```
public final class XLSXWorkbook: Sendable {
    /// The sheets in workbook order.
    public let sheets: [XLSXSheetInfo]
    /// Whether dates count from 1904-01-01 (old Mac Excel) instead of 1900.
    public let date1904: Bool
    /// The limits this workbook is read under.
    public let limits: XLSXLimits

    private let zip: ZipDirectory
    private let sharedStrings: SharedStrings
    private let dateStyles: DateStyles

    /// Opens a workbook file. The file is memory-mapped, not read into memory.
    public convenience init(url: URL, limits: XLSXLimits = .default) throws(XLSXError) {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw XLSXError(.unreadableFile, "The file \(url.lastPathComponent) cannot be read: \(error.localizedDescription).")
        }
        try self.init(data: data, limits: limits)
    }

    /// Opens a workbook held in memory.
    public init(data: Data, limits: XLSXLimits = .default) throws(XLSXError) {
        guard !data.isEmpty else { throw XLSXError.notXLSX("the file is empty") }
        switch XLSXError.sniff(data.prefix(8)) {
        case .legacyXLS: throw XLSXError.legacy
        case .other: throw XLSXError.notXLSX("it does not start like a zip archive")
        case .xlsx: break
        }
        let zip = try ZipDirectory(data: data, limits: limits)
        self.zip = zip
        self.limits = limits

        func parser(_ path: String) throws(XLSXError) -> XMLPullParser? {
            guard let entry = zip.entry(path) else { return nil }
            return XMLPullParser(source: try zip.reader(for: entry, limits: limits))
        }
        func folder(_ path: String) -> String {
            path.split(separator: "/").dropLast().joined(separator: "/")
        }
        func relationships(of path: String) throws(XLSXError) -> [Relationship] {
            let file = path.split(separator: "/").last.map(String.init) ?? path
            let relsPath = (folder(path).isEmpty ? "" : folder(path) + "/") + "_rels/" + file + ".rels"
            guard var rels = try parser(relsPath) else { return [] }
            return try Relationship.read(&rels, base: folder(path))
        }

        let rootRelationships = try relationships(of: "")
        let officeDocument = rootRelationships.first { $0.type.hasSuffix("/officeDocument") }?.target
        let workbookPath = officeDocument.flatMap { zip.entry($0) != nil ? $0 : nil } ?? "xl/workbook.xml"
        guard var workbookParser = try parser(workbookPath) else {
            throw XLSXError(
                .missingPart,
                "This zip file is not an Excel workbook: it has no \(workbookPath); \(XLSXError.saveAsAdvice).",
                part: workbookPath)
        }
        let workbookRelationships = try relationships(of: workbookPath)
        var isDate1904 = false
        var sheets: [XLSXSheetInfo] = []
        while let token = try workbookParser.next() {
            guard case .start(let name, let attributes, _) = token else { continue }
            if name == "workbookPr", let value = attributes.value("date1904") {
                isDate1904 = value == "1" || value.lowercased() == "true"
            } else if name == "sheet" {
                let sheetName = attributes.value("name") ?? "Sheet\(sheets.count + 1)"
                let id = attributes.value("id", prefixed: true)
                let target = workbookRelationships.first { $0.id == id }?.target
                    ?? "xl/worksheets/sheet\(attributes.value("sheetId") ?? String(sheets.count + 1)).xml"
                let state = attributes.value("state") ?? "visible"
                sheets.append(
                    XLSXSheetInfo(name: sheetName, index: sheets.count, isHidden: state != "visible", part: target))
            }
        }
        self.sheets = sheets
        self.date1904 = isDate1904

        func related(_ suffix: String, fallback: String) -> String {
            workbookRelationships.first { $0.type.hasSuffix(suffix) }?.target ?? fallback
        }
        if var stringsParser = try parser(related("/sharedStrings", fallback: "xl/sharedStrings.xml")) {
            sharedStrings = try SharedStrings.read(&stringsParser, limits: limits)
        } else {
            sharedStrings = SharedStrings()
        }
        if var stylesParser = try parser(related("/styles", fallback: "xl/styles.xml")) {
            dateStyles = try DateStyles.read(&stylesParser)
        } else {
            dateStyles = DateStyles()
        }
    }

    /// The sheet with this name, if any.
    public func sheet(named name: String) -> XLSXSheetInfo? {
        sheets.first { $0.name == name }
    }

    private func sheetParser(_ sheet: XLSXSheetInfo) throws(XLSXError) -> XMLPullParser {
        guard let entry = zip.entry(sheet.part) else {
            throw XLSXError(
                .missingPart, "The workbook names sheet \(sheet.name) but its part \(sheet.part) is missing.",
                sheet: sheet.name, part: sheet.part)
        }
        do throws(XLSXError) {
            return XMLPullParser(source: try zip.reader(for: entry, limits: limits))
        } catch {
            throw error.located(sheet: sheet.name, row: nil)
        }
    }

    /// The merged ranges of a sheet. They are written after the cell data, so this reads the
    /// whole sheet part once, keeping nothing but the ranges.
    public func merges(sheet: XLSXSheetInfo) throws(XLSXError) -> [XLSXRange] {
        var parser = try sheetParser(sheet)
        var ranges: [XLSXRange] = []
        do throws(XLSXError) {
            while let token = try parser.next() {
                guard case .start("mergeCell", let attributes, _) = token,
                      let ref = attributes.value("ref"), let range = XLSXRange(ref) else { continue }
                guard ranges.count < limits.maxMergedRanges else {
                    throw XLSXError.limit(.mergedRanges, "more than \(limits.maxMergedRanges) merged ranges")
                }
                ranges.append(range)
            }
        } catch {
            throw error.located(sheet: sheet.name, row: nil)
        }
        return ranges
    }

    /// Streams the rows of a sheet in file order; each `next()` parses only as far as the next row.
    ///
    /// - Parameters:
    ///   - sheet: One of `sheets`.
    ///   - fillMergedHeaders: Copy each merged range's top-left value into every cell the range
    ///     covers, so a pollutant merged over its measures names each column. Costs one extra pass
    ///     over the sheet part to find the ranges.
    public func rows(sheet: XLSXSheetInfo, fillMergedHeaders: Bool = false) throws(XLSXError) -> XLSXRowReader {
        let merges = fillMergedHeaders ? try self.merges(sheet: sheet) : []
        return XLSXRowReader(
            parser: try sheetParser(sheet), sheet: sheet.name, sharedStrings: sharedStrings, dateStyles: dateStyles,
            date1904: date1904, limits: limits, merges: merges)
    }
}

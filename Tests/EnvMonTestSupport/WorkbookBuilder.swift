public import Foundation
public import ZIPFoundation

/// Builds small .xlsx workbooks in memory from hand-written XML, for tests.
public struct WorkbookBuilder {
    public struct Sheet {
        public var name: String
        public var xml: String
        /// The relationship target as written in workbook.xml.rels.
        public var target: String
        /// The zip entry name.
        public var part: String

        public init(name: String, xml: String, target: String, part: String) {
            self.name = name
            self.xml = xml
            self.target = target
            self.part = part
        }
    }

    public var sheets: [Sheet] = []
    public var sharedStrings: [String]? = nil
    /// Raw `<si>` elements, when the test wants rich text or phonetic runs.
    public var rawSharedStrings: String? = nil
    public var cellFormats: [Int] = [0]
    public var customFormats: [Int: String] = [:]
    public var date1904 = false
    public var compression: CompressionMethod = .deflate
    public var extraEntries: [(String, Data)] = []

    public init() {}

    public static func sheetXML(rows: String, after: String = "") -> String {
        """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
        xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
        <sheetData>\(rows)</sheetData>\(after)</worksheet>
        """
    }

    public mutating func addSheet(_ name: String, rows: String, after: String = "", target: String? = nil) {
        let number = sheets.count + 1
        sheets.append(
            Sheet(
                name: name, xml: Self.sheetXML(rows: rows, after: after),
                target: target ?? "worksheets/sheet\(number).xml", part: "xl/worksheets/sheet\(number).xml"))
    }

    public static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    public func entries() -> [(String, Data)] {
        var entries: [(String, String)] = []
        entries.append((
            "[Content_Types].xml",
            """
            <?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
            <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
            <Default Extension="xml" ContentType="application/xml"/></Types>
            """))
        entries.append((
            "_rels/.rels",
            """
            <?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
            <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>\
            </Relationships>
            """))
        let sheetElements = sheets.enumerated().map { index, sheet in
            "<sheet name=\"\(Self.escape(sheet.name))\" sheetId=\"\(index + 1)\" r:id=\"rIdS\(index + 1)\"/>"
        }.joined()
        entries.append((
            "xl/workbook.xml",
            """
            <?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
            xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
            <workbookPr\(date1904 ? " date1904=\"1\"" : "")/><sheets>\(sheetElements)</sheets></workbook>
            """))
        let sheetRels = sheets.enumerated().map { index, sheet in
            "<Relationship Id=\"rIdS\(index + 1)\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"\(sheet.target)\"/>"
        }.joined()
        entries.append((
            "xl/_rels/workbook.xml.rels",
            """
            <?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
            \(sheetRels)\
            <Relationship Id="rIdSt" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>\
            <Relationship Id="rIdSS" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>\
            </Relationships>
            """))
        let formats = customFormats.sorted { $0.key < $1.key }.map {
            "<numFmt numFmtId=\"\($0.key)\" formatCode=\"\(Self.escape($0.value))\"/>"
        }.joined()
        let xfs = cellFormats.map { "<xf numFmtId=\"\($0)\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/>" }.joined()
        entries.append((
            "xl/styles.xml",
            """
            <?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
            <numFmts count="\(customFormats.count)">\(formats)</numFmts>\
            <cellStyleXfs count="1"><xf numFmtId="22" fontId="0"/></cellStyleXfs>\
            <cellXfs count="\(cellFormats.count)">\(xfs)</cellXfs></styleSheet>
            """))
        if let raw = rawSharedStrings {
            entries.append(("xl/sharedStrings.xml", "<?xml version=\"1.0\"?><sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">\(raw)</sst>"))
        } else if let strings = sharedStrings {
            let items = strings.map { "<si><t>\(Self.escape($0))</t></si>" }.joined()
            entries.append((
                "xl/sharedStrings.xml",
                "<?xml version=\"1.0\"?><sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" count=\"\(strings.count)\">\(items)</sst>"
            ))
        }
        for sheet in sheets { entries.append((sheet.part, sheet.xml)) }
        return entries.map { ($0.0, Data($0.1.utf8)) } + extraEntries
    }

    public func build() throws -> Data {
        try Self.zip(entries(), compression: compression)
    }

    public static func zip(_ entries: [(String, Data)], compression: CompressionMethod = .deflate) throws -> Data {
        let archive = try Archive(data: Data(), accessMode: .create)
        for (path, data) in entries {
            try archive.addEntry(
                with: path, type: .file, uncompressedSize: Int64(data.count), compressionMethod: compression,
                provider: { position, size in
                    data.subdata(in: Int(position)..<Int(position) + size)
                })
        }
        guard let data = archive.data else { throw CocoaError(.fileWriteUnknown) }
        return data
    }
}

extension WorkbookBuilder {
    /// Rewrites the central-directory compressed size of `entry` to `size`, as a damaged or
    /// hand-crafted file might have it, leaving everything else intact.
    public static func patchCompressedSize(of entry: String, in data: Data, to size: UInt32) -> Data {
        var bytes = [UInt8](data)
        let name = [UInt8](entry.utf8)
        var offset = 0
        while offset + 46 + name.count <= bytes.count {
            if bytes[offset] == 0x50, bytes[offset + 1] == 0x4B, bytes[offset + 2] == 1, bytes[offset + 3] == 2,
               Array(bytes[offset + 46..<offset + 46 + name.count]) == name {
                for index in 0..<4 { bytes[offset + 20 + index] = UInt8(truncatingIfNeeded: size >> (8 * UInt32(index))) }
                break
            }
            offset += 1
        }
        return Data(bytes)
    }
}

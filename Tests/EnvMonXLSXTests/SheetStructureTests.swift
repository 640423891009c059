import EnvMonTestSupport
import Foundation
import Testing
import ZIPFoundation
@testable import EnvMonXLSX

@Suite struct SheetStructureTests {
    @Test func mergedHeadersAreFilled() throws {
        var builder = WorkbookBuilder()
        builder.sharedStrings = ["监测时间", "二氧化硫", "实测浓度(mg/m³)", "折算浓度(mg/m³)", "排放量(kg)", "氮氧化物"]
        builder.addSheet("小时数据", rows: """
            <row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" s="0"/><c r="D1"/>\
            <c r="E1" t="s"><v>5</v></c><c r="F1"/></row>\
            <row r="2"><c r="A2"/><c r="B2" t="s"><v>2</v></c><c r="C2" t="s"><v>3</v></c><c r="D2" t="s"><v>4</v></c>\
            <c r="E2" t="s"><v>2</v></c><c r="F2" t="s"><v>3</v></c></row>\
            <row r="3"><c r="A3"><v>1</v></c><c r="B3"><v>2</v></c></row>
            """, after: "<mergeCells count=\"3\"><mergeCell ref=\"A1:A2\"/><mergeCell ref=\"B1:D1\"/><mergeCell ref=\"E1:F1\"/></mergeCells>")
        let data = try builder.build()
        let workbook = try XLSXWorkbook(data: data)
        let sheet = try #require(workbook.sheet(named: "小时数据"))
        #expect(try workbook.merges(sheet: sheet) == [XLSXRange("A1:A2"), XLSXRange("B1:D1"), XLSXRange("E1:F1")].compactMap { $0 })

        let plain = try readAll(data)
        #expect(plain[0].values == [.text("监测时间"), .text("二氧化硫"), .empty, .empty, .text("氮氧化物")])

        let filled = try readAll(data, fillMergedHeaders: true)
        #expect(filled[0].values.map(\.text) == ["监测时间", "二氧化硫", "二氧化硫", "二氧化硫", "氮氧化物", "氮氧化物"])
        #expect(filled[1].values.map(\.text) == ["监测时间", "实测浓度(mg/m³)", "折算浓度(mg/m³)", "排放量(kg)", "实测浓度(mg/m³)", "折算浓度(mg/m³)"])
        #expect(filled[1].cells[0].reference == "A2")
        #expect(filled[2].values == [.number(1, text: "1"), .number(2, text: "2")])
    }

    @Test func sparseCellsAndMissingReferences() throws {
        let rows = try readAll(workbook(rows: """
            <row r="2"><c r="C2"><v>3</v></c><c r="AA2"><v>27</v></c></row>\
            <row><c><v>1</v></c><c><v>2</v></c><c r="E4"><v>5</v></c><c><v>6</v></c></row>\
            <row r="10" spans="1:3"/><row><c t="inlineStr"><is><t>x</t></is></c></row>
            """))
        #expect(rows.map(\.number) == [2, 3, 10, 11])
        #expect(rows[0].cells.map(\.reference) == ["C2", "AA2"])
        #expect(rows[0][26] == .number(27, text: "27"))
        #expect(rows[1].cells.map(\.column) == [0, 1, 4, 5])
        #expect(rows[1].cells.map(\.reference) == ["A3", "B3", "E3", "F3"])
        #expect(rows[2].cells.isEmpty)
        #expect(rows[3][0] == .text("x"))
    }

    @Test func chineseSheetNamesMultipleSheetsAndRelationshipTargets() throws {
        var builder = WorkbookBuilder()
        builder.sharedStrings = ["填报说明", "企业名称"]
        builder.addSheet("说明", rows: "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c></row>")
        builder.addSheet("小时数据", rows: "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>1</v></c></row>", target: "/xl/worksheets/sheet2.xml")
        builder.addSheet("Sheet 3", rows: "<row r=\"1\"><c r=\"A1\"><v>3</v></c></row>", target: "./worksheets/../worksheets/sheet3.xml")
        let workbook = try XLSXWorkbook(data: builder.build())
        #expect(workbook.sheets.map(\.name) == ["说明", "小时数据", "Sheet 3"])
        #expect(workbook.sheets.map(\.index) == [0, 1, 2])
        #expect(workbook.sheets.map(\.part) == ["xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml", "xl/worksheets/sheet3.xml"])
        var second = try workbook.rows(sheet: workbook.sheets[1])
        #expect(try second.next()?[0] == .text("企业名称"))
        #expect(try second.next() == nil)
        var third = try workbook.rows(sheet: workbook.sheets[2])
        #expect(try third.next()?[0].number == 3)
    }

    @Test func storedEntriesAndPrefixedTags() throws {
        var builder = WorkbookBuilder()
        builder.compression = .none
        builder.sheets.append(WorkbookBuilder.Sheet(
            name: "x", xml: """
                <?xml version="1.0"?><!-- comment --><x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
                <x:sheetData><x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t><![CDATA[a<b]]></x:t></x:is></x:c></x:row></x:sheetData></x:worksheet>
                """, target: "worksheets/sheet1.xml", part: "xl/worksheets/sheet1.xml"))
        #expect(try readAll(builder.build())[0][0] == .text("a<b"))
    }

    @Test func cellReferences() throws {
        let ref = try #require(XLSXCellReference("F123"))
        #expect(ref.column == 5 && ref.row == 123)
        #expect(XLSXCellReference("$AA$1")?.column == 26)
        #expect(XLSXCellReference("XFD1048576")?.column == 16383)
        for bad in ["XFE1", "A0", "A1048577", "1A", "", "A", "AAAA1", "A1B", "F-1"] {
            #expect(XLSXCellReference(bad) == nil, "\(bad)")
        }
        for column in [0, 25, 26, 51, 52, 701, 702, 16383] {
            let name = XLSXCellReference.columnName(column)
            #expect(XLSXCellReference.columnIndex(name) == column)
        }
        #expect(XLSXCellReference.columnName(16383) == "XFD")
        #expect(XLSXCellReference(column: 5, row: 123).description == "F123")
        #expect(XLSXCellReference.describe(sheet: "小时数据", column: 5, row: 123) == "小时数据!F123")
        #expect(XLSXCellReference.describe(sheet: "Sheet 1", column: 0, row: 2) == "'Sheet 1'!A2")
        #expect(XLSXCellReference.describe(sheet: "O'Brien", column: 0, row: 2) == "'O''Brien'!A2")
        #expect(XLSXRange("C2:A1")?.description == "A1:C2")
        #expect(XLSXRange("B4")?.contains(column: 1, row: 4) == true)
    }

    @Test func workbookFromFileURL() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-xlsx-\(UUID().uuidString).xlsx")
        defer { try? FileManager.default.removeItem(at: url) }
        try workbook(rows: "<row r=\"1\"><c r=\"A1\"><v>7</v></c></row>").write(to: url)
        let workbook = try XLSXWorkbook(url: url)
        var rows = try workbook.rows(sheet: workbook.sheets[0])
        #expect(try rows.next()?[0].number == 7)
        #expect(throws: XLSXError.self) { try XLSXWorkbook(url: url.appendingPathExtension("missing")) }
    }
}

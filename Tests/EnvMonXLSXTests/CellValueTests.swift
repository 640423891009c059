import EnvMonTestSupport
import Foundation
import Testing
@testable import EnvMonXLSX

@Suite struct CellValueTests {
    @Test func sharedStringsWithRichTextPhoneticRunsAndEntities() throws {
        var builder = WorkbookBuilder()
        builder.rawSharedStrings = """
            <si><t>站点名称</t></si>\
            <si><r><rPr><b/></rPr><t>二氧化硫</t></r><r><t xml:space="preserve"> (mg/m&#179;)</t></r>\
            <rPh sb="0" eb="1"><t>にさんか</t></rPh><phoneticPr fontId="1"/></si>\
            <si><t>A &amp; B &lt;1&gt; &quot;q&quot; &apos;s&apos; &#x4E2D;&#25991;</t></si>\
            <si/><si><t>line_x000D_break</t></si>
            """
        builder.addSheet("数据", rows: """
            <row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c>\
            <c r="D1" t="s"><v>3</v></c><c r="E1" t="s"><v>4</v></c></row>
            """)
        let rows = try readAll(builder.build())
        #expect(rows.count == 1)
        #expect(rows[0][0] == .text("站点名称"))
        #expect(rows[0][1] == .text("二氧化硫 (mg/m³)"))
        #expect(rows[0][2] == .text("A & B <1> \"q\" 's' 中文"))
        #expect(rows[0][3] == .text(""))
        #expect(rows[0][4] == .text("line\rbreak"))
    }

    @Test func inlineStringsAndFormulaStrings() throws {
        let rows = try readAll(workbook(rows: """
            <row r="1"><c r="A1" t="inlineStr"><is><t>内联 &amp; text</t></is></c>\
            <c r="B1" t="inlineStr"><is><r><t>ri</t></r><r><t>ch</t></r><rPh><t>x</t></rPh></is></c>\
            <c r="C1" t="str"><f>CONCAT("a","b")</f><v>ab</v></c></row>
            """))
        #expect(rows[0].values == [.text("内联 & text"), .text("rich"), .text("ab")])
    }

    @Test func numbersKeepTheirExactText() throws {
        let rows = try readAll(workbook(rows: """
            <row r="1"><c r="A1"><v>0.1</v></c><c r="B1" t="n"><v>1e-5</v></c><c r="C1"><v>-42</v></c>\
            <c r="D1"><v>123456789012345678</v></c></row>
            """))
        #expect(rows[0][0] == .number(0.1, text: "0.1"))
        #expect(rows[0][1] == .number(1e-5, text: "1e-5"))
        #expect(rows[0][2].number == -42)
        #expect(rows[0][3].stringValue == "123456789012345678")
    }

    @Test func booleansAndErrorsAreNull() throws {
        let rows = try readAll(workbook(rows: """
            <row r="1"><c r="A1" t="b"><v>1</v></c><c r="B1" t="b"><v>0</v></c>\
            <c r="C1" t="e"><v>#N/A</v></c><c r="D1" t="e"><f>1/0</f><v>#DIV/0!</v></c><c r="E1" s="0"/></row>
            """))
        #expect(rows[0][0] == .bool(true))
        #expect(rows[0][1] == .bool(false))
        #expect(rows[0][2] == .error("#N/A"))
        #expect(rows[0][2].isNull && rows[0][3].isNull && rows[0][4].isNull)
        #expect(rows[0][3].stringValue == nil)
        #expect(rows[0].cells.count == 4, "a cell without a value is left out")
    }

    @Test(arguments: [14, 15, 16, 17, 22, 45, 46, 47, 31, 57])
    func builtInDateFormats(format: Int) throws {
        let value = try dateCell("45292.5", format: format)
        #expect(value == .date(XLSXDateTime(year: 2024, month: 1, day: 1, hour: 12)))
    }

    @Test(arguments: [0, 1, 2, 4, 9, 10, 11, 49])
    func nonDateBuiltInFormatsStayNumbers(format: Int) throws {
        #expect(try dateCell("45292.5", format: format) == .number(45292.5, text: "45292.5"))
    }

    @Test(arguments: [
        ("yyyy-mm-dd", true), ("yyyy\"年\"m\"月\"d\"日\"", true), ("[$-F800]dddd\\,\\ mmmm\\ dd\\,\\ yyyy", true),
        ("hh:mm", true), ("[h]:mm:ss", true), ("[Red]0.00", false), ("0.00\"m\"", false), ("\"day\"0", false),
        ("#,##0.00;[Red]-#,##0.00", false), ("0.0E+00", false), ("General", false), ("@", false),
        ("m/d/yy h:mm;@", true), ("[mm]:ss", true), ("0_m", false),
    ])
    func customFormatDetection(code: String, isDate: Bool) {
        #expect(ExcelDates.isDateFormatCode(code) == isDate)
    }

    @Test func customDateFormatCell() throws {
        let value = try dateCell("45306.3340277778", format: 164, custom: [164: "yyyy\"年\"m\"月\"d\"日\" hh:mm"])
        #expect(value == .date(XLSXDateTime(year: 2024, month: 1, day: 15, hour: 8, minute: 1)))
        #expect(try dateCell("3.5", format: 164, custom: [164: "[Red]0.0"]) == .number(3.5, text: "3.5"))
    }

    @Test func elapsedAndTimeOnly() throws {
        #expect(try dateCell("0.5416666666666666", format: 20) == .date(XLSXDateTime(year: 1899, month: 12, day: 31, hour: 13)))
        // 13:00:00 written with float noise rounds to the nearest second.
        #expect(try dateCell("0.54166666", format: 21) == .date(XLSXDateTime(year: 1899, month: 12, day: 31, hour: 13)))
        let elapsed = try dateCell("1.25", format: 164, custom: [164: "[h]:mm"])
        #expect(elapsed == .date(XLSXDateTime(year: 1900, month: 1, day: 1, hour: 6)))
    }

    @Test(arguments: [
        ("1", "1900-01-01 00:00:00"), ("59", "1900-02-28 00:00:00"), ("61", "1900-03-01 00:00:00"),
        ("45658", "2025-01-01 00:00:00"), ("45658.99998", "2025-01-01 23:59:58"), ("45658.9999999", "2025-01-02 00:00:00"),
        ("2958465", "9999-12-31 00:00:00"),
    ])
    func serials1900(serial: String, expected: String) throws {
        #expect(try dateCell(serial, format: 22).stringValue == expected)
    }

    @Test func serial60IsExcelsFictitiousLeapDay() throws {
        #expect(try dateCell("60", format: 14) == .number(60, text: "60"))
        #expect(try dateCell("-1", format: 14) == .number(-1, text: "-1"))
    }

    @Test func date1904System() throws {
        #expect(try dateCell("0", format: 14, date1904: true).stringValue == "1904-01-01 00:00:00")
        #expect(try dateCell("44196.25", format: 22, date1904: true).stringValue == "2025-01-01 06:00:00")
        let workbook = try XLSXWorkbook(data: workbook(rows: "", date1904: true))
        #expect(workbook.date1904)
    }

    @Test func strictISODateCells() throws {
        let rows = try readAll(workbook(rows: "<row r=\"1\"><c r=\"A1\" t=\"d\"><v>2024-03-05T14:30:00</v></c></row>"))
        #expect(rows[0][0] == .date(XLSXDateTime(year: 2024, month: 3, day: 5, hour: 14, minute: 30)))
    }

    @Test func badSharedStringIndexNamesTheCell() throws {
        let data = try workbook(rows: "<row r=\"7\"><c r=\"F7\" t=\"s\"><v>5</v></c></row>", strings: ["a"])
        #expect {
            _ = try readAll(data)
        } throws: { error in
            guard let error = error as? XLSXError else { return false }
            return error.code == .badSharedStringIndex && error.cell == "F7" && error.message.contains("Sheet1!F7")
        }
    }
}
